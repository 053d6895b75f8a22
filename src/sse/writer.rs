//! The writer loop: what a connection thread runs once its request was handed over to a
//! stream, batching queued frames into single writes and noticing a client that went away.

use super::budget::{BudgetGuard, StreamBudget};
use super::direct::{Direct, PROBE_DELAY};
use super::frame::{Frame, Msg, append_frame};
use super::watch::{PeerState, Watched, peer_state};
use crate::http::Handover;
use crossbeam_channel::{Receiver, select};
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

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
}

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
    /// Shared with the stream's handle: messages written by their senders while this waits.
    pub(super) direct: Arc<Direct>,
}

impl Handover for StreamJob {
    /// Writes the stream until it is closed or the client goes away.
    fn run(self: Box<Self>, shared: &Arc<TcpStream>, chunked: bool) -> bool {
        let mut job = *self;
        let w: &TcpStream = shared;
        let mut socket = w;
        let mut out = Out {
            w: &mut socket,
            chunked,
            direct: &job.direct,
        };
        let budget = job._guard.budget();
        // While registered, the watcher nudges this thread when the client closes or resets the
        // connection, so a stream with nothing to write still ends (and frees its slot, and
        // cancels a stateless request) within moments, not at the next keepalive. Registered only
        // once the writer is about to wait: a stream whose answer is queued by the time it starts
        // (most POST answers) is written and ended without it, and a client quick to send its
        // next request cannot wake the watcher for nothing.
        let peer = Peer {
            socket: w,
            budget,
            id: job.id,
            watched: None,
            nudge: crossbeam_channel::never(),
        };
        let sent = &budget.metrics().events_sent;
        let id = job.id;
        let refill = || {
            if let Some((wants, f)) = &job.refill
                && wants.swap(false, Ordering::AcqRel)
            {
                f(id);
            }
        };
        job.direct.attach(
            shared,
            chunked,
            job.spec.message_event,
            budget.metrics_shared(),
        );
        let (clean, mut leftovers) = serve(
            &mut out,
            &job.spec,
            &job.rx,
            &job.closed,
            peer,
            sent,
            &refill,
        );
        // Every way out of `serve` claimed the stream back first; this only closes it for good.
        leftovers.extend(job.direct.detach().unconfirmed);
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
    /// The senders that write to the same socket while the writer waits (see `direct`).
    direct: &'a Direct,
}

/// The stream's client: its socket, and the watcher's nudge when that socket changed.
struct Peer<'a> {
    socket: &'a TcpStream,
    budget: &'a StreamBudget,
    id: u64,
    /// The registration with the watcher, once the writer first waited (removed on drop).
    watched: Option<Watched<'a>>,
    nudge: Receiver<()>,
}

impl Peer<'_> {
    /// Has the watcher look after the socket from now on (once).
    fn watch(&mut self) {
        if self.watched.is_none() {
            let w = self.budget.watch(self.socket, self.id);
            self.nudge = w.nudge.clone();
            self.watched = Some(w);
        }
    }
}

/// What the writer waits for between writes.
enum Next {
    Frame(Frame),
    /// The probe after messages is due.
    Probe,
    /// The watcher saw the socket change: the client may be gone.
    Nudged,
    /// Every sender is gone (the session ended).
    Ended,
}

/// Waits for the next frame, the probe's deadline, or a nudge from the watcher; the queue and
/// the nudge are separate channels, so a nudge gets through even when the queue is full.
fn next(rx: &Receiver<Frame>, nudge: &mut Receiver<()>, probe_at: Option<Instant>) -> Next {
    let nudged = match probe_at {
        Some(at) => select! {
            recv(rx) -> f => return f.map_or(Next::Ended, Next::Frame),
            recv(nudge) -> r => r,
            default(at.saturating_duration_since(Instant::now())) => return Next::Probe,
        },
        None => select! {
            recv(rx) -> f => return f.map_or(Next::Ended, Next::Frame),
            recv(nudge) -> r => r,
        },
    };
    // The watcher is gone (it never drops a registered stream's nudge, so this is only a
    // safeguard against a busy loop): no more nudges, the client is noticed at the next write.
    if nudged.is_err() {
        *nudge = crossbeam_channel::never();
    }
    Next::Nudged
}

