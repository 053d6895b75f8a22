//! The MCP server as the HTTP layer sees it: admission on the connection thread (shutdown,
//! Host/Origin/token), then queueing onto the worker pool and routing to a transport.

use crate::dispatch::Core;
use crate::http::{self, Method, Reply, Request, Service};
use crate::jsonrpc::{INVALID_REQUEST, refusal};
use crate::transport::route;
use std::sync::Arc;

/// The MCP server as the HTTP layer sees it.
pub(super) struct Mcp {
    pub(super) core: Arc<Core>,
}

impl Service for Mcp {
    fn admit(&self, req: &Request) -> Result<(), Reply> {
        let core = &self.core;
        if core.runtime.shutting_down() || core.http.stopping() {
            return Err(
                Reply::json(503, refusal(INVALID_REQUEST, "Server shutting down"))
                    .header("Connection", "close")
                    .header("Retry-After", "5"),
            );
        }
        let cors = http::cors_headers(req.header("Origin"), &core.config.cors_origins);
        let auth = crate::security::needs_token(req, core.config.public_health);
        core.guard
            .check(req, &cors, auth)
            .map_err(|r| r.header("Connection", "close"))
    }

    /// Queues the request for a worker without ever blocking its connection thread. A POST
    /// that carries no request (the client's answers to requests of ours, and notifications
    /// such as cancellations) is handled right here instead: it only hands values on, and a
    /// worker may be the very one waiting for it, so queueing it behind busy workers could
    /// deadlock them.
    fn dispatch(&self, req: Request) -> Result<(), Reply> {
        if req.method() == Method::Post && !carries_request(req.body()) {
            route(&self.core, req);
            return Ok(());
        }
        let cors = http::cors_headers(req.header("Origin"), &self.core.config.cors_origins);
        let core = self.core.clone();
        let job = Box::new(move || route(&core, req));
        if self.core.runtime.pool.try_submit(job).is_err() {
            log::warn!("worker queue full; request refused with 503");
            return Err(Reply::json(
                503,
                refusal(
                    INVALID_REQUEST,
                    "Server busy: all workers are occupied (--workers, --queue); retry later",
                ),
            )
            .header("Retry-After", "1")
            .headers(&cors));
        }
        Ok(())
    }

    fn error(&self, req: Option<&Request>, status: u16, message: &str) -> Reply {
        let origin = req.and_then(|r| r.header("Origin"));
        Reply::json(status, refusal(INVALID_REQUEST, message))
            .headers(&http::cors_headers(origin, &self.core.config.cors_origins))
    }

    fn answered(&self, path: &str, method: Method, status: u16) {
        self.core.runtime.metrics.http(path, method, status);
    }
}

/// Whether a JSON-RPC body may hold a request (an `"id"` with a `"method"`). A cheap byte scan:
/// anything it is unsure of goes to the workers as usual.
fn carries_request(body: &[u8]) -> bool {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    has(b"\"method\"") && has(b"\"id\"")
}
