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
    /// Run once on cancel: how work outside this process (a child's process group) is stopped.
    hooks: Mutex<Vec<Hook>>,
}

type Hook = Box<dyn FnOnce() + Send>;

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
        let hooks = std::mem::take(&mut *self.hooks.lock().unwrap_or_else(|p| p.into_inner()));
        for hook in hooks {
            hook();
        }
        true
    }

    /// Runs `hook` when the request is cancelled (at once if it already is). Hooks run on the
    /// cancelling thread, so they must only signal (fire a wake-up), never block.
    pub fn on_cancel(&self, hook: Box<dyn FnOnce() + Send>) {
        let mut hooks = self.hooks.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the hooks lock: `cancel` sets the flag before it takes the hooks, so a
        // hook is either taken by it or runs here.
        if self.is_cancelled() {
            drop(hooks);
            return hook();
        }
        hooks.push(hook);
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

    #[test]
    fn hooks_run_once_whether_added_before_or_after_the_cancel() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let c = Cancellation::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        c.on_cancel(Box::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not before the cancel");
        c.cancel();
        c.cancel();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let r = runs.clone();
        c.on_cancel(Box::new(move || {
            r.fetch_add(10, Ordering::SeqCst);
        }));
        assert_eq!(runs.load(Ordering::SeqCst), 11, "a late hook runs at once");
    }
}
