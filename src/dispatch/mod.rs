//! The protocol core shared by every transport: a router from JSON-RPC methods to the module of
//! the MCP feature that owns them (`tools`, `resources`, `prompts`, `completion`, `logging`).
//!
//! Transports decide where messages come from and where answers go (a [`Route`]); this module
//! decides what the answers are. Answers always leave through [`Session::send`].

mod calls;
mod lifecycle;
mod scope;

use crate::access::Scope;
use crate::cancellation::Cancellation;
use crate::config::Config;
use crate::context::{Context, Origin};
use crate::features::{Announce, Change, Features, ServerHandle};
use crate::jsonrpc::{
    ErrorObject, INVALID_REQUEST, Incoming, METHOD_NOT_FOUND, Notification, OutNotification,
    Request, Response, quote,
};
use crate::mrtr::{Binding, InputRound};
use crate::params::{self, List, WithMeta};
use crate::protocol::Revision;
use crate::runtime::Runtime;
use crate::session::{Outgoing, Route, Session, Sessions, TransportKind};
use crate::sse::StreamBudget;
use crate::subscriptions::Subscriptions;
use serde_json::{Value, json};
use std::sync::{Arc, Weak};

pub(crate) use crate::features::read;

/// What a gateway tells `/health` and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamStats {
    /// Children running now.
    pub running: usize,
    /// Children started since the server started.
    pub started: u64,
    /// Children that ended (killed with their session, or exited by themselves).
    pub ended: u64,
    /// Children that exited while their session still wanted them (crashes).
    pub died: u64,
    /// Children killed for not answering `initialize` in time.
    pub init_timeouts: u64,
    /// The one child every session needs is down (`--gateway-shared`): `/health` answers 503.
    pub down: bool,
}

/// The other side of a gateway. A request handed to [`Upstream::forward`] was registered as
/// running (`Session::begin_request`); the upstream ends it (`Session::end_request`) when its
/// answer, its cancellation or its failure has been sent on `route`.
pub trait Upstream: Send + Sync {
    /// One message from a client of `session`; answers go to `route`.
    fn forward(&self, core: &Arc<Core>, session: &Arc<Session>, msg: Incoming, route: &Route);
    /// Counts for `/health` and `/metrics`.
    fn stats(&self) -> UpstreamStats;
    /// The input schema of the upstream's tool `name`, for a stateless call's `Mcp-Param-*`
    /// header checks (revision 2026-07-28); None when unknown (nothing is checked).
    fn tool_schema(&self, _name: &str) -> Option<Value> {
        None
    }
    /// Server shutdown: every child is stopped.
    fn shutdown(&self);
}

/// Everything the transports share.
pub struct Core {
    pub config: Config,
    pub sessions: Sessions,
    pub features: Arc<Features>,
    /// The handle handlers get from `ctx.server()`.
    pub server: ServerHandle,
    /// What handlers need from the server (timer, pool, counters, settings).
    pub runtime: Arc<Runtime>,
    pub streams: Arc<StreamBudget>,
    pub instructions: Option<String>,
    pub guard: crate::security::Guard,
    pub started: std::time::Instant,
    /// The HTTP layer's counters (connections, accept errors) for `/health` and `/metrics`.
    pub http: Arc<crate::http::ListenerStats>,
    /// `subscriptions/listen` streams and the other streams of stateless requests.
    pub subscriptions: Subscriptions,
    /// A gateway's other side: when set, sessions' messages go there, not to local handlers.
    pub upstream: Option<Arc<dyn Upstream>>,
}

/// The parts of [`Core`] made before it, handed to [`Core::new`].
pub(crate) struct Parts {
    pub config: Config,
    pub sessions: Sessions,
    pub features: Features,
    pub runtime: Arc<Runtime>,
    pub streams: Arc<StreamBudget>,
    pub instructions: Option<String>,
    pub guard: crate::security::Guard,
    pub http: Arc<crate::http::ListenerStats>,
    pub upstream: Option<Arc<dyn Upstream>>,
}

