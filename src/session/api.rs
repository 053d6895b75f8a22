//! The session's operations on one part of its state each: take the session's one lock, call the
//! part, release. They live on the `Session` side rather than in the part files so that a part
//! never names `Session` (imports run one way, from the session down to its parts); the few that
//! touch two parts or the activity clock under one lock say so, since that is their point.

use super::exchange::Exchange;
use super::state::Session;
use crate::cancellation::Cancellation;
use crate::jsonrpc::RequestId;
use crate::logging::LogLevel;
use crate::protocol::Revision;
use crate::replay::Gap;
use crate::sse::{Frame, Msg, StreamHandle};
use crossbeam_channel::Receiver;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// What the handshake told us of the client, and what it asked for since.
impl Session {
    pub fn is_initialized(&self) -> bool {
        self.state().client.is_initialized()
    }

    pub fn revision(&self) -> Option<Revision> {
        self.state().client.revision()
    }

    pub fn mark_initialized(
        &self,
        rev: Revision,
        client_info: Option<Value>,
        capabilities: Option<Value>,
    ) {
        self.state()
            .client
            .mark_initialized(rev, client_info, capabilities);
    }

    pub fn client_info(&self) -> Option<Value> {
        self.state().client.client_info()
    }

    pub fn client_capabilities(&self) -> Option<Value> {
        self.state().client.capabilities()
    }

    /// Whether a log message at `level` goes to this client.
    pub fn log_enabled(&self, level: LogLevel) -> bool {
        self.state().client.log_enabled(level)
    }

    /// Whether the client asked for log messages (`logging/setLevel`); its tool calls are then
    /// answered as SSE streams on Streamable HTTP, so the messages have a way to it.
    pub fn wants_logs(&self) -> bool {
        self.state().client.wants_logs()
    }

    pub fn set_log_level(&self, level: LogLevel) {
        self.state().client.set_log_level(level);
    }

    pub fn subscribe(&self, uri: &str) {
        self.state().client.subscribe(uri);
    }

    pub fn unsubscribe(&self, uri: &str) {
        self.state().client.unsubscribe(uri);
    }

    pub fn is_subscribed(&self, uri: &str) -> bool {
        self.state().client.is_subscribed(uri)
    }

    pub fn client_name(&self) -> Option<String> {
        self.state().client.client_name()
    }

    /// Whether the client declared `capability` (in `initialize`, or a stateless request's `_meta`).
    pub fn supports(&self, capability: &str) -> bool {
        self.state().client.supports(capability)
    }
}

/// The client's running requests, and ours to the client made on their behalf.
impl Session {
    /// A running request keeps its session alive through expiry; its cancellation state is
    /// found by id until it ends.
    pub fn begin_request(&self, id: &RequestId) -> Arc<Cancellation> {
        self.active.fetch_add(1, Ordering::AcqRel);
        let cancel = Arc::new(Cancellation::default());
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.client.mark_used();
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

    /// Cancels every running request (the client went away: stdin ended); returns how many were
    /// still running.
    pub fn cancel_all(&self) -> usize {
        let running = {
            let mut s = self.state();
            s.ours.abandon_all();
            s.requests.all_running()
        };
        // Outside the lock, as in `cancel`.
        running.iter().filter(|(_, c)| c.cancel()).count()
    }

    /// Messages of the general channel its streams have not been handed yet.
    pub fn undelivered(&self) -> usize {
        self.state().general.undelivered()
    }

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

/// Streams: the general channel's, and those answering single exchanges.
impl Session {
    /// What a priming event of a new general stream names (`0-<seq>`).
    pub fn general_position(&self) -> Arc<str> {
        self.state().general.position()
    }

    /// Opens (with `open`) and attaches a general stream that resumes after event `after` of the
    /// general channel: its first frames are exactly the logged messages that followed (written
    /// before anything queued, so a long replay is never cut by the stream's queue bound). Under
    /// the session's lock, so no message slips between replay and attach. A gap (the id is
    /// unknown, or its successors were evicted) opens nothing.
    pub fn resume_general<E>(
        &self,
        after: u64,
        open: impl FnOnce(Vec<Frame>) -> Result<StreamHandle, E>,
    ) -> Result<Result<(usize, u64), E>, Gap> {
        let mut s = self.state();
        let resumed = s.general.resume(after, open);
        if let Ok(Ok(_)) = resumed {
            s.last_activity = Instant::now();
            s.client.mark_used();
        }
        resumed
    }

    /// Attaches a general stream and hands it the outbox, oldest first.
    pub fn attach(&self, handle: StreamHandle) {
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.client.mark_used();
        s.general.attach(handle);
    }

    /// Called by a general stream's writer when it has made room in its queue after being told
    /// there is more: hands it the next of what it lacks. Pacing a reconnect by the client's
    /// reading rather than by the queue's bound is what lets it receive the whole outbox.
    pub fn refill(&self, stream_id: u64) {
        self.state().general.refill(stream_id);
    }

    /// Called by a stream's thread when it ends; `leftovers` are messages it may not have
    /// delivered.
    pub fn detach(&self, stream_id: u64, leftovers: Vec<Msg>) {
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.general.detach(&self.id, stream_id, leftovers);
    }

    /// Closes every general stream except `keep`; used when a new Streamable HTTP GET stream
    /// replaces the old one.
    pub fn close_streams_except(&self, keep: u64) {
        self.state().general.close_except(keep);
    }

    pub fn next_stream_number(&self) -> u64 {
        self.state().exchanges.next_number()
    }

    /// Keeps a resumable stream findable by its number (the most recent few only).
    pub fn keep_resumable(&self, stream: u64, x: Arc<dyn Exchange>) {
        self.state().exchanges.keep_resumable(stream, x);
    }

    pub fn resumable(&self, stream: u64) -> Option<Arc<dyn Exchange>> {
        self.state().exchanges.resumable(stream)
    }

    /// Registers the SSE stream of an exchange so it gets keepalives and ends with the session.
    pub fn track_exchange_stream(&self, handle: StreamHandle) {
        self.state().exchanges.track(handle);
    }
}
