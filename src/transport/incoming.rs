//! What every transport does with an incoming HTTP request before its own work: the CORS facts
//! its answers carry, the `Accept` check, reading a body that must hold one message, and the 202
//! that goes out before the message is handled.

use super::refusal::{Handled, Outcome, Refusal};
use crate::access::Caller;
use crate::dispatch::{Core, Received};
use crate::http::{self, Reply, Request};
use crate::jsonrpc::{self, Body, ErrorObject, Incoming, RequestId};
use crate::protocol::Revision;
use crate::session::Route;
use std::sync::Arc;

/// Per-request facts every transport needs.
pub struct Ctx {
    /// CORS headers to add to every answer of this request.
    pub cors: Vec<(String, String)>,
    /// Who sent it (`None` when the server requires no token): sessions it opens are bound to
    /// it, and sessions of other tokens are unknown to it.
    pub caller: Option<Caller>,
}

/// 406 unless the request's `Accept` admits one of `types`.
pub(super) fn accepts(req: &Request, types: &[&str], message: &str) -> Result<(), Refusal> {
    if http::accepts_any(req, types) {
        Ok(())
    } else {
        Err(Refusal::invalid(406, message))
    }
}

/// Writes a 202 before the messages are handled: their answers travel on a stream, and the
/// client must not wait for work (a long tool call, say) to learn that its POST arrived. The
/// messages are received (requests registered) before the 202, so a cancellation the client
/// sends once it has the 202 always finds its request. The connection thread handles them once
/// the 202 is written, under a worker permit when there is a request among them (the 202 said
/// it was accepted, so it waits its turn however long the line).
pub(super) fn accept_then(
    core: &Arc<Core>,
    req: Request,
    reply: Reply,
    received: Vec<Received>,
) -> Outcome {
    let core = core.clone();
    let then = move || {
        let _permit = received
            .iter()
            .any(Received::is_request)
            .then(|| core.runtime.permits.acquire_accepted());
        for r in received {
            r.run(&Route::Session);
        }
    };
    req.respond_then(reply, Box::new(then));
    Ok(Handled::Done)
}

/// Parses a body that must hold exactly one message (the seed and 2024-11-05 transports define no
/// batches). These transports have sessions, so a stateless (2026-07-28) request is refused with
/// -32022, naming where that revision is served.
pub(super) fn single_message(body: &[u8]) -> Result<Incoming, Refusal> {
    match jsonrpc::parse_body(body).map_err(Refusal::rejected)? {
        Body::Single(Incoming::Request(r)) => {
            let requested = crate::stateless::requested_version(&r.params);
            match requested.filter(|v| Revision::parse(v).is_none()) {
                Some(v) => Err(sessions_only(&r.id, v)),
                None => Ok(Incoming::Request(r)),
            }
        }
        Body::Single(m) => Ok(m),
        Body::Batch(_) => Err(Refusal::invalid(
            400,
            "Invalid Request: batches are not supported on this transport",
        )),
    }
}

/// -32022 for a stateless request sent to a transport with sessions.
fn sessions_only(id: &RequestId, requested: &str) -> Refusal {
    let e = crate::stateless::unsupported_version(requested);
    let e = ErrorObject {
        message: format!(
            "{} on this transport: it has sessions (initialize first); revision 2026-07-28 is served statelessly by POST /mcp",
            e.message
                .split(" (")
                .next()
                .unwrap_or("Unsupported protocol version")
        ),
        data: Some(serde_json::json!({
            "supported": Revision::ALL.map(Revision::as_str),
            "requested": requested,
        })),
        ..e
    };
    Refusal::rpc(400, e).id(Some(id.clone()))
}
