//! Writing a message on the sender's own thread while the stream's writer waits.
//!
//! A stream's writer thread sleeps on its queue. Queueing a message and waking it costs a futex
//! wake, two context switches and a second thread's cache misses for every event: on the seed
//! transport, where each answer travels on another connection's stream, that was half of the
//! server's CPU per request. So while the writer waits with nothing queued, whoever sends a
//! message writes it to the socket itself, with a non-blocking `send`: never a wait, so a client
//! that stops reading cannot hold the sender (which may hold its session's lock). What a full
//! socket buffer does not take, and everything else (comments, the last frame, any message once
//! one is queued), goes through the queue to the writer, as before.
//!
//! The writer and the senders take turns under one lock: the writer *opens* the stream to
//! direct writes only when its queue is empty, and *claims* it back before it writes anything
//! itself, taking over the messages written meanwhile as not yet confirmed (see `writer`'s
//! probe), so a client that went away still gets them redelivered. A sender that queues
//! anything closes the stream to direct writes until the writer has drained its queue, so frames
//! reach the client in the order they were sent.

use super::frame::{Frame, Msg, append_frame};
use crate::metrics::Metrics;
use rustix::io::Errno;
use rustix::net::SendFlags;
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// After writing messages, a stream writes a comment this much later. A client that has gone
/// away answered the earlier write with a reset by then, so the comment fails and the messages
/// are handed back for redelivery instead of being lost in a dead socket.
pub(super) const PROBE_DELAY: Duration = Duration::from_millis(200);

/// Most bytes of messages written directly and not yet confirmed; past it, messages are queued
/// and the writer (which probes) takes over, so what is kept for redelivery stays bounded. A busy
/// stream confirms its messages every probe delay (200 ms), so this is reached only by one that
/// carries more than about 1.3 MB/s (or whose messages are large), which then pays a wake-up per
/// batch of messages instead.
const MAX_UNCONFIRMED_BYTES: usize = 256 * 1024;

/// A stream's direct-write state, shared by its handle (the senders) and its writer.
#[derive(Default)]
pub(super) struct Direct {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Set by the writer while it waits with an empty queue (and its response head written).
    open: bool,
    /// The stream's connection and framing, from when its writer starts until it ends.
    socket: Option<Arc<TcpStream>>,
    chunked: bool,
    message_event: Option<&'static str>,
    metrics: Option<Arc<Metrics>>,
    /// Messages written and not yet confirmed (the writer's, handed over while it waits, and
    /// those written here), oldest first.
    unconfirmed: Vec<Msg>,
    /// Bytes of JSON in `unconfirmed`.
    held: usize,
    /// When a successful write confirms `unconfirmed` (see [`PROBE_DELAY`]).
    probe_at: Option<Instant>,
    /// The end of a frame a non-blocking write could not finish: written first by the writer.
    rest: Vec<u8>,
}

/// What the writer takes back when it claims the stream.
pub(super) struct Claimed {
    pub unconfirmed: Vec<Msg>,
    pub probe_at: Option<Instant>,
    pub rest: Vec<u8>,
}

/// What became of a message offered for a direct write.
pub(super) enum Offer {
    /// Written (wholly, or its end left to the writer, which has been woken).
    Written,
    /// Not written: queue it (the stream is closed to direct writes until the writer drained).
    Queue(Frame),
}

impl Direct {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writer starts: what a direct write needs to write like it.
    pub(super) fn attach(
        &self,
        socket: &Arc<TcpStream>,
        chunked: bool,
        message_event: Option<&'static str>,
        metrics: Arc<Metrics>,
    ) {
        let mut s = self.lock();
        s.socket = Some(socket.clone());
        s.chunked = chunked;
        s.message_event = message_event;
        s.metrics = Some(metrics);
    }

    /// The writer ends: no direct write from now on, and the socket is not kept open by the
    /// stream's handle. Returns anything still held (nothing, when the writer claimed last).
    pub(super) fn detach(&self) -> Claimed {
        let claimed = self.claim();
        let mut s = self.lock();
        s.socket = None;
        s.metrics = None;
        claimed
    }

