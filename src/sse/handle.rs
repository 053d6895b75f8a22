//! Opening a stream, and the handle its owner queues frames on.

use super::budget::StreamBudget;
use super::direct::Direct;
use super::frame::Frame;
use super::writer::{OnEnd, Refill, StreamJob, StreamSpec};
use crate::http::{Launch, Request};
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
    closed: Arc<AtomicBool>,
    /// Set by the owner when it has more for this stream than the queue holds; the writer then
    /// asks for more (its refill) once it has made room, so the owner's backlog reaches the
    /// client at the client's pace instead of the queue's bound cutting it off.
    wants_refill: Arc<AtomicBool>,
    /// Starts the writer before the handler that opened the stream returns (see [`Launch`]).
    launch: Option<Launch>,
    /// Messages sent while the writer waits are written on the sender's thread (see `direct`).
    direct: Arc<Direct>,
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
        match self.direct.send(frame, |f| self.tx.try_send(f)) {
            None | Some(Ok(())) => Push::Queued,
            Some(Err(TrySendError::Full(_))) => Push::Full,
            Some(Err(TrySendError::Disconnected(_))) => Push::Closed,
        }
    }

    /// Ends the stream after what is already queued; if the queue is full (client stuck), at
    /// once.
    pub fn close(&self) {
        if !matches!(
            self.direct.send(Frame::Close, |f| self.tx.try_send(f)),
            Some(Ok(()))
        ) {
            self.closed.store(true, Ordering::Release);
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Has the stream written from now on, not only once the handler that opened it returns: it
    /// carries something before the handler's result (progress, a log, a request the handler
    /// will wait for the answer to). Does nothing for a stream already being written.
    pub fn start_writer(&self) {
        if let Some(l) = &self.launch {
            l.start();
        }
    }

    /// The owner found the queue full with more to send: the writer calls the stream's refill
    /// after its next write. An owner must try its push once more after this: the writer may have
    /// drained the queue between the failed push and the flag, and would then wait for nothing.
    pub fn want_refill(&self) {
        self.wants_refill.store(true, Ordering::Release);
    }

    /// Like [`open`], for an owner that keeps a backlog for the stream: `refill` is called on the
    /// writer's thread whenever the writer has made room after [`StreamHandle::want_refill`].
    pub fn open_paced(
        request: Request,
        spec: StreamSpec,
        budget: &Arc<StreamBudget>,
        on_end: OnEnd,
        refill: Refill,
    ) -> Result<StreamHandle, OpenError> {
        open_with(request, spec, budget, on_end, Some(refill))
    }
}

/// The reading end of a stream that no HTTP connection writes: the stdio transport's stdout
/// writer drains it. It keeps the handle's contract (a bounded queue; the owner's "more for
/// you" flag), so a session's general channel paces it exactly as it paces an SSE stream.
pub struct Tail {
    pub rx: Receiver<Frame>,
    closed: Arc<AtomicBool>,
    wants_refill: Arc<AtomicBool>,
}

impl Tail {
    /// Whether the owner asked for a refill since the last call (and clears the request): the
    /// reader calls the owner's refill after it has made room.
    pub fn take_refill(&self) -> bool {
        self.wants_refill.swap(false, Ordering::AcqRel)
    }

    /// The reader is gone: pushes fail from now on.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// A stream of at most `queue` frames read by whoever holds the [`Tail`]. Not counted against
/// `--max-streams`: that bound is for HTTP clients, and a detached stream has one reader, ours.
pub fn detached(queue: usize) -> (StreamHandle, Tail) {
    let (tx, rx) = bounded(queue.max(1));
    let handle = StreamHandle {
        id: NEXT_STREAM_ID.fetch_add(1, Ordering::Relaxed),
        tx,
        closed: Arc::new(AtomicBool::new(false)),
        wants_refill: Arc::new(AtomicBool::new(false)),
        launch: None,
        direct: Arc::new(Direct::default()),
    };
    let tail = Tail {
        rx,
        closed: handle.closed.clone(),
        wants_refill: handle.wants_refill.clone(),
    };
    (handle, tail)
}

/// Turns `request` into an event stream, written by the request's connection thread.
pub fn open(
    request: Request,
    spec: StreamSpec,
    budget: &Arc<StreamBudget>,
    on_end: OnEnd,
) -> Result<StreamHandle, OpenError> {
    open_with(request, spec, budget, on_end, None)
}

fn open_with(
    request: Request,
    spec: StreamSpec,
    budget: &Arc<StreamBudget>,
    on_end: OnEnd,
    refill: Option<Refill>,
) -> Result<StreamHandle, OpenError> {
    let Some(guard) = budget.try_acquire() else {
        return Err(OpenError::Busy(Box::new(request)));
    };
    let (tx, rx) = bounded(spec.queue.max(1));
    let mut handle = StreamHandle {
        id: NEXT_STREAM_ID.fetch_add(1, Ordering::Relaxed),
        tx,
        closed: Arc::new(AtomicBool::new(false)),
        wants_refill: Arc::new(AtomicBool::new(false)),
        launch: None,
        direct: Arc::new(Direct::default()),
    };
    handle.launch = request.hand_over(StreamJob {
        id: handle.id,
        spec,
        rx,
        closed: handle.closed.clone(),
        _guard: guard,
        on_end: Some(on_end),
        refill: refill.map(|r| (handle.wants_refill.clone(), r)),
        direct: handle.direct.clone(),
    });
    Ok(handle)
}
