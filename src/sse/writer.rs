//! The writer loop: what a connection thread runs once its request was handed over to a
//! stream, batching queued frames into single writes and noticing a client that went away.

use super::budget::BudgetGuard;
use super::frame::{Frame, Msg, append_frame};
use crate::http::Handover;
use crossbeam_channel::Receiver;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// After writing messages, a stream writes a comment this much later. A client that has gone
/// away answered the earlier write with a reset by then, so the comment fails and the messages
/// are handed back for redelivery instead of being lost in a dead socket.
const PROBE_DELAY: Duration = Duration::from_millis(200);

/// How a stream frames messages and what it sends first.
pub struct StreamSpec {
    /// `event:` name for JSON-RPC messages (`None` for the seed's bare `data:` events).
    pub message_event: Option<&'static str>,
    /// Extra response headers (session id, CORS).
    pub headers: Vec<(String, String)>,
    /// Frames written right after the head, before anything queued.
    pub first: Vec<Frame>,
    pub queue: usize,
    /// Hold the head back until the first frame, and send both in one write. For a POST's answer
    /// stream, whose client is waiting for that first message anyway; a general stream (GET)
    /// sends its head at once, so the client knows the stream is open.
    pub lazy_head: bool,
    /// Notice a client that closed the stream while nothing is being written, by checking the
    /// socket every [`PEER_CHECK`]. For the answer streams of stateless requests, where closing
    /// the stream is the client's way to cancel; other streams find out at their next write.
    pub watch_peer: bool,
}

/// How often a stream that watches its peer checks whether the client closed it.
pub const PEER_CHECK: Duration = Duration::from_millis(500);

/// Most frames coalesced into one write when several are already queued; each stays its own
/// chunk, so every event still reaches the client as soon as it was ready.
const BATCH: usize = 64;

/// Called once when the stream thread ends, with the messages the client may not have received
/// (written but unconfirmed, the one whose write failed, and whatever was still queued), oldest
/// first, so the owner can redeliver them.
pub type OnEnd = Box<dyn FnOnce(u64, Vec<Msg>) + Send>;

/// What a stream's writer calls (with the stream's id) when it has made room in its queue after
/// its owner said it has more (`StreamHandle::want_refill`).
pub type Refill = Box<dyn Fn(u64) + Send>;

/// Everything the connection thread needs to write a stream; handed over through the request.
pub struct StreamJob {
    pub(super) id: u64,
    pub(super) spec: StreamSpec,
    pub(super) rx: Receiver<Frame>,
    pub(super) closed: Arc<AtomicBool>,
    pub(super) _guard: BudgetGuard,
    pub(super) on_end: Option<OnEnd>,
    /// The owner's "more for you" flag and what to call when it is set and there is room.
    pub(super) refill: Option<(Arc<AtomicBool>, Refill)>,
}

impl Handover for StreamJob {
    /// Writes the stream until it is closed or the client goes away.
    fn run(self: Box<Self>, w: &TcpStream, chunked: bool) -> bool {
        let mut job = *self;
        let mut socket = w;
        let mut out = Out {
            w: &mut socket,
            chunked,
        };
        let peer = job.spec.watch_peer.then_some(w);
        let sent = &job._guard.budget().metrics().events_sent;
        let id = job.id;
        let refill = || {
            if let Some((wants, f)) = &job.refill
                && wants.swap(false, Ordering::AcqRel)
            {
                f(id);
            }
        };
        let (clean, leftovers) = serve(
            &mut out,
            &job.spec,
            &job.rx,
            &job.closed,
            peer,
            sent,
            &refill,
        );
        job.finish(leftovers);
        clean
    }
}

impl StreamJob {
    fn finish(&mut self, mut leftovers: Vec<Msg>) {
        self.closed.store(true, Ordering::Release);
        leftovers.extend(self.rx.try_iter().filter_map(|f| match f {
            Frame::Message(m) | Frame::Final(m) => Some(m),
            _ => None,
        }));
        if let Some(on_end) = self.on_end.take() {
            on_end(self.id, leftovers);
        }
    }
}

impl Drop for StreamJob {
    /// A job that never ran (its request was not connected to a client) still hands back its
    /// messages, so nothing queued on it is lost.
    fn drop(&mut self) {
        if self.on_end.is_some() {
            self.finish(Vec::new());
        }
    }
}

/// The stream's socket, with or without HTTP/1.1 chunk framing (HTTP/1.0 clients get the raw
/// events and the end of the stream is the end of the connection).
struct Out<'a> {
    w: &'a mut dyn Write,
    chunked: bool,
}

