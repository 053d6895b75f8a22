//! The general channel's streams coming and going: attaching one (handed the outbox) or
//! resuming one after a `Last-Event-ID` (handed the log), a stream ending (its unwritten
//! messages go to the others), keepalives, and closing them all.

use super::{GENERAL_STREAM, GeneralChannel};
use crate::replay::Gap;
use crate::sse::{Frame, Msg, Push, StreamHandle};
use std::sync::Arc;

impl GeneralChannel {
    /// The last event before anything a new stream will be handed (the outbox's oldest message,
    /// else the next one), so a client that resumes after it never misses one.
    pub(in super::super) fn position(&self) -> Arc<str> {
        let next = self.outbox.front().map_or(self.next_seq, |m| m.seq);
        crate::replay::event_id(GENERAL_STREAM, next - 1)
    }

    /// The outbox is dropped: everything in it either came before `after`, which the client
    /// has, or is in the log.
    pub(in super::super) fn resume<E>(
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

    pub(in super::super) fn attach(&mut self, handle: StreamHandle) {
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

    pub(in super::super) fn detach(&mut self, sid: &str, stream_id: u64, leftovers: Vec<Msg>) {
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

    pub(in super::super) fn close_except(&self, keep: u64) {
        for (h, _) in self.streams.iter().filter(|(h, _)| h.id != keep) {
            h.close();
        }
    }

    /// A stream whose queue is full is not reading; it is dropped and its messages go to the
    /// others.
    pub(in super::super) fn keepalive(&mut self, sid: &str) {
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

    pub(in super::super) fn close_with(&self, last: &Frame) {
        for (h, _) in &self.streams {
            let _ = h.push(last.clone());
            h.close();
        }
    }

    pub(in super::super) fn end(&mut self) {
        self.ended = true;
        for (h, _) in &self.streams {
            h.close();
        }
        self.streams.clear();
        self.outbox.clear();
    }
}
