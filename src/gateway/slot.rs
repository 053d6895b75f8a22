//! A place for one shared child ([`Hub`]) and what happens when it dies.
//!
//! The shared child (`--gateway-shared`) is started with the server and restarted when it dies,
//! with backoff (100 ms doubling to 5 s), while fewer than `--restart-max` restarts happened
//! within `--restart-window-secs`; past that the slot gives up and `/health` answers 503, as the
//! gateway cannot serve anyone. A pool child (stateless requests) starts when first needed and,
//! after dying, when next needed: the request that needs it waits for its `initialize`.

use super::child::Child;
use super::hub::{Hub, HubCtx, Mode};
use super::stats::Stats;
use crate::child::ChildSpec;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// `--restart-max` within `--restart-window-secs`.
#[derive(Debug, Clone, Copy)]
pub(super) struct RestartPolicy {
    pub max: u32,
    pub window: Duration,
}

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What a slot starts its children with.
pub(super) struct SlotSpec {
    pub command: ChildSpec,
    pub max_line_bytes: usize,
    pub init_timeout: Duration,
    pub policy: RestartPolicy,
    pub mode: Mode,
    pub ctx: HubCtx,
    pub stats: Arc<Stats>,
}

pub(super) struct Slot {
    spec: SlotSpec,
    hub: Mutex<Option<Arc<Hub>>>,
    /// When the recent restarts happened (within the window).
    restarts: Mutex<VecDeque<Instant>>,
    gave_up: AtomicBool,
    me: Weak<Slot>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Slot {
    pub(super) fn new(spec: SlotSpec) -> Arc<Slot> {
        Arc::new_cyclic(|me| Slot {
            spec,
            hub: Mutex::new(None),
            restarts: Mutex::default(),
            gave_up: AtomicBool::new(false),
            me: me.clone(),
        })
    }

    /// The running hub; a pool slot without one starts one now.
    pub(super) fn hub(&self) -> Option<Arc<Hub>> {
        let mut hub = locked(&self.hub);
        if hub.is_none() && self.spec.mode == Mode::Pool {
            *hub = self.start_hub();
        }
        hub.clone()
    }

    /// The running hub, never starting one.
    pub(super) fn current(&self) -> Option<Arc<Hub>> {
        locked(&self.hub).clone()
    }

    /// Whether the child is up and initialized.
    pub(super) fn is_up(&self) -> bool {
        self.current().is_some_and(|h| h.init_result().is_some())
    }

    /// Starts the child now (the shared slot, at server start).
    pub(super) fn start(&self) {
        let hub = self.start_hub();
        *locked(&self.hub) = hub;
        if locked(&self.hub).is_none() {
            self.died();
        }
    }

    fn start_hub(&self) -> Option<Arc<Hub>> {
        let s = &self.spec;
        let hub = Hub::new(s.mode, s.ctx.clone());
        let on_line = Arc::downgrade(&hub);
        let on_exit = Arc::downgrade(&hub);
        let (slot, stats) = (self.me.clone(), s.stats.clone());
        s.stats.started();
        let started = Child::start(
            &s.command,
            s.max_line_bytes,
            move |line| {
                if let Some(h) = on_line.upgrade() {
                    h.on_child_line(&line)
                }
            },
            move |killed| {
                stats.ended();
                if let Some(h) = on_exit.upgrade() {
                    h.exited();
                }
                if let Some(slot) = slot.upgrade() {
                    slot.exited(&on_exit, killed);
                }
            },
        );
        let child = match started {
            Ok(c) => c,
            Err(e) => {
                s.stats.not_started();
                log::error!("gateway: cannot start the shared MCP server: {e}");
                return None;
            }
        };
        log::info!("gateway: {:?} child {} started", s.mode, child.pid());
        let _ = hub.child.set(child);
        hub.initialize();
        let (weak, timeout) = (Arc::downgrade(&hub), s.init_timeout);
        let _ = std::thread::Builder::new()
            .name("gateway-init".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                std::thread::sleep(timeout);
                if let Some(h) = weak.upgrade()
                    && h.init_timed_out(timeout)
                {
                    log::warn!(
                        "gateway: the shared child did not answer initialize in time; killed"
                    );
                }
            });
        Some(hub)
    }

    /// The hub's child ended (`killed`: by us, for shutdown or a failed start).
    fn exited(&self, hub: &Weak<Hub>, killed: bool) {
        {
            let mut current = locked(&self.hub);
            if current
                .as_ref()
                .map(Arc::downgrade)
                .is_some_and(|c| c.ptr_eq(hub))
            {
                *current = None;
            }
        }
        if !killed {
            self.spec.stats.died();
        }
        if self.spec.mode == Mode::Shared && !self.stopping() {
            self.died();
        }
    }

    fn stopping(&self) -> bool {
        self.gave_up.load(Ordering::Acquire)
    }

    /// The shared child is down: restarted after a backoff if the cap allows, else given up.
    fn died(&self) {
        let now = Instant::now();
        let recent = {
            let mut r = locked(&self.restarts);
            while r
                .front()
                .is_some_and(|t| now.duration_since(*t) > self.spec.policy.window)
            {
                r.pop_front();
            }
            if r.len() >= self.spec.policy.max as usize {
                None
            } else {
                r.push_back(now);
                Some(r.len())
            }
        };
        let Some(n) = recent else {
            self.gave_up.store(true, Ordering::Release);
            log::error!(
                "gateway: the shared MCP server died {} times within {:?} (--restart-max); not restarted",
                self.spec.policy.max + 1,
                self.spec.policy.window
            );
            return;
        };
        let backoff = backoff(n);
        log::warn!("gateway: the shared MCP server is down; restart {n} in {backoff:?}");
        let slot = self.me.clone();
        let _ = std::thread::Builder::new()
            .name("gateway-restart".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                std::thread::sleep(backoff);
                if let Some(slot) = slot.upgrade()
                    && !slot.stopping()
                {
                    slot.start();
                }
            });
    }

    /// Server shutdown: the child is killed and not restarted.
    pub(super) fn stop(&self) {
        self.gave_up.store(true, Ordering::Release);
        if let Some(c) = self.current().and_then(|h| h.child.get().cloned()) {
            c.kill();
        }
    }
}

/// The wait before restart `n` (1-based): 100 ms, doubling, at most 5 s.
fn backoff(n: usize) -> Duration {
    let shift = n.saturating_sub(1).min(16) as u32;
    (FIRST_BACKOFF * 2u32.pow(shift)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_seconds() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(800));
        assert_eq!(backoff(7), Duration::from_secs(5));
        assert_eq!(backoff(1000), Duration::from_secs(5));
    }
}
