//! Queueing a received request on the worker pool, and the answer when the pool is full: the
//! reader never blocks on a busy pool (it must go on reading cancellations and the client's
//! answers, which a worker may be waiting for).

use crate::dispatch::{Core, Received};
use crate::jsonrpc::{ErrorObject, RequestId, Response};
use crate::session::{Outgoing, Route, Session};

/// The JSON-RPC error code of a request refused because every worker is busy and the queue is
/// full (implementation-defined server error range).
const SERVER_BUSY: i64 = -32000;

/// Runs `received` (request `id`) on a worker, its answers on `route`; with the pool full, the
/// request ends unanswered and `answer_on` says why on `route`.
pub(super) fn submit(
    core: &Core,
    answer_on: &Session,
    route: Route,
    id: RequestId,
    received: Received,
) -> bool {
    let route2 = route.clone();
    let job = Box::new(move || received.run(&route2));
    if core.runtime.pool.try_submit(job).is_ok() {
        return true;
    }
    // The job was dropped: its request ended without an answer.
    log::warn!("worker queue full; request {id} refused");
    let e = ErrorObject::new(
        SERVER_BUSY,
        "Server busy: all workers are occupied (--workers, --queue); retry later",
    );
    let response = Response::error(Some(id.clone()), e);
    answer_on.send(&route, Outgoing::answer(&id, &response));
    false
}
