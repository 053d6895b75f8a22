//! The three HTTP transports, each a thin layer that turns HTTP exchanges into calls on the shared
//! core and picks the [`Route`](crate::session::Route) its answers take.

pub mod legacy;
pub mod seed;
pub mod streamable;

/// Per-request facts every transport needs.
pub struct Ctx {
    /// CORS headers to add to every answer of this request.
    pub cors: Vec<(String, String)>,
}

use crate::http::Reply;
use crate::http::Request;
use crate::jsonrpc::{self, Body, INVALID_REQUEST, Incoming};
use crate::sse::OpenError;

/// Parses a body that must hold exactly one message (the seed and 2024-11-05 transports define no
/// batches); otherwise answers 400 itself and returns None.
fn parse_single(req: Request, body: &[u8], ctx: &Ctx) -> Option<(Request, Incoming)> {
    match jsonrpc::parse_body(body) {
        Ok(Body::Single(m)) => Some((req, m)),
        Ok(Body::Batch(_)) => {
            Reply::rpc_error(
                400,
                None,
                INVALID_REQUEST,
                "Invalid Request: batches are not supported on this transport",
            )
            .headers(&ctx.cors)
            .send(req);
            None
        }
        Err(rej) => {
            Reply::json(400, rej.to_response().to_json())
                .headers(&ctx.cors)
                .send(req);
            None
        }
    }
}

/// Answers a request whose SSE stream could not be opened.
fn stream_not_opened(err: OpenError, ctx: &Ctx) {
    let OpenError::Busy(req) = err;
    Reply::rpc_error(
        503,
        None,
        INVALID_REQUEST,
        "Too many open streams (--max-streams); retry later",
    )
    .header("Retry-After", "5")
    .headers(&ctx.cors)
    .send(*req)
}