/// Error code for requests other than `initialize`/`ping` on a session that has not been
/// initialized. -32600 because the request is invalid in that state; MCP reserves -32002 for a
/// missing resource, so the LSP habit of "-32002 not initialized" would mislead clients.
pub const NOT_INITIALIZED: i64 = INVALID_REQUEST;

/// Announces changes of the registries to the sessions and listen streams of the core. Weak: the
/// core owns the handle that owns this.
struct Announcer(Weak<Core>);

impl Announce for Announcer {
    fn announce(&self, change: Change<'_>) {
        if let Some(core) = self.0.upgrade() {
            core.announce(change);
        }
    }
}

/// The outcome of a method: its result, or the JSON-RPC error to answer with.
type Outcome = Result<Value, ErrorObject>;

impl Core {
    pub(crate) fn new(p: Parts) -> Arc<Core> {
        let features = Arc::new(p.features);
        Arc::new_cyclic(|weak| Core {
            server: ServerHandle::new(features.clone(), Arc::new(Announcer(weak.clone()))),
            features,
            config: p.config,
            sessions: p.sessions,
            runtime: p.runtime,
            streams: p.streams,
            instructions: p.instructions,
            guard: p.guard,
            started: std::time::Instant::now(),
            http: p.http,
            subscriptions: Subscriptions::default(),
            upstream: p.upstream,
        })
    }

    /// Handles one message from a client of `session`; any answer goes to `route`.
    pub fn handle(self: &Arc<Self>, session: &Arc<Session>, msg: Incoming, route: &Route) {
        self.receive(session, msg).run(route);
    }

    /// The first half of [`Core::handle`]: a request is registered as running (so a
    /// cancellation that follows finds it), nothing is answered yet. Transports that acknowledge
    /// a POST before handling it (202) receive first, then acknowledge, then run: a client that
    /// cancels as soon as it has the 202 is never ahead of its request.
    pub fn receive(self: &Arc<Self>, session: &Arc<Session>, msg: Incoming) -> Received {
        session.touch();
        let running = match &msg {
            Incoming::Request(req) => Some(session.begin_request(&req.id)),
            _ => None,
        };
        Received {
            core: self.clone(),
            session: session.clone(),
            msg: Some(msg),
            running,
        }
    }

    fn handle_notification(&self, session: &Session, n: Notification) {
        self.runtime.metrics.rpc(&n.method);
        match n.method.as_str() {
            "notifications/initialized" | "initialized" => {
                log::debug!("session {}: client initialized", session.id)
            }
            "notifications/cancelled" => {
                let cancelled = params::parse::<params::Cancelled>(&n.params)
                    .is_ok_and(|c| session.cancel(&c.request_id));
                if cancelled {
                    self.runtime
                        .metrics
                        .cancelled
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    log::debug!("session {}: a request was cancelled", session.id)
                } else {
                    log::debug!(
                        "session {}: cancellation of no running request ignored",
                        session.id
                    )
                }
            }
            other => log::debug!("session {}: notification {other} ignored", session.id),
        }
    }

    /// Whether a request's answer on Streamable HTTP should be an SSE stream because the server
    /// may send messages before the result: a progress token, or logs the client asked for.
    pub fn may_stream(&self, session: &Session, req: &Request) -> bool {
        let has_token = params::parse::<WithMeta>(&req.params)
            .ok()
            .and_then(|p| p.meta)
            .is_some_and(|m| m.progress_token.is_some());
        let runs_handler = matches!(
            req.method.as_str(),
            "tools/call" | "prompts/get" | "resources/read" | "completion/complete"
        );
        // The client may be asked for input while the handler runs (sampling, elicitation,
        // roots): such requests travel on the request's own stream.
        // (Never in revision 2026-07-28, where the server asks through input-required results.)
        let may_ask = session.kind != TransportKind::Stateless
            && ["sampling", "elicitation", "roots"]
                .iter()
                .any(|c| session.supports(c));
        has_token || (runs_handler && (session.wants_logs() || may_ask))
    }

