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
use crate::access::Caller;
use crate::metrics::Metrics;
use crate::sse::Frame;
use std::net::IpAddr;
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
    /// Newline-delimited JSON-RPC on the process's stdin/stdout: the one session of the
    /// process, living until stdin ends; every message to it goes to its general channel, whose
    /// one stream is the stdout writer.
    Stdio,
}

/// Why a session could not be created: a cap is reached and no pending session could make room.
#[derive(Debug, PartialEq, Eq)]
pub enum TooManySessions {
    /// `--max-sessions`, every session in use.
    Table,
    /// `--max-sessions-per-client` (the cap given), every session of that address in use.
    Client(usize),
}

impl TooManySessions {
    /// What the client is told over the per-client cap; `None` for the table's own cap (the
    /// transports' usual `--max-sessions` refusal).
    pub fn per_client(&self) -> Option<String> {
        match self {
            TooManySessions::Table => None,
            TooManySessions::Client(cap) => Some(format!(
                "Too many sessions from your address (--max-sessions-per-client {cap}), all in use; end one (DELETE) or retry later"
            )),
        }
    }
}

/// How long a session may live idle, by what it has done (see [`Session::expired`]).
#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    /// A used session with no stream open (`--session-ttl-secs`).
    pub used: Duration,
    /// A pending one (`--pending-session-ttl-secs`); also the handshake deadline of a session
    /// whose stream is open but which never initialized.
    pub pending: Duration,
}

pub(super) struct State {
    /// Expiry measures idleness from here.
    pub(super) last_activity: Instant,
    pub(super) client: ClientFacts,
    pub(super) general: GeneralChannel,
    pub(super) exchanges: ExchangeStreams,
    pub(super) requests: Requests,
    /// Our requests to the client.
    pub(super) ours: ClientRequests,
    /// What runs when the session ends (a gateway's child to kill); taken by [`Session::end`].
    pub(super) on_end: Vec<Box<dyn FnOnce() + Send>>,
    /// Set by [`Session::end`]: a hook added later runs at once.
    pub(super) ended: bool,
}

pub struct Session {
    pub id: String,
    pub kind: TransportKind,
    /// The address the per-client cap counts this session under (see `registry::client_key`);
    /// `None` when not counted.
    pub(super) client_key: Option<IpAddr>,
    /// The handshake deadline runs from here.
    pub(super) born: Instant,
    /// Requests running across all sessions (for graceful shutdown).
    pub(super) active: Arc<AtomicUsize>,
    /// A seed session's resume secret (random, 128 bits, never logged): its general channel's
    /// event ids carry it, so a browser's bare reconnect (`Last-Event-ID` only) finds the
    /// session. Empty for other transports.
    resume_secret: String,
    /// The token that opened the session (`None` when the server required none): only it may
    /// use the session, so a narrow token cannot ride a wide token's session.
    caller: Option<Caller>,
    state: Mutex<State>,
}

impl Session {
    /// `metrics` are the server instance's counters: two servers in one process must not merge
    /// them.
    /// `id` comes from the registry, which mints it (`Sessions::mint_id`); `keep` is the outbox
    /// limit and the replay log's length.
    pub(super) fn new(
        kind: TransportKind,
        id: String,
        client_key: Option<IpAddr>,
        (outbox_limit, replay): (usize, usize),
        active: Arc<AtomicUsize>,
        metrics: Arc<Metrics>,
        caller: Option<Caller>,
    ) -> Session {
        // One budget for everything the session keeps: its outbox, its log and its POST streams'.
        let buffers = crate::replay::SessionBuffers::new(id.clone(), metrics);
        let resume_secret = if kind == TransportKind::Seed {
            uuid::Uuid::new_v4().simple().to_string()
        } else {
            String::new()
        };
        let id_prefix: Arc<str> = if resume_secret.is_empty() {
            Arc::from("")
        } else {
            format!("{id}.{resume_secret}.").into()
        };
        Session {
            id,
            kind,
            client_key,
            born: Instant::now(),
            active,
            resume_secret,
            caller,
            state: Mutex::new(State {
                last_activity: Instant::now(),
                client: ClientFacts::default(),
                general: GeneralChannel::new(outbox_limit, replay, buffers.clone())
                    .with_id_prefix(id_prefix),
                exchanges: ExchangeStreams::new(buffers),
                requests: Requests::default(),
                ours: ClientRequests::new(),
                on_end: Vec::new(),
                ended: false,
            }),
        }
    }

