//! `max_concurrency`: how many runs of one command may be under way. A call over the cap is
//! refused at once rather than queued, so a burst cannot pile up children or hold threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The places of one command.
pub(crate) struct Slots {
    running: Arc<AtomicUsize>,
    max: usize,
}

/// A run's place; given back when dropped, whatever way the run ends.
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Slots {
    pub fn new(max: usize) -> Slots {
        Slots {
            running: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A place, or `None` when `max` runs are under way.
    pub fn take(&self) -> Option<Slot> {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(self.running.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_and_given_back() {
        let s = Slots::new(2);
        let a = s.take().unwrap();
        let _b = s.take().unwrap();
        assert!(s.take().is_none(), "a third is refused");
        drop(a);
        assert!(s.take().is_some(), "a dropped place is free again");
    }
}
