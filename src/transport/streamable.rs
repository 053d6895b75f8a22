//! MCP Streamable HTTP (revisions 2025-03-26, 2025-06-18, 2025-11-25) on `/mcp`; POSTs of the
//! stateless revision 2026-07-28 are handed to `transport::stateless`.
//!
//! Each POST is one exchange: its answers go back on that POST's own response (a JSON body, or an
//! SSE stream when the request may send messages before its result or `--sse-responses` is set).
//! `GET /mcp` is the session's standalone stream for server-initiated messages; `DELETE` ends the
//! session.

use super::exchange::{JsonExchange, SseExchange};
use super::incoming::Ctx;
use super::refusal::{Handled, Outcome, Refusal, Refused, checked};
use crate::access::Caller;
use crate::dispatch::Core;
use crate::http::{self, Reply, Request};
use crate::jsonrpc::{self, Body, Incoming, RequestId};
use crate::protocol::Revision;
use crate::replay;
use crate::session::{Exchange, GENERAL_STREAM, Route, Session, TransportKind};
use crate::sse::{self, StreamSpec};
use std::sync::Arc;
use std::sync::atomic::Ordering;

const JSON: &str = "application/json";
/// The reconnection delay a priming event suggests (milliseconds).
const RETRY_MS: u64 = 1000;
const SSE: &str = "text/event-stream";

fn session_headers(session: &Session, ctx: &Ctx) -> Vec<(String, String)> {
    let mut h = vec![("Mcp-Session-Id".to_string(), session.id.clone())];
    h.extend(ctx.cors.iter().cloned());
    h
}

/// The session a request names: 400 without an id, 404 for one that is not a live Streamable
/// HTTP session of this caller. `rpc_id` is echoed once the body has been read.
fn lookup(
    core: &Core,
    sid: Option<String>,
    caller: Option<&Caller>,
    rpc_id: Option<RequestId>,
) -> Result<Arc<Session>, Refusal> {
    let found = sid.as_deref().and_then(|id| core.sessions.get(id, caller));
    named((sid, found), rpc_id)
}

/// A session id and what the registry holds under it (for this caller), looked up once.
pub type Named = (Option<String>, Option<Arc<Session>>);

/// [`lookup`] of a session already looked up.
fn named((sid, found): Named, rpc_id: Option<RequestId>) -> Result<Arc<Session>, Refusal> {
    let Some(id) = sid else {
        return Err(Refusal::invalid(
            400,
            "Bad Request: missing session id (send the Mcp-Session-Id header from initialize; seed clients use ?session_id=)",
        )
        .id(rpc_id));
    };
    match found {
        Some(s) if s.kind == TransportKind::Streamable => Ok(s),
        _ => Err(Refusal::invalid(
            404,
            format!("Session not found: {id} (expired or terminated; initialize again)"),
        )
        .id(rpc_id)),
    }
}

/// A session the registry would not create, every session at the cap being in use: 503 naming
/// `--max-sessions`, or with `per_client` (the message) `--max-sessions-per-client`. Shared by the
/// three transports that create sessions.
pub(super) fn sessions_full(per_client: Option<String>) -> Refusal {
    match per_client {
        Some(message) => Refusal::invalid(503, message).header("Retry-After", "5"),
        None => Refusal::too_many_sessions(),
    }
}

