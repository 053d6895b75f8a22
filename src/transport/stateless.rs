//! Revision 2026-07-28 on `/mcp`, beside the session revisions (GUIDE §2.3, §3.7).
//!
//! A POST is stateless when its body says so (`_meta` names a non-handshake revision, or the
//! method is `server/discover`), or, lacking that, when it has no session and its
//! `MCP-Protocol-Version` header names no handshake revision. Such a request is checked in the
//! order the revision's conformance scenarios expect (metadata → headers → version → method),
//! served by the shared core through a stand-in session that lives as long as the request, and
//! answered with JSON, or with an SSE stream when it asked for progress or log messages (no
//! event ids: this revision has no resumption; closing the stream cancels the request).

use super::incoming::Ctx;
use super::refusal::{Handled, Outcome, Refusal, Refused, checked};
use crate::dispatch::Core;
use crate::http::{self, Reply, Request};
use crate::jsonrpc::{self, ErrorObject, INVALID_REQUEST, Incoming, RequestId, Response};
use crate::protocol::Revision;
use crate::session::{Exchange, Outgoing, Route, Session, StatelessClient};
use crate::sse::{self, Frame, Msg, Push, StreamHandle, StreamSpec};
use crate::stateless::{self as modern, RequestMeta};
use crate::subscriptions::{Filter, Subscriptions};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const SSE: &str = "text/event-stream";
const JSON: &str = "application/json";

/// Whether a single-message POST on `/mcp` belongs to the stateless revision (GUIDE §2.3, after
/// its rules 1–2: non-POSTs and batches are session traffic).
pub fn is_stateless(req: &Request, msg: &Incoming, has_session: bool) -> bool {
    let (method, params) = match msg {
        Incoming::Request(r) => (r.method.as_str(), &r.params),
        Incoming::Notification(n) => (n.method.as_str(), &n.params),
        Incoming::Response { .. } => ("", &serde_json::Map::new()),
    };
    if let Some(v) = modern::requested_version(params) {
        return Revision::parse(v).is_none();
    }
    if method == "initialize" {
        return false;
    }
    if method == "server/discover" {
        return true;
    }
    if has_session {
        return false;
    }
    req.header("MCP-Protocol-Version")
        .is_some_and(|v| Revision::parse(v.trim_ascii()).is_none())
}

/// A stateless POST (Accept, Content-Type and the JSON parse were checked by the caller).
pub fn post(core: &Arc<Core>, req: Request, msg: Incoming, ctx: &Ctx) -> Outcome {
    let r = match msg {
        Incoming::Request(r) => r,
        Incoming::Notification(n) => {
            // The revision defines no client notifications over HTTP; accepted and ignored.
            log::debug!("stateless notification {} ignored", n.method);
            return Ok(Handled::answer(req, Reply::new(202).headers(&ctx.cors)));
        }
        Incoming::Response { id, .. } => {
            let e = ErrorObject::new(
                INVALID_REQUEST,
                "Invalid Request: revision 2026-07-28 clients do not send responses (the server asks through input-required results)",
            );
            return Err(Refusal::rpc(400, e).id(Some(id)).answering(req));
        }
    };
    let (req, meta) = checked(req, |req| admit(core, req, &r))?;
    if r.method == "subscriptions/listen" && core.upstream.is_some() {
        // A gateway's children tell their own client of changes; none is a listener here.
        let e = ErrorObject::new(
            jsonrpc::METHOD_NOT_FOUND,
            "The gateway does not serve subscriptions/listen (revision 2026-07-28): initialize a session with revision 2025-11-25 or earlier for change notifications",
        );
        return Err(Refusal::rpc(404, e).id(Some(r.id)).answering(req));
    }
    if r.method == "subscriptions/listen" {
        return listen(core, req, r, ctx);
    }
    let client = StatelessClient {
        client_info: meta.client_info,
        capabilities: meta.capabilities,
        log_level: meta.log_level,
    };
    let session = core.sessions.stateless(client, ctx.caller.clone());
    let sse_mode = core.config.sse_responses
        || core.may_stream(&session, &r)
        || !http::accepts_any(&req, &[JSON]);
    let exchange: Arc<dyn Exchange> = if sse_mode {
        open_stream_answer(core, req, &session, &r.id, ctx)?
    } else {
        Arc::new(JsonAnswer {
            pending: Mutex::new(Some((req, ctx.cors.clone()))),
        })
    };
    core.handle(&session, Incoming::Request(r), &Route::Exchange(exchange));
    Ok(Handled::Done)
}

