//! The seed transport: `GET /notifications` opens a session stream, `POST /mcp?session_id=…`
//! answers 202 and the JSON-RPC answer arrives on the stream(s). Every open stream of a session
//! receives every message of that session; a reconnect with `Last-Event-ID` resumes after it.

use super::Ctx;
use crate::dispatch::Core;
use crate::http::Request;
use crate::http::{self, Reply};
use crate::jsonrpc::INVALID_REQUEST;
use crate::session::{Route, Session, TransportKind};
use crate::sse::{Frame, StreamSpec};
use std::sync::Arc;

/// `GET /notifications[?session_id=…]`.
pub fn open_stream(core: &Arc<Core>, req: Request, ctx: &Ctx) {
    let session = match http::query_param(req.url(), "session_id") {
        Some(id) => match core.sessions.get(&id) {
            Some(s) if s.kind == TransportKind::Seed => s,
            _ => {
                return Reply::rpc_error(
                    404,
                    None,
                    INVALID_REQUEST,
                    &format!("Unknown session: {id} (it may have expired; open /notifications without session_id for a new one)"),
                )
                .headers(&ctx.cors)
                .send(req);
            }
        },
        None => match core.sessions.create(TransportKind::Seed) {
            Ok(s) => s,
            Err(_) => return too_many_sessions(req, ctx),
        },
    };
    let mut headers = vec![("Mcp-Session-Id".to_string(), session.id.clone())];
    headers.extend(ctx.cors.iter().cloned());
    let spec = StreamSpec {
        message_event: None,
        headers,
        first: vec![Frame::Event {
            name: None,
            data: format!("Connected to session {}", session.id),
        }],
        queue: core.config.stream_queue,
        lazy_head: false,
        watch_peer: false,
    };
    // `Last-Event-ID` on a reconnect resumes exactly after the last message the client saw.
    super::open_general(core, req, &session, spec, false, ctx);
}

/// `POST /mcp` for a seed session: 202 now, the answer on the session's streams.
pub fn post(core: &Arc<Core>, req: Request, session: Arc<Session>, body: &[u8], ctx: &Ctx) {
    let Some((req, msg)) = super::parse_single(req, body, ctx) else {
        return;
    };
    Reply::json(202, r#"{"status":"accepted"}"#.into())
        .header("Mcp-Session-Id", session.id.clone())
        .headers(&ctx.cors)
        .send(req);
    core.handle(&session, msg, &Route::Session);
}

pub fn too_many_sessions(req: Request, ctx: &Ctx) {
    Reply::rpc_error(
        503,
        None,
        INVALID_REQUEST,
        "Too many sessions (--max-sessions); retry later",
    )
    .header("Retry-After", "5")
    .headers(&ctx.cors)
    .send(req);
}
