//! MCP Streamable HTTP (revisions 2025-03-26, 2025-06-18, 2025-11-25) on `/mcp`; POSTs of the
//! stateless revision 2026-07-28 are handed to `transport::stateless`.
//!
//! Each POST is one exchange: its answers go back on that POST's own response (a JSON body, or an
//! SSE stream when the request may send messages before its result or `--sse-responses` is set).
//! `GET /mcp` is the session's standalone stream for server-initiated messages; `DELETE` ends the
//! session.

use super::Ctx;
use crate::dispatch::Core;
use crate::http::Request;
use crate::http::{self, Reply};
use crate::jsonrpc::{self, Body, INVALID_REQUEST, Incoming, RequestId};
use crate::protocol::Revision;
use crate::replay::{self, Gap, StreamLog};
use crate::session::{Exchange, Outgoing, Route, Session, TransportKind};
use crate::sse::{self, StreamSpec};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const JSON: &str = "application/json";
/// The reconnection delay a priming event suggests (milliseconds).
const RETRY_MS: u64 = 1000;
/// The error a JSON answer to a cancelled request carries.
const REQUEST_CANCELLED: i64 = -32800;
const SSE: &str = "text/event-stream";

fn session_headers(session: &Session, ctx: &Ctx) -> Vec<(String, String)> {
    let mut h = vec![("Mcp-Session-Id".to_string(), session.id.clone())];
    h.extend(ctx.cors.iter().cloned());
    h
}

fn error(req: Request, status: u16, msg: &str, ctx: &Ctx) {
    error_for(req, None, status, msg, ctx)
}

/// An HTTP error whose JSON-RPC body echoes the request id, once the body has been read.
fn error_for(req: Request, id: Option<RequestId>, status: u16, msg: &str, ctx: &Ctx) {
    Reply::rpc_error(status, id, INVALID_REQUEST, msg)
        .headers(&ctx.cors)
        .send(req);
}

/// Finds the session a request names; answers 400/404 itself when it cannot.
fn lookup(
    core: &Core,
    req: Request,
    sid: Option<String>,
    rpc_id: Option<RequestId>,
    ctx: &Ctx,
) -> Option<(Request, Arc<Session>)> {
    let Some(id) = sid else {
        error_for(
            req,
            rpc_id,
            400,
            "Bad Request: missing session id (send the Mcp-Session-Id header from initialize; seed clients use ?session_id=)",
            ctx,
        );
        return None;
    };
    match core.sessions.get(&id) {
        Some(s) if s.kind == TransportKind::Streamable => Some((req, s)),
        _ => {
            error_for(
                req,
                rpc_id,
                404,
                &format!("Session not found: {id} (expired or terminated; initialize again)"),
                ctx,
            );
            None
        }
    }
}

/// From 2025-06-18 every request after initialize carries `MCP-Protocol-Version`; an unsupported
/// value is refused, an absent one means the negotiated revision.
fn protocol_header_ok(req: &Request, session: &Session) -> Result<(), String> {
    if session.revision().is_none_or(|r| r < Revision::V2025_06_18) {
        return Ok(());
    }
    match req.header("MCP-Protocol-Version") {
        Some(v) if Revision::parse(v).is_none() => Err(format!(
            "Bad Request: unsupported MCP-Protocol-Version {v:?} (supported: {})",
            Revision::ALL.map(Revision::as_str).join(", ")
        )),
        _ => Ok(()),
    }
}

