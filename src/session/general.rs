//! The general channel: messages not tied to one HTTP exchange (the seed's `/notifications`, the
//! legacy `/sse`, the Streamable HTTP GET stream). While no general stream is open they wait in a
//! bounded outbox and are delivered, in order, when one attaches; recent ones are logged so a
//! client can resume with `Last-Event-ID`; what a dead stream never wrote is handed to the
//! others. Everything here runs under the session's one lock, which is what keeps a message from
//! slipping between a replay and an attach.

use super::Session;
use crate::replay::Gap;
use crate::sse::{Frame, Msg, Push, StreamHandle};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

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
}

impl GeneralChannel {
    pub(super) fn new(outbox_limit: usize, replay: usize) -> GeneralChannel {
        GeneralChannel {
            outbox_limit,
            replay,
            streams: Vec::new(),
            outbox: VecDeque::new(),
            log: VecDeque::new(),
            resumed: HashSet::new(),
            next_seq: 1,
            ended: false,
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
            crate::metrics::METRICS
                .events_dropped
                .fetch_add(1, Ordering::Relaxed);
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
        crate::metrics::METRICS
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

    /// The last event before anything a new stream will be handed (the outbox's oldest message,
    /// else the next one), so a client that resumes after it never misses one.
    fn position(&self) -> Arc<str> {
        let next = self.outbox.front().map_or(self.next_seq, |m| m.seq);
        crate::replay::event_id(GENERAL_STREAM, next - 1)
    }

    /// The outbox is dropped: everything in it either came before `after`, which the client
    /// has, or is in the log.
    fn resume<E>(
        &mut self,
        after: u64,
        open: impl FnOnce(Vec<Frame>) -> Result<StreamHandle, E>,
    ) -> Result<Result<(usize, u64), E>, Gap> {
        if self.replay == 0 {
            return Err(Gap::Unknown);
        }
        let first_kept = self.log.front().map_or(self.next_seq, |m| m.seq);
        crate::replay::can_resume(after, first_kept, self.next_seq)?;
        let replay: Vec<Frame> = self
            .log
            .iter()
            .filter(|m| m.seq > after)
            .map(|m| Frame::Message(m.clone()))
            .collect();
        let n = replay.len();
        let handle = match open(replay) {
            Ok(h) => h,
            Err(e) => return Ok(Err(e)),
        };
        self.streams.retain(|(h, _)| !h.is_closed());
        self.outbox.clear();
        let since = self.next_seq;
        let id = handle.id;
        self.resumed.insert(id);
        self.streams.push((handle, since));
        Ok(Ok((n, id)))
    }

    fn attach(&mut self, handle: StreamHandle) {
        self.streams.retain(|(h, _)| !h.is_closed());
        while let Some(m) = self.outbox.pop_front() {
            if handle.push(Frame::Message(m.clone())) != Push::Queued {
                self.outbox.push_front(m);
                break;
            }
        }
        let since = self.next_seq;
        self.streams.push((handle, since));
    }

    fn detach(&mut self, sid: &str, stream_id: u64, leftovers: Vec<Msg>) {
        self.streams.retain(|(h, _)| h.id != stream_id);
        self.resumed.remove(&stream_id);
        if !leftovers.is_empty() {
            log::debug!(
                "session {sid}: stream {stream_id} ended with {} undelivered message(s)",
                leftovers.len()
            );
        }
        self.redeliver(sid, leftovers);
    }

    fn close_except(&self, keep: u64) {
        for (h, _) in self.streams.iter().filter(|(h, _)| h.id != keep) {
            h.close();
        }
    }

    /// A stream whose queue is full is not reading; it is dropped and its messages go to the
    /// others.
    pub(super) fn keepalive(&mut self, sid: &str) {
        let stuck: Vec<u64> = self
            .streams
            .iter()
            .filter(|(h, _)| h.push(Frame::Comment("keepalive")) == Push::Full)
            .map(|(h, _)| h.id)
            .collect();
        for id in stuck {
            log::warn!("session {sid}: stream {id} is not reading; closing it");
            self.drop_stream(sid, id);
        }
    }

    pub(super) fn close_with(&self, last: &Frame) {
        for (h, _) in &self.streams {
            let _ = h.push(last.clone());
            h.close();
        }
    }

    pub(super) fn end(&mut self) {
        self.ended = true;
        for (h, _) in &self.streams {
            h.close();
        }
        self.streams.clear();
        self.outbox.clear();
    }
}

impl Session {
    /// What a priming event of a new general stream names (`0-<seq>`).
    pub fn general_position(&self) -> Arc<str> {
        self.state().general.position()
    }

    /// Opens (with `open`) and attaches a general stream that resumes after event `after` of the
    /// general channel: its first frames are exactly the logged messages that followed (written
    /// before anything queued, so a long replay is never cut by the stream's queue bound). Under
    /// the session's lock, so no message slips between replay and attach. A gap (the id is
    /// unknown, or its successors were evicted) opens nothing.
    pub fn resume_general<E>(
        &self,
        after: u64,
        open: impl FnOnce(Vec<Frame>) -> Result<StreamHandle, E>,
    ) -> Result<Result<(usize, u64), E>, Gap> {
        let mut s = self.state();
        let resumed = s.general.resume(after, open);
        if let Ok(Ok(_)) = resumed {
            s.last_activity = Instant::now();
        }
        resumed
    }

    /// Attaches a general stream and hands it the outbox, oldest first.
    pub fn attach(&self, handle: StreamHandle) {
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.general.attach(handle);
    }

    /// Called by a stream's thread when it ends; `leftovers` are messages it may not have
    /// delivered.
    pub fn detach(&self, stream_id: u64, leftovers: Vec<Msg>) {
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.general.detach(&self.id, stream_id, leftovers);
    }

    /// Closes every general stream except `keep`; used when a new Streamable HTTP GET stream
    /// replaces the old one.
    pub fn close_streams_except(&self, keep: u64) {
        self.state().general.close_except(keep);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Outgoing, Route, Sessions, TransportKind};

    #[test]
    fn outbox_is_bounded_and_ordered() {
        let store = Sessions::new(10, 3);
        let s = store.create(TransportKind::Seed).unwrap();
        for i in 0..5 {
            s.send(&Route::Session, Outgoing::message(format!("{i}").into()));
        }
        let st = s.state();
        assert_eq!(st.general.outbox.len(), 3);
        let v: Vec<&str> = st.general.outbox.iter().map(|m| &*m.json).collect();
        assert_eq!(v, vec!["2", "3", "4"]);
    }
}
