//! The MCP 2024-11-05 HTTP+SSE transport, for older clients: `GET /sse` opens the session's one
//! stream, whose first event (`endpoint`) names where to POST; `POST /messages` answers 202 and the
//! answers arrive on the stream as `event: message`. The session lives as long as its stream.

use super::incoming::Ctx;
use super::refusal::{Handled, Outcome, Refusal, checked};
use crate::dispatch::Core;
use crate::http::{self, Reply, Request};
use crate::session::{Session, TransportKind};
use crate::sse::{self, Frame, StreamHandle, StreamSpec};
use std::sync::Arc;

/// `GET /sse`.
pub fn open_stream(core: &Arc<Core>, req: Request, ctx: &Ctx) -> Outcome {
    let (req, session) = checked(req, |req| {
        super::incoming::accepts(
            req,
            &["text/event-stream"],
            "Not Acceptable: Accept must allow text/event-stream",
        )?;
        core.sessions
            .create(TransportKind::Legacy, req.peer(), ctx.caller.clone())
            .map_err(|e| super::streamable::sessions_full(e.per_client()))
    })?;
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
    };
    let core2 = core.clone();
    let sid = session.id.clone();
    let on_end = Box::new(move |_id, _left| {
        if core2.sessions.remove(&sid).is_some() {
            log::info!("session {sid} closed (its SSE stream ended)");
        }
    });
    // Paced like the other general streams: the writer takes the rest of the backlog as it drains.
    let s = session.clone();
    let refill: sse::Refill = Box::new(move |id| s.refill(id));
    match StreamHandle::open_paced(req, spec, &core.streams, on_end, refill) {
        Ok(handle) => {
            session.attach(handle);
            Ok(Handled::Done)
        }
        Err(e) => {
            // A session exists only while its stream does.
            core.sessions.remove(&session.id);
            Err(e.into())
        }
    }
}

/// `POST /messages?session_id=…` (also `sessionId`, the TypeScript SDK's spelling).
pub fn post(core: &Arc<Core>, req: Request, body: &[u8], ctx: &Ctx) -> Outcome {
    let (req, (session, msg)) = checked(req, |req| {
        let session = post_session(core, req, ctx)?;
        // Required, not assumed: a browser sends a cross-origin POST of any other type (a
        // form, `text/plain`) without asking first; this one it must preflight.
        if !http::is_json_body(req, false) {
            return Err(Refusal::invalid(
                415,
                "Unsupported Media Type: Content-Type must be application/json",
            ));
        }
        Ok((session, super::incoming::single_message(body)?))
    })?;
    let reply = Reply::new(202)
        .header("Content-Type", "text/plain")
        .body(b"Accepted".to_vec())
        .headers(&ctx.cors);
    super::incoming::accept_then(core, req, reply, vec![core.receive(&session, msg)])
}

/// The session a POST's query names; it ends with its stream, so a client may name one gone.
fn post_session(core: &Core, req: &Request, ctx: &Ctx) -> Result<Arc<Session>, Refusal> {
    let sid = http::query_param(req.url(), "session_id")
        .or_else(|| http::query_param(req.url(), "sessionId"));
    let Some(sid) = sid.filter(|s| !s.is_empty()) else {
        return Err(Refusal::invalid(
            400,
            "Bad Request: missing session_id (use the URL from the endpoint event)",
        ));
    };
    match core.sessions.get(&sid, ctx.caller.as_ref()) {
        Some(s) if s.kind == TransportKind::Legacy => Ok(s),
        _ => Err(Refusal::invalid(
            404,
            format!("Session not found: {sid} (its SSE stream has closed; open GET /sse again)"),
        )),
    }
}
