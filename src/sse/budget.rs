//! The server-wide cap on open streams (`--max-streams`), and where the streams of one server
//! count what they write.

use super::watch::{PeerWatch, Watched};
use crate::metrics::Metrics;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Caps the number of concurrently open streams across the server.
pub struct StreamBudget {
    open: AtomicUsize,
    max: usize,
    metrics: Arc<Metrics>,
    /// Notices the clients of open streams that went away; without one (a budget built for a
    /// test), a dead client is noticed at its stream's next write.
    watch: Option<PeerWatch>,
}

impl StreamBudget {
    pub fn new(max: usize, metrics: Arc<Metrics>) -> StreamBudget {
        StreamBudget {
            open: AtomicUsize::new(0),
            max,
            metrics,
            watch: None,
        }
    }

    /// Watches the sockets of this budget's streams with `watch` (see `sse::watch`).
    pub fn watching(mut self, watch: PeerWatch) -> StreamBudget {
        self.watch = Some(watch);
        self
    }

    /// Ends the watcher thread, once the server has stopped.
    pub fn stop_watching(&self) {
        if let Some(w) = &self.watch {
            w.stop();
        }
    }

    /// Registers the socket of stream `id` with the watcher while the returned guard lives.
    pub(super) fn watch<'a>(&'a self, socket: &'a TcpStream, id: u64) -> Watched<'a> {
        match &self.watch {
            Some(w) => w.watch(socket, id),
            None => Watched::unwatched(),
        }
    }

    /// The counters of the server these streams belong to.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The same counters, for a stream's direct writes (see `direct`).
    pub(super) fn metrics_shared(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    pub(super) fn try_acquire(self: &Arc<Self>) -> Option<BudgetGuard> {
        let mut cur = self.open.load(Ordering::Relaxed);
        loop {
            if cur >= self.max {
                return None;
            }
            match self
                .open
                .compare_exchange(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(BudgetGuard(self.clone())),
                Err(now) => cur = now,
            }
        }
    }
}

pub(super) struct BudgetGuard(Arc<StreamBudget>);

impl BudgetGuard {
    pub(super) fn budget(&self) -> &StreamBudget {
        &self.0
    }
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}