    /// The token that opened the session.
    pub fn caller(&self) -> Option<&Caller> {
        self.caller.as_ref()
    }

    /// Whether `caller` may use this session: the token that opened it, or no token on either
    /// side.
    pub fn belongs_to(&self, caller: Option<&Caller>) -> bool {
        crate::access::same_caller(self.caller.as_ref(), caller)
    }

    /// Whether `secret` is this seed session's resume secret (compared without an early exit).
    pub fn resume_secret_is(&self, secret: &str) -> bool {
        let (a, b) = (self.resume_secret.as_bytes(), secret.as_bytes());
        !a.is_empty()
            && a.len() == b.len()
            && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The general channel's `<stream>-<seq>` part of an event id this session issued: the id
    /// itself, or for a seed session the id after its `<session id>.<secret>.` prefix (a seed
    /// id naming another session, or with the wrong secret, is `None`).
    pub fn own_event_id<'a>(&self, id: &'a str) -> Option<&'a str> {
        match crate::replay::split_seed_event_id(id) {
            Some((sid, secret, rest)) => {
                (sid == self.id && self.resume_secret_is(secret)).then_some(rest)
            }
            None => Some(id),
        }
    }

    /// The id of event `seq` of the general channel.
    pub fn general_event_id(&self, seq: u64) -> Arc<str> {
        self.state().general.event_id(seq)
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
    /// abandoned, and the client's requests still running are cancelled (DELETE, a revoked
    /// token: nothing keeps working for a session that is gone).
    pub fn end(&self) {
        let (hooks, running) = {
            let mut s = self.state();
            s.ours.abandon_all();
            s.general.end();
            s.exchanges.end();
            s.ended = true;
            (std::mem::take(&mut s.on_end), s.requests.all_running())
        };
        // Outside the lock: cancelling wakes handlers and fires their hooks (a running command
        // is killed with its group), and a hook may take other locks (a gateway's).
        for (_, c) in running {
            c.cancel();
        }
        hooks.into_iter().for_each(|f| f());
    }

    /// Runs `f` once when the session ends, whatever ends it (DELETE, expiry, eviction, its
    /// stream gone): what a session owns outside itself (a gateway's child process) ends with it
    /// without anyone polling. Runs at once if the session has ended already.
    pub fn on_end(&self, f: impl FnOnce() + Send + 'static) {
        let mut s = self.state();
        if s.ended {
            drop(s);
            f();
        } else {
            s.on_end.push(Box::new(f));
        }
    }

    /// Whether the session is over its time. Nothing running is ever expired. A used session
    /// (or an initialized one whose client holds a stream open) lives while a stream is open and
    /// `ttls.used` after; a pending one without a stream `ttls.pending` (or `ttls.used` if
    /// shorter). A session that never initialized is ended `ttls.pending` after it was opened
    /// even with its stream open: a handshake deadline, so held-open seed or legacy streams that
    /// never say hello do not keep their slots (the HTTP layer likewise closes an idle
    /// connection).
    pub(super) fn expired(&self, now: Instant, ttls: Ttls) -> bool {
        let s = self.state();
        if !s.requests.is_idle() {
            return false;
        }
        let idle = now.saturating_duration_since(s.last_activity);
        if s.general.has_streams() {
            return !s.client.is_initialized()
                && now.saturating_duration_since(self.born) >= ttls.pending;
        }
        let ttl = if s.client.is_pending() {
            ttls.pending.min(ttls.used)
        } else {
            ttls.used
        };
        idle >= ttl
    }

    /// Never initialized, or never used since (see `ClientFacts::is_pending`). Once false, never
    /// true again.
    pub(super) fn is_pending(&self) -> bool {
        self.state().client.is_pending()
    }

    /// Whether ending the session to make room harms no one: pending, nothing running, and no
    /// stream open (a client holding one is there; holding it costs a connection, bounded by
    /// `--max-streams` and `--max-connections`, and the handshake deadline ends it).
    pub(super) fn evictable(&self) -> bool {
        let s = self.state();
        s.client.is_pending() && s.requests.is_idle() && !s.general.has_streams()
    }
}
