//! Every running child of one server, so that shutdown can kill them all.
//!
//! Each run registers its [`Stop`] before the child is spawned and leaves after it is reaped;
//! shutdown closes the registry (no new run starts) and fires every registered stop with the
//! shutdown reason, then waits, bounded, for the registry to empty. The registry is bounded too:
//! each run holds a thread and a handful of descriptors, and a config's per-tool limits are not
//! a server-wide one.

use super::run::{self, Outcome, RunOptions};
use super::spec::ChildSpec;
use super::stop::{Reason, Stop};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Children running at once when not told otherwise.
const DEFAULT_MAX_RUNNING: usize = 256;

/// Per server: knows every running child so shutdown kills them all; bounded.
///
/// ```
/// use fastmcp_server::{ChildSpec, Exit, RunOptions, Stop, Supervisor};
/// use std::time::Duration;
///
/// let supervisor = Supervisor::new();
/// let spec = ChildSpec::new(["/bin/echo", "hello", "$(id)"]);
/// let out = supervisor.run(&spec, RunOptions::new(Duration::from_secs(10)), &Stop::new()?)?;
/// assert_eq!(out.exit, Exit::Code(0));
/// assert_eq!(out.stdout, b"hello $(id)\n");
/// supervisor.shutdown(Duration::from_secs(5));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled each time a run leaves.
    left: Condvar,
    max: usize,
}

#[derive(Default)]
struct State {
    next: u64,
    running: HashMap<u64, Stop>,
    closed: bool,
}

impl Default for Supervisor {
    fn default() -> Supervisor {
        Supervisor::new()
    }
}

impl Supervisor {
    /// A supervisor for at most 256 children at once.
    pub fn new() -> Supervisor {
        Supervisor::with_max_running(DEFAULT_MAX_RUNNING)
    }

    /// A supervisor for at most `max` children at once; more is an error, not a queue.
    pub fn with_max_running(max: usize) -> Supervisor {
        Supervisor {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                left: Condvar::new(),
                max,
            }),
        }
    }

    /// Runs to completion ON THE CALLING THREAD (the caller spawns a thread per run so no worker
    /// is held): spawn, feed stdin, read stdout+stderr with poll on the pipes and the Stop's wake
    /// fd until EOF on both and the child reaped, or the deadline, or Stop.
    /// On timeout / stop / shutdown: SIGTERM to the whole group, SIGKILL after kill_grace.
    /// After the child exits normally, the group is SIGKILLed too (no grandchild outlives its
    /// tool call; a grandchild that keeps the pipes open must not hang the run either).
    /// The child is always reaped (no zombies).
    ///
    /// Errors: the spec is invalid, the program cannot be started, the stop was already fired,
    /// [`Supervisor::shutdown`] has begun, or the supervisor's bound is reached.
    pub fn run(&self, spec: &ChildSpec, opts: RunOptions, stop: &Stop) -> io::Result<Outcome> {
        let _entry = self.enter(stop)?;
        run::run(spec, opts, stop)
    }

    /// Fires every running child's stop with the shutdown reason and waits up to `wait` for
    /// them to be reaped. Called by the binary after the server stops. Later runs are refused.
    pub fn shutdown(&self, wait: Duration) {
        let mut state = self.shared.lock();
        state.closed = true;
        for stop in state.running.values() {
            stop.fire_for(Reason::Shutdown);
        }
        let until = Instant::now().checked_add(wait);
        while !state.running.is_empty() {
            let left = until.map_or(wait, |u| u.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                log::warn!(
                    "{} command(s) still running after shutdown",
                    state.running.len()
                );
                return;
            }
            state = match self.shared.left.wait_timeout(state, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Children running now.
    pub fn running(&self) -> usize {
        self.shared.lock().running.len()
    }

    fn enter(&self, stop: &Stop) -> io::Result<Entry> {
        let mut state = self.shared.lock();
        if state.closed {
            return Err(io::Error::other("the server is shutting down"));
        }
        if state.running.len() >= self.shared.max {
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!("too many commands running at once ({})", self.shared.max),
            ));
        }
        let id = state.next;
        state.next += 1;
        state.running.insert(id, stop.clone());
        Ok(Entry {
            shared: self.shared.clone(),
            id,
        })
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("running", &self.running())
            .field("max", &self.shared.max)
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A run's place in the registry, left when the run ends however it ends.
struct Entry {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.shared.lock().running.remove(&self.id);
        self.shared.left.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_closed_by_shutdown() {
        let sup = Supervisor::with_max_running(2);
        let stop = Stop::new().unwrap();
        let a = sup.enter(&stop).unwrap();
        let b = sup.enter(&stop).unwrap();
        assert_eq!(sup.running(), 2);
        let e = sup.enter(&stop).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::ResourceBusy);
        drop(a);
        assert_eq!(sup.running(), 1);
        let c = sup.enter(&stop).unwrap();
        // Shutdown fires the registered stops and waits (here: in vain, briefly) for them.
        let started = Instant::now();
        sup.shutdown(Duration::from_millis(100));
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(stop.reason(), Some(Reason::Shutdown));
        assert!(sup.enter(&Stop::new().unwrap()).is_err());
        drop((b, c));
        assert_eq!(sup.running(), 0);
        sup.shutdown(Duration::from_secs(60)); // returns at once: nothing runs
    }
}
