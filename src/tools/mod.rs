//! Tools: the public API through which tools (built-in or a library user's) are added — typed
//! tools whose input schema comes from their argument type, structured output, annotations — and
//! the [`Responder`] through which a tool answers, now or later.

mod args;
pub mod builtin;
mod result;

pub use result::ToolResult;

use crate::context::Context;
use crate::error::Error;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, RequestId, Response};
use crate::protocol::Revision;
use crate::schema::schema_of;
use crate::session::{Outgoing, Route};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A tool's code. It must answer through the responder exactly once: immediately, after a delay
/// ([`Responder::finish_after`], which parks the call on the timer thread instead of a worker),
/// or from any other thread it hands the responder to.
pub type Handler = dyn Fn(&Map<String, Value>, Responder) + Send + Sync;

/// Hints about a tool's behaviour (revision 2025-03-26 on). Clients treat them as untrusted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ToolAnnotations {
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not change its environment.
    #[serde(rename = "readOnlyHint", skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// The tool may destroy data (meaningful when not read-only).
    #[serde(rename = "destructiveHint", skip_serializing_if = "Option::is_none")]
    pub destructive: Option<bool>,
    /// Calling it again with the same arguments has no further effect.
    #[serde(rename = "idempotentHint", skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// The tool talks to the outside world.
    #[serde(rename = "openWorldHint", skip_serializing_if = "Option::is_none")]
    pub open_world: Option<bool>,
}

/// A tool: what `tools/list` shows and the code `tools/call` runs.
#[derive(Clone)]
pub struct Tool {
    /// Unique name.
    pub name: String,
    /// Display name (sent from revision 2025-06-18).
    pub title: Option<String>,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments object (`"type": "object"` at the root).
    pub input_schema: Value,
    /// JSON Schema of `structuredContent` (revision 2025-06-18 on).
    pub output_schema: Option<Value>,
    /// Behaviour hints (sent from revision 2025-03-26).
    pub annotations: Option<ToolAnnotations>,
    /// The code that runs on `tools/call`.
    pub handler: Arc<Handler>,
    /// The OAuth scope a token must hold to see and call this tool (beside the scopes every
    /// request needs); static tokens are not bound by it. See [`Tool::required_scope`].
    pub scope: Option<String>,
}

impl Tool {
    /// A tool with full control: a hand-written schema, raw arguments, and a responder to answer
    /// through now, later, or from another thread.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        handler: impl Fn(&Map<String, Value>, Responder) + Send + Sync + 'static,
    ) -> Tool {
        Tool {
            name: name.into(),
            title: None,
            description: description.into(),
            input_schema,
            output_schema: None,
            annotations: None,
            handler: Arc::new(handler),
            scope: None,
        }
    }

    /// A tool whose answer is ready as soon as it returns, with raw arguments; an `Err` is a
    /// tool error (`isError: true`) with its text.
    pub fn sync(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        f: impl Fn(&Map<String, Value>) -> Result<ToolResult, Error> + Send + Sync + 'static,
    ) -> Tool {
        Tool::new(name, description, input_schema, move |args, r| {
            r.finish(f(args).unwrap_or_else(|e| ToolResult::from_error(&e)))
        })
    }

    /// A typed tool: `A` is a plain struct of arguments (`Deserialize` + `JsonSchema`); the input
    /// schema is derived from it, and arguments are checked before `f` runs. A missing or
    /// mistyped argument is a tool error (`isError: true`) whose text names the field; `f` never
    /// sees bad input. An `Err` from `f` is a tool error with its text.
    pub fn typed<A, F>(name: impl Into<String>, description: impl Into<String>, f: F) -> Tool
    where
        A: DeserializeOwned + schemars::JsonSchema,
        F: Fn(&Context, A) -> Result<ToolResult, Error> + Send + Sync + 'static,
    {
        Tool::deferred(name, description, move |a: A, responder| {
            let result = f(responder.context(), a);
            responder.finish(result.unwrap_or_else(|e| ToolResult::from_error(&e)))
        })
    }

    /// A typed tool that answers through a [`Responder`]: now, after a delay
    /// ([`Responder::finish_after`], holding no thread meanwhile), or from another thread.
    /// Arguments are checked as in [`Tool::typed`].
    pub fn deferred<A, F>(name: impl Into<String>, description: impl Into<String>, f: F) -> Tool
    where
        A: DeserializeOwned + schemars::JsonSchema,
        F: Fn(A, Responder) + Send + Sync + 'static,
    {
        let schema = schema_of::<A>();
        let check = args::ArgCheck::of(&schema);
        Tool::new(
            name,
            description,
            schema,
            move |args, responder| match check.parse::<A>(args) {
                Ok(a) => f(a, responder),
                Err(e) => responder.finish(ToolResult::error(e)),
            },
        )
    }

    /// A typed tool with structured output: `O`'s schema is the tool's `outputSchema`, and its
    /// value is sent as `structuredContent` (and as JSON text, for clients before 2025-06-18).
    /// An `Err` is a tool error with its text.
    pub fn structured<A, O, F>(
        name: impl Into<String>,
        description: impl Into<String>,
        f: F,
    ) -> Tool
    where
        A: DeserializeOwned + schemars::JsonSchema,
        O: Serialize + schemars::JsonSchema,
        F: Fn(&Context, A) -> Result<O, Error> + Send + Sync + 'static,
    {
        let mut tool = Tool::typed(name, description, move |ctx, a: A| {
            Ok(ToolResult::structured(serde_json::to_value(f(ctx, a)?)?))
        });
        tool.output_schema = Some(schema_of::<O>());
        tool
    }

    /// Sets the display name (sent from revision 2025-06-18).
    pub fn title(mut self, t: impl Into<String>) -> Tool {
        self.title = Some(t.into());
        self
    }

    /// Sets the behaviour hints (sent from revision 2025-03-26).
    pub fn annotations(mut self, a: ToolAnnotations) -> Tool {
        self.annotations = Some(a);
        self
    }

    /// Makes an OAuth access token need `scope` to see this tool in `tools/list` and to call
    /// it: a token without it gets HTTP 403 `insufficient_scope` naming the scope, so the client
    /// can ask its authorization server for it (step-up). Listed in the resource's metadata.
    pub fn required_scope(mut self, scope: impl Into<String>) -> Tool {
        self.scope = Some(scope.into());
        self
    }

    /// Sets the schema of `structuredContent` (sent from revision 2025-06-18).
    pub fn output_schema(mut self, schema: Value) -> Tool {
        self.output_schema = Some(schema);
        self
    }

    /// The tool as `tools/list` shows it to a session of revision `rev`.
    pub fn to_wire(&self, rev: Revision) -> Value {
        let mut v = json!({
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
        });
        if rev >= Revision::V2025_06_18 {
            if let Some(t) = &self.title {
                v["title"] = json!(t);
            }
            if let Some(o) = &self.output_schema {
                v["outputSchema"] = o.clone();
            }
        }
        if let (Some(a), true) = (&self.annotations, rev >= Revision::V2025_03_26) {
            v["annotations"] = serde_json::to_value(a).unwrap_or_default();
        }
        v
    }
}

