//! The client's requests running in a session: they keep it alive through expiry, and
//! `notifications/cancelled` finds their cancellation state by id.

use crate::cancellation::Cancellation;
use crate::jsonrpc::RequestId;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub(super) struct Requests {
    /// Counted apart from `running`: a client may reuse an id while the first request runs, and
    /// each still holds the session.
    in_flight: usize,
    running: HashMap<RequestId, Arc<Cancellation>>,
}

impl Requests {
    pub(super) fn is_idle(&self) -> bool {
        self.in_flight == 0
    }

    pub(super) fn begin(&mut self, id: &RequestId, cancel: Arc<Cancellation>) {
        self.in_flight += 1;
        self.running.insert(id.clone(), cancel);
    }

    pub(super) fn end(&mut self, id: &RequestId) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.running.remove(id);
    }

    pub(super) fn running(&self, id: &RequestId) -> Option<Arc<Cancellation>> {
        self.running.get(id).cloned()
    }

    pub(super) fn all_running(&self) -> Vec<(RequestId, Arc<Cancellation>)> {
        self.running
            .iter()
            .map(|(id, c)| (id.clone(), c.clone()))
            .collect()
    }
}
