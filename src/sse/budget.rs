//! The server-wide cap on open streams (`--max-streams`), and where the streams of one server
//! count what they write.

use crate::metrics::Metrics;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Caps the number of concurrently open streams across the server.
pub struct StreamBudget {
    open: AtomicUsize,
    max: usize,
    metrics: Arc<Metrics>,
}

impl StreamBudget {
    pub fn new(max: usize, metrics: Arc<Metrics>) -> StreamBudget {
        StreamBudget {
            open: AtomicUsize::new(0),
            max,
            metrics,
        }
    }

    /// The counters of the server these streams belong to.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
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
