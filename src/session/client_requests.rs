//! Requests of ours to the client (sampling, elicitation, roots) waiting for its response. Each
//! remembers the client request it was made for, so cancelling that one abandons them.

use crate::jsonrpc::RequestId;
use crossbeam_channel::Sender;
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

    pub(super) fn register(&mut self, waiter: Waiter) -> RequestId {
        let id = RequestId::String(format!("s-{}", self.next));
        self.next += 1;
        self.awaiting.insert(id.clone(), waiter);
        id
    }

    pub(super) fn take(&mut self, id: &RequestId) -> Option<Waiter> {
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
