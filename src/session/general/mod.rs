//! The general channel: messages not tied to one HTTP exchange (the seed's `/notifications`, the
//! legacy `/sse`, the Streamable HTTP GET stream). While no general stream is open they wait in a
//! bounded outbox and are delivered, in order, when one attaches; recent ones are logged so a
//! client can resume with `Last-Event-ID`; what a dead stream never wrote is handed to the
//! others. Everything here runs under the session's one lock, which is what keeps a message from
//! slipping between a replay and an attach.

mod streams;

use crate::metrics::Metrics;
use crate::sse::{Frame, Msg, Push, StreamHandle};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The stream number of a session's general channel in event ids (`0-<seq>`).
pub const GENERAL_STREAM: u64 = 0;

pub(super) struct GeneralChannel {
    outbox_limit: usize,
    /// Messages kept for `Last-Event-ID` (0: none, the legacy transport, whose session dies with
    /// its stream).
    replay: usize,
    /// General streams, each with the sequence number of the first message broadcast after it
    /// attached (it got earlier ones only from the outbox, if at all).
    streams: Vec<(StreamHandle, u64)>,
    outbox: VecDeque<Msg>,
    /// The channel's recent messages (stream 0 of the session's event ids).
    log: VecDeque<Msg>,
    /// Streams attached by a resume: they got everything before their attach point from the
    /// log, so messages a dead stream hands back are not theirs to receive again.
    resumed: HashSet<u64>,
    next_seq: u64,
    /// An ended session takes no more messages.
    ended: bool,
    /// The server instance's counters, not the process's: two servers in one process must not
    /// merge them.
    metrics: Arc<Metrics>,
}

impl GeneralChannel {
    pub(super) fn new(outbox_limit: usize, replay: usize, metrics: Arc<Metrics>) -> GeneralChannel {
        GeneralChannel {
            outbox_limit,
            replay,
            streams: Vec::new(),
            outbox: VecDeque::new(),
            log: VecDeque::new(),
            resumed: HashSet::new(),
            next_seq: 1,
            ended: false,
            metrics,
        }
    }

    /// An open stream keeps its session from expiring.
    pub(super) fn has_streams(&self) -> bool {
        !self.streams.is_empty()
    }

    #[cfg(test)]
    pub(super) fn is_ended(&self) -> bool {
        self.ended
    }

    /// `sid` names the session in log lines.
    pub(super) fn send(&mut self, sid: &str, json: Arc<str>) {
        if self.ended {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let msg = Msg {
            seq,
            json,
            id: (self.replay > 0).then(|| crate::replay::event_id(GENERAL_STREAM, seq)),
        };
        if self.replay > 0 {
            if self.log.len() >= self.replay {
                self.log.pop_front();
            }
            self.log.push_back(msg.clone());
        }
        let mut delivered = false;
        let mut stuck = Vec::new();
        for (h, _) in &self.streams {
            match h.push(Frame::Message(msg.clone())) {
                Push::Queued => delivered = true,
                Push::Full => stuck.push(h.id),
                Push::Closed => {}
            }
        }
        if !delivered {
            self.enqueue(sid, msg);
        }
        for id in stuck {
            log::warn!("session {sid}: stream {id} is not reading; closing it");
            self.drop_stream(sid, id);
        }
    }

    fn enqueue(&mut self, sid: &str, msg: Msg) {
        if self.outbox.len() >= self.outbox_limit {
            self.outbox.pop_front();
            self.metrics.events_dropped.fetch_add(1, Ordering::Relaxed);
            log::warn!(
                "session {sid}: outbox full ({}); oldest message dropped",
                self.outbox_limit
            );
        }
        self.outbox.push_back(msg);
    }

    /// Removes a stuck stream and redelivers what it had not written.
    fn drop_stream(&mut self, sid: &str, id: u64) {
        let Some(pos) = self.streams.iter().position(|(h, _)| h.id == id) else {
            return;
        };
        let (handle, _) = self.streams.remove(pos);
        let leftovers = handle.abandon();
        self.redeliver(sid, leftovers);
    }

    /// Gives messages a dead stream may not have delivered to every open stream that attached
    /// after they were sent (the others got them already); with no open stream, back to the
    /// outbox in sequence order. Delivery is at-least-once: a client may see a message twice if it
    /// vanished just after reading it, and recognises it by its id.
    fn redeliver(&mut self, sid: &str, leftovers: Vec<Msg>) {
        if leftovers.is_empty() || self.ended {
            return;
        }
        self.metrics
            .events_replayed
            .fetch_add(leftovers.len() as u64, Ordering::Relaxed);
        let open: Vec<&(StreamHandle, u64)> = self
            .streams
            .iter()
            .filter(|(h, _)| !h.is_closed())
            .collect();
        if open.is_empty() {
            for m in leftovers {
                if !self.outbox.iter().any(|o| o.seq == m.seq) {
                    self.enqueue(sid, m);
                }
            }
            self.outbox.make_contiguous().sort_by_key(|m| m.seq);
            return;
        }
        for m in leftovers {
            for (h, since) in &open {
                // A resumed stream was replayed everything before its resume point.
                if *since > m.seq && !self.resumed.contains(&h.id) {
                    let _ = h.push(Frame::Message(m.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(ch: &mut GeneralChannel, n: usize) {
        for i in 0..n {
            ch.send("s", format!("{i}").into());
        }
    }

    #[test]
    fn outbox_is_bounded_and_ordered() {
        let metrics = Arc::new(Metrics::new());
        let mut ch = GeneralChannel::new(3, 0, metrics.clone());
        sent(&mut ch, 5);
        let v: Vec<&str> = ch.outbox.iter().map(|m| &*m.json).collect();
        assert_eq!(v, vec!["2", "3", "4"]);
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 2);
    }
}
