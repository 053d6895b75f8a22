//! The protocol core shared by every transport: a router from JSON-RPC methods to the module of
//! the MCP feature that owns them (`tools`, `resources`, `prompts`, `completion`, `logging`).
//!
//! Transports decide where messages come from and where answers go (a [`Route`]); this module
//! decides what the answers are. Answers always leave through [`Session::send`].

use crate::config::Config;
use crate::context::Context;
use crate::jsonrpc::{
    ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, Incoming, METHOD_NOT_FOUND,
    Notification, OutNotification, Request, Response,
};
use crate::pool::Pool;
use crate::prompts::PromptRegistry;
use crate::protocol::{
    ClientHello, Implementation, InitializeResult, ListChanged, ResourcesCapability, Revision,
    ServerCapabilities,
};
use crate::resources::ResourceRegistry;
use crate::session::{Outgoing, Route, Session, Sessions, TransportKind};
use crate::sse::StreamBudget;
use crate::timer::Timer;
use crate::tools::{Responder, Shape, ToolRegistry};
use serde_json::{Map, Value, json};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What the server offers. The registries can change while it runs (see `ServerHandle`); each
/// change is announced with `notifications/*/list_changed`.
#[derive(Default)]
pub struct Features {
    pub tools: RwLock<ToolRegistry>,
    pub resources: RwLock<ResourceRegistry>,
    pub prompts: RwLock<PromptRegistry>,
    /// Capabilities declared even while nothing of that kind is registered (the application
    /// means to add some at run time).
    pub declare_tools: bool,
    pub declare_resources: bool,
    pub declare_prompts: bool,
}

/// A poisoned lock only means a panic elsewhere mid-update of plain data; keep serving.
pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl Features {
    pub(crate) fn capabilities(&self, rev: Revision) -> ServerCapabilities {
        let changing = Some(ListChanged {
            list_changed: Some(true),
        });
        ServerCapabilities {
            tools: (self.declare_tools || !read(&self.tools).is_empty())
                .then(|| changing.clone())
                .flatten(),
            resources: (self.declare_resources || !read(&self.resources).is_empty()).then_some(
                ResourcesCapability {
                    subscribe: Some(true),
                    list_changed: Some(true),
                },
            ),
            prompts: (self.declare_prompts || !read(&self.prompts).is_empty())
                .then(|| changing.clone())
                .flatten(),
            logging: Some(Map::new()),
            completions: (rev >= Revision::V2025_03_26).then(Map::new),
        }
    }
}

/// Everything the transports share.
pub struct Core {
    pub config: Config,
    pub sessions: Sessions,
    pub features: Features,
    pub timer: Timer,
    pub pool: Pool,
    pub streams: Arc<StreamBudget>,
    pub instructions: Option<String>,
    pub guard: crate::security::Guard,
    /// Set once shutdown has begun.
    pub shutting_down: Arc<std::sync::atomic::AtomicBool>,
    pub started: std::time::Instant,
    /// The HTTP layer's counters (connections, accept errors) for `/health` and `/metrics`.
    pub http: Arc<crate::http::ListenerStats>,
    /// Signs the `requestState` of input-required results (revision 2026-07-28).
    pub state_key: crate::mrtr::StateKey,
    /// `subscriptions/listen` streams and the other streams of stateless requests.
    pub subscriptions: crate::subscriptions::Subscriptions,
}

/// Error code for requests other than `initialize`/`ping` on a session that has not been
/// initialized. -32600 because the request is invalid in that state; MCP reserves -32002 for a
/// missing resource, so the LSP habit of "-32002 not initialized" would mislead clients.
pub const NOT_INITIALIZED: i64 = INVALID_REQUEST;

/// Runs a handler that may panic; a panic becomes -32603 and the server goes on.
fn guarded(
    what: &str,
    f: impl FnOnce() -> Result<Value, ErrorObject>,
) -> Result<Value, ErrorObject> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        log::error!("a {what} handler panicked");
        Err(crate::prompts::panicked(what))
    })
}

impl Core {
    /// Handles one message from a client of `session`; any answer goes to `route`.
    pub fn handle(self: &Arc<Self>, session: &Arc<Session>, msg: Incoming, route: &Route) {
        session.touch();
        match msg {
            Incoming::Request(req) => self.handle_request(session, req, route),
            Incoming::Notification(n) => self.handle_notification(session, n),
            Incoming::Response { id, outcome } => {
                if !session.resolve(&id, outcome) {
                    log::debug!(
                        "session {}: response {id} matches no request of ours waiting (unknown, duplicate or timed out); ignored",
                        session.id
                    )
                }
            }
        }
    }

