//! Where a session's messages go when this server is a gateway: another MCP server (a stdio
//! child) answers instead of the local handlers. A trait here, implemented above, so that the
//! core hands messages over without naming the gateway (imports point down).

use super::Core;
use crate::jsonrpc::Incoming;
use crate::session::{Route, Session};
use std::sync::Arc;

/// What a gateway tells `/health` and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamStats {
    /// Children running now.
    pub running: usize,
    /// Children started since the server started.
    pub started: u64,
    /// Children that ended (killed with their session, or exited by themselves).
    pub ended: u64,
    /// Children that exited while their session still wanted them (crashes).
    pub died: u64,
    /// Children killed for not answering `initialize` in time.
    pub init_timeouts: u64,
}

/// The other side of a gateway. A request handed to [`Upstream::forward`] was registered as
/// running (`Session::begin_request`); the upstream ends it (`Session::end_request`) when its
/// answer, its cancellation or its failure has been sent on `route`.
pub trait Upstream: Send + Sync {
    /// One message from a client of `session`; answers go to `route`.
    fn forward(&self, core: &Arc<Core>, session: &Arc<Session>, msg: Incoming, route: &Route);
    /// Counts for `/health` and `/metrics`.
    fn stats(&self) -> UpstreamStats;
    /// Server shutdown: every child is stopped.
    fn shutdown(&self);
}
