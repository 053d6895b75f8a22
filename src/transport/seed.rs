//! The seed transport: `GET /notifications` opens a session stream, `POST /mcp?session_id=…`
//! answers 202 and the JSON-RPC answer arrives on the stream(s). Every open stream of a session
//! receives every message of that session; a reconnect with `Last-Event-ID` resumes after it.

use super::incoming::Ctx;
use super::refusal::{Outcome, Refusal, checked};
use crate::access::Caller;
use crate::dispatch::Core;
use crate::http::{self, Reply, Request};
use crate::session::{Session, TransportKind};
use crate::sse::{Frame, StreamSpec};
use std::sync::Arc;

/// `GET /notifications[?session_id=…]`.
pub fn open_stream(core: &Arc<Core>, req: Request, ctx: &Ctx) -> Outcome {
    let (req, (session, resumed)) = checked(req, |req| stream_session(core, req, ctx))?;
    let mut headers = vec![("Mcp-Session-Id".to_string(), session.id.clone())];
    headers.extend(ctx.cors.iter().cloned());
    // A browser's own reconnect is not a new session: it is told so, and gets no new greeting.
    let greeting = if resumed {
        format!("Resumed session {}", session.id)
    } else {
        format!("Connected to session {}", session.id)
    };
    let spec = StreamSpec {
        message_event: None,
        headers,
        first: vec![
            Frame::Event {
                name: None,
                data: greeting,
            },
            // An id (the last event before what this stream will be handed; replaced by the
            // client's own on a resume) and the reconnect delay, with no data: a browser
            // dispatches nothing for it, but reconnects after `retry` with this id.
            Frame::Priming {
                id: session.general_position(),
                retry_ms: core.config.seed_retry_ms,
            },
        ],
        queue: core.config.stream_queue,
        lazy_head: false,
    };
    // `Last-Event-ID` on a reconnect resumes exactly after the last message the client saw.
    super::general::open(core, req, &session, spec, false)
}

/// The session a stream joins: the one `?session_id=` names (a seed client may open several
/// streams on it), the one whose event id `Last-Event-ID` is (a browser's `EventSource`
/// reconnects to the same URL, adding only that header; `true`: resumed), or a new one.
fn stream_session(core: &Core, req: &Request, ctx: &Ctx) -> Result<(Arc<Session>, bool), Refusal> {
    let Some(id) = http::query_param(req.url(), "session_id") else {
        if let Some(last) = req
            .header("Last-Event-ID")
            .filter(|l| !l.trim_ascii().is_empty())
        {
            match session_of_event(core, last, ctx.caller.as_ref()) {
                Some(s) => return Ok((s, true)),
                None => log::info!(
                    "cannot resume after event {:?}: no such session (expired, ended or never issued); a new session starts",
                    crate::replay::redacted_event_id(last)
                ),
            }
        }
        return core
            .sessions
            .create(TransportKind::Seed, req.peer(), ctx.caller.clone())
            .map(|s| (s, false))
            .map_err(|e| super::streamable::sessions_full(e.per_client()));
    };
    match core.sessions.get(&id, ctx.caller.as_ref()) {
        Some(s) if s.kind == TransportKind::Seed => Ok((s, false)),
        _ => Err(Refusal::invalid(
            404,
            format!(
                "Unknown session: {id} (it may have expired; open /notifications without session_id for a new one)"
            ),
        )),
    }
}

/// The live seed session that issued event id `last` (`<session id>.<secret>.0-<seq>`): the
/// secret must match, so an id cannot be forged from a session id seen elsewhere.
fn session_of_event(core: &Core, last: &str, caller: Option<&Caller>) -> Option<Arc<Session>> {
    let (sid, secret, _) = crate::replay::split_seed_event_id(last)?;
    core.sessions
        .get(sid, caller)
        .filter(|s| s.kind == TransportKind::Seed && s.resume_secret_is(secret))
}

/// `POST /mcp` for a seed session: 202 now, the answer on the session's streams.
pub fn post(
    core: &Arc<Core>,
    req: Request,
    session: Arc<Session>,
    body: &[u8],
    ctx: &Ctx,
) -> Outcome {
    let (req, msg) = checked(req, |req| {
        // Required: a browser sends a cross-origin POST of any other type (a form, `text/plain`,
        // `sendBeacon`) without asking first; this one it must preflight.
        if !http::is_json_body(req, false) {
            return Err(Refusal::invalid(
                415,
                "Unsupported Media Type: Content-Type must be application/json",
            ));
        }
        super::incoming::single_message(body)
    })?;
    let reply = Reply::json(202, r#"{"status":"accepted"}"#.into())
        .header("Mcp-Session-Id", session.id.clone())
        .headers(&ctx.cors);
    super::incoming::accept_then(core, req, reply, vec![core.receive(&session, msg)])
}
