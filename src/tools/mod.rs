//! The tool registry: the public API through which tools (built-in or a library user's) are
//! added, and the [`Responder`] through which a tool answers, now or later.

pub mod builtin;

use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, RequestId, Response};
use crate::pool::Pool;
use crate::protocol::{Revision, ToolDescriptor, ToolResult};
use crate::session::{Outgoing, Route, Session};
use crate::timer::Timer;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// A tool's code. It must answer through the responder exactly once: immediately, after a delay
/// ([`Responder::finish_after`], which parks the call on the timer thread instead of a worker),
/// or from any other thread it hands the responder to.
pub type Handler = dyn Fn(&Map<String, Value>, Responder) + Send + Sync;

#[derive(Clone)]
pub struct Tool {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object (`"type": "object"` at the root).
    pub input_schema: Value,
    pub handler: Arc<Handler>,
}

impl Tool {
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        handler: impl Fn(&Map<String, Value>, Responder) + Send + Sync + 'static,
    ) -> Tool {
        Tool {
            name: name.into(),
            description: description.into(),
            input_schema,
            handler: Arc::new(handler),
        }
    }

    /// A tool whose answer is ready as soon as it returns.
    pub fn sync(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        f: impl Fn(&Map<String, Value>) -> ToolResult + Send + Sync + 'static,
    ) -> Tool {
        Tool::new(name, description, input_schema, move |args, r| {
            r.finish(f(args))
        })
    }

    pub fn descriptor(&self) -> ToolDescriptor {
        ToolDescriptor {
            name: self.name.clone(),
            description: self.description.clone(),
            input_schema: self.input_schema.clone(),
        }
    }
}

/// Tools in registration order (so `tools/list` is deterministic).
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: Vec<Tool>,
}

impl ToolRegistry {
    pub fn new() -> ToolRegistry {
        ToolRegistry::default()
    }

    /// Adds a tool, replacing one of the same name.
    pub fn register(&mut self, tool: Tool) -> &mut Self {
        self.tools.retain(|t| t.name != tool.name);
        self.tools.push(tool);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    pub fn list(&self) -> Vec<ToolDescriptor> {
        self.tools.iter().map(Tool::descriptor).collect()
    }
}

/// How the caller wants a tool's outcome reported.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// `tools/call`: an MCP `CallToolResult` for the session's revision.
    ToolsCall(Revision),
    /// The seed's bare methods (`echo`, `add`, `sleep`): the plain value, and a JSON-RPC
    /// `-32602` error when the tool rejects its arguments.
    Bare,
}

/// The one-shot answer channel of a tool call. Dropping it unanswered (including through a
/// panic in the tool) answers the client with an internal error, so no request is left hanging.
pub struct Responder {
    inner: Option<Inner>,
}

struct Inner {
    tool: String,
    started: std::time::Instant,
    session: Arc<Session>,
    route: Route,
    id: RequestId,
    shape: Shape,
    timer: Timer,
    pool: Pool,
    shutting_down: Arc<std::sync::atomic::AtomicBool>,
}

impl Responder {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        tool: String,
        session: Arc<Session>,
        route: Route,
        id: RequestId,
        shape: Shape,
        timer: Timer,
        pool: Pool,
        shutting_down: Arc<std::sync::atomic::AtomicBool>,
    ) -> Responder {
        Responder {
            inner: Some(Inner {
                tool,
                started: std::time::Instant::now(),
                session,
                route,
                id,
                shape,
                timer,
                pool,
                shutting_down,
            }),
        }
    }

    pub fn finish(mut self, result: ToolResult) {
        if let Some(inner) = self.inner.take() {
            let outcome = if result.is_error { "error" } else { "ok" };
            crate::metrics::METRICS.tool(&inner.tool, outcome);
            let response = match inner.shape {
                Shape::ToolsCall(rev) => Response::result(inner.id.clone(), result.to_mcp(rev)),
                Shape::Bare if result.is_error => {
                    let text = result
                        .content
                        .iter()
                        .map(|c| match c {
                            crate::protocol::Content::Text { text } => text.as_str(),
                            _ => "",
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    Response::error(
                        Some(inner.id.clone()),
                        ErrorObject::new(INVALID_PARAMS, format!("Invalid params: {text}")),
                    )
                }
                Shape::Bare => Response::result(
                    inner.id.clone(),
                    result.value.clone().unwrap_or(Value::Null),
                ),
            };
            inner.deliver(response);
        }
    }

    /// Answers after `delay` without holding any thread: the call is parked on the timer, and
    /// when it is due the answer is written by a worker (the timer thread never does I/O).
    pub fn finish_after(self, delay: Duration, result: ToolResult) {
        let (timer, pool) = match &self.inner {
            Some(i) => (i.timer.clone(), i.pool.clone()),
            None => return,
        };
        timer.schedule(delay, move || {
            pool.submit_or_run(Box::new(move || self.finish(result)));
        });
    }
}

impl Inner {
    fn deliver(self, response: Response) {
        crate::metrics::METRICS.latency(self.started.elapsed());
        let json: Arc<str> = response.to_json().into();
        self.session.send(
            &self.route,
            Outgoing {
                json,
                answers: Some(self.id),
            },
        );
        self.session.end_request();
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let err = if inner
                .shutting_down
                .load(std::sync::atomic::Ordering::Acquire)
            {
                ErrorObject::new(
                    INTERNAL_ERROR,
                    "Server shutting down: the request was cancelled before it completed",
                )
            } else {
                log::error!("tool call {} ended without an answer", inner.id);
                ErrorObject::new(
                    INTERNAL_ERROR,
                    "Internal error: the tool failed without producing a result",
                )
            };
            let outcome = if inner
                .shutting_down
                .load(std::sync::atomic::Ordering::Acquire)
            {
                "cancelled"
            } else {
                "failed"
            };
            crate::metrics::METRICS.tool(&inner.tool, outcome);
            let id = inner.id.clone();
            inner.deliver(Response::error(Some(id), err));
        }
    }
}
