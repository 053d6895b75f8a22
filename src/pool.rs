//! The fixed worker pool that runs request handlers.
//!
//! The queue is bounded and submission never blocks: when it is full the accept loop answers 503
//! at once instead of letting a burst pile up in memory or stall accepting.

use crossbeam_channel::{Sender, TrySendError, bounded};

pub type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Pool {
    tx: Sender<Job>,
}

impl Pool {
    pub fn start(workers: usize, queue: usize) -> std::io::Result<Pool> {
        let (tx, rx) = bounded::<Job>(queue.max(1));
        for i in 0..workers.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    for job in rx.iter() {
                        // A panicking handler has already answered its client through the
                        // responder's drop path; the worker itself must live on.
                        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                            log::error!("a request handler panicked; the worker continues");
                        }
                    }
                })?;
        }
        Ok(Pool { tx })
    }

    /// Queues a job, handing it back if the queue is full.
    pub fn try_submit(&self, job: Job) -> Result<(), Job> {
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(j) | TrySendError::Disconnected(j) => j,
        })
    }

    /// Queues a job, or runs it on the calling thread when the queue is full, so completions
    /// (answers to parked requests) are never dropped.
    pub fn submit_or_run(&self, job: Job) {
        if let Err(job) = self.try_submit(job) {
            job();
        }
    }
}
