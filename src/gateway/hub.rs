//! One child many requesters share: a stateless pool member, or the `--gateway-shared` child.
//!
//! The gateway initializes it once itself (the newest handshake revision; the child's answer is
//! kept and is what `initialize` and `server/discover` are answered from), then every client
//! request reaches it with ids rewritten (see [`super::ids`]), so answers and progress go back to
//! exactly the request, and session, they belong to. What belongs to no request is decided by
//! the mode: a shared child's notifications go to every session; the pool has no sessions to
//! tell, and a child's request to a stateless client becomes an input-required round (see
//! [`super::bridge`]).

use super::child::Child;
use super::filter::{ToolFilter, retain_tools};
use super::ids::{self, INIT_ID, Pending, TOOLS_ID, Table};
use super::link::fail;
use super::parked::{self, Parked};
use super::wire::{self, FromChild};
use crate::dispatch::Core;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, Request, RequestId};
use crate::params::{self, WithMeta};
use crate::protocol::Revision;
use crate::session::{Outgoing, Route, Session, TransportKind};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Who shares the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Stateless (2026-07-28) requests, one at a time each, from no session.
    Pool,
    /// Every session of the server (`--gateway-shared`).
    Shared,
}

/// Where the child's own `initialize` stands.
enum Ready {
    Starting,
    Up(Arc<Value>),
    Down(String),
}

/// What hubs need from the gateway: the core once known, the tool filter.
#[derive(Clone)]
pub(super) struct HubCtx {
    pub core: Arc<OnceLock<Weak<Core>>>,
    pub filter: Arc<ToolFilter>,
}

pub(super) struct Hub {
    pub(super) mode: Mode,
    ctx: HubCtx,
    pub(super) child: OnceLock<Arc<Child>>,
    pub(super) table: Mutex<Table>,
    ready: Mutex<Ready>,
    changed: Condvar,
    /// Shared mode: the sessions on this child (initialize answered), by id.
    sessions: Mutex<HashMap<String, Weak<Session>>>,
    /// Pool mode: the child's tools' input schemas, for the transport's `Mcp-Param-*` checks.
    tools: Mutex<HashMap<String, Value>>,
    /// Pool mode: the `initialize` result, kept until the first tools list arrived.
    init: Mutex<Option<Arc<Value>>>,
    /// Pool mode: the call parked at a question to the client (see [`super::bridge`]); while
    /// one is, the child gets no other work.
    pub(super) parked: Mutex<Option<Parked>>,
    pub(super) me: Weak<Hub>,
}