    fn handle_request(
        self: &Arc<Self>,
        session: &Arc<Session>,
        req: Request,
        cancel: Arc<Cancellation>,
        route: &Route,
    ) {
        log::debug!("session {}: request {} {}", session.id, req.id, req.method);
        self.runtime.metrics.rpc(&req.method);
        let call = Call {
            core: self,
            session,
            route,
            req: &req,
            cancel,
            started: std::time::Instant::now(),
        };
        // Tools answer through their responder (now, later, or from another thread); every
        // other method answers here.
        if let Some(outcome) = call.run() {
            call.reply(outcome);
        }
    }

    /// Sends a notification to every initialized session's general stream and to listen streams
    /// that asked for it.
    fn announce(&self, change: Change<'_>) {
        self.subscriptions.notify(change);
        let params = match change {
            Change::Updated(uri) => Some(json!({ "uri": uri })),
            _ => None,
        };
        let n = OutNotification {
            jsonrpc: "2.0",
            method: change.method().to_string(),
            params,
        };
        let Ok(json) = serde_json::to_string(&n) else {
            return;
        };
        let json: Arc<str> = json.into();
        for s in self.sessions.all() {
            let wanted = match change {
                Change::Updated(uri) => s.is_subscribed(uri),
                _ => true,
            };
            if s.is_initialized() && wanted {
                s.send(&Route::Session, Outgoing::message(json.clone()));
            }
        }
    }
}

/// A message received and, if it is a request, registered as running; [`Received::run`]
/// handles it. Dropped without running, a request still ends (answered with nothing).
pub struct Received {
    core: Arc<Core>,
    session: Arc<Session>,
    msg: Option<Incoming>,
    running: Option<Arc<Cancellation>>,
}

impl Received {
    /// Handles the message; any answer goes to `route`.
    pub fn run(mut self, route: &Route) {
        let (Some(msg), running) = (self.msg.take(), self.running.take()) else {
            return;
        };
        let (core, session) = (&self.core, &self.session);
        if let Some(upstream) = &core.upstream {
            // The request stays registered: the upstream ends it once answered.
            drop(running);
            upstream.forward(core, session, msg, route);
            return;
        }
        match (msg, running) {
            (Incoming::Request(req), Some(cancel)) => {
                core.handle_request(session, req, cancel, route)
            }
            (Incoming::Request(req), None) => log::error!("request {} was not registered", req.id),
            (Incoming::Notification(n), _) => core.handle_notification(session, n),
            (Incoming::Response { id, outcome }, _) => {
                if !session.resolve(&id, outcome) {
                    log::debug!(
                        "session {}: response {id} matches no request of ours waiting (unknown, duplicate or timed out); ignored",
                        session.id
                    )
                }
            }
        }
    }
}

impl Drop for Received {
    /// A request received but never run still ends, so it does not keep its session alive or
    /// hold up a graceful shutdown.
    fn drop(&mut self) {
        if let (Some(_), Some(Incoming::Request(req))) = (self.running.take(), &self.msg) {
            self.session.end_request(&req.id);
        }
    }
}

/// One request being served: where it came from, and where its answer goes.
struct Call<'a> {
    core: &'a Arc<Core>,
    session: &'a Arc<Session>,
    route: &'a Route,
    req: &'a Request,
    cancel: Arc<Cancellation>,
    started: std::time::Instant,
}

