//! The MCP server as the HTTP layer sees it: admission on the connection thread (shutdown,
//! Host/Origin/token), then a worker permit and routing to a transport, on the same thread.

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

    /// Runs the request here, on its connection's thread, under one of `--workers` permits
    /// (waiting in a line of at most `--queue`, else 503). The permit is given back before the
    /// answer is written. A POST that carries no request (the client's answers to requests of
    /// ours, and notifications such as cancellations) needs no permit: it only hands values on,
    /// and a handler holding a permit may be the very one waiting for it, so making it wait for
    /// a permit could deadlock them. Nor do `/health` and `/metrics`: they must answer while
    /// every permit is taken, which is when they are read.
    fn dispatch(&self, req: Request) -> Result<(), Reply> {
        let ops = matches!(req.path(), "/health" | "/metrics");
        if ops || req.method() == Method::Post && !carries_request(req.body()) {
            route(&self.core, req);
            return Ok(());
        }
        let Some(_permit) = self.core.runtime.permits.acquire() else {
            log::warn!("every worker permit taken and the line full; request refused with 503");
            let cors = http::cors_headers(req.header("Origin"), &self.core.config.cors_origins);
            return Err(Reply::json(
                503,
                refusal(
                    INVALID_REQUEST,
                    "Server busy: all workers are occupied (--workers, --queue); retry later",
                ),
            )
            .header("Retry-After", "1")
            .headers(&cors));
        };
        route(&self.core, req);
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
