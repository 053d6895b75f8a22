//! What the HTTP layer asks of the application, and the counters it keeps for it. Apart from the
//! connection code and the accept loop, so both depend on it and neither on the other's contract.

use super::request::{Method, Reply, Request};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// What the HTTP layer asks of the application.
pub trait Service: Send + Sync + 'static {
    /// Looks at a request head before its body is read (access control, shutdown). An `Err` is
    /// the answer; the connection is closed after it, so an unwanted body is never read.
    fn admit(&self, req: &Request) -> Result<(), Reply>;
    /// Handles a complete request on the connection's thread, leaving the answer in the request
    /// (`Err` is an answer to send instead: 503 when the server is busy). It may block while a
    /// handler runs; nothing is written to the connection until it returns, except by a stream
    /// the handler started early (`Launch`).
    fn dispatch(&self, req: Request) -> Result<(), Reply>;
    /// The answer for an error the HTTP layer itself detects (`req` is `None` when the head could
    /// not be parsed).
    fn error(&self, req: Option<&Request>, status: u16, message: &str) -> Reply;
    /// Told of every answer just before it is written, so the application can count them without
    /// the HTTP layer knowing where counts go: a reply's status, 200 for a connection handed over
    /// to a stream, 503 with an empty path for a connection refused at the limit. Called on the
    /// connection's thread (the accept loop's, for a refusal): keep it short.
    fn answered(&self, _path: &str, _method: Method, _status: u16) {}
}

/// Counters and state for `/health` and `/metrics`.
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// Connections open now (each has its thread).
    pub open: AtomicUsize,
    /// Connections accepted since start.
    pub accepted: AtomicU64,
    /// Connections refused with 503 because `--max-connections` were open.
    pub refused: AtomicU64,
    /// `accept()` calls that failed since start.
    pub accept_errors: AtomicU64,
    /// Connections closed for sending nothing within `--idle-timeout-secs`.
    pub idle_closed: AtomicU64,
    /// Connections closed for not finishing a request head within `--header-timeout-secs`.
    pub header_timeouts: AtomicU64,
    /// Requests refused as malformed (400, 414, 431, 505).
    pub bad_requests: AtomicU64,
    /// The last accept error, while accepting fails (cleared by the next successful accept).
    failing: Mutex<Option<String>>,
    stopping: AtomicBool,
}

impl ListenerStats {
    /// Why the server is degraded, if it is: accepting connections currently fails.
    pub fn degraded(&self) -> Option<String> {
        self.failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the listener was told to stop (connections then close after their current answer).
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(super) fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    pub(super) fn set_failing(&self, why: Option<String>) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = why;
    }
}