impl Call<'_> {
    fn stateless(&self) -> bool {
        self.session.kind == TransportKind::Stateless
    }

    /// The method's outcome, or None when a tool's responder answers instead.
    fn run(&self) -> Option<Outcome> {
        let method = self.req.method.as_str();
        if self.stateless() && method == "server/discover" {
            return Some(Ok(crate::stateless::discover(
                self.core.features.capabilities(Revision::V2026_07_28),
                self.core.instructions.as_deref(),
            )));
        }
        if self.stateless() && !crate::stateless::METHODS.contains(&method) {
            return Some(Err(crate::stateless::unknown_method(method)));
        }
        match method {
            "initialize" => return Some(self.initialize()),
            "ping" => return Some(Ok(json!({}))),
            _ if !self.session.is_initialized() => {
                return Some(Err(ErrorObject::new(
                    NOT_INITIALIZED,
                    format!(
                        "Session not initialized: send \"initialize\" before \"{}\"",
                        quote(method)
                    ),
                )));
            }
            _ => {}
        }
        match method {
            "tools/call" => self.call_tool(),
            // The seed's bare methods call the tool of the same name with `params` as arguments.
            "echo" | "add" | "sleep" if self.session.kind == TransportKind::Seed => {
                self.call_bare_tool(method)
            }
            _ => Some(self.answer(method)),
        }
    }

    /// Every method that answers at once.
    fn answer(&self, method: &str) -> Outcome {
        let f = &self.core.features;
        let (rev, page) = (self.revision(), self.core.config.page_size);
        let list = || params::parse::<List>(&self.req.params);
        match method {
            "tools/list" | "list_tools" => {
                let scope = self.scope();
                let cursor = list()?.cursor;
                read(&f.tools).list(rev, cursor.as_deref(), page, |t| {
                    scope.allows(&t.name, t.scope.as_deref())
                })
            }
            "resources/list" => read(&f.resources).list(rev, list()?.cursor.as_deref(), page),
            "resources/templates/list" => {
                read(&f.resources).list_templates(rev, list()?.cursor.as_deref(), page)
            }
            "prompts/list" => read(&f.prompts).list(rev, list()?.cursor.as_deref(), page),
            "resources/read" => self.read_resource(),
            "prompts/get" => self.get_prompt(),
            "completion/complete" => self.complete(),
            "resources/subscribe" => self.subscribe(true),
            "resources/unsubscribe" => self.subscribe(false),
            "logging/setLevel" => self.set_level(),
            _ => Err(method_not_found(method)),
        }
    }

    /// What the caller may use now: looked up on every request, so replaced grants apply at once.
    fn scope(&self) -> Scope {
        let caller = self.session.caller();
        self.core.guard.access().scope(caller)
    }

    fn revision(&self) -> Revision {
        self.session.revision().unwrap_or(Revision::LATEST)
    }

    /// The context a handler of this request gets. In a stateless request that may ask the
    /// client for input (`bound`: what its `requestState` is bound to, see [`Call::bind`]), with
    /// the answers it brought.
    fn context(&self, bound: Option<Binding>) -> Result<Context, ErrorObject> {
        let meta: WithMeta = params::parse(&self.req.params)?;
        let ctx = Context::new(Origin {
            runtime: self.core.runtime.clone(),
            server: self.core.server.clone(),
            session: self.session.clone(),
            route: self.route.clone(),
            request_id: Some(self.req.id.clone()),
            progress_token: meta.meta.and_then(|m| m.progress_token),
            cancel: self.cancel.clone(),
        });
        let Some(binding) = bound else {
            return Ok(ctx);
        };
        let runtime = &self.core.runtime;
        let round = InputRound::from_params(
            &runtime.state_key,
            runtime.settings.input_state_ttl,
            binding,
            &self.req.params,
        )?;
        Ok(ctx.with_round(Some(Arc::new(round))))
    }

    /// Answers the request with `outcome` by the one send path, and ends it.
    fn reply(&self, outcome: Outcome) {
        let runtime = &self.core.runtime;
        runtime.metrics.latency(self.started.elapsed());
        let id = &self.req.id;
        let response = match outcome {
            Ok(v) if self.stateless() => Response::result(
                id.clone(),
                crate::stateless::shape_result(&self.req.method, v, runtime.settings.cache_ttl_ms),
            ),
            Ok(v) => Response::result(id.clone(), v),
            Err(e) => Response::error(Some(id.clone()), e),
        };
        self.session
            .send(self.route, Outgoing::answer(id, &response));
        self.session.end_request(id);
    }
}

fn method_not_found(method: &str) -> ErrorObject {
    ErrorObject::new(
        METHOD_NOT_FOUND,
        format!("Method not found: {}", quote(method)),
    )
}
