//! All live sessions of a server: the caps on how many may exist (in all, and per client
//! address), lookup by id, expiry of the idle ones, and eviction of pending ones to make room.
//!
//! A session is *pending* until its client has used it after the handshake (see
//! `ClientFacts::is_pending`). Creating one costs an attacker a single POST, so a flood of them
//! must never lock legitimate clients out: a full table evicts its oldest pending session (with no
//! request running and no stream open) to admit a new one, and answers 503 only when every session
//! is in use. The per-client cap does the same within one address's sessions, so one address can
//! neither fill the table with used sessions nor push out others' pending ones faster than its own.

use super::client::{ClientFacts, StatelessClient};
use super::state::{Session, TooManySessions, TransportKind, Ttls};
use crate::access::Caller;
use crate::metrics::Metrics;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// The registry's one lock: who exists, and in which order they may be evicted.
#[derive(Default)]
struct Table {
    map: HashMap<String, Arc<Session>>,
    /// Sessions that were pending when created, oldest first. Weak, and pruned lazily (entries
    /// whose session is gone or got used are dropped when met, and in bulk when the queue grows
    /// past twice the table), so a removed session's state is freed at once.
    pending: VecDeque<Weak<Session>>,
    /// Each counted address's live sessions, oldest first (only with a per-client cap).
    clients: HashMap<IpAddr, VecDeque<Weak<Session>>>,
}

impl Table {
    fn is_live(&self, s: &Arc<Session>) -> bool {
        self.map.get(&s.id).is_some_and(|m| Arc::ptr_eq(m, s))
    }

    /// Removes a session from the map and from its address's list; the caller ends it, outside
    /// the lock.
    fn take(&mut self, id: &str) -> Option<Arc<Session>> {
        let s = self.map.remove(id)?;
        if let Some(key) = s.client_key
            && let Some(list) = self.clients.get_mut(&key)
        {
            list.retain(|w| !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&s)));
            if list.is_empty() {
                self.clients.remove(&key);
            }
        }
        Some(s)
    }

    /// Evicts the oldest evictable session of `key`, if it has one.
    fn evict_own(&mut self, key: IpAddr) -> Option<Arc<Session>> {
        let victim = self
            .clients
            .get(&key)?
            .iter()
            .filter_map(Weak::upgrade)
            .find(|s| s.evictable())?;
        self.take(&victim.id)
    }

    /// Evicts the oldest evictable session of the table, dropping the queue's dead and used
    /// entries on the way. Pending sessions that are busy (a request running, a stream open) are
    /// stepped over and kept: they may become evictable later.
    fn evict_oldest(&mut self) -> Option<Arc<Session>> {
        let mut i = 0;
        while i < self.pending.len() {
            let Some(s) = self.pending[i].upgrade().filter(|s| self.is_live(s)) else {
                self.pending.remove(i);
                continue;
            };
            if !s.is_pending() {
                self.pending.remove(i);
            } else if s.evictable() {
                self.pending.remove(i);
                return self.take(&s.id);
            } else {
                i += 1;
            }
        }
        None
    }

    fn prune_pending(&mut self) {
        let mut queue = std::mem::take(&mut self.pending);
        queue.retain(|w| {
            w.upgrade()
                .is_some_and(|s| self.is_live(&s) && s.is_pending())
        });
        self.pending = queue;
    }
}