pub(super) fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    pub(super) fn new(mode: Mode, ctx: HubCtx) -> Arc<Hub> {
        Arc::new_cyclic(|me| Hub {
            mode,
            ctx,
            child: OnceLock::new(),
            table: Mutex::default(),
            ready: Mutex::new(Ready::Starting),
            changed: Condvar::new(),
            sessions: Mutex::default(),
            tools: Mutex::default(),
            init: Mutex::default(),
            parked: Mutex::default(),
            me: me.clone(),
        })
    }

    pub(super) fn core(&self) -> Option<Arc<Core>> {
        self.ctx.core.get().and_then(Weak::upgrade)
    }

    pub(super) fn send_line(&self, line: String) -> bool {
        self.child.get().is_some_and(|c| c.send(line))
    }

    /// Sends the gateway's own `initialize` (the child was just started). Both modes declare
    /// what a client may have: a shared child's requests are relayed; a pool child asking is how
    /// a stateless call is found to need the client (see [`Hub::stateless_ask`]).
    pub(super) fn initialize(&self) -> bool {
        let capabilities =
            json!({"roots": {"listChanged": true}, "sampling": {}, "elicitation": {}});
        let hello = json!({"jsonrpc": "2.0", "id": INIT_ID, "method": "initialize", "params": {
            "protocolVersion": Revision::LATEST.as_str(),
            "capabilities": capabilities,
            "clientInfo": {"name": "fastmcp-server-gateway", "version": env!("CARGO_PKG_VERSION")},
        }});
        self.send_line(hello.to_string())
    }

    /// Waits until the child answered `initialize` (its result) or failed (why), at most until
    /// `deadline`.
    pub(super) fn wait_ready(&self, deadline: Instant) -> Result<Arc<Value>, String> {
        let mut ready = locked(&self.ready);
        loop {
            match &*ready {
                Ready::Up(v) => return Ok(v.clone()),
                Ready::Down(why) => return Err(why.clone()),
                Ready::Starting => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err("the MCP server behind this gateway is still starting".into());
            }
            ready = self
                .changed
                .wait_timeout(ready, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// The child's `initialize` result, if it answered.
    pub(super) fn init_result(&self) -> Option<Arc<Value>> {
        match &*locked(&self.ready) {
            Ready::Up(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn set_ready(&self, r: Ready) {
        *locked(&self.ready) = r;
        self.changed.notify_all();
    }

    /// `--init-timeout-secs` passed: a child still starting is killed.
    pub(super) fn init_timed_out(&self, timeout: Duration) -> bool {
        let mut ready = locked(&self.ready);
        if !matches!(*ready, Ready::Starting) {
            return false;
        }
        *ready = Ready::Down(format!(
            "the MCP server behind this gateway did not answer initialize within {} s (--init-timeout-secs)",
            timeout.as_secs_f64()
        ));
        drop(ready);
        self.changed.notify_all();
        if let Some(c) = self.child.get() {
            c.kill();
        }
        true
    }

    /// Client requests waiting for the child.
    pub(super) fn in_flight(&self) -> usize {
        locked(&self.table).len()
    }

    /// A shared-mode session joins (its `initialize` was answered).
    pub(super) fn attach(&self, session: &Arc<Session>) {
        locked(&self.sessions).insert(session.id.clone(), Arc::downgrade(session));
    }

    /// Whether `name` is a tool this session may see and call (`--allow-tool`, `--deny-tool`,
    /// its token's scope, looked up now).
    fn tool_allowed(&self, session: &Session, name: &str) -> bool {
        let scope = self
            .core()
            .map(|core| core.guard.access().scope(session.caller()));
        self.ctx.filter.allows(name) && scope.is_some_and(|s| s.allows_tool(name))
    }

    /// One client request, to the child under a number of ours.
    pub(super) fn request(&self, session: &Arc<Session>, mut req: Request, route: &Route) {
        if req.method == "tools/call" {
            let name = req.params.get("name").and_then(Value::as_str).unwrap_or("");
            if !self.tool_allowed(session, name) {
                let e = ErrorObject::new(
                    INVALID_PARAMS,
                    format!("Unknown tool: {}", crate::jsonrpc::quote(name)),
                );
                return fail(session, route, &req.id, e);
            }
        }
        let token = params::parse::<WithMeta>(&req.params)
            .ok()
            .and_then(|m| m.meta)
            .and_then(|m| m.progress_token)
            .and_then(|t| serde_json::to_value(t).ok());
        let binding = (self.mode == Mode::Pool)
            .then(|| parked::binding(&req.method, &req.params))
            .flatten()
            .map(Arc::new);
        let (n, ours) = locked(&self.table).begin(Pending {
            session: session.clone(),
            client_id: req.id.clone(),
            route: route.clone(),
            method: req.method.clone(),
            token,
            binding,
        });
        if let Some(Value::Object(meta)) = req.params.get_mut("_meta") {
            // The revision's own keys say nothing to a 2025 child.
            meta.retain(|k, _| !k.starts_with("io.modelcontextprotocol/"));
            if let Some(t) = ours {
                meta.insert("progressToken".into(), t);
            }
            if meta.is_empty() {
                req.params.remove("_meta");
            }
        }
        let client_id = std::mem::replace(&mut req.id, RequestId::Number(n.into()));
        let line = wire::to_line(&crate::jsonrpc::Incoming::Request(req));
        if !self.send_line(line) {
            locked(&self.table).end(n);
            let e = ErrorObject::new(
                INTERNAL_ERROR,
                "The MCP server behind this gateway is not reading its input (or has exited)",
            );
            fail(session, route, &client_id, e);
        }
    }

    /// The client cancelled its request `id`: it ends here at once and the child is told.
    pub(super) fn cancel(&self, session: &Session, id: &RequestId) {
        let p = {
            let mut t = locked(&self.table);
            t.number_of(session, id).and_then(|n| Some((n, t.end(n)?)))
        };
        let Some((n, p)) = p else { return };
        self.tell_cancelled(n, "cancelled by the client");
        session.cancel(id);
        session.send_cancelled(&p.route, id);
        session.end_request(id);
    }

    pub(super) fn tell_cancelled(&self, n: u64, reason: &str) {
        let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": n, "reason": reason}});
        self.send_line(note.to_string());
    }

    /// A client's response to a request of the child, under the child's own id.
    pub(super) fn respond(&self, session: &Session, id: &RequestId, mut message: Value) {
        let Some(child_id) = locked(&self.table).answered(session, id) else {
            log::debug!(
                "session {}: response {id} answers no request of the shared child; dropped",
                session.id
            );
            return;
        };
        message["id"] = child_id;
        self.send_line(message.to_string());
    }

    /// A client notification the child should hear as it is (`roots/list_changed`...).
    pub(super) fn notify(&self, message: Value) {
        self.send_line(message.to_string());
    }

    /// A session ended: its requests are cancelled at the child, and what the child asked it
    /// is answered with an error.
    pub(super) fn detach(&self, session: &str) {
        locked(&self.sessions).remove(session);
        let (requests, asked) = locked(&self.table).drop_session(session);
        for n in requests {
            self.tell_cancelled(n, "the client's session ended");
        }
        for id in asked {
            self.refuse_ask(id, "the client's session ended");
        }
    }

    pub(super) fn refuse_ask(&self, id: Value, why: &str) {
        let e =
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": INTERNAL_ERROR, "message": why}});
        self.send_line(e.to_string());
    }

    /// One line of the child.
    pub(super) fn on_child_line(&self, line: &[u8]) {
        match wire::classify(line) {
            FromChild::Response { id, message } => match ids::number(&id) {
                Some(INIT_ID) => self.initialized(message),
                Some(TOOLS_ID) => self.tools_listed(&message),
                Some(n) => {
                    let p = locked(&self.table).end(n);
                    match p {
                        Some(p) => self.answer(p, message),
                        None => log::debug!("shared child answered {n}, not in flight; dropped"),
                    }
                }
                None => log::debug!("shared child answered {id}, not an id of ours; dropped"),
            },
            FromChild::Notification { method, message } => self.notification(&method, message),
            FromChild::Request { message } => self.child_request(message),
            FromChild::Invalid(why) => {
                log::warn!("a line of the gateway's shared child is not JSON-RPC ({why}); dropped")
            }
        }
    }

    fn initialized(&self, message: Value) {
        match message.get("result") {
            Some(result) if result.is_object() => {
                let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
                self.send_line(note.to_string());
                log::info!(
                    "gateway: shared child {} initialized ({:?} mode)",
                    self.child.get().map_or(0, |c| c.pid()),
                    self.mode
                );
                let result = Arc::new(result.clone());
                if self.mode == Mode::Pool {
                    // Ready once its tools are known too: a stateless call's headers are
                    // checked against them before it is forwarded.
                    *locked(&self.init) = Some(result);
                    self.list_tools();
                } else {
                    self.set_ready(Ready::Up(result));
                }
            }
            _ => {
                log::error!("gateway: the shared child refused initialize: {message}");
                self.set_ready(Ready::Down(format!(
                    "the MCP server behind this gateway refused initialize: {}",
                    message.get("error").unwrap_or(&Value::Null)
                )));
                if let Some(c) = self.child.get() {
                    c.kill();
                }
            }
        }
    }

    /// Asks the child for its tools (pool mode: at start and when they change).
    pub(super) fn list_tools(&self) {
        let ask = json!({"jsonrpc": "2.0", "id": TOOLS_ID, "method": "tools/list"});
        self.send_line(ask.to_string());
    }

    /// The child's tools (first page): their input schemas kept; the hub is ready if it was
    /// waiting for them (a failed list leaves no schema: nothing to check, nothing refused).
    fn tools_listed(&self, message: &Value) {
        let tools = message
            .pointer("/result/tools")
            .and_then(Value::as_array)
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.get("name")?.as_str()?.to_string(),
                            t.get("inputSchema")?.clone(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        *locked(&self.tools) = tools;
        if let Some(init) = locked(&self.init).take() {
            self.set_ready(Ready::Up(init));
        }
    }

    /// The input schema of the child's tool `name`, as last listed.
    pub(super) fn tool_schema(&self, name: &str) -> Option<Value> {
        locked(&self.tools).get(name).cloned()
    }

    /// The child's answer, under the client's id, to the exchange it came from.
    fn answer(&self, p: Pending, mut message: Value) {
        message["id"] = serde_json::to_value(&p.client_id).unwrap_or_default();
        let stateless = p.session.kind == TransportKind::Stateless;
        if let Some(result) = message.get_mut("result") {
            if p.method == "tools/list" {
                retain_tools(result, |n| self.tool_allowed(&p.session, n));
            }
            if stateless {
                let ttl = self.core().map_or(0, |c| c.runtime.settings.cache_ttl_ms);
                *result = crate::stateless::shape_result(&p.method, result.take(), ttl);
            }
        }
        let error = message.pointer("/error/code").and_then(Value::as_i64);
        p.session.send(
            &p.route,
            Outgoing {
                json: message.to_string().into(),
                answers: Some(p.client_id.clone()),
                error,
            },
        );
        p.session.end_request(&p.client_id);
    }

    fn notification(&self, method: &str, mut message: Value) {
        let target = {
            let t = locked(&self.table);
            match method {
                "notifications/progress" => message
                    .pointer("/params/progressToken")
                    .and_then(|tok| t.by_token(tok))
                    .map(|p| (p.session.clone(), p.route.clone(), p.token.clone())),
                // A log line most likely belongs to the one request running, if one is.
                "notifications/message" => t
                    .sole()
                    .map(|(_, p)| (p.session.clone(), p.route.clone(), None)),
                _ => None,
            }
        };
        if let Some((session, route, token)) = target {
            if let (Some(tok), Some(params)) = (token, message.get_mut("params")) {
                params["progressToken"] = tok;
            }
            session.send(
                &streaming(route),
                Outgoing::message(message.to_string().into()),
            );
            return;
        }
        if self.mode == Mode::Pool && method == "notifications/tools/list_changed" {
            return self.list_tools();
        }
        if matches!(method, "notifications/progress" | "notifications/message")
            || self.mode == Mode::Pool
        {
            log::debug!("gateway: shared child's {method} belongs to no request; dropped");
            return;
        }
        // list_changed, resources/updated...: news for every client of the child.
        let json: Arc<str> = message.to_string().into();
        let sessions: Vec<Arc<Session>> = locked(&self.sessions)
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for s in sessions {
            s.send(&Route::Session, Outgoing::message(json.clone()));
        }
    }

    /// The child is gone: what it had not answered is answered with an error, and (shared
    /// mode) every session on it ends, so its id answers 404 and the client initializes again.
    pub(super) fn exited(&self) {
        {
            let mut ready = locked(&self.ready);
            if !matches!(*ready, Ready::Down(_)) {
                *ready = Ready::Down("the MCP server behind this gateway exited".into());
            }
        }
        self.changed.notify_all();
        for p in locked(&self.table).drain() {
            let e = ErrorObject::new(
                INTERNAL_ERROR,
                "The MCP server behind this gateway exited; initialize a new session",
            );
            fail(&p.session, &p.route, &p.client_id, e);
        }
        let sessions: Vec<String> = locked(&self.sessions).drain().map(|(id, _)| id).collect();
        if let Some(core) = self.core() {
            for id in sessions {
                core.sessions.remove(&id);
            }
        }
    }
}

/// Messages before the result only travel on streams: a route that cannot carry them (a JSON
/// answer) becomes the session's general stream.
pub(super) fn streaming(route: Route) -> Route {
    match route {
        Route::Exchange(x) if x.streams() => Route::Exchange(x),
        _ => Route::Session,
    }
}
