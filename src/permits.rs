//! How many request handlers may run at once (`--workers`), and how many requests may wait for
//! their turn (`--queue`) before the next is refused with 503.
//!
//! Handlers run on their connection's own thread: a request wakes no other thread to be served,
//! where a pool of workers cost two thread switches per request (the profile had 58 % of the
//! server's CPU under load in context switches). What the pool gave stays: at most `--workers`
//! handlers run, a burst beyond that waits in a bounded line, and a parked call (`sleep`) holds
//! nothing while it waits. A permit is given back before the answer is written, so a client that
//! stops reading holds its own connection thread and never a permit.

use std::sync::{Condvar, Mutex, MutexGuard};

/// The permits of one server.
pub struct Permits {
    max: usize,
    queue: usize,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    running: usize,
    waiting: usize,
}

/// A permit to run a handler; given back when dropped.
#[must_use = "the handler runs while the permit is held"]
pub struct Permit<'a>(&'a Permits);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.running -= 1;
        let wake = s.waiting > 0;
        drop(s);
        if wake {
            self.0.freed.notify_one();
        }
    }
}

impl Permits {
    /// `max` handlers at once (at least one), `queue` requests waiting beyond them.
    pub fn new(max: usize, queue: usize) -> Permits {
        Permits {
            max: max.max(1),
            queue,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Only counters are guarded: a panic elsewhere cannot leave them half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A permit, after waiting for one if all are taken; `None` at once when `--queue` requests
    /// are already waiting (the caller answers 503).
    pub fn acquire(&self) -> Option<Permit<'_>> {
        let s = self.lock();
        if s.running >= self.max && s.waiting >= self.queue {
            return None;
        }
        Some(self.wait_for(s))
    }

    /// A permit for work already accepted (a 202 went out): it waits its turn whatever the line,
    /// which is bounded anyway by the connections that can be waiting.
    pub fn acquire_accepted(&self) -> Permit<'_> {
        self.wait_for(self.lock())
    }

    fn wait_for<'a>(&'a self, mut s: MutexGuard<'a, State>) -> Permit<'a> {
        if s.running >= self.max {
            s.waiting += 1;
            while s.running >= self.max {
                s = self.freed.wait(s).unwrap_or_else(|p| p.into_inner());
            }
            s.waiting -= 1;
        }
        s.running += 1;
        Permit(self)
    }

    /// Handlers running now, and requests waiting for a permit.
    pub fn load(&self) -> (usize, usize) {
        let s = self.lock();
        (s.running, s.waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn at_most_max_run_and_the_line_is_bounded() {
        let p = Arc::new(Permits::new(2, 1));
        let a = p.acquire().unwrap();
        let b = p.acquire().unwrap();
        assert_eq!(p.load(), (2, 0));
        // A third waits; a fourth, with one already waiting, is refused at once.
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || {
                let _permit = p.acquire().expect("the first in line gets one");
                p.load()
            })
        };
        while p.load().1 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(p.acquire().is_none(), "the line is full");
        drop(a);
        assert_eq!(
            waiter.join().unwrap(),
            (2, 0),
            "it ran beside b, nothing else"
        );
        drop(b);
        assert_eq!(p.load(), (0, 0));
    }

    #[test]
    fn accepted_work_waits_beyond_the_line() {
        let p = Arc::new(Permits::new(1, 0));
        let held = p.acquire().unwrap();
        assert!(p.acquire().is_none(), "--queue 0: nobody waits");
        let done = Arc::new(AtomicUsize::new(0));
        let t = {
            let (p, done) = (p.clone(), done.clone());
            std::thread::spawn(move || {
                let _permit = p.acquire_accepted();
                done.fetch_add(1, Ordering::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(done.load(Ordering::SeqCst), 0, "it waits for the permit");
        drop(held);
        t.join().unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 1);
        assert_eq!(p.load(), (0, 0));
    }
}