/// `POST /mcp` for Streamable HTTP.
pub fn post(core: &Arc<Core>, req: Request, body: &[u8], sid: Option<String>, ctx: &Ctx) {
    if !http::accepts_any(&req, &[JSON, SSE]) {
        return error(
            req,
            406,
            "Not Acceptable: Accept must allow application/json or text/event-stream",
            ctx,
        );
    }
    if !http::is_json_body(&req, false) {
        return error(
            req,
            415,
            "Unsupported Media Type: Content-Type must be application/json",
            ctx,
        );
    }
    let parsed = match jsonrpc::parse_body(body) {
        Ok(b) => b,
        Err(rej) => {
            return Reply::json(400, rej.to_response().to_json())
                .headers(&ctx.cors)
                .send(req);
        }
    };
    let (messages, batch) = match parsed {
        Body::Single(m) if super::stateless::is_stateless(&req, &m, sid.is_some()) => {
            return super::stateless::post(core, req, m, ctx);
        }
        Body::Single(m) => (vec![m], false),
        Body::Batch(v) => (v, true),
    };
    let rpc_id = match (&messages[..], batch) {
        ([Incoming::Request(r)], false) => Some(r.id.clone()),
        _ => None,
    };
    let is_init = |m: &Incoming| matches!(m, Incoming::Request(r) if r.method == "initialize");
    let has_init = messages.iter().any(is_init);
    let (req, session) = if sid.is_none() && has_init {
        if batch {
            return error(
                req,
                400,
                "Invalid Request: initialize must not be part of a batch",
                ctx,
            );
        }
        // Only a successful initialize creates a session.
        match core.sessions.create(TransportKind::Streamable) {
            Ok(s) => (req, s),
            Err(_) => return super::seed::too_many_sessions(req, ctx),
        }
    } else {
        let Some((req, s)) = lookup(core, req, sid, rpc_id.clone(), ctx) else {
            return;
        };
        if has_init {
            return Reply::rpc_error(
                400,
                rpc_id,
                INVALID_REQUEST,
                "Invalid Request: session already initialized",
            )
            .headers(&session_headers(&s, ctx))
            .send(req);
        }
        if let Err(msg) = protocol_header_ok(&req, &s) {
            return error_for(req, rpc_id, 400, &msg, ctx);
        }
        // Batches exist only in 2025-03-26.
        if batch && s.revision() != Some(Revision::V2025_03_26) {
            return Reply::rpc_error(
                400,
                None,
                INVALID_REQUEST,
                "Invalid Request: batches are not supported in this protocol revision",
            )
            .headers(&session_headers(&s, ctx))
            .send(req);
        }
        (req, s)
    };
    let headers = session_headers(&session, ctx);
    let requests = messages
        .iter()
        .filter(|m| matches!(m, Incoming::Request(_)))
        .count();
    if requests == 0 {
        Reply::new(202).headers(&headers).send(req);
        for m in messages {
            core.handle(&session, m, &Route::Session);
        }
        return;
    }
    let wants_progress = messages
        .iter()
        .any(|m| matches!(m, Incoming::Request(r) if core.may_stream(&session, r)));
    let sse_mode = core.config.sse_responses || wants_progress || !http::accepts_any(&req, &[JSON]);
    let exchange: Arc<dyn Exchange> = if sse_mode {
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
            watch_peer: false,
        };
        // Findable before the stream's first byte (the priming event) can reach the client.
        let x = Arc::new(SseExchange {
            stream,
            remaining: AtomicUsize::new(requests),
            log: Mutex::new(StreamLog::new(core.config.replay_events)),
        });
        session.keep_resumable(stream, x.clone());
        match sse::open(req, spec, &core.streams, Box::new(|_, _| {})) {
            Ok(handle) => {
                session.track_exchange_stream(handle.clone());
                x.log().attach_first(handle);
                x
            }
            Err(e) => return super::stream_not_opened(e, ctx),
        }
    } else {
        Arc::new(JsonExchange {
            pending: Mutex::new(Some(Pending {
                req,
                headers,
                answers: Vec::with_capacity(requests),
            })),
            expected: requests,
            batch,
        })
    };
    let route = Route::Exchange(exchange);
    for m in messages {
        core.handle(&session, m, &route);
    }
}

/// A POST answered with one JSON body once every request in it has its response.
struct JsonExchange {
    pending: Mutex<Option<Pending>>,
    expected: usize,
    batch: bool,
}

struct Pending {
    req: Request,
    headers: Vec<(String, String)>,
    answers: Vec<Arc<str>>,
}

impl Exchange for JsonExchange {
    /// A JSON body cannot stay silent, so a cancelled request is answered with -32800 (what the
    /// official Python SDK sends; the client has stopped waiting and ignores it).
    fn cancelled(&self, id: &RequestId) {
        let e = crate::jsonrpc::ErrorObject::new(REQUEST_CANCELLED, "Request cancelled");
        self.deliver(&Outgoing::answer(
            id,
            &crate::jsonrpc::Response::error(Some(id.clone()), e),
        ));
    }

    fn streams(&self) -> bool {
        false
    }

    fn deliver(&self, msg: &Outgoing) -> bool {
        if msg.answers.is_none() {
            // A JSON body has no room for messages before the result; such requests get SSE.
            log::debug!("a notification for a JSON exchange was dropped");
            return true;
        }
        let mut guard = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some(p) = guard.as_mut() else {
            return false;
        };
        p.answers.push(msg.json.clone());
        if p.answers.len() < self.expected {
            return true;
        }
        let Some(p) = guard.take() else { return false };
        drop(guard);
        let body = if self.batch {
            format!(
                "[{}]",
                p.answers.iter().map(|a| &**a).collect::<Vec<_>>().join(",")
            )
        } else {
            p.answers.first().map(|a| a.to_string()).unwrap_or_default()
        };
        Reply::json(200, body).headers(&p.headers).send(p.req);
        true
    }
}

