//! Worker threads for requests that have no connection thread to run on: the stdio transport's,
//! whose one reader must go on reading (cancellations, the client's answers) while handlers run.
//! HTTP requests run on their connection's thread under a permit (`permits`) and never come here.
//!
//! The threads start with the first job, so a server that serves only HTTP has none. The queue is
//! bounded and submission never blocks: when it is full the caller answers "busy" at once
//! instead of letting a burst pile up in memory or stall the reader.

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use std::sync::OnceLock;

pub type Job = Box<dyn FnOnce() + Send>;

pub struct Pool {
    workers: usize,
    tx: Sender<Job>,
    rx: Receiver<Job>,
    started: OnceLock<()>,
}

impl Pool {
    /// `workers` threads once needed, `queue` jobs waiting for them.
    pub fn new(workers: usize, queue: usize) -> Pool {
        let (tx, rx) = bounded::<Job>(queue.max(1));
        Pool {
            workers: workers.max(1),
            tx,
            rx,
            started: OnceLock::new(),
        }
    }

    fn start(&self) {
        self.started.get_or_init(|| {
            for i in 0..self.workers {
                let rx = self.rx.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || {
                        for job in rx.iter() {
                            // A panicking handler has already answered its client through the
                            // responder's drop path; the worker itself must live on.
                            let run = std::panic::AssertUnwindSafe(job);
                            if std::panic::catch_unwind(run).is_err() {
                                log::error!("a request handler panicked; the worker continues");
                            }
                        }
                    });
                if let Err(e) = spawned {
                    log::error!("could not start worker {i}: {e}");
                }
            }
        });
    }

    /// Queues a job, handing it back if the queue is full.
    pub fn try_submit(&self, job: Job) -> Result<(), Job> {
        self.start();
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(j) | TrySendError::Disconnected(j) => j,
        })
    }
}
