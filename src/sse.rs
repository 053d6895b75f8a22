//! Server-Sent Event streams.
//!
//! A stream is written by its connection's own thread (see `http::conn`): the handler that opens
//! it gets a [`StreamHandle`] to queue frames on, and the connection thread drains the bounded
//! queue, writing every event as one HTTP chunk in a single `write`, so an event reaches the
//! client the moment it is produced (and Nagle never splits an event).

use crate::http::Request;
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// After writing messages, a stream writes a comment this much later. A client that has gone
/// away answered the earlier write with a reset by then, so the comment fails and the messages
/// are handed back for redelivery instead of being lost in a dead socket.
const PROBE_DELAY: Duration = Duration::from_millis(200);

/// A JSON-RPC message with its per-session sequence number (0 when not session-wide).
#[derive(Debug, Clone)]
pub struct Msg {
    pub seq: u64,
    pub json: Arc<str>,
    /// The SSE event id (`<stream>-<seq>`) of a message a client can resume after.
    pub id: Option<Arc<str>>,
}

/// What a stream thread can be asked to write.
#[derive(Debug, Clone)]
pub enum Frame {
    /// A JSON-RPC message; the stream decides the `event:` name its transport uses.
    Message(Msg),
    /// A non-message event such as the seed's greeting or the legacy `endpoint` event.
    Event {
        name: Option<&'static str>,
        data: String,
    },
    /// An SSE comment (`: keepalive`); invisible to clients, keeps proxies from timing out.
    Comment(&'static str),
    /// The event that opens a resumable stream (revision 2025-11-25): an id and empty data, so
    /// a client cut off before the first message can still resume, and how long to wait first.
    Priming { id: Arc<str>, retry_ms: u64 },
    /// Write the final event(s) already queued, then end the HTTP response.
    Close,
    /// A message that is the last of its stream: written and the response ended in one write,
    /// so a client never waits between the answer it needs and the end of the stream.
    Final(Msg),
}

/// Caps the number of concurrently open streams across the server.
#[derive(Debug)]
pub struct StreamBudget {
    open: AtomicUsize,
    max: usize,
}

impl StreamBudget {
    pub fn new(max: usize) -> StreamBudget {
        StreamBudget {
            open: AtomicUsize::new(0),
            max,
        }
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    fn try_acquire(self: &Arc<Self>) -> Option<BudgetGuard> {
        let mut cur = self.open.load(Ordering::Relaxed);
        loop {
            if cur >= self.max {
                return None;
            }
            match self
                .open
                .compare_exchange(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(BudgetGuard(self.clone())),
                Err(now) => cur = now,
            }
        }
    }
}

struct BudgetGuard(Arc<StreamBudget>);

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

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

/// Everything the connection thread needs to write a stream; handed over through the request.
pub struct StreamJob {
    id: u64,
    spec: StreamSpec,
    rx: Receiver<Frame>,
    closed: Arc<AtomicBool>,
    _guard: BudgetGuard,
    on_end: Option<OnEnd>,
}

impl StreamJob {
    /// Writes the stream until it is closed or the client goes away (on the connection's
    /// thread); true when it ended cleanly and the connection may carry another request.
    pub(crate) fn run(mut self, w: &std::net::TcpStream, chunked: bool) -> bool {
        let mut socket = w;
        let mut out = Out {
            w: &mut socket,
            chunked,
        };
        let peer = self.spec.watch_peer.then_some(w);
        let (clean, leftovers) = serve(&mut out, &self.spec, &self.rx, &self.closed, peer);
        self.finish(leftovers);
        clean
    }

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
    request.stream(StreamJob {
        id: handle.id,
        spec,
        rx,
        closed: handle.closed.clone(),
        _guard: guard,
        on_end: Some(on_end),
    });
    Ok(handle)
}

/// The stream's socket, with or without HTTP/1.1 chunk framing (HTTP/1.0 clients get the raw
/// events and the end of the stream is the end of the connection).
struct Out<'a> {
    w: &'a mut dyn Write,
    chunked: bool,
}

/// Whether the client closed its side of the connection (end of stream or an error on a peek);
/// bytes it sent ahead (a pipelined request) mean it is still there.
fn peer_closed(socket: &std::net::TcpStream) -> bool {
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
    peer: Option<&std::net::TcpStream>,
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
                    crate::metrics::METRICS
                        .events_sent
                        .fetch_add(1, Ordering::Relaxed);
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

/// Formats one frame as SSE text (without chunk framing).
pub fn format_frame(frame: &Frame, message_event: Option<&'static str>) -> String {
    let mut s = String::new();
    let (name, data): (Option<&str>, &str) = match frame {
        Frame::Message(m) | Frame::Final(m) => (message_event, &*m.json),
        Frame::Event { name, data } => (*name, data.as_str()),
        Frame::Comment(c) => {
            s.push_str(": ");
            s.push_str(c);
            s.push_str("\n\n");
            return s;
        }
        Frame::Priming { id, retry_ms } => {
            s.push_str(&format!("id: {id}\nretry: {retry_ms}\ndata: \n\n"));
            return s;
        }
        Frame::Close => return s,
    };
    if let Some(n) = name {
        s.push_str("event: ");
        s.push_str(n);
        s.push('\n');
    }
    if let Frame::Message(Msg { id: Some(id), .. }) | Frame::Final(Msg { id: Some(id), .. }) = frame
    {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    // One `data:` line per line of payload; compact JSON never has raw newlines, but a greeting
    // or user-supplied text might.
    for line in data.split('\n') {
        s.push_str("data: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    s
}

/// Appends one frame as its own chunk (or raw, for HTTP/1.0).
fn append_frame(
    buf: &mut Vec<u8>,
    chunked: bool,
    frame: &Frame,
    message_event: Option<&'static str>,
) {
    let text = format_frame(frame, message_event);
    if text.is_empty() {
        return;
    }
    if chunked {
        buf.extend_from_slice(format!("{:x}\r\n", text.len()).as_bytes());
    }
    buf.extend_from_slice(text.as_bytes());
    if chunked {
        buf.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(
            format_frame(
                &Frame::Message(Msg {
                    seq: 1,
                    json: "{\"a\":1}".into(),
                    id: Some("3-1".into()),
                }),
                Some("message")
            ),
            "event: message\nid: 3-1\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            format_frame(
                &Frame::Message(Msg {
                    seq: 1,
                    json: "{}".into(),
                    id: None,
                }),
                None
            ),
            "data: {}\n\n"
        );
        assert_eq!(
            format_frame(
                &Frame::Event {
                    name: None,
                    data: "a\nb".into()
                },
                None
            ),
            "data: a\ndata: b\n\n"
        );
        assert_eq!(
            format_frame(&Frame::Comment("keepalive"), None),
            ": keepalive\n\n"
        );
        assert_eq!(
            format_frame(
                &Frame::Priming {
                    id: "4-0".into(),
                    retry_ms: 500
                },
                None
            ),
            "id: 4-0\nretry: 500\ndata: \n\n"
        );
    }

    #[test]
    fn chunk_framing() {
        let mut buf = Vec::new();
        append_frame(&mut buf, true, &Frame::Comment("k"), None);
        assert_eq!(buf, b"5\r\n: k\n\n\r\n");
        let mut buf = Vec::new();
        append_frame(&mut buf, false, &Frame::Comment("k"), None);
        assert_eq!(buf, b": k\n\n", "HTTP/1.0: the raw event");
    }
}