    fn handle_notification(&self, session: &Session, n: Notification) {
        crate::metrics::METRICS.rpc(&n.method);
        match n.method.as_str() {
            "notifications/initialized" | "initialized" => {
                log::debug!("session {}: client initialized", session.id)
            }
            "notifications/cancelled" => {
                let id = n
                    .params
                    .get("requestId")
                    .and_then(crate::jsonrpc::RequestId::from_value);
                match id {
                    Some(id) if session.cancel(&id) => {
                        crate::metrics::METRICS
                            .cancelled
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        log::debug!("session {}: request {id} cancelled", session.id)
                    }
                    _ => log::debug!(
                        "session {}: cancellation of no running request ignored",
                        session.id
                    ),
                }
            }
            other => log::debug!("session {}: notification {other} ignored", session.id),
        }
    }

    /// Whether a request's answer on Streamable HTTP should be an SSE stream because the server
    /// may send messages before the result: a progress token, or logs the client asked for.
    pub fn may_stream(&self, session: &Session, req: &Request) -> bool {
        let has_token = req
            .params
            .get("_meta")
            .and_then(|m| m.get("progressToken"))
            .is_some();
        let runs_handler = matches!(
            req.method.as_str(),
            "tools/call" | "prompts/get" | "resources/read" | "completion/complete"
        );
        // The client may be asked for input while the handler runs (sampling, elicitation,
        // roots): such requests travel on the request's own stream.
        // (Never in revision 2026-07-28, where the server asks through input-required results.)
        let may_ask = session.kind != TransportKind::Stateless
            && ["sampling", "elicitation", "roots"].iter().any(|c| {
                session
                    .client_capabilities()
                    .is_some_and(|caps| caps.get(*c).is_some_and(|v| !v.is_null()))
            });
        has_token || (runs_handler && (session.wants_logs() || may_ask))
    }

    fn handle_request(self: &Arc<Self>, session: &Arc<Session>, req: Request, route: &Route) {
        log::debug!("session {}: request {} {}", session.id, req.id, req.method);
        crate::metrics::METRICS.rpc(&req.method);
        let cancel = session.begin_request(&req.id);
        let started = std::time::Instant::now();
        let stateless = session.kind == TransportKind::Stateless;
        let reply = |result: Result<Value, ErrorObject>| {
            crate::metrics::METRICS.latency(started.elapsed());
            let response = match result {
                Ok(v) if stateless => Response::result(
                    req.id.clone(),
                    crate::stateless::shape_result(&req.method, v, self.config.cache_ttl_ms),
                ),
                Ok(v) => Response::result(req.id.clone(), v),
                Err(e) => Response::error(Some(req.id.clone()), e),
            };
            session.send(route, Outgoing::answer(&req.id, &response));
            session.end_request(&req.id);
        };
        let method = req.method.as_str();
        if stateless {
            if !crate::stateless::METHODS.contains(&method) {
                return reply(Err(crate::stateless::unknown_method(method)));
            }
            if method == "server/discover" {
                return reply(Ok(crate::stateless::discover(
                    self.features.capabilities(Revision::V2026_07_28),
                    self.instructions.as_deref(),
                )));
            }
        }
        if method == "initialize" {
            return reply(self.initialize(session, &req));
        }
        if method == "ping" {
            return reply(Ok(json!({})));
        }
        if !session.is_initialized() {
            return reply(Err(ErrorObject::new(
                NOT_INITIALIZED,
                format!("Session not initialized: send \"initialize\" before \"{method}\""),
            )));
        }
        let rev = session.revision().unwrap_or(Revision::LATEST);
        let page = self.config.page_size;
        let f = &self.features;
        let p = &req.params;
        // A stateless request that may ask the client for input brings its answers so far.
        let round =
            if stateless && matches!(method, "tools/call" | "prompts/get" | "resources/read") {
                match crate::mrtr::InputRound::from_params(
                    &self.state_key,
                    self.config.input_state_ttl,
                    method,
                    p,
                ) {
                    Ok(r) => Some(Arc::new(r)),
                    Err(e) => return reply(Err(e)),
                }
            } else {
                None
            };
        let ctx = || {
            Context::new(
                self.clone(),
                session.clone(),
                route.clone(),
                Some(req.id.clone()),
                &req.params,
                cancel.clone(),
            )
            .with_round(round.clone())
        };
        match method {
            "tools/list" | "list_tools" => reply(read(&f.tools).list(rev, p, page)),
            "tools/call" => self.call_tool(ctx(), &req, rev),
            "resources/list" => reply(read(&f.resources).list(rev, p, page)),
            "resources/templates/list" => reply(read(&f.resources).list_templates(rev, p, page)),
            "resources/read" => {
                let (registry, c) = (read(&f.resources).clone(), ctx());
                reply(c.conclude(guarded("resource", || registry.read(&c, p))))
            }
            "resources/subscribe" | "resources/unsubscribe" => {
                reply(self.subscription(session, &req))
            }
            "prompts/list" => reply(read(&f.prompts).list(rev, p, page)),
            "prompts/get" => {
                let (registry, c) = (read(&f.prompts).clone(), ctx());
                reply(c.conclude(guarded("prompt", || registry.render(&c, p))))
            }
            "completion/complete" => {
                let (prompts, resources) = (read(&f.prompts).clone(), read(&f.resources).clone());
                reply(guarded("completion", || {
                    crate::completion::complete(&ctx(), &prompts, &resources, p)
                }))
            }
            "logging/setLevel" => reply(crate::logging::set_level(session, p)),
            // The seed's bare methods call the tool of the same name with `params` as arguments.
            "echo" | "add" | "sleep" if session.kind == TransportKind::Seed => {
                match read(&f.tools).get(method).cloned() {
                    Some(tool) => self.run_tool(ctx(), &req, &tool, &req.params, Shape::Bare),
                    None => reply(Err(method_not_found(method))),
                }
            }
            _ => reply(Err(method_not_found(method))),
        }
    }