/// The address the per-client cap counts a peer under. IPv4-mapped IPv6 is its IPv4 address (a
/// dual-stack socket reports IPv4 clients so); other IPv6 addresses count per /64, the block one
/// host or site is usually given whole, so rotating through it gains nothing.
fn client_key(peer: SocketAddr) -> IpAddr {
    match peer.ip().to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// All live sessions.
pub struct Sessions {
    table: Mutex<Table>,
    max: usize,
    /// Live sessions per client address; 0 = no cap (`--max-sessions-per-client`).
    per_client: usize,
    /// Idle time before a pending session expires (`--pending-session-ttl-secs`).
    pending_ttl: Duration,
    outbox_limit: usize,
    replay: usize,
    /// `<instance id>.` or empty: what every minted session id starts with.
    id_prefix: String,
    /// Requests running across all sessions (for graceful shutdown); shared with each session.
    active: Arc<AtomicUsize>,
    /// The server instance's counters, handed to each session it creates.
    metrics: Arc<Metrics>,
    pub created: AtomicUsize,
    pub expired: AtomicUsize,
    /// Pending sessions ended to admit new ones (a cap was reached).
    pub evicted: AtomicUsize,
}

impl Sessions {
    pub fn new(max: usize, outbox_limit: usize) -> Sessions {
        Sessions {
            table: Mutex::new(Table::default()),
            max,
            per_client: 0,
            pending_ttl: Duration::from_secs(60),
            outbox_limit,
            replay: 256,
            id_prefix: String::new(),
            active: Arc::new(AtomicUsize::new(0)),
            metrics: Arc::new(Metrics::new()),
            created: AtomicUsize::new(0),
            expired: AtomicUsize::new(0),
            evicted: AtomicUsize::new(0),
        }
    }

    /// Messages of each session's general channel kept for `Last-Event-ID` (`--replay-events`).
    pub fn with_replay(mut self, events: usize) -> Sessions {
        self.replay = events;
        self
    }

    /// The counters of the server instance these sessions belong to; without it they count on
    /// their own, unseen by `/metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Sessions {
        self.metrics = metrics;
        self
    }

    /// How long a pending session may stay idle (`--pending-session-ttl-secs`), and how many live
    /// sessions one client address may have (`--max-sessions-per-client`, 0 = no cap).
    pub fn with_flood_limits(mut self, pending_ttl: Duration, per_client: usize) -> Sessions {
        self.pending_ttl = pending_ttl;
        self.per_client = per_client;
        self
    }

    /// Every session id minted from now on starts with `<instance>.` (`--instance-id`), so that a
    /// proxy in front of several servers can send a session's requests to the one that holds it
    /// (a hash of the id cannot: `initialize` carries no id to hash).
    pub fn with_instance_id(mut self, instance: Option<&str>) -> Sessions {
        self.id_prefix = instance.map(|i| format!("{i}.")).unwrap_or_default();
        self
    }

    /// A new session id: the instance prefix, then 122 random bits.
    fn mint_id(&self) -> String {
        format!("{}{}", self.id_prefix, uuid::Uuid::new_v4())
    }

    /// A poisoned lock only means another thread panicked mid-update of plain data; the table is
    /// still usable.
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stand-in session of one stateless request (revision 2026-07-28): not registered (no
    /// session id reaches the client, nothing expires it), initialized from the request's
    /// `_meta`, and gone when the request is.
    pub fn stateless(&self, client: StatelessClient, caller: Option<Caller>) -> Arc<Session> {
        // A stateless request's stand-in has no id: drawing a random one costs a syscall.
        let session = Session::new(
            TransportKind::Stateless,
            String::new(),
            None,
            (0, 0),
            self.active.clone(),
            self.metrics.clone(),
            caller,
        );
        session.state().client = ClientFacts::stateless(client);
        Arc::new(session)
    }

    /// A new session for a client at `peer` (`None`: not counted per client). At a cap, the
    /// oldest evictable pending session (of that client for its own cap, of anyone for
    /// `--max-sessions`) is ended to make room; 503 only when there is none. The session is bound
    /// to `caller`, the token that opened it.
    pub fn create(
        &self,
        kind: TransportKind,
        peer: Option<SocketAddr>,
        caller: Option<Caller>,
    ) -> Result<Arc<Session>, TooManySessions> {
        let key = peer.map(client_key).filter(|_| self.per_client > 0);
        let (s, evicted) = {
            let mut t = self.table();
            let mut evicted = None;
            if let Some(key) = key
                && t.clients
                    .get(&key)
                    .is_some_and(|l| l.len() >= self.per_client)
            {
                let own = t
                    .evict_own(key)
                    .ok_or(TooManySessions::Client(self.per_client))?;
                evicted = Some((own, "--max-sessions-per-client"));
            }
            if t.map.len() >= self.max {
                let any = t.evict_oldest().ok_or(TooManySessions::Table)?;
                evicted = Some((any, "--max-sessions"));
            }
            // The legacy and stdio sessions die with their stream: nothing to resume.
            let replay = if matches!(kind, TransportKind::Legacy | TransportKind::Stdio) {
                0
            } else {
                self.replay
            };
            let s = Arc::new(Session::new(
                kind,
                self.mint_id(),
                key,
                (self.outbox_limit, replay),
                self.active.clone(),
                self.metrics.clone(),
                caller,
            ));
            t.map.insert(s.id.clone(), s.clone());
            t.pending.push_back(Arc::downgrade(&s));
            if let Some(key) = key {
                t.clients
                    .entry(key)
                    .or_default()
                    .push_back(Arc::downgrade(&s));
            }
            if t.pending.len() > 2 * t.map.len() + 64 {
                t.prune_pending();
            }
            (s, evicted)
        };
        self.created.fetch_add(1, Ordering::Relaxed);
        log::info!("session {} opened ({kind:?})", s.id);
        // Outside the lock: ending a session closes its streams.
        if let Some((old, cap)) = evicted {
            self.evicted.fetch_add(1, Ordering::Relaxed);
            old.end();
            log::info!("session {} evicted, never used ({cap} reached)", old.id);
        }
        Ok(s)
    }

    /// The live session `id`, provided `caller` may use it: a session opened by another token
    /// is, to this caller, no session at all (each transport answers its usual 404), so a token
    /// learns nothing about sessions it does not own.
    pub fn get(&self, id: &str, caller: Option<&Caller>) -> Option<Arc<Session>> {
        let s = self.table().map.get(id).cloned()?;
        if s.belongs_to(caller) {
            return Some(s);
        }
        log::warn!(
            "session {id} belongs to token {:?}; a request with token {:?} was refused as if it did not exist",
            s.caller().map_or("(none)", |c| c.name()),
            caller.map_or("(none)", |c| c.name())
        );
        None
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let s = self.table().take(id);
        if let Some(s) = &s {
            s.end();
        }
        s
    }

    /// Requests running in all sessions.
    pub fn active_requests(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.table().map.len()
    }

    pub fn all(&self) -> Vec<Arc<Session>> {
        self.table().map.values().cloned().collect()
    }

    /// Removes the sessions over their time (`ttl` for used ones, the pending TTL for pending
    /// ones; see `Session::expired`); returns how many.
    pub fn expire(&self, ttl: Duration) -> usize {
        let now = Instant::now();
        let ttls = Ttls {
            used: ttl,
            pending: self.pending_ttl,
        };
        let expired: Vec<Arc<Session>> = {
            let mut t = self.table();
            let ids: Vec<String> = t
                .map
                .values()
                .filter(|s| s.expired(now, ttls))
                .map(|s| s.id.clone())
                .collect();
            let gone = ids.iter().filter_map(|id| t.take(id)).collect();
            t.prune_pending();
            gone
        };
        self.expired.fetch_add(expired.len(), Ordering::Relaxed);
        // Outside the map's lock: ending a session closes its streams.
        for s in &expired {
            s.end();
            log::info!("session {} expired", s.id);
        }
        expired.len()
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
