//! The general channel: messages not tied to one HTTP exchange (the seed's `/notifications`, the
//! legacy `/sse`, the Streamable HTTP GET stream). Messages wait in one ordered backlog until
//! every attached stream has been handed them; while no general stream is open that backlog is
//! the session's outbox, delivered in order when one attaches. Recent messages are logged so a
//! client can resume with `Last-Event-ID`; what a dead stream never wrote is handed to the
//! others. Everything here runs under the session's one lock, which is what keeps a message from
//! slipping between a replay and an attach.
//!
//! A stream is handed what it lacks only while its bounded queue has room; the rest stays in the
//! backlog and the stream's writer asks for more as it drains ([`GeneralChannel::refill`]), so a
//! reconnecting client receives everything waiting for it at its own pace, and the queue bound
//! only measures how far behind the writer may be, not how much a reconnect can take. What is kept
//! (backlog and log) is bounded by count (`--outbox-limit`, `--replay-events`) and by bytes (the
//! session's and the server's budgets); the oldest goes first, and every message lost to a bound
//! is counted and logged.

mod streams;

use crate::replay::{Charge, SessionBuffers};
use crate::sse::{Frame, Msg, Push, StreamHandle};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The stream number of a session's general channel in event ids (`0-<seq>`).
pub const GENERAL_STREAM: u64 = 0;

/// A kept message and its bytes' charge, shared by the backlog and the log when it is in both
/// (the JSON is one allocation, so it is counted once).
#[derive(Clone)]
struct Kept {
    msg: Msg,
    /// `None`: the message did not fit the budgets; it is handed on at once or lost.
    charge: Option<Arc<Charge>>,
}

/// An attached general stream and where it is in the channel.
struct Attached {
    handle: StreamHandle,
    /// The first message it was to be handed (it attached after the ones before, or they were
    /// replayed to it): a dead stream's leftovers older than this are its to receive.
    start: u64,
    /// The next message it has not been handed; what it lacks waits in the backlog.
    next: u64,
    /// Attached by a resume: it got everything before its attach point from the log, so messages
    /// a dead stream hands back are not its to receive again.
    resumed: bool,
}

pub(super) struct GeneralChannel {
    outbox_limit: usize,
    /// Messages kept for `Last-Event-ID` (0: none, the legacy transport, whose session dies with
    /// its stream).
    replay: usize,
    streams: Vec<Attached>,
    /// Messages some attached stream has not been handed yet or, with none attached, that none
    /// has (the outbox); in sequence order.
    backlog: VecDeque<Kept>,
    /// The channel's recent messages (stream 0 of the session's event ids).
    log: VecDeque<Kept>,
    next_seq: u64,
    /// An ended session takes no more messages.
    ended: bool,
    /// The session's byte budget, and where its losses are counted (the server instance's
    /// counters, not the process's: two servers in one process must not merge them).
    buffers: Arc<SessionBuffers>,
    /// What every event id of this channel starts with: empty (`0-<seq>`), or for a seed
    /// session `<session id>.<secret>.` so that the id alone finds, and grants, the session.
    id_prefix: Arc<str>,
}

impl GeneralChannel {
    pub(super) fn new(
        outbox_limit: usize,
        replay: usize,
        buffers: Arc<SessionBuffers>,
    ) -> GeneralChannel {
        GeneralChannel {
            outbox_limit,
            replay,
            streams: Vec::new(),
            backlog: VecDeque::new(),
            log: VecDeque::new(),
            next_seq: 1,
            ended: false,
            buffers,
            id_prefix: Arc::from(""),
        }
    }

    /// Event ids of this channel start with `prefix` (see [`crate::replay::event_id_in`]).
    pub(super) fn with_id_prefix(mut self, prefix: Arc<str>) -> GeneralChannel {
        self.id_prefix = prefix;
        self
    }

    /// The id of event `seq` of this channel.
    pub(super) fn event_id(&self, seq: u64) -> Arc<str> {
        crate::replay::event_id_in(&self.id_prefix, GENERAL_STREAM, seq)
    }

    /// An open stream keeps its session from expiring.
    pub(super) fn has_streams(&self) -> bool {
        !self.streams.is_empty()
    }

    #[cfg(test)]
    pub(super) fn is_ended(&self) -> bool {
        self.ended
    }