/// A POST answered with an SSE stream that ends after the last response. Its events have ids
/// and stay in a bounded log, so a client that lost the stream (or that the server sent away
/// early) resumes it with `GET` + `Last-Event-ID`.
struct SseExchange {
    stream: u64,
    remaining: AtomicUsize,
    log: Mutex<StreamLog>,
}

impl SseExchange {
    fn log(&self) -> std::sync::MutexGuard<'_, StreamLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Exchange for SseExchange {
    /// The stream ends without the cancelled request's result.
    fn cancelled(&self, _id: &RequestId) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.log().finish_silently();
        }
    }

    fn streams(&self) -> bool {
        true
    }

    fn end_stream(&self) -> bool {
        self.log().end_stream()
    }

    fn resume(
        &self,
        after: u64,
        open: &mut dyn FnMut(Vec<sse::Frame>) -> Option<sse::StreamHandle>,
    ) -> Result<usize, Gap> {
        self.log().resume(self.stream, after, open)
    }

    fn can_resume(&self) -> bool {
        true
    }

    /// Every message is logged, so one the client could not take now is not lost: it gets it
    /// when it resumes.
    fn deliver(&self, msg: &Outgoing) -> bool {
        let last = msg.answers.is_some() && self.remaining.fetch_sub(1, Ordering::AcqRel) == 1;
        self.log().push(self.stream, msg.json.clone(), last);
        true
    }
}

/// `GET /mcp`: the session's standalone stream. A new one replaces the old, so a client whose
/// stream a proxy cut can always reconnect.
pub fn open_stream(core: &Arc<Core>, req: Request, sid: Option<String>, ctx: &Ctx) {
    if !http::accepts_any(&req, &[SSE]) {
        return error(
            req,
            406,
            "Not Acceptable: Accept must allow text/event-stream",
            ctx,
        );
    }
    let Some((req, session)) = lookup(core, req, sid, None, ctx) else {
        return;
    };
    if let Err(msg) = protocol_header_ok(&req, &session) {
        return error(req, 400, &msg, ctx);
    }
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
        watch_peer: false,
    };
    let Some(req) = resume_post_stream(core, req, &session, &spec, ctx) else {
        return;
    };
    super::open_general(core, req, &session, spec, true, ctx);
}

/// `GET /mcp` with `Last-Event-ID` naming an event of a POST's stream: replays that stream's
/// events after it and goes on with the rest. Hands the request back for the general stream
/// otherwise (no id, an id of the general channel, or a POST stream that is no longer kept: that
/// gap is logged and counted, and a fresh general stream starts).
fn resume_post_stream(
    core: &Arc<Core>,
    req: Request,
    session: &Arc<Session>,
    spec: &StreamSpec,
    ctx: &Ctx,
) -> Option<Request> {
    let Some(last) = req.header("Last-Event-ID").map(str::to_string) else {
        return Some(req);
    };
    let Some((stream, after)) = replay::parse_event_id(&last) else {
        return Some(req);
    };
    if stream == crate::session::GENERAL_STREAM {
        return Some(req);
    }
    // A stream no longer kept: the general stream opens fresh and counts the gap.
    let Some(x) = session.resumable(stream) else {
        return Some(req);
    };
    let mut parts = Some((
        req,
        StreamSpec {
            message_event: spec.message_event,
            headers: spec.headers.clone(),
            first: Vec::new(),
            queue: spec.queue,
            lazy_head: false,
            watch_peer: false,
        },
    ));
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
                super::stream_not_opened(e, ctx);
                return None;
            }
            crate::metrics::METRICS
                .streams_resumed
                .fetch_add(1, Ordering::Relaxed);
            log::debug!(
                "session {}: stream {stream} resumed after {after}, {n} event(s) replayed",
                session.id
            );
            if let Some(h) = opened {
                session.track_exchange_stream(h);
            }
            None
        }
        Err(g) => {
            log::debug!(
                "session {}: stream {stream} cannot resume after {after}: {g:?}",
                session.id
            );
            // Nothing was opened: a fresh general stream starts instead (and counts the gap).
            parts.take().map(|(req, _)| req)
        }
    }
}

/// `DELETE /mcp`: ends the session; its id answers 404 from then on.
pub fn delete(core: &Arc<Core>, req: Request, sid: Option<String>, ctx: &Ctx) {
    let Some((req, session)) = lookup(core, req, sid, None, ctx) else {
        return;
    };
    if let Err(msg) = protocol_header_ok(&req, &session) {
        return error(req, 400, &msg, ctx);
    }
    core.sessions.remove(&session.id);
    log::info!("session {} closed by the client", session.id);
    Reply::new(200).headers(&ctx.cors).send(req);
}
