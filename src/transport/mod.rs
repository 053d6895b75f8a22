//! The three HTTP transports, each a thin layer that turns HTTP exchanges into calls on the shared
//! core and picks the [`Route`](crate::session::Route) its answers take.

pub mod legacy;
pub mod seed;
pub mod stateless;
pub mod streamable;

/// Per-request facts every transport needs.
pub struct Ctx {
    /// CORS headers to add to every answer of this request.
    pub cors: Vec<(String, String)>,
}

use crate::dispatch::Core;
use crate::http::Reply;
use crate::http::Request;
use crate::jsonrpc::{self, Body, INVALID_REQUEST, Incoming};
use crate::session::Session;
use crate::sse::{self, OpenError, StreamSpec};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Parses a body that must hold exactly one message (the seed and 2024-11-05 transports define no
/// batches); otherwise answers 400 itself and returns None. These transports have sessions, so a
/// stateless (2026-07-28) request is refused with -32022, naming where that revision is served.
fn parse_single(req: Request, body: &[u8], ctx: &Ctx) -> Option<(Request, Incoming)> {
    match jsonrpc::parse_body(body) {
        Ok(Body::Single(Incoming::Request(r)))
            if crate::stateless::requested_version(&r.params)
                .is_some_and(|v| crate::protocol::Revision::parse(v).is_none()) =>
        {
            let mut e = crate::stateless::unsupported_version(
                crate::stateless::requested_version(&r.params).unwrap_or_default(),
            );
            e.message = format!(
                "{} on this transport: it has sessions (initialize first); revision 2026-07-28 is served statelessly by POST /mcp",
                e.message
                    .split(" (")
                    .next()
                    .unwrap_or("Unsupported protocol version")
            );
            e.data = Some(serde_json::json!({
                "supported": crate::protocol::Revision::ALL.map(crate::protocol::Revision::as_str),
                "requested": crate::stateless::requested_version(&r.params),
            }));
            Reply::json(400, jsonrpc::Response::error(Some(r.id), e).to_json())
                .headers(&ctx.cors)
                .send(req);
            None
        }
        Ok(Body::Single(m)) => Some((req, m)),
        Ok(Body::Batch(_)) => {
            Reply::rpc_error(
                400,
                None,
                INVALID_REQUEST,
                "Invalid Request: batches are not supported on this transport",
            )
            .headers(&ctx.cors)
            .send(req);
            None
        }
        Err(rej) => {
            Reply::json(400, rej.to_response().to_json())
                .headers(&ctx.cors)
                .send(req);
            None
        }
    }
}

/// Opens a general stream of `session` (Streamable HTTP GET, seed `/notifications`), resuming
/// the general channel after `Last-Event-ID` when the request names one of its events: the
/// client then gets exactly what followed. Without an id, or when it cannot be resumed (the gap is
/// logged and counted), the stream starts fresh with the outbox. `replace` closes the session's
/// other general streams (Streamable HTTP has one; the seed transport allows several).
fn open_general(
    core: &Arc<Core>,
    req: Request,
    session: &Arc<Session>,
    spec: StreamSpec,
    replace: bool,
    ctx: &Ctx,
) {
    let resume_after = match req.header("Last-Event-ID") {
        None => None,
        Some(last) => match crate::replay::parse_event_id(last) {
            Some((crate::session::GENERAL_STREAM, after)) => Some(after),
            _ => {
                gap(session, last, "unknown, or no longer kept");
                None
            }
        },
    };
    let s2 = session.clone();
    let on_end: sse::OnEnd = Box::new(move |id, left| s2.detach(id, left));
    let Some(after) = resume_after else {
        return attach_fresh(core, req, session, spec, on_end, replace, ctx);
    };
    // The resumed stream's priming event names where the client said it was; the replayed
    // messages follow it as the stream's first frames.
    let mut spec = spec;
    for f in &mut spec.first {
        if let sse::Frame::Priming { id, .. } = f {
            *id = crate::replay::event_id(crate::session::GENERAL_STREAM, after);
        }
    }
    // Moved into the opener only when the resume goes ahead; a gap hands them back.
    let mut parts = Some((req, spec, on_end));
    let resumed = session.resume_general(after, |replay| {
        let Some((req, mut spec, on_end)) = parts.take() else {
            return Err(None);
        };
        spec.first.extend(replay);
        sse::open(req, spec, &core.streams, on_end).map_err(Some)
    });
    match resumed {
        Ok(Ok((n, id))) => {
            crate::metrics::METRICS
                .streams_resumed
                .fetch_add(1, Ordering::Relaxed);
            log::debug!(
                "session {}: general stream {id} resumed, {n} event(s) replayed",
                session.id
            );
            if replace {
                session.close_streams_except(id);
            }
        }
        Ok(Err(Some(e))) => stream_not_opened(e, ctx),
        Ok(Err(None)) => {}
        Err(_) => {
            gap(session, "", "the events after it are no longer kept");
            if let Some((req, spec, on_end)) = parts.take() {
                attach_fresh(core, req, session, spec, on_end, replace, ctx);
            }
        }
    }
}

/// Opens a general stream that starts fresh with the session's outbox.
fn attach_fresh(
    core: &Arc<Core>,
    req: Request,
    session: &Arc<Session>,
    spec: StreamSpec,
    on_end: sse::OnEnd,
    replace: bool,
    ctx: &Ctx,
) {
    match sse::open(req, spec, &core.streams, on_end) {
        Ok(handle) => {
            let id = handle.id;
            session.attach(handle);
            log::debug!("session {}: stream {id} opened", session.id);
            if replace {
                session.close_streams_except(id);
            }
        }
        Err(e) => stream_not_opened(e, ctx),
    }
}

/// A `Last-Event-ID` that cannot be resumed: logged and counted; a fresh stream starts.
pub(crate) fn gap(session: &Session, last: &str, why: &str) {
    crate::metrics::METRICS
        .resume_gaps
        .fetch_add(1, Ordering::Relaxed);
    log::info!(
        "session {}: cannot resume after event {last:?} ({why}); a fresh stream starts",
        session.id
    );
}

/// Answers a request whose SSE stream could not be opened.
fn stream_not_opened(err: OpenError, ctx: &Ctx) {
    let OpenError::Busy(req) = err;
    Reply::rpc_error(
        503,
        None,
        INVALID_REQUEST,
        "Too many open streams (--max-streams); retry later",
    )
    .header("Retry-After", "5")
    .headers(&ctx.cors)
    .send(*req)
}