/// The revision's ladder in the order its conformance scenarios expect: metadata, headers,
/// version, method.
fn admit(core: &Core, req: &Request, r: &jsonrpc::Request) -> Result<RequestMeta, Refusal> {
    let refuse = |status, e| Refusal::rpc(status, e).id(Some(r.id.clone()));
    let meta =
        RequestMeta::parse(&r.params).map_err(|why| refuse(400, modern::invalid_params(why)))?;
    check_headers(core, req, r, &meta).map_err(|e| refuse(400, e))?;
    if Revision::parse_any(&meta.version) != Some(Revision::V2026_07_28) {
        return Err(refuse(400, modern::unsupported_version(&meta.version)));
    }
    if !modern::METHODS.contains(&r.method.as_str()) {
        return Err(refuse(404, modern::unknown_method(&r.method)));
    }
    Ok(meta)
}

/// Opens the SSE stream a request that may send messages before its result is answered on.
fn open_stream_answer(
    core: &Core,
    req: Request,
    session: &Arc<Session>,
    id: &RequestId,
    ctx: &Ctx,
) -> Result<Arc<dyn Exchange>, Refused> {
    let answered = Arc::new(AtomicBool::new(false));
    let spec = StreamSpec {
        message_event: Some("message"),
        headers: ctx.cors.clone(),
        first: Vec::new(),
        queue: core.config.stream_queue,
        lazy_head: true,
    };
    // The client closing the stream before the answer is the revision's cancellation.
    let on_end: sse::OnEnd = {
        let (answered, session, id) = (answered.clone(), session.clone(), id.clone());
        let runtime = core.runtime.clone();
        Box::new(move |_, _| {
            if !answered.load(Ordering::Acquire) && session.cancel(&id) {
                runtime.metrics.cancelled.fetch_add(1, Ordering::Relaxed);
                log::debug!("stateless request {id}: stream closed by the client; cancelled");
            }
        })
    };
    let handle = sse::open(req, spec, &core.streams, on_end)?;
    core.subscriptions.track(handle.clone());
    Ok(Arc::new(StreamAnswer { handle, answered }))
}

/// What the `Mcp-Param-*` check reads of `tools/call` params. Arguments that are not an object
/// mirror nothing here; the call itself refuses them.
#[derive(Deserialize)]
struct CallArguments {
    #[serde(default)]
    arguments: Option<Map<String, Value>>,
}

/// Steps 3–4 of the revision's ladder: `MCP-Protocol-Version` equal to `_meta`, `Mcp-Method`,
/// `Mcp-Name` and the `Mcp-Param-*` headers of the tool's `x-mcp-header` arguments equal to the
/// body (-32020 otherwise).
fn check_headers(
    core: &Core,
    req: &Request,
    r: &jsonrpc::Request,
    meta: &RequestMeta,
) -> Result<(), ErrorObject> {
    fn values<'a>(req: &'a Request, name: &'a str) -> Vec<&'a str> {
        req.header_all(name).collect()
    }
    modern::check_header(
        &values(req, "MCP-Protocol-Version"),
        "MCP-Protocol-Version",
        Some(&meta.version),
    )?;
    modern::check_header(&values(req, "Mcp-Method"), "Mcp-Method", Some(&r.method))?;
    modern::check_header(
        &values(req, "Mcp-Name"),
        "Mcp-Name",
        modern::mirrored_name(r),
    )?;
    if r.method != "tools/call" {
        return Ok(());
    }
    let Some(name) = modern::mirrored_name(r) else {
        return Ok(());
    };
    let marked = match &core.upstream {
        // A gateway: the schema of the child's tool, as the child listed it.
        Some(up) => match up.tool_schema(name) {
            Some(schema) => modern::header_params(&schema),
            None => return Ok(()),
        },
        None => match crate::dispatch::read(&core.features.tools).get(name) {
            Some(t) => modern::header_params(&t.input_schema),
            None => return Ok(()),
        },
    };
    if marked.is_empty() {
        return Ok(());
    }
    let args = CallArguments::deserialize(&r.params)
        .ok()
        .and_then(|c| c.arguments)
        .unwrap_or_default();
    for (header, path) in marked {
        let name = format!("Mcp-Param-{header}");
        let expected = modern::header_param_value(&args, &path);
        modern::ParamValue::check(expected.as_ref(), &values(req, &name), &name)?;
    }
    Ok(())
}