/// Tools in registration order (so `tools/list` is deterministic).
#[derive(Clone, Default)]
pub struct ToolRegistry {
    /// Shared, so a call takes its tool without copying the tool's schemas.
    tools: Vec<Arc<Tool>>,
}

impl ToolRegistry {
    /// An empty registry.
    pub fn new() -> ToolRegistry {
        ToolRegistry::default()
    }

    /// Adds a tool, replacing one of the same name.
    pub fn register(&mut self, tool: Tool) -> &mut Self {
        self.tools.retain(|t| t.name != tool.name);
        self.tools.push(Arc::new(tool));
        self
    }

    /// Removes a tool; false if there was none of that name.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.tools.len();
        self.tools.retain(|t| t.name != name);
        before != self.tools.len()
    }

    /// The tool of that name.
    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.shared(name).map(|t| &**t)
    }

    /// The tool of that name, to keep after the registry's lock is released.
    pub(crate) fn shared(&self, name: &str) -> Option<&Arc<Tool>> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// Whether no tool is registered.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Every tool, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Tool> {
        self.tools.iter().map(|t| &**t)
    }

    /// A page of the tools `visible` lets through (a scoped token sees only its tools): the
    /// cursor counts within that filtered list, so pages neither skip nor repeat.
    pub(crate) fn list(
        &self,
        rev: Revision,
        cursor: Option<&str>,
        page_size: usize,
        visible: impl Fn(&Tool) -> bool,
    ) -> Result<Value, ErrorObject> {
        let shown: Vec<&Tool> = self.iter().filter(|t| visible(t)).collect();
        crate::pagination::list_result("tools", &shown, cursor, page_size, |t| t.to_wire(rev))
    }
}

/// How the caller wants a tool's outcome reported.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// `tools/call`: an MCP `CallToolResult` for the session's revision.
    ToolsCall(Revision),
    /// The seed's bare methods (`echo`, `add`, `sleep`): the plain value, and a JSON-RPC
    /// `-32602` error when the tool rejects its arguments.
    Bare,
}

/// The one-shot answer channel of a tool call, with the call's [`Context`]. Dropping it
/// unanswered (including through a panic in the tool) answers the client with an internal error,
/// so no request is left hanging.
pub struct Responder {
    ctx: Context,
    inner: Option<Inner>,
}

struct Inner {
    tool: String,
    started: Instant,
    route: Route,
    id: RequestId,
    shape: Shape,
}

