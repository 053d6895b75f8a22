//! One session's link to its own child: what the client sends goes to the child as a line, and
//! each line of the child goes to the exchange it belongs to (see [`super::route`]).
//!
//! The link holds its session and the core weakly: the session owns the link's end (its
//! `on_end` hook kills the child), not the other way round.

use super::child::Child;
use super::filter::ToolFilter;
use super::route::Routes;
use super::stats::Stats;
use super::wire::{self, FromChild};
use crate::dispatch::Core;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, Incoming, RequestId, Response};
use crate::params::{self, SetLevel, WithMeta};
use crate::protocol::Revision;
use crate::session::{Outgoing, Route, Session};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// One session and its child.
pub(super) struct Link {
    pub(super) session: Weak<Session>,
    session_id: String,
    core: Weak<Core>,
    pub(super) child: OnceLock<Arc<Child>>,
    routes: Mutex<Routes>,
    /// The client's `initialize` while the child has not answered it: its id and params.
    init: Mutex<Option<(RequestId, Map<String, Value>)>>,
    initialized: AtomicBool,
    filter: Arc<ToolFilter>,
    pub(super) stats: Arc<Stats>,
}

impl Link {
    /// Whether this session may see and call the child's tool `name`: `--allow-tool` /
    /// `--deny-tool`, and the scope of the token that opened the session (`[[auth.token]]
    /// tools`), looked up now so a reload's new grants apply at once.
    fn tool_allowed(&self, session: &Session, name: &str) -> bool {
        let scope = self
            .core
            .upgrade()
            .map(|core| core.guard.access().scope(session.caller()));
        self.filter.allows(name) && scope.is_some_and(|s| s.allows_tool(name))
    }

    pub(super) fn new(
        core: &Arc<Core>,
        session: &Arc<Session>,
        filter: Arc<ToolFilter>,
        stats: Arc<Stats>,
    ) -> Link {
        Link {
            session: Arc::downgrade(session),
            session_id: session.id.clone(),
            core: Arc::downgrade(core),
            child: OnceLock::new(),
            routes: Mutex::new(Routes::default()),
            init: Mutex::new(None),
            initialized: AtomicBool::new(false),
            filter,
            stats,
        }
    }

