//! All live sessions of a server: the cap on how many may exist, lookup by id, and expiry of the
//! idle ones. A session's own state lives in the session; this map only owns who exists.

use super::client::{ClientFacts, StatelessClient};
use super::state::{Session, TooManySessions, TransportKind};
use crate::metrics::Metrics;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// All live sessions.
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    max: usize,
    outbox_limit: usize,
    replay: usize,
    /// Requests running across all sessions (for graceful shutdown); shared with each session.
    active: Arc<AtomicUsize>,
    /// The server instance's counters, handed to each session it creates.
    metrics: Arc<Metrics>,
    pub created: AtomicUsize,
    pub expired: AtomicUsize,
}

impl Sessions {
    pub fn new(max: usize, outbox_limit: usize) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max,
            outbox_limit,
            replay: 256,
            active: Arc::new(AtomicUsize::new(0)),
            metrics: Arc::new(Metrics::new()),
            created: AtomicUsize::new(0),
            expired: AtomicUsize::new(0),
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

    /// A poisoned lock only means another thread panicked mid-update of plain data; the map is
    /// still usable.
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stand-in session of one stateless request (revision 2026-07-28): not registered (no
    /// session id reaches the client, nothing expires it), initialized from the request's
    /// `_meta`, and gone when the request is.
    pub fn stateless(&self, client: StatelessClient) -> Arc<Session> {
        let session = Session::new(
            TransportKind::Stateless,
            0,
            0,
            self.active.clone(),
            self.metrics.clone(),
        );
        session.state().client = ClientFacts::stateless(client);
        Arc::new(session)
    }

    pub fn create(&self, kind: TransportKind) -> Result<Arc<Session>, TooManySessions> {
        let mut m = self.map();
        if m.len() >= self.max {
            return Err(TooManySessions);
        }
        // The legacy transport's session dies with its stream: nothing to resume.
        let replay = if kind == TransportKind::Legacy {
            0
        } else {
            self.replay
        };
        let s = Arc::new(Session::new(
            kind,
            self.outbox_limit,
            replay,
            self.active.clone(),
            self.metrics.clone(),
        ));
        self.created.fetch_add(1, Ordering::Relaxed);
        m.insert(s.id.clone(), s.clone());
        log::info!("session {} opened ({kind:?})", s.id);
        Ok(s)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.map().get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let s = self.map().remove(id);
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
        self.map().len()
    }

    pub fn all(&self) -> Vec<Arc<Session>> {
        self.map().values().cloned().collect()
    }

    /// Removes sessions with no open stream and no running request that have been idle for
    /// `ttl`; returns how many.
    pub fn expire(&self, ttl: Duration) -> usize {
        let now = Instant::now();
        let expired: Vec<Arc<Session>> = {
            let mut m = self.map();
            let ids: Vec<String> = m
                .values()
                .filter(|s| s.expired(now, ttl))
                .map(|s| s.id.clone())
                .collect();
            ids.iter().filter_map(|id| m.remove(id)).collect()
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
mod tests {
    use super::super::outgoing::Outgoing;
    use super::super::send::Route;
    use super::*;
    use crate::jsonrpc::RequestId;

    #[test]
    fn session_cap_and_expiry() {
        let store = Sessions::new(1, 8);
        let s = store.create(TransportKind::Seed).unwrap();
        assert_eq!(
            store.create(TransportKind::Seed).err(),
            Some(TooManySessions)
        );
        let id = RequestId::Number(1.into());
        s.begin_request(&id);
        assert_eq!(
            store.expire(Duration::ZERO),
            0,
            "a running request keeps it"
        );
        s.end_request(&id);
        assert_eq!(store.expire(Duration::ZERO), 1);
        assert!(store.get(&s.id).is_none());
        assert!(s.is_ended());
    }

    #[test]
    fn sessions_count_on_the_instance_metrics() {
        let metrics = Arc::new(Metrics::new());
        let store = Sessions::new(10, 3).with_metrics(metrics.clone());
        let s = store.create(TransportKind::Seed).unwrap();
        for i in 0..5 {
            s.send(&Route::Session, Outgoing::message(format!("{i}").into()));
        }
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 2);
        let client = StatelessClient {
            client_info: None,
            capabilities: serde_json::json!({}),
            log_level: None,
        };
        let stateless = store.stateless(client);
        stateless.send(&Route::Session, Outgoing::message("x".into()));
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 3);
    }
}