/// Writes the stream until it is closed or the client goes away. Returns whether it ended cleanly,
/// and the messages the client may have missed (empty after a clean close).
fn serve(
    out: &mut Out<'_>,
    spec: &StreamSpec,
    rx: &Receiver<Frame>,
    closed: &AtomicBool,
    mut peer: Peer<'_>,
    sent: &AtomicU64,
    refill: &dyn Fn(),
) -> (bool, Vec<Msg>) {
    let mut buf = head(out.chunked, &spec.headers);
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
        if rx.is_empty() {
            peer.watch();
        }
        // Waiting with nothing queued and the head written: senders write their messages
        // themselves until this wakes (see `direct`).
        let opened = buf.is_empty()
            && out
                .direct
                .open_if(|| rx.is_empty(), &mut unconfirmed, probe_at);
        let next = next(rx, &mut peer.nudge, probe_at);
        if opened {
            let claimed = out.direct.claim();
            unconfirmed = claimed.unconfirmed;
            probe_at = claimed.probe_at;
            // The end of a frame a sender could not finish goes before anything else.
            if !claimed.rest.is_empty()
                && out
                    .w
                    .write_all(&claimed.rest)
                    .and_then(|_| out.w.flush())
                    .is_err()
            {
                return (false, unconfirmed);
            }
        }
        let frame = match next {
            Next::Frame(f) => f,
            Next::Probe => Frame::Comment("probe"),
            Next::Ended => break,
            // Gone: what was written since the last confirmed write (unless the last probe
            // confirms it) and what is still queued (taken by `finish`) go back to the owner.
            Next::Nudged => match peer_state(peer.socket) {
                // Bytes sent ahead: the client is still there.
                PeerState::There => continue,
                PeerState::Reset => return (false, unconfirmed),
                PeerState::Closed => return (false, settle(out, unconfirmed, probe_at)),
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
        // A write this long after the previous ones would have failed had the client gone: what
        // those carried was received (this batch's own messages are not confirmed by it).
        if probe_at.is_some_and(|at| Instant::now() >= at) {
            unconfirmed.clear();
            probe_at = None;
        }
        for frame in batch.drain(..) {
            match frame {
                Frame::Message(m) | Frame::Final(m) => {
                    sent.fetch_add(1, Ordering::Relaxed);
                    unconfirmed.push(m);
                    probe_at.get_or_insert_with(|| Instant::now() + PROBE_DELAY);
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

/// What a client that closed its connection in order (no reset) received of the messages not
/// yet confirmed. A client that closes with unread data resets the connection instead, and one
/// that closed before a message arrived answers it with a reset, so the probe that would have
/// been written anyway, written when due, still tells: if it fails they are handed back; if it
/// succeeds the client read them, and they must not be delivered twice. Nothing queued after
/// them is written: the client cannot read it.
fn settle(out: &mut Out<'_>, unconfirmed: Vec<Msg>, probe_at: Option<Instant>) -> Vec<Msg> {
    if unconfirmed.is_empty() {
        return unconfirmed;
    }
    if let Some(at) = probe_at {
        // At most PROBE_DELAY, once per stream.
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
    }
    let mut buf = Vec::new();
    append_frame(&mut buf, out.chunked, &Frame::Comment("probe"), None);
    match out.w.write_all(&buf).and_then(|_| out.w.flush()) {
        Ok(()) => Vec::new(),
        Err(_) => unconfirmed,
    }
}

/// The response head of an event stream, in a buffer with room for the first events after it
/// (a POST's answer is written with its head in one write). Under 1 KiB for the usual head: a
/// request from glibc's large bins first consolidates its fast bins, which showed in the profile.
fn head(chunked: bool, headers: &[(String, String)]) -> Vec<u8> {
    let fields: usize = headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let mut head = Vec::with_capacity(512 + fields);
    head.extend_from_slice(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n",
    );
    head.extend_from_slice(if chunked {
        b"Transfer-Encoding: chunked\r\n"
    } else {
        b"Connection: close\r\n"
    });
    for (k, v) in headers {
        head.extend_from_slice(k.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(v.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}