/// `subscriptions/listen`: an SSE stream that opens with the acknowledgement and then carries
/// the notifications asked for, until the client closes it or the server stops.
fn listen(core: &Arc<Core>, req: Request, r: jsonrpc::Request, ctx: &Ctx) -> Outcome {
    let (req, filter) = checked(req, |req| {
        let id = Some(r.id.clone());
        super::incoming::accepts(
            req,
            &[SSE],
            "Not Acceptable: subscriptions/listen answers with a stream; Accept must allow text/event-stream",
        )
        .map_err(|e| e.id(id.clone()))?;
        Filter::parse(&r.params)
            .map_err(|why| Refusal::rpc(400, modern::invalid_params(why)).id(id))
    })?;
    let honoured = filter.honoured(&core.features.capabilities(Revision::V2026_07_28));
    let first: Vec<Frame> = Subscriptions::acknowledgement(&r.id, &honoured)
        .into_iter()
        .collect();
    let spec = StreamSpec {
        message_event: Some("message"),
        headers: ctx.cors.clone(),
        first,
        queue: core.config.stream_queue,
        lazy_head: false,
    };
    let handle = sse::open(req, spec, &core.streams, Box::new(|_, _| {}))?;
    core.subscriptions.listen(r.id, honoured, handle);
    Ok(Handled::Done)
}

/// The HTTP status of a stateless answer: what the revision's HTTP rules give its error codes
/// (an unknown method is 404, a missing client capability 400); 200 otherwise, errors from a
/// handler included.
fn status_of(error: Option<i64>) -> u16 {
    match error {
        Some(jsonrpc::METHOD_NOT_FOUND) => 404,
        Some(modern::MISSING_CAPABILITY) => 400,
        _ => 200,
    }
}

/// A stateless request answered with one JSON body.
struct JsonAnswer {
    /// The request to answer and the headers its answer carries, until answered.
    pending: Mutex<Option<Pending>>,
}

type Pending = (Request, Vec<(String, String)>);

impl Exchange for JsonAnswer {
    fn deliver(&self, msg: &Outgoing) -> bool {
        if msg.answers.is_none() {
            log::debug!("a notification for a JSON answer was dropped");
            return true;
        }
        let taken = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some((req, headers)) = taken else {
            return false;
        };
        Reply::json(status_of(msg.error), msg.json.to_string())
            .headers(&headers)
            .send(req);
        true
    }

    /// Only a shutdown cancels a JSON answer (there is no `notifications/cancelled` over HTTP
    /// in this revision); the body says so, as a JSON body cannot stay silent.
    fn cancelled(&self, id: &RequestId) {
        let e = ErrorObject::new(-32800, "Request cancelled");
        self.deliver(&Outgoing::answer(id, &Response::error(Some(id.clone()), e)));
    }

    fn streams(&self) -> bool {
        false
    }
}

/// A stateless request answered with an SSE stream: its progress and log notifications, then
/// the response, which ends the stream.
struct StreamAnswer {
    handle: StreamHandle,
    answered: Arc<AtomicBool>,
}

impl Exchange for StreamAnswer {
    fn deliver(&self, msg: &Outgoing) -> bool {
        let m = Msg {
            seq: 0,
            json: msg.json.clone(),
            id: None,
        };
        let frame = if msg.answers.is_some() {
            self.answered.store(true, Ordering::Release);
            Frame::Final(m)
        } else {
            // Something before the result: the client needs it now, not when the handler returns.
            self.handle.start_writer();
            Frame::Message(m)
        };
        match self.handle.push(frame) {
            Push::Queued => true,
            Push::Full => {
                log::warn!(
                    "stateless stream {} is not reading; closing it",
                    self.handle.id
                );
                self.handle.close();
                false
            }
            Push::Closed => false,
        }
    }

    fn cancelled(&self, _id: &RequestId) {
        self.handle.close();
    }

    fn streams(&self) -> bool {
        true
    }
}