/// From 2025-06-18 every request after initialize carries `MCP-Protocol-Version`; an unsupported
/// value is refused, an absent one means the negotiated revision.
fn protocol_header(req: &Request, session: &Session) -> Result<(), Refusal> {
    if session.revision().is_none_or(|r| r < Revision::V2025_06_18) {
        return Ok(());
    }
    match req.header("MCP-Protocol-Version") {
        Some(v) if Revision::parse(v).is_none() => Err(Refusal::invalid(
            400,
            format!(
                "Bad Request: unsupported MCP-Protocol-Version {v:?} (supported: {})",
                Revision::ALL.map(Revision::as_str).join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// `POST /mcp` for Streamable HTTP; `named` is the session id and the session the router found
/// under it.
pub fn post(core: &Arc<Core>, req: Request, body: &[u8], named: Named, ctx: &Ctx) -> Outcome {
    let (req, parsed) = checked(req, |req| parse(req, body))?;
    let post = match parsed {
        Body::Single(m) if super::stateless::is_stateless(&req, &m, named.0.is_some()) => {
            return super::stateless::post(core, req, m, ctx);
        }
        Body::Single(m) => Post {
            messages: vec![m],
            batch: false,
        },
        Body::Batch(messages) => Post {
            messages,
            batch: true,
        },
    };
    let (req, session) = checked(req, |req| post.session(core, req, named, ctx))?;
    let headers = session_headers(&session, ctx);
    let requests = post.requests();
    if requests == 0 {
        let reply = Reply::new(202).headers(&headers);
        let received = post.messages.into_iter().map(|m| core.receive(&session, m));
        return super::incoming::accept_then(core, req, reply, received.collect());
    }
    let route = Route::Exchange(post.exchange(core, req, &session, headers, requests)?);
    for m in post.messages {
        core.handle(&session, m, &route);
    }
    Ok(Handled::Done)
}

/// The checks before the body is known to be JSON-RPC: Accept, Content-Type, the parse.
fn parse(req: &Request, body: &[u8]) -> Result<Body, Refusal> {
    super::incoming::accepts(
        req,
        &[JSON, SSE],
        "Not Acceptable: Accept must allow application/json or text/event-stream",
    )?;
    if !http::is_json_body(req, false) {
        return Err(Refusal::invalid(
            415,
            "Unsupported Media Type: Content-Type must be application/json",
        ));
    }
    jsonrpc::parse_body(body).map_err(Refusal::rejected)
}

/// A session POST: a batch (2025-03-26 only) is answered with an array even for one request.
struct Post {
    messages: Vec<Incoming>,
    batch: bool,
}

impl Post {
    /// The id an HTTP error echoes: only a single request has one to echo.
    fn rpc_id(&self) -> Option<RequestId> {
        match (&self.messages[..], self.batch) {
            ([Incoming::Request(r)], false) => Some(r.id.clone()),
            _ => None,
        }
    }

    fn requests(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| matches!(m, Incoming::Request(_)))
            .count()
    }

    /// The session the POST belongs to: a new one for an initialize without an id, else the one
    /// it names, provided the messages fit that session's revision.
    fn session(
        &self,
        core: &Core,
        req: &Request,
        named: Named,
        ctx: &Ctx,
    ) -> Result<Arc<Session>, Refusal> {
        let is_init = |m: &Incoming| matches!(m, Incoming::Request(r) if r.method == "initialize");
        let has_init = self.messages.iter().any(is_init);
        if named.0.is_none() && has_init {
            if self.batch {
                return Err(Refusal::invalid(
                    400,
                    "Invalid Request: initialize must not be part of a batch",
                ));
            }
            // Only a successful initialize creates a session.
            return core
                .sessions
                .create(TransportKind::Streamable, req.peer(), ctx.caller.clone())
                .map_err(|e| sessions_full(e.per_client()));
        }
        let rpc_id = self.rpc_id();
        let s = self::named(named, rpc_id.clone())?;
        if has_init {
            return Err(
                Refusal::invalid(400, "Invalid Request: session already initialized")
                    .id(rpc_id)
                    .header("Mcp-Session-Id", s.id.clone()),
            );
        }
        protocol_header(req, &s).map_err(|r| r.id(rpc_id))?;
        // Batches exist only in 2025-03-26.
        if self.batch && s.revision() != Some(Revision::V2025_03_26) {
            return Err(Refusal::invalid(
                400,
                "Invalid Request: batches are not supported in this protocol revision",
            )
            .header("Mcp-Session-Id", s.id.clone()));
        }
        Ok(s)
    }

    /// Where the answers go: one JSON body, or an SSE stream when a request may send messages
    /// before its result, `--sse-responses` is set, or the client accepts nothing else.
    fn exchange(
        &self,
        core: &Core,
        req: Request,
        session: &Arc<Session>,
        headers: Vec<(String, String)>,
        requests: usize,
    ) -> Result<Arc<dyn Exchange>, Refused> {
        let wants_progress = self
            .messages
            .iter()
            .any(|m| matches!(m, Incoming::Request(r) if core.may_stream(session, r)));
        if core.config.sse_responses || wants_progress || !http::accepts_any(&req, &[JSON]) {
            return open_sse_exchange(core, req, session, headers, requests);
        }
        let x = JsonExchange::new(req, headers, requests, self.batch);
        Ok(Arc::new(x))
    }
}

/// Opens the SSE stream a POST is answered on.
fn open_sse_exchange(
    core: &Core,
    req: Request,
    session: &Session,
    headers: Vec<(String, String)>,
    requests: usize,
) -> Result<Arc<dyn Exchange>, Refused> {
    let stream = session.next_stream_number();
    // 2025-11-25: a priming event (its id, empty data, a retry hint) opens the stream, so a
    // client cut off before the first message can resume too.
    let priming = session.revision() >= Some(Revision::V2025_11_25);
    let spec = StreamSpec {
        message_event: Some("message"),
        headers,
        first: if priming {
            vec![sse::Frame::Priming {
                id: replay::event_id(stream, 0),
                retry_ms: RETRY_MS,
            }]
        } else {
            Vec::new()
        },
        queue: core.config.stream_queue,
        lazy_head: !priming,
    };
    // Findable before the stream's first byte (the priming event) can reach the client.
    let x = Arc::new(SseExchange::new(
        stream,
        requests,
        core.config.replay_events,
    ));
    session.keep_resumable(stream, x.clone());
    let handle = sse::open(req, spec, &core.streams, Box::new(|_, _| {}))?;
    session.track_exchange_stream(handle.clone());
    x.attach_first(handle);
    Ok(x)
}

/// `GET /mcp`: the session's standalone stream. A new one replaces the old, so a client whose
/// stream a proxy cut can always reconnect.
pub fn open_stream(core: &Arc<Core>, req: Request, sid: Option<String>, ctx: &Ctx) -> Outcome {
    let (req, session) = checked(req, |req| {
        super::incoming::accepts(
            req,
            &[SSE],
            "Not Acceptable: Accept must allow text/event-stream",
        )?;
        named_session(core, req, sid, ctx)
    })?;
    // 2025-11-25: the stream opens with a priming event naming the general channel's position.
    let first = if session.revision() >= Some(Revision::V2025_11_25) {
        vec![sse::Frame::Priming {
            id: session.general_position(),
            retry_ms: RETRY_MS,
        }]
    } else {
        Vec::new()
    };
    let spec = StreamSpec {
        message_event: Some("message"),
        headers: session_headers(&session, ctx),
        first,
        queue: core.config.stream_queue,
        lazy_head: false,
    };
    match resume_post_stream(core, req, &session, &spec)? {
        Some(req) => super::general::open(core, req, &session, spec, true),
        None => Ok(Handled::Done),
    }
}

/// The session a GET or DELETE names, with a revision header it accepts.
fn named_session(
    core: &Core,
    req: &Request,
    sid: Option<String>,
    ctx: &Ctx,
) -> Result<Arc<Session>, Refusal> {
    let session = lookup(core, sid, ctx.caller.as_ref(), None)?;
    protocol_header(req, &session)?;
    Ok(session)
}

/// `GET /mcp` with `Last-Event-ID` naming an event of a POST's stream: replays that stream's
/// events after it and goes on with the rest. Hands the request back for the general stream
/// otherwise (no id, an id of the general channel, or a POST stream that is no longer kept: that
/// gap is logged and counted, and a fresh general stream starts).
fn resume_post_stream(
    core: &Core,
    req: Request,
    session: &Session,
    spec: &StreamSpec,
) -> Result<Option<Request>, Refused> {
    let Some((stream, after, x)) = named_post_stream(&req, session) else {
        return Ok(Some(req));
    };
    let mut parts = Some((req, replay_spec(spec)));
    let mut opened: Option<sse::StreamHandle> = None;
    let mut failed = None;
    let result = x.resume(after, &mut |replay| {
        let (req, mut spec) = parts.take()?;
        spec.first = replay;
        match sse::open(req, spec, &core.streams, Box::new(|_, _| {})) {
            Ok(h) => {
                opened = Some(h.clone());
                Some(h)
            }
            Err(e) => {
                failed = Some(e);
                None
            }
        }
    });
    match result {
        Ok(n) => {
            if let Some(e) = failed {
                return Err(e.into());
            }
            core.runtime
                .metrics
                .streams_resumed
                .fetch_add(1, Ordering::Relaxed);
            log::debug!(
                "session {}: stream {stream} resumed after {after}, {n} event(s) replayed",
                session.id
            );
            opened
                .into_iter()
                .for_each(|h| session.track_exchange_stream(h));
            Ok(None)
        }
        Err(g) => {
            log::debug!(
                "session {}: stream {stream} cannot resume after {after}: {g:?}",
                session.id
            );
            // Nothing was opened: a fresh general stream starts instead (and counts the gap).
            Ok(parts.take().map(|(req, _)| req))
        }
    }
}

/// A resumed POST stream carries no priming event: the replayed events come first.
fn replay_spec(spec: &StreamSpec) -> StreamSpec {
    StreamSpec {
        message_event: spec.message_event,
        headers: spec.headers.clone(),
        first: Vec::new(),
        queue: spec.queue,
        lazy_head: false,
    }
}

/// The POST stream and event a `Last-Event-ID` names, while that stream is kept. Anything else
/// is the general stream's to handle (a stream no longer kept opens it fresh, counting the gap).
fn named_post_stream(req: &Request, session: &Session) -> Option<(u64, u64, Arc<dyn Exchange>)> {
    let (stream, after) = replay::parse_event_id(req.header("Last-Event-ID")?)?;
    if stream == GENERAL_STREAM {
        return None;
    }
    Some((stream, after, session.resumable(stream)?))
}

/// `DELETE /mcp`: ends the session; its id answers 404 from then on.
pub fn delete(core: &Arc<Core>, req: Request, sid: Option<String>, ctx: &Ctx) -> Outcome {
    let (req, session) = checked(req, |req| named_session(core, req, sid, ctx))?;
    core.sessions.remove(&session.id);
    log::info!("session {} closed by the client", session.id);
    Ok(Handled::answer(req, Reply::new(200).headers(&ctx.cors)))
}