    /// The writer is about to wait: opens the stream to direct writes if nothing is queued,
    /// handing over what it wrote and has not confirmed yet. Returns whether it opened (if not,
    /// the writer keeps its state and goes on).
    pub(super) fn open_if(
        &self,
        queue_empty: impl Fn() -> bool,
        unconfirmed: &mut Vec<Msg>,
        probe_at: Option<Instant>,
    ) -> bool {
        let mut s = self.lock();
        // Senders queue only under this lock, so an empty queue stays empty until `open` is seen.
        if s.socket.is_none() || !queue_empty() {
            return false;
        }
        s.open = true;
        s.held += unconfirmed.iter().map(|m| m.json.len()).sum::<usize>();
        s.unconfirmed.append(unconfirmed);
        s.probe_at = probe_at;
        true
    }

    /// The writer woke: closes the stream to direct writes and takes back what was written
    /// meanwhile. After this only the writer writes, until it opens the stream again.
    pub(super) fn claim(&self) -> Claimed {
        let mut s = self.lock();
        s.open = false;
        s.held = 0;
        Claimed {
            unconfirmed: std::mem::take(&mut s.unconfirmed),
            probe_at: s.probe_at.take(),
            rest: std::mem::take(&mut s.rest),
        }
    }

    /// Writes a message directly if the writer waits, or else queues `frame` with `queue` (a
    /// non-blocking send on the stream's channel); `None` when it was written here. `queue`
    /// runs under the lock, so the writer cannot open the stream between a sender's look and its
    /// queueing.
    pub(super) fn send<T>(&self, frame: Frame, queue: impl FnOnce(Frame) -> T) -> Option<T> {
        let mut s = self.lock();
        let frame = match frame {
            Frame::Message(m) if s.open => match s.write(m) {
                Offer::Written => return None,
                Offer::Queue(f) => f,
            },
            other => other,
        };
        s.open = false;
        Some(queue(frame))
    }
}

impl State {
    /// Writes one message with a non-blocking send; called only while the writer waits.
    fn write(&mut self, m: Msg) -> Offer {
        let Some(socket) = self.socket.clone() else {
            return Offer::Queue(Frame::Message(m));
        };
        if self.held > 0 && self.held + m.json.len() > MAX_UNCONFIRMED_BYTES {
            return Offer::Queue(Frame::Message(m));
        }
        let frame = Frame::Message(m);
        let mut buf = Vec::new();
        append_frame(&mut buf, self.chunked, &frame, self.message_event);
        let Frame::Message(m) = frame else {
            unreachable!("built as a message just above")
        };
        let sent = loop {
            match rustix::net::send(&*socket, &buf, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
                Err(Errno::INTR) => continue,
                other => break other,
            }
        };
        match sent {
            // Nothing written: the socket buffer is full or the client is gone. The writer's
            // blocking write (bounded by --write-timeout-secs) or its failure takes it from here.
            Ok(0) | Err(_) => Offer::Queue(Frame::Message(m)),
            Ok(n) => {
                self.confirm_and_keep(m);
                if let Some(metrics) = &self.metrics {
                    metrics.events_sent.fetch_add(1, Ordering::Relaxed);
                }
                if n < buf.len() {
                    // Part of the frame is on the wire: the rest must follow before anything
                    // else, so the writer, woken by `Resume`, writes it first.
                    self.rest = buf.split_off(n);
                    return Offer::Queue(Frame::Resume);
                }
                Offer::Written
            }
        }
    }

