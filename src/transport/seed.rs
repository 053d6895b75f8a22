//! The seed transport: `GET /notifications` opens a session stream, `POST /mcp?session_id=…`
//! answers 202 and the JSON-RPC answer arrives on the stream(s). Every open stream of a session
//! receives every message of that session; a reconnect with `Last-Event-ID` resumes after it.

use super::incoming::Ctx;
use super::refusal::{Outcome, Refusal, checked};
use crate::dispatch::Core;
use crate::http::{self, Reply, Request};
use crate::session::{Session, TransportKind};
use crate::sse::{Frame, StreamSpec};
use std::sync::Arc;

/// `GET /notifications[?session_id=…]`.
pub fn open_stream(core: &Arc<Core>, req: Request, ctx: &Ctx) -> Outcome {
    let (req, session) = checked(req, |req| stream_session(core, req))?;
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
    };
    // `Last-Event-ID` on a reconnect resumes exactly after the last message the client saw.
    super::general::open(core, req, &session, spec, false)
}

/// The session a stream joins: the one `?session_id=` names (a seed client may open several
/// streams on it), or a new one.
fn stream_session(core: &Core, req: &Request) -> Result<Arc<Session>, Refusal> {
    let Some(id) = http::query_param(req.url(), "session_id") else {
        return core
            .sessions
            .create(TransportKind::Seed, req.peer())
            .map_err(|e| super::streamable::sessions_full(e.per_client()));
    };
    match core.sessions.get(&id) {
        Some(s) if s.kind == TransportKind::Seed => Ok(s),
        _ => Err(Refusal::invalid(
            404,
            format!(
                "Unknown session: {id} (it may have expired; open /notifications without session_id for a new one)"
            ),
        )),
    }
}

/// `POST /mcp` for a seed session: 202 now, the answer on the session's streams.
pub fn post(
    core: &Arc<Core>,
    req: Request,
    session: Arc<Session>,
    body: &[u8],
    ctx: &Ctx,
) -> Outcome {
    let (req, msg) = checked(req, |_| super::incoming::single_message(body))?;
    let reply = Reply::json(202, r#"{"status":"accepted"}"#.into())
        .header("Mcp-Session-Id", session.id.clone())
        .headers(&ctx.cors);
    super::incoming::accept_then(req, reply, vec![core.receive(&session, msg)])
}
