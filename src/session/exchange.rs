//! Single HTTP exchanges (Streamable HTTP POSTs answered with JSON or an SSE stream): the
//! interface an exchange offers the send path, and what the session remembers of their streams.
//! An exchange's stream is the exchange's own; the session keeps it only so that keepalives and
//! shutdown reach it, and keeps the most recent few resumable so `Last-Event-ID` can find them.

use super::outgoing::Outgoing;
use crate::jsonrpc::RequestId;
use crate::replay::SessionBuffers;
use crate::sse::{Frame, Push, StreamHandle};
use std::collections::VecDeque;
use std::sync::Arc;

/// A single HTTP exchange waiting for messages (a Streamable HTTP POST answered with JSON or an
/// SSE stream).
pub trait Exchange: Send + Sync {
    /// Takes one message for this exchange; returns false if the exchange can no longer deliver.
    fn deliver(&self, msg: &Outgoing) -> bool;
    /// The request `id` of this exchange was cancelled: it gets no result. The exchange still
    /// ends properly (an SSE stream ends; a JSON body, which cannot stay silent, says why).
    fn cancelled(&self, id: &RequestId);
    /// Whether messages other than the answers can travel on this exchange (an SSE stream can;
    /// a JSON body cannot).
    fn streams(&self) -> bool;
    /// Ends the exchange's SSE stream early without ending the request (SSE polling); false if
    /// it has none or cannot be resumed.
    fn end_stream(&self) -> bool {
        false
    }
    /// Whether a client can resume this exchange's stream (`Last-Event-ID`).
    fn can_resume(&self) -> bool {
        false
    }
    /// Resumes the exchange's stream after event `after` on a stream `open` opens with the
    /// replayed events as its first frames.
    fn resume(
        &self,
        _after: u64,
        _open: &mut dyn FnMut(Vec<Frame>) -> Option<StreamHandle>,
    ) -> Result<usize, crate::replay::Gap> {
        Err(crate::replay::Gap::Unknown)
    }
    /// Holds what the exchange keeps for resuming to its session's byte budget; called once,
    /// when the session starts keeping it resumable (before its first event).
    fn keep_within(&self, _buffers: Arc<SessionBuffers>) {}
    /// Lets go of what the exchange keeps for resuming, at once, even while a running request
    /// still holds the exchange: the session ended (`counted` false) or keeps newer streams
    /// instead (`counted` true: its events count as evicted, undelivered ones as dropped).
    fn release(&self, _counted: bool) {}
}

/// How many recent POST streams of a session can be resumed.
const RESUMABLE_STREAMS: usize = 16;

/// The session's part of its exchanges' streams.
pub(super) struct ExchangeStreams {
    /// SSE streams answering single HTTP exchanges; tracked only for keepalives and shutdown.
    streams: Vec<StreamHandle>,
    /// Numbers the session's resumable streams (event ids are `<stream>-<seq>`; 0 is the
    /// general channel).
    next_stream: u64,
    /// The most recent resumable streams, oldest first.
    resumable: VecDeque<(u64, Arc<dyn Exchange>)>,
    /// The session's byte budget, which every resumable stream's log is held to.
    buffers: Arc<SessionBuffers>,
}

impl ExchangeStreams {
    pub(super) fn new(buffers: Arc<SessionBuffers>) -> ExchangeStreams {
        ExchangeStreams {
            streams: Vec::new(),
            next_stream: 1,
            resumable: VecDeque::new(),
            buffers,
        }
    }

    pub(super) fn next_number(&mut self) -> u64 {
        let n = self.next_stream;
        self.next_stream += 1;
        n
    }

    /// The oldest stream kept makes room; its log is let go at once (a request still running
    /// on it keeps writing to its client, but can no longer be resumed).
    pub(super) fn keep_resumable(&mut self, stream: u64, x: Arc<dyn Exchange>) {
        if self.resumable.len() >= RESUMABLE_STREAMS
            && let Some((_, old)) = self.resumable.pop_front()
        {
            old.release(true);
        }
        x.keep_within(self.buffers.clone());
        self.resumable.push_back((stream, x));
    }

    pub(super) fn resumable(&self, stream: u64) -> Option<Arc<dyn Exchange>> {
        self.resumable
            .iter()
            .find(|(n, _)| *n == stream)
            .map(|(_, x)| x.clone())
    }

    pub(super) fn track(&mut self, handle: StreamHandle) {
        self.streams.retain(|h| !h.is_closed());
        self.streams.push(handle);
    }

    /// A stream whose queue is full is not reading; it is closed rather than left to grow.
    pub(super) fn keepalive(&mut self) {
        self.streams.retain(|h| !h.is_closed());
        for h in &self.streams {
            if h.push(Frame::Comment("keepalive")) == Push::Full {
                h.close();
            }
        }
    }

    pub(super) fn close_with(&self, last: &Frame) {
        for h in &self.streams {
            let _ = h.push(last.clone());
            h.close();
        }
    }

    /// Nothing of an ended session can be resumed; its exchanges' streams end with it. Their
    /// logs are emptied here rather than when the last `Arc` goes: a request still running, or a
    /// stream still writing, may hold an exchange for a while, and the session's memory must
    /// come back when it is deleted.
    pub(super) fn end(&mut self) {
        for (_, x) in self.resumable.drain(..) {
            x.release(false);
        }
        for h in &self.streams {
            h.close();
        }
        self.streams.clear();
    }
}
