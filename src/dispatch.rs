//! The protocol core shared by every transport: what each JSON-RPC method does.
//!
//! Transports decide where messages come from and where answers go (a [`Route`]); this module
//! decides what the answers are. Answers always leave through [`Session::send`].

use crate::config::Config;
use crate::jsonrpc::{
    ErrorObject, INVALID_PARAMS, INVALID_REQUEST, Incoming, METHOD_NOT_FOUND, Notification,
    Request, Response,
};
use crate::pool::Pool;
use crate::protocol::{
    ClientHello, Implementation, InitializeResult, ListToolsResult, Revision, ServerCapabilities,
    ToolsCapability,
};
use crate::session::{Outgoing, Route, Session, Sessions, TransportKind};
use crate::sse::StreamBudget;
use crate::timer::Timer;
use crate::tools::{Responder, Shape, ToolRegistry};
use serde_json::{Value, json};
use std::sync::Arc;

/// Everything the transports share.
pub struct Core {
    pub config: Config,
    pub sessions: Sessions,
    pub tools: ToolRegistry,
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
}

/// Error code for requests other than `initialize`/`ping` on a session that has not been
/// initialized. -32600 because the request is invalid in that state; MCP reserves -32002 for a
/// missing resource, so the LSP habit of "-32002 not initialized" would mislead clients.
pub const NOT_INITIALIZED: i64 = INVALID_REQUEST;

impl Core {
    /// Handles one message from a client of `session`; any answer goes to `route`.
    pub fn handle(&self, session: &Arc<Session>, msg: Incoming, route: &Route) {
        session.touch();
        match msg {
            Incoming::Request(req) => self.handle_request(session, req, route),
            Incoming::Notification(n) => self.handle_notification(session, n),
            Incoming::Response { id, .. } => {
                log::debug!(
                    "session {}: response {id} to a request we never sent; ignored",
                    session.id
                )
            }
        }
    }

    fn handle_notification(&self, session: &Session, n: Notification) {
        crate::metrics::METRICS.rpc(&n.method);
        match n.method.as_str() {
            "notifications/initialized" | "initialized" => {
                log::debug!("session {}: client initialized", session.id)
            }
            other => log::debug!("session {}: notification {other} ignored", session.id),
        }
    }

    fn handle_request(&self, session: &Arc<Session>, req: Request, route: &Route) {
        log::debug!("session {}: request {} {}", session.id, req.id, req.method);
        crate::metrics::METRICS.rpc(&req.method);
        session.begin_request();
        let started = std::time::Instant::now();
        let reply = |result: Result<Value, ErrorObject>| {
            crate::metrics::METRICS.latency(started.elapsed());
            let response = match result {
                Ok(v) => Response::result(req.id.clone(), v),
                Err(e) => Response::error(Some(req.id.clone()), e),
            };
            session.send(
                route,
                Outgoing {
                    json: response.to_json().into(),
                    answers: Some(req.id.clone()),
                },
            );
            session.end_request();
        };
        let method = req.method.as_str();
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
        match method {
            "tools/list" | "list_tools" => reply(
                serde_json::to_value(ListToolsResult {
                    tools: self.tools.list(),
                })
                .map_err(|e| ErrorObject::new(crate::jsonrpc::INTERNAL_ERROR, e.to_string())),
            ),
            "tools/call" => {
                let name = match req.params.get("name") {
                    Some(Value::String(n)) => n.clone(),
                    _ => {
                        return reply(Err(ErrorObject::new(
                            INVALID_PARAMS,
                            "Invalid params: \"name\" must be a string naming the tool",
                        )));
                    }
                };
                let args = match req.params.get("arguments") {
                    None | Some(Value::Null) => serde_json::Map::new(),
                    Some(Value::Object(a)) => a.clone(),
                    Some(_) => {
                        return reply(Err(ErrorObject::new(
                            INVALID_PARAMS,
                            "Invalid params: \"arguments\" must be an object",
                        )));
                    }
                };
                let Some(tool) = self.tools.get(&name) else {
                    return reply(Err(ErrorObject::new(
                        INVALID_PARAMS,
                        format!("Unknown tool: {name}"),
                    )));
                };
                self.run_tool(session, route, &req, tool, &args, Shape::ToolsCall(rev));
            }
            // The seed's bare methods call the tool of the same name with `params` as arguments.
            "echo" | "add" | "sleep" if session.kind == TransportKind::Seed => {
                match self.tools.get(method) {
                    Some(tool) => {
                        self.run_tool(session, route, &req, tool, &req.params, Shape::Bare)
                    }
                    None => reply(Err(method_not_found(method))),
                }
            }
            _ => reply(Err(method_not_found(method))),
        }
    }

    fn run_tool(
        &self,
        session: &Arc<Session>,
        route: &Route,
        req: &Request,
        tool: &crate::tools::Tool,
        args: &serde_json::Map<String, Value>,
        shape: Shape,
    ) {
        let responder = Responder::new(
            tool.name.clone(),
            session.clone(),
            route.clone(),
            req.id.clone(),
            shape,
            self.timer.clone(),
            self.pool.clone(),
            self.shutting_down.clone(),
        );
        log::debug!("session {}: calling tool {}", session.id, tool.name);
        // A panic unwinds through the responder, whose drop answers the client with -32603.
        let handler = tool.handler.clone();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(args, responder)))
            .is_err()
        {
            log::error!("tool {} panicked", tool.name);
        }
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
        session.mark_initialized(rev, hello.client_info);
        log::info!(
            "session {} initialized: protocol {} client {}",
            session.id,
            rev.as_str(),
            session.client_name().as_deref().unwrap_or("(unnamed)")
        );
        serde_json::to_value(InitializeResult {
            protocol_version: rev,
            capabilities: ServerCapabilities {
                tools: Some(ToolsCapability { list_changed: None }),
            },
            server_info: Implementation {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            instructions: self.instructions.clone(),
        })
        .map_err(|e| ErrorObject::new(crate::jsonrpc::INTERNAL_ERROR, e.to_string()))
    }
}

fn method_not_found(method: &str) -> ErrorObject {
    ErrorObject::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
}