    fn routes(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forwards the client's `initialize` (the child was just started).
    pub(super) fn initialize(
        &self,
        session: &Session,
        req: crate::jsonrpc::Request,
        route: &Route,
    ) {
        *self.init.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((req.id.clone(), req.params.clone()));
        self.request(session, req, route);
    }

    /// Whether the child answered `initialize` successfully.
    pub(super) fn is_initialized(&self) -> bool {
        self.initialized.load(Ordering::Acquire)
    }

    /// One message of the client, to the child.
    pub(super) fn forward(&self, session: &Session, msg: Incoming, route: &Route) {
        match msg {
            Incoming::Request(req) => self.request(session, req, route),
            Incoming::Notification(n) => {
                if n.method == "notifications/cancelled"
                    && let Ok(c) = params::parse::<params::Cancelled>(&n.params)
                {
                    self.cancelled(session, &c.request_id);
                }
                self.send_line(wire::to_line(&Incoming::Notification(n)));
            }
            response @ Incoming::Response { .. } => {
                self.send_line(wire::to_line(&response));
            }
        }
    }

    fn request(&self, session: &Session, req: crate::jsonrpc::Request, route: &Route) {
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
        if req.method == "logging/setLevel"
            && let Ok(p) = params::parse::<SetLevel>(&req.params)
        {
            // So that tool calls are answered as streams the child's log messages can travel on.
            session.set_log_level(p.level);
        }
        let token = params::parse::<WithMeta>(&req.params)
            .ok()
            .and_then(|m| m.meta)
            .and_then(|m| m.progress_token)
            .and_then(|t| serde_json::to_value(t).ok());
        let line = wire::to_line(&Incoming::Request(req.clone()));
        self.routes()
            .begin(req.id.clone(), route.clone(), &req.method, token.as_ref());
        if !self.send_line(line) {
            self.routes().end(&req.id);
            let e = ErrorObject::new(
                INTERNAL_ERROR,
                "The MCP server behind this gateway is not reading its input (or has exited)",
            );
            fail(session, route, &req.id, e);
        }
    }

    /// `notifications/cancelled` for request `id`: the client stops waiting, so the request ends
    /// here at once (the child is told by the notification itself, and its late answer, if any,
    /// is dropped).
    fn cancelled(&self, session: &Session, id: &RequestId) {
        let Some(p) = self.routes().end(id) else {
            return;
        };
        session.cancel(id);
        session.send_cancelled(&p.route, id);
        session.end_request(id);
    }

    fn send_line(&self, line: String) -> bool {
        self.child.get().is_some_and(|c| c.send(line))
    }

    /// One line of the child, to the client.
    pub(super) fn on_child_line(&self, line: &[u8]) {
        let Some(session) = self.session.upgrade() else {
            return;
        };
        match wire::classify(line) {
            FromChild::Response { id, message } => self.answer(&session, id, message),
            FromChild::Notification { method, message } => {
                let route = match method.as_str() {
                    "notifications/progress" => message
                        .pointer("/params/progressToken")
                        .and_then(|t| self.routes().by_token(t)),
                    // A log line most likely belongs to the one request running, if one is.
                    "notifications/message" => self.routes().sole(),
                    _ => None,
                };
                session.send(
                    &streaming(route),
                    Outgoing::message(message.to_string().into()),
                );
            }
            FromChild::Request { message } => {
                // Asked while serving the one request in flight: on that request's stream, where
                // a client waiting for its answer reads.
                let route = streaming(self.routes().sole());
                session.send(&route, Outgoing::message(message.to_string().into()));
            }
            FromChild::Invalid(why) => log::warn!(
                "session {}: a line of the gateway's child is not JSON-RPC ({why}); dropped",
                session.id
            ),
        }
    }

    fn answer(&self, session: &Session, id: RequestId, mut message: Value) {
        let Some(p) = self.routes().end(&id) else {
            log::debug!(
                "session {}: the child answered {id}, which is not in flight (cancelled?); dropped",
                session.id
            );
            return;
        };
        let ok = message.get("result").is_some();
        if p.method == "tools/list"
            && let Some(result) = message.get_mut("result")
        {
            super::filter::retain_tools(result, |n| self.tool_allowed(session, n));
        }
        let init = p.method == "initialize"
            && self
                .take_init(&id)
                .is_some_and(|params| ok && self.mark_initialized(session, &message, params));
        let error = message.pointer("/error/code").and_then(Value::as_i64);
        session.send(
            &p.route,
            Outgoing {
                json: message.to_string().into(),
                answers: Some(id.clone()),
                error,
            },
        );
        session.end_request(&id);
        if p.method == "initialize" && !init {
            log::info!("session {}: the child refused initialize", session.id);
            self.end_session();
        }
    }

    fn take_init(&self, id: &RequestId) -> Option<Map<String, Value>> {
        let mut init = self.init.lock().unwrap_or_else(|p| p.into_inner());
        match init.take() {
            Some((init_id, params)) if &init_id == id => Some(params),
            other => {
                *init = other;
                None
            }
        }
    }

    /// The session takes the revision the child chose and what the client said of itself.
    fn mark_initialized(
        &self,
        session: &Session,
        message: &Value,
        hello: Map<String, Value>,
    ) -> bool {
        let version = message
            .pointer("/result/protocolVersion")
            .and_then(Value::as_str);
        let rev = version
            .and_then(Revision::parse)
            .unwrap_or_else(|| Revision::negotiate(version));
        session.mark_initialized(
            rev,
            hello.get("clientInfo").cloned(),
            hello.get("capabilities").cloned(),
        );
        self.initialized.store(true, Ordering::Release);
        log::info!(
            "session {} initialized through the gateway: protocol {}, child {}",
            session.id,
            rev.as_str(),
            self.child.get().map_or(0, |c| c.pid())
        );
        true
    }

    /// `--init-timeout-secs` passed: if the child has still not answered `initialize`, the
    /// client gets an error and the session ends (killing the child).
    pub(super) fn init_timed_out(&self, timeout: std::time::Duration) {
        let Some(session) = self.session.upgrade() else {
            return;
        };
        let pending = self.init.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some((id, _)) = pending else { return };
        self.stats.init_timeout();
        log::warn!(
            "session {}: the gateway's child did not answer initialize within {timeout:?}; killed",
            session.id
        );
        if let Some(p) = self.routes().end(&id) {
            let e = ErrorObject::new(
                INTERNAL_ERROR,
                format!(
                    "The MCP server behind this gateway did not answer initialize within {} s (--init-timeout-secs)",
                    timeout.as_secs_f64()
                ),
            );
            fail(&session, &p.route, &id, e);
        }
        self.end_session();
    }

    /// The child is gone (`killed`: because its session ended or by us): what it had not
    /// answered is answered with an error, and a session it left behind ends, so its id answers
    /// 404 and the client initializes again.
    pub(super) fn child_exited(&self, killed: bool) {
        let pending = self.routes().drain();
        if let Some(session) = self.session.upgrade() {
            for (id, p) in pending {
                let e = ErrorObject::new(
                    INTERNAL_ERROR,
                    "The MCP server behind this gateway exited; initialize a new session",
                );
                fail(&session, &p.route, &id, e);
            }
        }
        if !killed {
            self.stats.died();
            log::warn!(
                "session {}: the gateway's child exited; the session ends",
                self.session_id
            );
        }
        self.end_session();
    }

    /// Removes the session (its `on_end` hook then kills the child, if it is still running).
    fn end_session(&self) {
        if let Some(core) = self.core.upgrade() {
            core.sessions.remove(&self.session_id);
        } else if let Some(c) = self.child.get() {
            c.kill();
        }
    }
}

/// Messages before the result only travel on streams: a route that cannot carry them (a JSON
/// answer, or none) becomes the session's general stream.
fn streaming(route: Option<Route>) -> Route {
    match route {
        Some(Route::Exchange(x)) if x.streams() => Route::Exchange(x),
        _ => Route::Session,
    }
}

/// Answers request `id` with `e` on `route` and ends it.
pub(super) fn fail(session: &Session, route: &Route, id: &RequestId, e: ErrorObject) {
    let response = Response::error(Some(id.clone()), e);
    session.send(route, Outgoing::answer(id, &response));
    session.end_request(id);
}