    /// A write succeeded: what was written a probe delay before it reached a client that was
    /// still there (one gone would have reset the connection by then, failing this write).
    fn confirm_and_keep(&mut self, m: Msg) {
        let now = Instant::now();
        if self.probe_at.is_some_and(|at| now >= at) {
            self.unconfirmed.clear();
            self.held = 0;
            self.probe_at = None;
        }
        self.held += m.json.len();
        self.unconfirmed.push(m);
        self.probe_at.get_or_insert(now + PROBE_DELAY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    fn pair() -> (Arc<TcpStream>, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (server, _) = l.accept().expect("accept");
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        (Arc::new(server), client)
    }

    fn msg(seq: u64, json: &str) -> Msg {
        Msg {
            seq,
            json: json.into(),
            id: None,
        }
    }

    fn seqs(v: &[Msg]) -> Vec<u64> {
        v.iter().map(|m| m.seq).collect()
    }

    fn read_exact(c: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut b = vec![0; n];
        c.read_exact(&mut b).expect("read");
        b
    }

    fn attached() -> (Direct, Arc<TcpStream>, TcpStream, Arc<Metrics>) {
        let (server, client) = pair();
        let d = Direct::default();
        let metrics = Arc::new(Metrics::new());
        d.attach(&server, false, None, metrics.clone());
        (d, server, client, metrics)
    }

    #[test]
    fn written_directly_only_while_the_writer_waits_with_nothing_queued() {
        let d = Direct::default();
        // No writer yet: queued, and the stream cannot be opened.
        assert!(matches!(
            d.send(Frame::Message(msg(1, "{}")), |f| f),
            Some(Frame::Message(_))
        ));
        assert!(!d.open_if(|| true, &mut Vec::new(), None));

        let (d, _server, mut client, metrics) = attached();
        assert!(matches!(
            d.send(Frame::Message(msg(1, "{}")), |f| f),
            Some(Frame::Message(_))
        ));
        assert!(
            !d.open_if(|| false, &mut Vec::new(), None),
            "queue not empty"
        );
        assert!(d.open_if(|| true, &mut Vec::new(), None));
        assert!(d.send(Frame::Message(msg(2, "{\"a\":1}")), |f| f).is_none());
        assert_eq!(read_exact(&mut client, 15), b"data: {\"a\":1}\n\n");
        assert_eq!(metrics.events_sent.load(Ordering::Relaxed), 1);
        // Anything else goes to the writer, and closes the stream to direct writes until the
        // writer has drained its queue: a message sent after it must not overtake it.
        assert!(matches!(
            d.send(Frame::Comment("keepalive"), |f| f),
            Some(Frame::Comment("keepalive"))
        ));
        assert!(matches!(
            d.send(Frame::Message(msg(3, "{}")), |f| f),
            Some(Frame::Message(m)) if m.seq == 3
        ));
        let claimed = d.claim();
        assert_eq!(
            seqs(&claimed.unconfirmed),
            [2],
            "written, not yet confirmed"
        );
        assert!(claimed.probe_at.is_some());
        assert!(claimed.rest.is_empty());
        // Detached: nothing is written any more, and the socket is let go.
        assert!(d.open_if(|| true, &mut Vec::new(), None));
        assert!(d.detach().unconfirmed.is_empty());
        assert!(matches!(
            d.send(Frame::Message(msg(4, "{}")), |f| f),
            Some(Frame::Message(_))
        ));
        assert!(!d.open_if(|| true, &mut Vec::new(), None));
    }

    #[test]
    fn a_write_a_probe_delay_later_confirms_what_came_before() {
        let (d, _server, mut client, _) = attached();
        let mut writers = vec![msg(1, "{}")];
        let past = Instant::now() - Duration::from_millis(1);
        assert!(d.open_if(|| true, &mut writers, Some(past)));
        assert!(writers.is_empty(), "handed over to the senders");
        assert!(d.send(Frame::Message(msg(2, "{}")), |f| f).is_none());
        let claimed = d.claim();
        assert_eq!(seqs(&claimed.unconfirmed), [2]);
        assert!(claimed.probe_at.is_some_and(|at| at > Instant::now()));

        let mut writers = vec![msg(3, "{}")];
        let future = Instant::now() + Duration::from_secs(60);
        assert!(d.open_if(|| true, &mut writers, Some(future)));
        assert!(d.send(Frame::Message(msg(4, "{}")), |f| f).is_none());
        let claimed = d.claim();
        assert_eq!(seqs(&claimed.unconfirmed), [3, 4], "too soon to confirm 3");
        assert_eq!(claimed.probe_at, Some(future));
        assert_eq!(read_exact(&mut client, 16), b"data: {}\n\ndata: ");
    }

    #[test]
    fn what_a_full_socket_does_not_take_is_left_to_the_writer_in_order() {
        let (d, _server, mut client, _) = attached();
        assert!(d.open_if(|| true, &mut Vec::new(), None));
        // Far more than loopback's socket buffers take while the client reads nothing.
        let big = format!("\"{}\"", "x".repeat(32 * 1024 * 1024));
        let queued = d.send(Frame::Message(msg(1, &big)), |f| f);
        assert!(matches!(queued, Some(Frame::Resume)), "only part fits");
        // The writer was woken; until it drained, a further message is queued behind.
        assert!(matches!(
            d.send(Frame::Message(msg(2, "{}")), |f| f),
            Some(Frame::Message(_))
        ));
        let claimed = d.claim();
        assert_eq!(seqs(&claimed.unconfirmed), [1]);
        assert!(!claimed.rest.is_empty());
        let expected = format!("data: {big}\n\n");
        assert_eq!(
            claimed.rest,
            expected.as_bytes()[expected.len() - claimed.rest.len()..]
        );
        // What the client reads, followed by the rest, is the frame exactly.
        let reader = std::thread::spawn(move || {
            read_exact(&mut client, expected.len()) == expected.as_bytes()
        });
        let mut w: &TcpStream = &_server;
        std::io::Write::write_all(&mut w, &claimed.rest).expect("write rest");
        assert!(reader.join().expect("reader"));
    }

    #[test]
    fn unconfirmed_bytes_are_bounded() {
        let (d, _server, mut client, _) = attached();
        let reader = std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = client.read_to_end(&mut sink);
        });
        let future = Instant::now() + Duration::from_secs(60);
        assert!(d.open_if(|| true, &mut Vec::new(), Some(future)));
        let half = format!("\"{}\"", "x".repeat(MAX_UNCONFIRMED_BYTES / 2));
        assert!(d.send(Frame::Message(msg(1, &half)), |f| f).is_none());
        assert!(
            matches!(
                d.send(Frame::Message(msg(2, &half)), |f| f),
                Some(Frame::Message(_))
            ),
            "over the bound: the writer takes it"
        );
        let claimed = d.claim();
        assert_eq!(seqs(&claimed.unconfirmed), [1]);
        // One message is always let through, however large: the bound is on what is kept.
        let huge = format!("\"{}\"", "x".repeat(MAX_UNCONFIRMED_BYTES * 2));
        assert!(d.open_if(|| true, &mut Vec::new(), None));
        assert!(!matches!(
            d.send(Frame::Message(msg(3, &huge)), |f| f),
            Some(Frame::Message(_))
        ));
        drop(d.detach());
        drop(_server);
        reader.join().expect("reader");
    }

    #[test]
    fn a_client_that_is_gone_leaves_the_message_to_the_writer() {
        let (d, _server, client, _) = attached();
        drop(client);
        assert!(d.open_if(|| true, &mut Vec::new(), None));
        // The first write may still be taken by the kernel; the reset makes a later one fail,
        // and then the message is queued for the writer, whose failing write hands it back.
        let mut queued = false;
        for seq in 0..50 {
            match d.send(Frame::Message(msg(seq, "{}")), |f| f) {
                // Written (the stream stays open): the reset is on its way.
                None => std::thread::sleep(Duration::from_millis(20)),
                Some(Frame::Message(m)) => {
                    assert_eq!(m.seq, seq);
                    queued = true;
                    break;
                }
                Some(_) => panic!("a message comes back as itself"),
            }
        }
        assert!(queued, "a dead client's socket refuses writes");
    }
}
