//! The session itself: its identity, its one lock over every part of its state, and what happens
//! to all parts at once (keepalives, shutdown, ending, expiry).
//!
//! Every part of a session sits behind one `Mutex<State>` rather than a lock each: the send path
//! takes it once per message, and its ordering guarantees (no message between a replay and an
//! attach, a cancel that abandons our requests and finds the running one together) need the parts
//! to change together. The parts know nothing of `Session`; the thin methods that lock and call
//! them live here and in `api`/`send`, so imports run from the session down to its parts only.

use super::client::ClientFacts;
use super::client_requests::ClientRequests;
use super::exchange::ExchangeStreams;
use super::general::GeneralChannel;
use super::requests::Requests;
use crate::metrics::Metrics;
use crate::sse::Frame;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Which transport created the session; it decides how the session's messages are framed and
/// when the session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// `GET /notifications` + `POST /mcp` (202, answers on the stream).
    Seed,
    /// MCP Streamable HTTP on `/mcp`.
    Streamable,
    /// MCP 2024-11-05 HTTP+SSE (`/sse` + `/messages`); the session lives as long as its stream.
    Legacy,
    /// One stateless request of revision 2026-07-28 on `/mcp`: the "session" exists only while
    /// the request runs, is never registered, and holds what the request's `_meta` said.
    Stateless,
}

/// Why a session could not be created: the registry is at its cap.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManySessions;

pub(super) struct State {
    /// Expiry measures idleness from here.
    pub(super) last_activity: Instant,
    pub(super) client: ClientFacts,
    pub(super) general: GeneralChannel,
    pub(super) exchanges: ExchangeStreams,
    pub(super) requests: Requests,
    /// Our requests to the client.
    pub(super) ours: ClientRequests,
}

pub struct Session {
    pub id: String,
    pub kind: TransportKind,
    /// Requests running across all sessions (for graceful shutdown).
    pub(super) active: Arc<AtomicUsize>,
    state: Mutex<State>,
}

impl Session {
    /// `metrics` are the server instance's counters: two servers in one process must not merge
    /// them.
    pub(super) fn new(
        kind: TransportKind,
        outbox_limit: usize,
        replay: usize,
        active: Arc<AtomicUsize>,
        metrics: Arc<Metrics>,
    ) -> Session {
        // A stateless request's stand-in has no id: drawing a random one costs a syscall.
        let id = if kind == TransportKind::Stateless {
            String::new()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        // One budget for everything the session keeps: its outbox, its log and its POST streams'.
        let buffers = crate::replay::SessionBuffers::new(id.clone(), metrics);
        Session {
            id,
            kind,
            active,
            state: Mutex::new(State {
                last_activity: Instant::now(),
                client: ClientFacts::default(),
                general: GeneralChannel::new(outbox_limit, replay, buffers.clone()),
                exchanges: ExchangeStreams::new(buffers),
                requests: Requests::default(),
                ours: ClientRequests::new(),
            }),
        }
    }

    /// A poisoned lock only means another thread panicked mid-update of plain data; the state is
    /// still usable, and refusing service would turn one bug into an outage.
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn touch(&self) {
        self.state().last_activity = Instant::now();
    }

    #[cfg(test)]
    pub fn is_ended(&self) -> bool {
        self.state().general.is_ended()
    }

    /// Sends a keepalive comment on every stream; an exchange's stream whose queue is full is
    /// closed (its client resumes from the log), a general stream's is left to its write timeout
    /// (it is being paced from the backlog).
    pub fn keepalive(&self) {
        let mut s = self.state();
        s.exchanges.keepalive();
        s.general.keepalive();
    }

    /// Server shutdown: every stream gets `last` after what it already has queued, then ends.
    pub fn close_streams_with(&self, last: Frame) {
        let s = self.state();
        s.general.close_with(&last);
        s.exchanges.close_with(&last);
    }

    /// Ends the session: closes its streams and lets go of everything it kept (outbox, logs,
    /// its POST streams' logs), so its memory comes back now, not when the last holder of the
    /// session or of an exchange lets go; requests of ours still waiting for the client are
    /// abandoned.
    pub fn end(&self) {
        let mut s = self.state();
        s.ours.abandon_all();
        s.general.end();
        s.exchanges.end();
    }

    pub(super) fn expired(&self, now: Instant, ttl: Duration) -> bool {
        let s = self.state();
        !s.general.has_streams()
            && s.requests.is_idle()
            && now.saturating_duration_since(s.last_activity) >= ttl
    }
}
