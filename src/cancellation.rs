//! Cancellation: `notifications/cancelled` stops an in-flight request. Its handler sees it through
//! the context (a flag to poll, or a wait that wakes on cancel); a call parked on the timer is
//! taken off it; and no result is sent.

use crate::timer::{Timer, TimerId};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The cancellation state of one in-flight request, shared by its handler's context, its
/// responder and its session.
#[derive(Default)]
pub(crate) struct Cancellation {
    cancelled: Mutex<bool>,
    woken: Condvar,
    /// The timer task a parked call waits on, taken off the timer when the request is cancelled.
    parked: Mutex<Option<(Timer, TimerId)>>,
}

impl Cancellation {
    /// Cancels; true the first time.
    pub fn cancel(&self) -> bool {
        let mut c = self.cancelled.lock().unwrap_or_else(|p| p.into_inner());
        if *c {
            return false;
        }
        *c = true;
        drop(c);
        self.woken.notify_all();
        let parked = self.parked.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((timer, id)) = parked {
            timer.cancel(id);
        }
        true
    }

    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits up to `timeout`; true if the request was (or is) cancelled meanwhile.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut c = self.cancelled.lock().unwrap_or_else(|p| p.into_inner());
        while !*c {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            c = self
                .woken
                .wait_timeout(c, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Records the timer task a parked call waits on; if the request is already cancelled the
    /// task is cancelled at once.
    pub fn park(&self, timer: Timer, id: TimerId) {
        if self.is_cancelled() {
            timer.cancel(id);
            return;
        }
        *self.parked.lock().unwrap_or_else(|p| p.into_inner()) = Some((timer, id));
        // A cancel between the check and the store would have found nothing to take off.
        if self.is_cancelled()
            && let Some((t, id)) = self.parked.lock().unwrap_or_else(|p| p.into_inner()).take()
        {
            t.cancel(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn cancel_wakes_waiters_once() {
        let c = Arc::new(Cancellation::default());
        assert!(!c.wait(Duration::from_millis(10)));
        let c2 = c.clone();
        let waiter = std::thread::spawn(move || c2.wait(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(c.cancel());
        assert!(!c.cancel(), "only the first cancel counts");
        assert!(waiter.join().unwrap());
        assert!(c.is_cancelled());
    }
}