impl Responder {
    pub(crate) fn new(tool: String, ctx: Context, id: RequestId, shape: Shape) -> Responder {
        let route = ctx.route().clone();
        Responder {
            ctx,
            inner: Some(Inner {
                tool,
                started: Instant::now(),
                route,
                id,
                shape,
            }),
        }
    }

    /// The call's context: who is asking, and how to log or report progress to them.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Answers the call with `result`.
    pub fn finish(mut self, result: ToolResult) {
        if let Some(inner) = self.inner.take() {
            if self.ctx.is_cancelled() {
                return inner.cancelled(&self.ctx);
            }
            let outcome = if result.is_error { "error" } else { "ok" };
            self.ctx.runtime().metrics.tool(&inner.tool, outcome);
            let response = match inner.shape {
                // A session's result goes out as it is (only a stateless request has an input
                // round to conclude), written straight from its blocks.
                Shape::ToolsCall(rev)
                    if !rev.is_stateless()
                        && self.ctx.session().kind != crate::session::TransportKind::Stateless =>
                {
                    let wire = result::McpWire {
                        result: &result,
                        rev,
                    };
                    let json = crate::jsonrpc::result_json(&inner.id, wire);
                    let answer = Outgoing::answer_json(&inner.id, json);
                    return inner.send(&self.ctx, answer);
                }
                // In revision 2026-07-28 open questions turn the result into `input_required`.
                Shape::ToolsCall(rev) => match self.ctx.conclude(Ok(result.to_mcp(rev))) {
                    Ok(v) if rev.is_stateless() => Response::result(
                        inner.id.clone(),
                        crate::stateless::shape_result(
                            "tools/call",
                            v,
                            self.ctx.runtime().settings.cache_ttl_ms,
                        ),
                    ),
                    Ok(v) => Response::result(inner.id.clone(), v),
                    Err(e) => Response::error(Some(inner.id.clone()), e),
                },
                Shape::Bare if result.is_error => {
                    let text = result
                        .content
                        .iter()
                        .filter_map(|c| c.as_text())
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
            inner.deliver(&self.ctx, response);
        }
    }

    /// Answers after `delay` without holding any thread: the call is parked on the timer, which
    /// hands the answer on when it is due (into its exchange or stream queue: the timer never
    /// writes to a socket, and handing on never blocks). A
    /// cancelled call leaves the timer at once and sends nothing. If the client asked for
    /// progress, the timer reports it every `--progress-interval-ms` (seconds elapsed of the
    /// total) until the answer.
    pub fn finish_after(self, delay: Duration, result: ToolResult) {
        if self.inner.is_none() {
            return;
        }
        let ctx = self.ctx.clone();
        let runtime = ctx.runtime().clone();
        let timer = runtime.timer.clone();
        let due = Arc::new(AtomicBool::new(false));
        if ctx.wants_progress() {
            let (ctx, due) = (ctx.clone(), due.clone());
            let started = Instant::now();
            let total = delay.as_secs_f64();
            let interval = runtime.settings.progress_interval;
            ctx.progress(0.0, Some(total), Some("started"));
            timer.every(interval, move || {
                let elapsed = started.elapsed().as_secs_f64();
                if due.load(Ordering::Acquire) || ctx.is_cancelled() || elapsed >= total {
                    return false;
                }
                ctx.progress(
                    elapsed,
                    Some(total),
                    Some(&format!("{elapsed:.0} of {total} s")),
                );
                true
            });
        }
        let id = timer.schedule(delay, move || {
            // Set on the timer thread before the answer is handed on, so no progress task that
            // runs after this one reports anything.
            due.store(true, Ordering::Release);
            self.finish(result);
        });
        ctx.cancellation().park(timer, id);
    }
}

impl Inner {
    fn deliver(self, ctx: &Context, response: Response) {
        let answer = Outgoing::answer(&self.id, &response);
        self.send(ctx, answer);
    }

    fn send(self, ctx: &Context, answer: Outgoing) {
        ctx.runtime().metrics.latency(self.started.elapsed());
        ctx.finish();
        let session = ctx.session();
        session.send(&self.route, answer);
        session.end_request(&self.id);
    }

    /// A cancelled call sends no result; its exchange still ends properly.
    fn cancelled(self, ctx: &Context) {
        ctx.finish();
        ctx.runtime().metrics.tool(&self.tool, "cancelled");
        let session = ctx.session();
        session.send_cancelled(&self.route, &self.id);
        session.end_request(&self.id);
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if self.ctx.is_cancelled() {
                return inner.cancelled(&self.ctx);
            }
            let shutting_down = self.ctx.runtime().shutting_down();
            let err = if shutting_down {
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
            let outcome = if shutting_down { "cancelled" } else { "failed" };
            self.ctx.runtime().metrics.tool(&inner.tool, outcome);
            let id = inner.id.clone();
            inner.deliver(&self.ctx, Response::error(Some(id), err));
        }
    }
}