    /// Keeps the message (logged, and in the backlog for whoever lacks it) and hands it to every
    /// stream with room. `_sid` is kept for the callers; losses are logged with the session's id
    /// through its budget.
    pub(super) fn send(&mut self, _sid: &str, json: Arc<str>) {
        if self.ended {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let msg = Msg {
            seq,
            json,
            id: (self.replay > 0).then(|| self.event_id(seq)),
        };
        let charge = self.make_room(msg.json.len());
        let kept = Kept { msg, charge };
        if self.replay > 0 {
            if self.log.len() >= self.replay {
                self.log.pop_front();
                self.buffers.evicted(1, "--replay-events");
            }
            if kept.charge.is_some() {
                self.log.push_back(kept.clone());
            } else {
                self.buffers.evicted(1, "larger than the byte budget");
            }
        }
        self.backlog.push_back(kept);
        for i in 0..self.streams.len() {
            self.pump(i);
        }
        self.trim();
        // Too large to keep: whoever did not take it now never will.
        if self
            .backlog
            .back()
            .is_some_and(|k| k.msg.seq == seq && k.charge.is_none())
        {
            self.backlog.pop_back();
            self.buffers.dropped(1, "larger than the byte budget");
        }
        self.bound_backlog();
    }

    /// Messages kept that some attached stream has not been handed yet (with none attached, the
    /// outbox): a writer draining before its process exits waits for this to reach 0.
    pub(super) fn undelivered(&self) -> usize {
        self.backlog.len()
    }

    /// The stream `stream_id` made room in its queue: it is handed what it lacks next.
    pub(super) fn refill(&mut self, stream_id: u64) {
        if let Some(i) = self.streams.iter().position(|s| s.handle.id == stream_id) {
            self.pump(i);
            self.trim();
        }
    }

    /// Takes `bytes` from the budgets for a new message, evicting the oldest kept messages until
    /// they fit; `None` if the message is larger than a budget, or nothing is left to evict.
    fn make_room(&mut self, bytes: usize) -> Option<Arc<Charge>> {
        if !self.buffers.could_fit(bytes) {
            return None;
        }
        loop {
            if let Some(c) = self.buffers.charge(bytes) {
                return Some(Arc::new(c));
            }
            if !self.evict_oldest() {
                return None;
            }
        }
    }

    /// Evicts the oldest kept message (from the log, the backlog, or both when it is in both):
    /// every eviction frees its bytes, since nothing else holds a charge. False if nothing is
    /// kept.
    fn evict_oldest(&mut self) -> bool {
        let in_log = self.log.front().map(|k| k.msg.seq);
        let in_backlog = self.backlog.front().map(|k| k.msg.seq);
        let log_first = match (in_log, in_backlog) {
            (None, None) => return false,
            (Some(l), Some(b)) => l < b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        if log_first {
            self.log.pop_front();
            self.buffers.evicted(1, "byte budget");
            return true;
        }
        self.backlog.pop_front();
        self.buffers.dropped(1, "byte budget");
        if in_log == in_backlog {
            self.log.pop_front();
            self.buffers.evicted(1, "byte budget");
        }
        true
    }

    /// `--outbox-limit`: the oldest waiting messages are dropped beyond it.
    fn bound_backlog(&mut self) {
        let over = self.backlog.len().saturating_sub(self.outbox_limit);
        if over > 0 {
            self.backlog.drain(..over);
            self.buffers.dropped(
                over,
                &format!("outbox full, --outbox-limit {}", self.outbox_limit),
            );
        }
    }

    /// Hands stream `i` what it lacks from the backlog, in order, while its queue has room.
    fn pump(&mut self, i: usize) {
        let backlog = &self.backlog;
        let Some(s) = self.streams.get_mut(i) else {
            return;
        };
        let from = backlog.partition_point(|k| k.msg.seq < s.next);
        for k in backlog.range(from..) {
            if !push_paced(&s.handle, &k.msg) {
                return;
            }
            s.next = k.msg.seq + 1;
        }
        s.next = self.next_seq;
    }

    /// Lets go of what every open stream has been handed (with none open, nothing: the backlog
    /// is then the outbox).
    fn trim(&mut self) {
        let floor = self
            .streams
            .iter()
            .filter(|s| !s.handle.is_closed())
            .map(|s| s.next)
            .min();
        if let Some(floor) = floor {
            while self.backlog.front().is_some_and(|k| k.msg.seq < floor) {
                self.backlog.pop_front();
            }
        }
    }

    /// Gives messages a dead stream may not have delivered to every open stream that started
    /// after them (the others got them already, or will from the backlog); with no open stream,
    /// back to the outbox in sequence order. Delivery is at-least-once: a client may see a message
    /// twice if it vanished just after reading it, and recognises it by its id.
    fn redeliver(&mut self, leftovers: Vec<Msg>) {
        if leftovers.is_empty() || self.ended {
            return;
        }
        self.buffers
            .metrics()
            .events_replayed
            .fetch_add(leftovers.len() as u64, Ordering::Relaxed);
        let open = self.streams.iter().any(|s| !s.handle.is_closed());
        if !open {
            for m in leftovers {
                let at = self.backlog.partition_point(|k| k.msg.seq < m.seq);
                if self.backlog.get(at).is_some_and(|k| k.msg.seq == m.seq) {
                    continue;
                }
                // Its charge is the log's when it is still logged; else it is charged anew, and
                // lost (counted) if that does not fit.
                let logged = self.log.partition_point(|k| k.msg.seq < m.seq);
                let charge = match self.log.get(logged) {
                    Some(k) if k.msg.seq == m.seq => k.charge.clone(),
                    _ => self.buffers.charge(m.json.len()).map(Arc::new),
                };
                if charge.is_none() {
                    self.buffers
                        .dropped(1, "no room to keep a dead stream's message");
                    continue;
                }
                self.backlog.insert(at, Kept { msg: m, charge });
            }
            self.bound_backlog();
            return;
        }
        let mut lost = 0;
        for m in leftovers {
            for s in self.streams.iter().filter(|s| !s.handle.is_closed()) {
                if s.start > m.seq && !s.resumed && !push_paced(&s.handle, &m) {
                    lost += 1;
                }
            }
        }
        self.buffers
            .dropped(lost, "a dead stream's message found no room on the others");
    }
}

/// Queues `msg` on a stream; when the queue is full, asks the writer for a refill and tries once
/// more (the writer may have emptied the queue just before the request, and would then never
/// ask). False if the stream has no room (it will ask) or is closed.
fn push_paced(handle: &StreamHandle, msg: &Msg) -> bool {
    match handle.push(Frame::Message(msg.clone())) {
        Push::Queued => true,
        Push::Closed => false,
        Push::Full => {
            handle.want_refill();
            handle.push(Frame::Message(msg.clone())) == Push::Queued
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    fn channel(
        outbox: usize,
        replay: usize,
        session_bytes: usize,
    ) -> (GeneralChannel, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new().with_buffer_limits(session_bytes, 1 << 30));
        let buffers = SessionBuffers::new("s".into(), metrics.clone());
        (GeneralChannel::new(outbox, replay, buffers), metrics)
    }

    fn sent(ch: &mut GeneralChannel, n: usize) {
        for i in 0..n {
            ch.send("s", format!("{i}").into());
        }
    }

    fn outbox(ch: &GeneralChannel) -> Vec<&str> {
        ch.backlog.iter().map(|k| &*k.msg.json).collect()
    }

    #[test]
    fn outbox_is_bounded_and_ordered() {
        let (mut ch, metrics) = channel(3, 0, 1 << 20);
        sent(&mut ch, 5);
        assert_eq!(outbox(&ch), vec!["2", "3", "4"]);
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn bytes_evict_the_oldest_and_are_counted_once() {
        // Nine-byte messages, a 35-byte session budget: three fit.
        let (mut ch, metrics) = channel(100, 100, 35);
        for i in 0..5 {
            ch.send("s", format!("message-{i}").into());
        }
        assert_eq!(outbox(&ch), vec!["message-2", "message-3", "message-4"]);
        assert_eq!(ch.log.len(), 3, "the log shares the outbox's messages");
        assert_eq!(ch.buffers.used(), 27, "each message counted once");
        assert_eq!(metrics.buffers.used(), 27);
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.events_evicted.load(Ordering::Relaxed), 2);
        // Too large for the budget: evicts nothing, is not kept, and is counted.
        ch.send("s", "x".repeat(36).into());
        assert_eq!(outbox(&ch).len(), 3);
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 3);
        ch.end();
        assert_eq!(metrics.buffers.used(), 0, "an ended session holds nothing");
    }

    #[test]
    fn the_process_budget_bounds_every_session() {
        let metrics = Arc::new(Metrics::new().with_buffer_limits(1 << 20, 25));
        let a = SessionBuffers::new("a".into(), metrics.clone());
        let b = SessionBuffers::new("b".into(), metrics.clone());
        let (mut ca, mut cb) = (GeneralChannel::new(10, 0, a), GeneralChannel::new(10, 0, b));
        ca.send("a", "0123456789".into());
        ca.send("a", "0123456789".into());
        // b's own oldest would make room, but it has none: its message is not kept.
        cb.send("b", "0123456789".into());
        assert_eq!((ca.backlog.len(), cb.backlog.len()), (2, 0));
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 1);
        drop(ca);
        cb.send("b", "0123456789".into());
        assert_eq!(cb.backlog.len(), 1, "a's bytes came back when it went");
        assert_eq!(metrics.buffers.used(), 10);
    }
}
