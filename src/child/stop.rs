//! Telling a running child's supervisor to stop it, from any thread.
//!
//! The run waits in `poll` on the child's pipes, so a flag alone would be seen only at its next
//! wake-up; an eventfd in the same `poll` wakes it at once. The eventfd is never read: once fired
//! it stays readable, which makes `fire` idempotent and a late `fire` (after the run) harmless.

use rustix::event::{EventfdFlags, eventfd};
use rustix::fd::{BorrowedFd, OwnedFd};
use std::fmt;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Why a run was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The request was cancelled (`notifications/cancelled`, a client that went away).
    Cancelled,
    /// The server is shutting down.
    Shutdown,
}

const NOT_FIRED: u8 = 0;
const CANCELLED: u8 = 1;
const SHUTDOWN: u8 = 2;

/// Wakes a running child's supervisor to stop it (cancellation). Cheap to clone; `fire()` is
/// idempotent and callable from any thread (e.g. a notifications/cancelled handler).
#[derive(Clone)]
pub struct Stop {
    inner: Arc<Inner>,
}

struct Inner {
    /// The first reason given wins.
    reason: AtomicU8,
    wake: OwnedFd,
}

impl Stop {
    /// A stop not fired yet. Fails only when the process is out of file descriptors.
    pub fn new() -> io::Result<Stop> {
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(Stop {
            inner: Arc::new(Inner {
                reason: AtomicU8::new(NOT_FIRED),
                wake,
            }),
        })
    }

    /// Stops the run as cancelled (unless it was already stopped for another reason).
    pub fn fire(&self) {
        self.fire_for(Reason::Cancelled);
    }

    /// Whether the stop was fired, for whatever reason.
    pub fn is_fired(&self) -> bool {
        self.reason().is_some()
    }

    pub(crate) fn fire_for(&self, reason: Reason) {
        let code = match reason {
            Reason::Cancelled => CANCELLED,
            Reason::Shutdown => SHUTDOWN,
        };
        let _ =
            self.inner
                .reason
                .compare_exchange(NOT_FIRED, code, Ordering::SeqCst, Ordering::SeqCst);
        // Cannot fail but by overflowing the counter (2^64 - 1 fires); the flag is set anyway.
        let _ = rustix::io::write(&self.inner.wake, &1u64.to_ne_bytes());
    }

    pub(crate) fn reason(&self) -> Option<Reason> {
        match self.inner.reason.load(Ordering::SeqCst) {
            CANCELLED => Some(Reason::Cancelled),
            SHUTDOWN => Some(Reason::Shutdown),
            _ => None,
        }
    }

    /// Readable once fired.
    pub(crate) fn wake_fd(&self) -> BorrowedFd<'_> {
        self.inner.wake.as_fd()
    }
}

impl fmt::Debug for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stop")
            .field("fired", &self.reason())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::{PollFd, PollFlags, Timespec, poll};

    fn readable(stop: &Stop) -> bool {
        let fd = stop.wake_fd();
        let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&zero)).unwrap() == 1
    }

    #[test]
    fn fire_wakes_and_the_first_reason_wins() {
        let stop = Stop::new().unwrap();
        assert!(!stop.is_fired());
        assert!(!readable(&stop));
        let clone = stop.clone();
        std::thread::spawn(move || clone.fire_for(Reason::Shutdown))
            .join()
            .unwrap();
        assert!(stop.is_fired());
        assert!(readable(&stop));
        stop.fire();
        stop.fire();
        assert_eq!(stop.reason(), Some(Reason::Shutdown));
        assert!(readable(&stop));
    }
}
