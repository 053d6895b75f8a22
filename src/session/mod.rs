//! Sessions and the one path by which every message reaches a client.
//!
//! Whatever the transport, a message for a client goes through [`Session::send`]. A session's
//! *general* streams (the seed's `/notifications`, the legacy `/sse`, the Streamable HTTP GET
//! stream) receive messages that are not tied to one HTTP exchange; while none is open they wait
//! in a bounded outbox and are delivered, in order, when a stream attaches. Messages that answer a
//! particular HTTP exchange (Streamable HTTP POSTs) go to that exchange instead.
//!
//! A session's state is split by job, one file each: what we know of the client (`client`), the
//! general channel (`general`), exchanges' streams (`exchange`), the client's running requests
//! (`requests`), our requests to the client (`client_requests`), the send path (`send`) and the
//! registry of sessions (`registry`). All parts sit behind the session's one lock: the send path
//! takes it once per message, and its ordering guarantees (no message between a replay and an
//! attach, a cancel that abandons our requests and finds the running one together) need it.

mod client;
mod client_requests;
mod exchange;
mod general;
mod registry;
mod requests;
mod send;

pub use client::StatelessClient;
pub use exchange::Exchange;
pub use general::GENERAL_STREAM;
pub use registry::Sessions;
pub use send::{Outgoing, Route};

use crate::sse::Frame;
use client::ClientFacts;
use client_requests::ClientRequests;
use exchange::ExchangeStreams;
use general::GeneralChannel;
use requests::Requests;
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

struct State {
    /// Expiry measures idleness from here.
    last_activity: Instant,
    client: ClientFacts,
    general: GeneralChannel,
    exchanges: ExchangeStreams,
    requests: Requests,
    /// Our requests to the client.
    ours: ClientRequests,
}

pub struct Session {
    pub id: String,
    pub kind: TransportKind,
    /// Requests running across all sessions (for graceful shutdown).
    active: Arc<AtomicUsize>,
    state: Mutex<State>,
}

impl Session {
    fn new(
        kind: TransportKind,
        outbox_limit: usize,
        replay: usize,
        active: Arc<AtomicUsize>,
    ) -> Session {
        // A stateless request's stand-in has no id: drawing a random one costs a syscall.
        let id = if kind == TransportKind::Stateless {
            String::new()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        Session {
            id,
            kind,
            active,
            state: Mutex::new(State {
                last_activity: Instant::now(),
                client: ClientFacts::default(),
                general: GeneralChannel::new(outbox_limit, replay),
                exchanges: ExchangeStreams::new(),
                requests: Requests::default(),
                ours: ClientRequests::new(),
            }),
        }
    }

    /// A poisoned lock only means another thread panicked mid-update of plain data; the state is
    /// still usable, and refusing service would turn one bug into an outage.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn touch(&self) {
        self.state().last_activity = Instant::now();
    }

    #[cfg(test)]
    pub fn is_ended(&self) -> bool {
        self.state().general.is_ended()
    }

    /// Sends a keepalive comment on every stream; a stream whose queue is full is closed.
    pub fn keepalive(&self) {
        let mut s = self.state();
        s.exchanges.keepalive();
        s.general.keepalive(&self.id);
    }

    /// Server shutdown: every stream gets `last` after what it already has queued, then ends.
    pub fn close_streams_with(&self, last: Frame) {
        let s = self.state();
        s.general.close_with(&last);
        s.exchanges.close_with(&last);
    }

    /// Ends the session: closes its streams and drops its outbox; requests of ours still waiting
    /// for the client are abandoned.
    pub fn end(&self) {
        let mut s = self.state();
        s.ours.abandon_all();
        s.general.end();
        s.exchanges.end();
    }

    fn expired(&self, now: Instant, ttl: Duration) -> bool {
        let s = self.state();
        !s.general.has_streams()
            && s.requests.is_idle()
            && now.saturating_duration_since(s.last_activity) >= ttl
    }
}
