//! The client's requests running in a session: they keep it alive through expiry, and
//! `notifications/cancelled` finds their cancellation state by id.

use super::Session;
use crate::cancellation::Cancellation;
use crate::jsonrpc::RequestId;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

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

    fn begin(&mut self, id: &RequestId, cancel: Arc<Cancellation>) {
        self.in_flight += 1;
        self.running.insert(id.clone(), cancel);
    }

    fn end(&mut self, id: &RequestId) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.running.remove(id);
    }

    fn running(&self, id: &RequestId) -> Option<Arc<Cancellation>> {
        self.running.get(id).cloned()
    }
}

impl Session {
    /// A running request keeps its session alive through expiry; its cancellation state is
    /// found by id until it ends.
    pub fn begin_request(&self, id: &RequestId) -> Arc<Cancellation> {
        self.active.fetch_add(1, Ordering::AcqRel);
        let cancel = Arc::new(Cancellation::default());
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.requests.begin(id, cancel.clone());
        cancel
    }

    pub fn end_request(&self, id: &RequestId) {
        self.active.fetch_sub(1, Ordering::AcqRel);
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.requests.end(id);
    }

    /// `notifications/cancelled`: cancels the running request `id`; false if there is none
    /// (finished already, or never existed).
    pub fn cancel(&self, id: &RequestId) -> bool {
        let c = {
            let mut s = self.state();
            // Requests of ours made on its behalf are abandoned: their waiters wake at once.
            s.ours.abandon_for(id);
            s.requests.running(id)
        };
        // Outside the lock: cancelling wakes the request and takes its timer's lock.
        c.is_some_and(|c| c.cancel())
    }
}