/// Whether the client closed its side of the connection (end of stream or an error on a peek);
/// bytes it sent ahead (a pipelined request) mean it is still there.
fn peer_closed(socket: &TcpStream) -> bool {
    if socket.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let closed = match socket.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    let _ = socket.set_nonblocking(false);
    closed
}

/// Writes the stream until it is closed or the client goes away. Returns whether it ended cleanly,
/// and the messages the client may have missed (empty after a clean close).
fn serve(
    out: &mut Out<'_>,
    spec: &StreamSpec,
    rx: &Receiver<Frame>,
    closed: &AtomicBool,
    peer: Option<&TcpStream>,
    sent: &AtomicU64,
    refill: &dyn Fn(),
) -> (bool, Vec<Msg>) {
    let mut buf = head(out.chunked, &spec.headers).into_bytes();
    if !spec.lazy_head {
        let first = if spec.first.is_empty() {
            vec![Frame::Comment("stream open")]
        } else {
            spec.first.clone()
        };
        for frame in &first {
            append_frame(&mut buf, out.chunked, frame, spec.message_event);
        }
        if out.w.write_all(&buf).and_then(|_| out.w.flush()).is_err() {
            return (false, Vec::new());
        }
        buf.clear();
    }
    // Messages written but not yet confirmed by a later successful write.
    let mut unconfirmed: Vec<Msg> = Vec::new();
    let mut probe_at: Option<Instant> = None;
    let mut batch: Vec<Frame> = Vec::with_capacity(4);
    loop {
        let frame = match probe_at {
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(f) => f,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => Frame::Comment("probe"),
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            },
            None => match peer {
                Some(socket) => match rx.recv_timeout(PEER_CHECK) {
                    Ok(f) => f,
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) if peer_closed(socket) => {
                        return (false, unconfirmed);
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                },
                None => match rx.recv() {
                    Ok(f) => f,
                    Err(_) => break,
                },
            },
        };
        batch.push(frame);
        while batch.len() < BATCH && !matches!(batch.last(), Some(Frame::Close | Frame::Final(_))) {
            match rx.try_recv() {
                Ok(f) => batch.push(f),
                Err(_) => break,
            }
        }
        let closing = matches!(batch.last(), Some(Frame::Close | Frame::Final(_)));
        for frame in &batch {
            append_frame(&mut buf, out.chunked, frame, spec.message_event);
        }
        if closing && out.chunked {
            buf.extend_from_slice(b"0\r\n\r\n");
        }
        let failed = closed.load(Ordering::Acquire)
            || (!buf.is_empty() && out.w.write_all(&buf).and_then(|_| out.w.flush()).is_err());
        buf.clear();
        if failed {
            unconfirmed.extend(batch.drain(..).filter_map(|f| match f {
                Frame::Message(m) | Frame::Final(m) => Some(m),
                _ => None,
            }));
            return (false, unconfirmed);
        }
        let probe_due = probe_at.is_some_and(|at| Instant::now() >= at);
        for frame in batch.drain(..) {
            match frame {
                Frame::Message(m) | Frame::Final(m) => {
                    sent.fetch_add(1, Ordering::Relaxed);
                    unconfirmed.push(m);
                    probe_at.get_or_insert_with(|| Instant::now() + PROBE_DELAY);
                }
                // A write this long after the previous one would have failed had the client gone.
                _ if probe_due => {
                    unconfirmed.clear();
                    probe_at = None;
                }
                // A keepalive to a vanished client "succeeds" once; the probe after it fails.
                Frame::Comment("keepalive") => {
                    probe_at.get_or_insert_with(|| Instant::now() + PROBE_DELAY);
                }
                _ => {}
            }
        }
        if closing {
            return (true, Vec::new());
        }
        // The batch is written, so the queue has room: the owner's backlog, if any, comes next.
        refill();
    }
    // Every sender is gone (the session ended): end the response properly.
    if out.chunked {
        let ended = out
            .w
            .write_all(b"0\r\n\r\n")
            .and_then(|_| out.w.flush())
            .is_ok();
        return (ended, Vec::new());
    }
    (true, Vec::new())
}

/// The response head of an event stream.
fn head(chunked: bool, headers: &[(String, String)]) -> String {
    let mut head = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n",
    );
    head.push_str(if chunked {
        "Transfer-Encoding: chunked\r\n"
    } else {
        "Connection: close\r\n"
    });
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}