    fn call_tool(self: &Arc<Self>, ctx: Context, req: &Request, rev: Revision) {
        let (session, route) = (ctx.session().clone(), ctx.route().clone());
        let fail = |e: ErrorObject| {
            let response = Response::error(Some(req.id.clone()), e);
            session.send(&route, Outgoing::answer(&req.id, &response));
            session.end_request(&req.id);
        };
        let name = match req.params.get("name") {
            Some(Value::String(n)) => n.clone(),
            _ => {
                return fail(ErrorObject::new(
                    INVALID_PARAMS,
                    "Invalid params: \"name\" must be a string naming the tool",
                ));
            }
        };
        let args = match req.params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(a)) => a.clone(),
            Some(_) => {
                return fail(ErrorObject::new(
                    INVALID_PARAMS,
                    "Invalid params: \"arguments\" must be an object",
                ));
            }
        };
        let Some(tool) = read(&self.features.tools).get(&name).cloned() else {
            return fail(ErrorObject::new(
                INVALID_PARAMS,
                format!("Unknown tool: {name}"),
            ));
        };
        self.run_tool(ctx, req, &tool, &args, Shape::ToolsCall(rev));
    }

    fn run_tool(
        &self,
        ctx: Context,
        req: &Request,
        tool: &crate::tools::Tool,
        args: &Map<String, Value>,
        shape: Shape,
    ) {
        let route = ctx.route().clone();
        let session_id = ctx.session().id.clone();
        let responder = Responder::new(
            tool.name.clone(),
            ctx,
            route,
            req.id.clone(),
            shape,
            self.timer.clone(),
            self.pool.clone(),
            self.shutting_down.clone(),
        );
        log::debug!("session {session_id}: calling tool {}", tool.name);
        // A panic unwinds through the responder, whose drop answers the client with -32603.
        let handler = tool.handler.clone();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(args, responder)))
            .is_err()
        {
            log::error!("tool {} panicked", tool.name);
        }
    }

    /// `resources/subscribe` / `resources/unsubscribe {uri}` → `{}`; an unknown URI is -32002.
    fn subscription(&self, session: &Session, req: &Request) -> Result<Value, ErrorObject> {
        let uri = crate::resources::required_uri(&req.params)?;
        if req.method == "resources/subscribe" {
            if !read(&self.features.resources).exists(uri) {
                return Err(crate::resources::not_found(uri));
            }
            session.subscribe(uri);
        } else {
            session.unsubscribe(uri);
        }
        Ok(json!({}))
    }

    fn initialize(&self, session: &Session, req: &Request) -> Result<Value, ErrorObject> {
        if session.is_initialized() && session.kind != TransportKind::Seed {
            return Err(ErrorObject::new(
                INVALID_REQUEST,
                "Invalid Request: session already initialized",
            ));
        }
        let hello = ClientHello::from_params(&req.params);
        let rev = Revision::negotiate(hello.protocol_version.as_deref());
        session.mark_initialized(rev, hello.client_info, hello.capabilities);
        log::info!(
            "session {} initialized: protocol {} client {}",
            session.id,
            rev.as_str(),
            session.client_name().as_deref().unwrap_or("(unnamed)")
        );
        serde_json::to_value(InitializeResult {
            protocol_version: rev,
            capabilities: self.features.capabilities(rev),
            server_info: Implementation::this_server(),
            instructions: self.instructions.clone(),
        })
        .map_err(|e| ErrorObject::new(INTERNAL_ERROR, e.to_string()))
    }

    /// Sends a notification to every initialized session's general stream (list changes).
    pub(crate) fn broadcast(
        &self,
        method: &str,
        params: Option<Value>,
        to: impl Fn(&Session) -> bool,
    ) {
        let n = OutNotification {
            jsonrpc: "2.0",
            method: method.to_string(),
            params,
        };
        let Ok(json) = serde_json::to_string(&n) else {
            return;
        };
        let json: Arc<str> = json.into();
        for s in self.sessions.all() {
            if s.is_initialized() && to(&s) {
                s.send(&Route::Session, Outgoing::message(json.clone()));
            }
        }
    }
}

fn method_not_found(method: &str) -> ErrorObject {
    ErrorObject::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
}
