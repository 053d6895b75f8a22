//! The handle that replaces a running server's scoped tokens (on SIGHUP, say).

use crate::access::Access;
use crate::config::TokenGrant;
use std::sync::Arc;

/// Replaces the scoped bearer tokens (`[[auth.token]]`) of a running server; get it from
/// [`Server::access`](crate::Server::access). Cheap to clone and usable from any thread.
#[derive(Clone)]
pub struct AccessHandle {
    pub(super) access: Arc<Access>,
}

impl AccessHandle {
    /// Replaces every grant at once: the next request is checked against the new set (a request
    /// sees the old set or the new one, never a mix). The `--auth-token-file` token stays.
    /// Sessions stay bound to the token that opened them: one whose token is no longer granted
    /// gets 401 on its next request, and one whose grant changed sees its new tools at once.
    pub fn set_grants(&self, grants: Vec<TokenGrant>) {
        self.access.set_grants(&grants);
    }
}
