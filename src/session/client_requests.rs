//! Requests of ours to the client (sampling, elicitation, roots) waiting for its response. Each
//! remembers the client request it was made for, so cancelling that one abandons them.

use super::Session;
use crate::jsonrpc::RequestId;
use crossbeam_channel::{Receiver, Sender};
use serde_json::Value;
use std::collections::HashMap;

/// Where the answer goes, and the client request it was made for.
type Waiter = (Sender<Result<Value, Value>>, Option<RequestId>);

pub(super) struct ClientRequests {
    awaiting: HashMap<RequestId, Waiter>,
    next: u64,
}

impl ClientRequests {
    pub(super) fn new() -> ClientRequests {
        ClientRequests {
            awaiting: HashMap::new(),
            next: 1,
        }
    }

    fn register(&mut self, waiter: Waiter) -> RequestId {
        let id = RequestId::String(format!("s-{}", self.next));
        self.next += 1;
        self.awaiting.insert(id.clone(), waiter);
        id
    }

    fn take(&mut self, id: &RequestId) -> Option<Waiter> {
        self.awaiting.remove(id)
    }

    /// Dropping a waiter's sender wakes it at once.
    pub(super) fn abandon_for(&mut self, origin: &RequestId) {
        self.awaiting
            .retain(|_, (_, from)| from.as_ref() != Some(origin));
    }

    pub(super) fn abandon_all(&mut self) {
        self.awaiting.clear();
    }
}

impl Session {
    /// Registers a request of ours to the client, made while serving the client's request
    /// `origin`; its response will arrive on the receiver.
    pub fn await_response(
        &self,
        origin: Option<RequestId>,
    ) -> (RequestId, Receiver<Result<Value, Value>>) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let id = self.state().ours.register((tx, origin));
        (id, rx)
    }

    /// Forgets a request of ours (timed out or abandoned); a late response is then ignored.
    pub fn forget_request(&self, id: &RequestId) {
        self.state().ours.take(id);
    }

    /// Routes the client's response to the request of ours that waits for it; false if none
    /// does (unknown, already answered, or given up on).
    pub fn resolve(&self, id: &RequestId, outcome: Result<Value, Value>) -> bool {
        let waiter = self.state().ours.take(id);
        waiter.is_some_and(|(tx, _)| tx.try_send(outcome).is_ok())
    }
}
