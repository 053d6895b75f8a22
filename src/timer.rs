//! The one timer thread: keepalives, session cleanup and deferred tool results.
//!
//! Deadlines live in a min-heap owned by the thread; other threads only send it commands, so no
//! worker ever sleeps waiting for a deadline. Tasks must be short and must not do socket I/O
//! (they hand work to stream queues or the worker pool), or every other deadline would slip.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

type Task = Box<dyn FnOnce() + Send>;

/// Handle to cancel a scheduled task (cancellation of deferred tool calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId(u64);

enum Command {
    Schedule(Instant, u64, Task),
    Cancel(u64),
    DropAfter(Instant),
    Stop,
}

/// Cheap to clone; every clone talks to the same thread.
#[derive(Clone)]
pub struct Timer {
    tx: Sender<Command>,
    next_id: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Tasks scheduled and not yet run or cancelled (for `/metrics`).
    pending: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Timer {
    /// Starts the timer thread. `capacity` bounds the command queue; a full queue makes callers
    /// wait briefly rather than grow memory without limit.
    pub fn start(capacity: usize) -> std::io::Result<Timer> {
        let (tx, rx) = bounded(capacity.max(16));
        let pending = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let p2 = pending.clone();
        std::thread::Builder::new()
            .name("timer".into())
            .stack_size(256 * 1024)
            .spawn(move || run(rx, &p2))?;
        Ok(Timer {
            tx,
            next_id: Default::default(),
            pending,
        })
    }

    /// Runs `task` on the timer thread once `after` has passed.
    pub fn schedule(&self, after: Duration, task: impl FnOnce() + Send + 'static) -> TimerId {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let at = Instant::now()
            .checked_add(after)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
        if self
            .tx
            .send(Command::Schedule(at, id, Box::new(task)))
            .is_err()
        {
            log::warn!("timer thread is gone; task dropped");
        }
        TimerId(id)
    }

    /// Runs `task` every `period` until it returns false.
    pub fn every(&self, period: Duration, task: impl Fn() -> bool + Send + Sync + 'static) {
        fn arm(
            timer: Timer,
            period: Duration,
            task: std::sync::Arc<dyn Fn() -> bool + Send + Sync>,
        ) {
            let t = timer.clone();
            timer.schedule(period, move || {
                if task() {
                    arm(t, period, task);
                }
            });
        }
        arm(self.clone(), period, std::sync::Arc::new(task));
    }

    /// Cancels a task that has not run yet (dropping it unrun); a no-op if it already ran.
    pub fn cancel(&self, id: TimerId) {
        let _ = self.tx.send(Command::Cancel(id.0));
    }

    /// Drops every task due after `deadline` without running it (shutdown: a deferred answer
    /// that cannot come in time is dropped, and its responder answers with an error instead).
    pub fn drop_after(&self, deadline: Instant) {
        let _ = self.tx.send(Command::DropAfter(deadline));
    }

    pub fn stop(&self) {
        let _ = self.tx.send(Command::Stop);
    }

    /// Tasks waiting on the timer (periodic duties included).
    pub fn pending(&self) -> usize {
        self.pending.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn run(rx: Receiver<Command>, pending: &std::sync::atomic::AtomicUsize) {
    let mut heap: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut tasks: HashMap<u64, Task> = HashMap::new();
    loop {
        let now = Instant::now();
        while let Some(Reverse((at, id))) = heap.peek().copied() {
            if at > now {
                break;
            }
            heap.pop();
            if let Some(task) = tasks.remove(&id) {
                // A panicking task must not take keepalives and cleanup down with it.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(task)).is_err() {
                    log::error!("a timer task panicked");
                }
            }
        }
        pending.store(tasks.len(), std::sync::atomic::Ordering::Relaxed);
        let cmd = match heap.peek() {
            Some(Reverse((at, _))) => {
                match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                    Ok(c) => c,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => return,
            },
        };
        match cmd {
            Command::Schedule(at, id, task) => {
                tasks.insert(id, task);
                heap.push(Reverse((at, id)));
            }
            // The heap entry stays until its deadline; without a task it is skipped.
            Command::Cancel(id) => {
                tasks.remove(&id);
            }
            Command::DropAfter(deadline) => {
                let late: Vec<u64> = heap
                    .iter()
                    .filter(|Reverse((at, _))| *at > deadline)
                    .map(|Reverse((_, id))| *id)
                    .collect();
                for id in late {
                    drop(tasks.remove(&id));
                }
            }
            Command::Stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn runs_in_deadline_order_and_cancels() {
        let timer = Timer::start(64).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done_rx) = bounded(1);
        for (ms, tag) in [(60u64, "c"), (20, "a"), (40, "b")] {
            let log = log.clone();
            timer.schedule(Duration::from_millis(ms), move || {
                log.lock().unwrap().push(tag)
            });
        }
        let l2 = log.clone();
        let id = timer.schedule(Duration::from_millis(30), move || {
            l2.lock().unwrap().push("x")
        });
        timer.cancel(id);
        timer.schedule(Duration::from_millis(80), move || done_tx.send(()).unwrap());
        done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(*log.lock().unwrap(), vec!["a", "b", "c"]);
    }
}
