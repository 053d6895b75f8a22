//! The one-shot answer channel of a tool call: answered now, later (parked on the timer, holding
//! no thread), or from another thread; never twice, and never not at all.

use super::ToolResult;
use crate::context::Context;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, RequestId, Response};
use crate::protocol::Revision;
use crate::session::{Outgoing, Route};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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

    /// Answers after `delay` without holding any thread: the call is parked on the timer, and
    /// when it is due the answer is written by a worker (the timer thread never does I/O). A
    /// cancelled call leaves the timer at once and sends nothing. If the client asked for
    /// progress, the timer reports it every `--progress-interval-ms` (seconds elapsed of the
    /// total) until the answer.
    pub fn finish_after(self, delay: Duration, result: ToolResult) {
        if self.inner.is_none() {
            return;
        }
        let ctx = self.ctx.clone();
        let runtime = ctx.runtime().clone();
        let (timer, pool) = (runtime.timer.clone(), runtime.pool.clone());
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
            pool.submit_or_run(Box::new(move || self.finish(result)));
        });
        ctx.cancellation().park(timer, id);
    }
}

impl Inner {
    fn deliver(self, ctx: &Context, response: Response) {
        ctx.runtime().metrics.latency(self.started.elapsed());
        ctx.finish();
        let session = ctx.session();
        session.send(&self.route, Outgoing::answer(&self.id, &response));
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
