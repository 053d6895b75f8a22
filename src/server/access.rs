//! The handle that replaces a running server's scoped tokens (on SIGHUP, say).

use crate::config::TokenGrant;
use crate::dispatch::Core;
use std::sync::Arc;

/// Replaces the scoped bearer tokens (`[[auth.token]]`) of a running server; get it from
/// [`Server::access`](crate::Server::access). Cheap to clone and usable from any thread.
#[derive(Clone)]
pub struct AccessHandle {
    pub(super) core: Arc<Core>,
}

impl AccessHandle {
    /// Replaces every grant at once: the next request is checked against the new set (a request
    /// sees the old set or the new one, never a mix). The `--auth-token-file` token stays.
    /// Sessions stay bound to the token that opened them: one whose grant changed sees its new
    /// tools at once; one whose token is no longer granted is ended now, its open streams
    /// included, so a revoked token hears nothing more (its next request gets 401).
    pub fn set_grants(&self, grants: Vec<TokenGrant>) {
        let access = self.core.guard.access();
        access.set_grants(&grants);
        for session in self.core.sessions.all() {
            if let Some(caller) = session.caller()
                && !access.accepts(caller)
            {
                // Removing ends it: its streams close and its running requests are cancelled.
                self.core.sessions.remove(&session.id);
                log::info!(
                    "session {} ended: its token {:?} is no longer granted",
                    session.id,
                    caller.name()
                );
            }
        }
    }
}
