//! The gateway's counters, shared by its links and read by `/health` and `/metrics`.

use crate::dispatch::UpstreamStats;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[derive(Default)]
pub(super) struct Stats {
    running: AtomicUsize,
    started: AtomicU64,
    ended: AtomicU64,
    died: AtomicU64,
    init_timeouts: AtomicU64,
}

impl Stats {
    pub(super) fn started(&self) {
        self.running.fetch_add(1, Ordering::AcqRel);
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// A child counted by [`Stats::started`] could not be started after all.
    pub(super) fn not_started(&self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
        self.started.fetch_sub(1, Ordering::Relaxed);
    }

    /// A child was reaped.
    pub(super) fn ended(&self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
        self.ended.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn died(&self) {
        self.died.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn init_timeout(&self) {
        self.init_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    pub(super) fn snapshot(&self) -> UpstreamStats {
        UpstreamStats {
            running: self.running(),
            started: self.started.load(Ordering::Relaxed),
            ended: self.ended.load(Ordering::Relaxed),
            died: self.died.load(Ordering::Relaxed),
            init_timeouts: self.init_timeouts.load(Ordering::Relaxed),
            down: false,
        }
    }
}
