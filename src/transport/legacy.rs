//! The MCP 2024-11-05 HTTP+SSE transport, for older clients: `GET /sse` opens the session's one
//! stream, whose first event (`endpoint`) names where to POST; `POST /messages` answers 202 and the
//! answers arrive on the stream as `event: message`. The session lives as long as its stream.

use super::Ctx;
use crate::dispatch::Core;
use crate::http::Request;
use crate::http::{self, Reply};
use crate::jsonrpc::INVALID_REQUEST;
use crate::session::{Route, TransportKind};
use crate::sse::{self, Frame, StreamSpec};
use std::sync::Arc;

/// `GET /sse`.
pub fn open_stream(core: &Arc<Core>, req: Request, ctx: &Ctx) {
    if !http::accepts_any(&req, &["text/event-stream"]) {
        return Reply::rpc_error(
            406,
            None,
            INVALID_REQUEST,
            "Not Acceptable: Accept must allow text/event-stream",
        )
        .headers(&ctx.cors)
        .send(req);
    }
    let session = match core.sessions.create(TransportKind::Legacy) {
        Ok(s) => s,
        Err(_) => return super::seed::too_many_sessions(req, ctx),
    };
    let spec = StreamSpec {
        message_event: Some("message"),
        headers: ctx.cors.clone(),
        // Relative to the stream's URL, so it stays on the same origin and behind proxies.
        first: vec![Frame::Event {
            name: Some("endpoint"),
            data: format!("/messages?session_id={}", session.id),
        }],
        queue: core.config.stream_queue,
        lazy_head: false,
        watch_peer: false,
    };
    let core2 = core.clone();
    let sid = session.id.clone();
    let on_end = Box::new(move |_id, _left| {
        if core2.sessions.remove(&sid).is_some() {
            log::info!("session {sid} closed (its SSE stream ended)");
        }
    });
    match sse::open(req, spec, &core.streams, on_end) {
        Ok(handle) => session.attach(handle),
        Err(e) => {
            // A session exists only while its stream does.
            core.sessions.remove(&session.id);
            super::stream_not_opened(e, ctx);
        }
    }
}

/// `POST /messages?session_id=…` (also `sessionId`, the TypeScript SDK's spelling).
pub fn post(core: &Arc<Core>, req: Request, body: &[u8], ctx: &Ctx) {
    let sid = http::query_param(req.url(), "session_id")
        .or_else(|| http::query_param(req.url(), "sessionId"));
    let Some(sid) = sid.filter(|s| !s.is_empty()) else {
        return Reply::rpc_error(
            400,
            None,
            INVALID_REQUEST,
            "Bad Request: missing session_id (use the URL from the endpoint event)",
        )
        .headers(&ctx.cors)
        .send(req);
    };
    let session = match core.sessions.get(&sid) {
        Some(s) if s.kind == TransportKind::Legacy => s,
        _ => {
            return Reply::rpc_error(
                404,
                None,
                INVALID_REQUEST,
                &format!(
                    "Session not found: {sid} (its SSE stream has closed; open GET /sse again)"
                ),
            )
            .headers(&ctx.cors)
            .send(req);
        }
    };
    if !http::is_json_body(&req, true) {
        return Reply::rpc_error(
            400,
            None,
            INVALID_REQUEST,
            "Bad Request: Content-Type must be application/json",
        )
        .headers(&ctx.cors)
        .send(req);
    }
    let Some((req, msg)) = super::parse_single(req, body, ctx) else {
        return;
    };
    Reply::new(202)
        .header("Content-Type", "text/plain")
        .body(b"Accepted".to_vec())
        .headers(&ctx.cors)
        .send(req);
    core.handle(&session, msg, &Route::Session);
}
