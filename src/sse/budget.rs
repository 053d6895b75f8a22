//! The server-wide cap on open streams (`--max-streams`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Caps the number of concurrently open streams across the server.
#[derive(Debug)]
pub struct StreamBudget {
    open: AtomicUsize,
    max: usize,
}

impl StreamBudget {
    pub fn new(max: usize) -> StreamBudget {
        StreamBudget {
            open: AtomicUsize::new(0),
            max,
        }
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

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}
