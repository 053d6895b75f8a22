//! What a handler's [`Context`](crate::Context) needs from the running server, and nothing more:
//! the timer (for answers that come later), the worker permits, the key that signs `requestState`, the
//! server's counters, whether shutdown has begun, and a few settings. Handlers hold this small
//! handle instead of the whole server, so the code that runs requests sits above it.

use crate::metrics::Metrics;
use crate::permits::Permits;
use crate::pool::Pool;
use crate::state_key::StateKey;
use crate::timer::Timer;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub(crate) struct Runtime {
    pub timer: Timer,
    /// Threads for requests that have no connection thread to run on (stdio's).
    pub pool: Pool,
    /// How many handlers run at once (`--workers`), and how many requests wait (`--queue`).
    pub permits: Permits,
    pub metrics: Arc<Metrics>,
    /// Signs the `requestState` of input-required results (revision 2026-07-28).
    pub state_key: StateKey,
    pub settings: Settings,
    shutting_down: AtomicBool,
}

/// The configuration a handler's answers depend on.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// How long a request to the client waits for its answer.
    pub client_request_timeout: Duration,
    /// How often a parked call reports progress.
    pub progress_interval: Duration,
    /// How long a stateless list result may be cached (`ttlMs`).
    pub cache_ttl_ms: u64,
    /// How long a `requestState` stays valid.
    pub input_state_ttl: Duration,
}

impl Runtime {
    pub fn new(
        timer: Timer,
        pool: Pool,
        permits: Permits,
        metrics: Arc<Metrics>,
        state_key: StateKey,
        settings: Settings,
    ) -> Runtime {
        Runtime {
            timer,
            pool,
            permits,
            metrics,
            state_key,
            settings,
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Whether a graceful shutdown has begun: answers that cannot finish say so.
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }
}
