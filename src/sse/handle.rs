//! Opening a stream, and the handle its owner queues frames on.

use super::budget::StreamBudget;
use super::frame::{Frame, Msg};
use super::writer::{OnEnd, StreamJob, StreamSpec};
use crate::http::Request;
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Why a stream could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// `--max-streams` reached; the request is handed back so it can be answered with 503.
    Busy(Box<Request>),
}

static NEXT_STREAM_ID: AtomicU64 = AtomicU64::new(1);

/// The sending side of an open stream, held by its session.
#[derive(Clone)]
pub struct StreamHandle {
    pub id: u64,
    tx: Sender<Frame>,
    /// A second receiver so that a session can take back frames a dead or stuck stream never
    /// wrote, and deliver them on the next stream instead of losing them.
    reclaim: Receiver<Frame>,
    closed: Arc<AtomicBool>,
}

/// Outcome of queueing a frame on a stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Push {
    Queued,
    /// The client is not reading fast enough: the queue is full. The stream must be closed.
    Full,
    Closed,
}

impl StreamHandle {
    pub fn push(&self, frame: Frame) -> Push {
        if self.closed.load(Ordering::Acquire) {
            return Push::Closed;
        }
        match self.tx.try_send(frame) {
            Ok(()) => Push::Queued,
            Err(TrySendError::Full(_)) => Push::Full,
            Err(TrySendError::Disconnected(_)) => Push::Closed,
        }
    }

    /// Ends the stream after what is already queued; if the queue is full (client stuck), at
    /// once.
    pub fn close(&self) {
        if self.tx.try_send(Frame::Close).is_err() {
            self.closed.store(true, Ordering::Release);
        }
    }

    /// Closes the stream at once and returns the messages it had not yet written, oldest first.
    pub fn abandon(&self) -> Vec<Msg> {
        self.closed.store(true, Ordering::Release);
        self.reclaim
            .try_iter()
            .filter_map(|f| match f {
                Frame::Message(m) | Frame::Final(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Turns `request` into an event stream, written by the request's connection thread.
pub fn open(
    request: Request,
    spec: StreamSpec,
    budget: &Arc<StreamBudget>,
    on_end: OnEnd,
) -> Result<StreamHandle, OpenError> {
    let Some(guard) = budget.try_acquire() else {
        return Err(OpenError::Busy(Box::new(request)));
    };
    let (tx, rx) = bounded(spec.queue.max(1));
    let handle = StreamHandle {
        id: NEXT_STREAM_ID.fetch_add(1, Ordering::Relaxed),
        tx,
        reclaim: rx.clone(),
        closed: Arc::new(AtomicBool::new(false)),
    };
    request.hand_over(StreamJob {
        id: handle.id,
        spec,
        rx,
        closed: handle.closed.clone(),
        _guard: guard,
        on_end: Some(on_end),
    });
    Ok(handle)
}
