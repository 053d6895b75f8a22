//! A JSON-RPC batch on stdio (revision 2025-03-26): its responses go out together as one array
//! line once the last is in; everything else its requests send (progress, logs, requests of
//! ours) goes out at once on the session's channel, since a client needs those before the
//! answers.

use crate::jsonrpc::RequestId;
use crate::session::{Exchange, Outgoing, Route, Session};
use std::sync::{Arc, Mutex};

/// The route of a batch holding `requests` requests (none: its notifications and responses
/// need no answer, so the session's own route).
pub(super) fn route(session: &Arc<Session>, requests: usize) -> Route {
    if requests == 0 {
        return Route::Session;
    }
    Route::Exchange(Arc::new(Batch {
        session: session.clone(),
        expected: requests,
        pending: Mutex::new(Some(Pending::default())),
    }))
}

struct Batch {
    session: Arc<Session>,
    /// Requests to be answered or cancelled before the array goes out.
    expected: usize,
    /// `None` once sent.
    pending: Mutex<Option<Pending>>,
}

#[derive(Default)]
struct Pending {
    answers: Vec<Arc<str>>,
    /// Requests answered or cancelled (a cancelled one has no answer).
    settled: usize,
}

impl Batch {
    /// Counts one request as settled, with its `answer` unless it was cancelled; sends the
    /// array when it was the last. False if the array went out already.
    fn settle(&self, answer: Option<Arc<str>>) -> bool {
        let mut guard = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some(p) = guard.as_mut() else {
            return false;
        };
        p.answers.extend(answer);
        p.settled += 1;
        if p.settled < self.expected {
            return true;
        }
        let Some(p) = guard.take() else {
            return false;
        };
        drop(guard);
        if !p.answers.is_empty() {
            let items: Vec<&str> = p.answers.iter().map(|a| &**a).collect();
            let line = format!("[{}]", items.join(","));
            self.session
                .send(&Route::Session, Outgoing::message(line.into()));
        }
        true
    }
}

impl Exchange for Batch {
    fn deliver(&self, msg: &Outgoing) -> bool {
        if msg.answers.is_none() {
            self.session.send(&Route::Session, msg.clone());
            return true;
        }
        self.settle(Some(msg.json.clone()))
    }

    /// A cancelled request gets no response; the others' array still goes out.
    fn cancelled(&self, _id: &RequestId) {
        self.settle(None);
    }

    fn streams(&self) -> bool {
        true
    }
}
