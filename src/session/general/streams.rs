//! The general channel's streams coming and going: attaching one (handed the outbox) or
//! resuming one after a `Last-Event-ID` (handed the log), a stream ending (its unwritten
//! messages go to the others), keepalives, and closing them all.

use super::{Attached, GeneralChannel};
use crate::replay::Gap;
use crate::sse::{Frame, Msg, StreamHandle};
use std::sync::Arc;

impl GeneralChannel {
    /// The first message a fresh stream is handed: what no open stream has been handed yet, or,
    /// with none open, the outbox's oldest.
    fn fresh_start(&self) -> u64 {
        let open = self
            .streams
            .iter()
            .filter(|s| !s.handle.is_closed())
            .map(|s| s.next)
            .max();
        open.unwrap_or_else(|| self.backlog.front().map_or(self.next_seq, |k| k.msg.seq))
    }

    /// The last event before anything a new stream will be handed, so a client that resumes
    /// after it never misses one.
    pub(in super::super) fn position(&self) -> Arc<str> {
        self.event_id(self.fresh_start() - 1)
    }

    /// The outbox is let go once the resumed stream is attached: everything in it either came
    /// before `after`, which the client has, or is in the log. (Other streams still lacking some
    /// of it keep it, seed sessions having several.)
    pub(in super::super) fn resume<E>(
        &mut self,
        after: u64,
        open: impl FnOnce(Vec<Frame>) -> Result<StreamHandle, E>,
    ) -> Result<Result<(usize, u64), E>, Gap> {
        if self.replay == 0 {
            return Err(Gap::Unknown);
        }
        let first_kept = self.log.front().map_or(self.next_seq, |k| k.msg.seq);
        crate::replay::can_resume(after, first_kept, self.next_seq)?;
        let replay: Vec<Frame> = self
            .log
            .iter()
            .filter(|k| k.msg.seq > after)
            .map(|k| Frame::Message(k.msg.clone()))
            .collect();
        let n = replay.len();
        let handle = match open(replay) {
            Ok(h) => h,
            Err(e) => return Ok(Err(e)),
        };
        self.streams.retain(|s| !s.handle.is_closed());
        let id = handle.id;
        self.streams.push(Attached {
            handle,
            start: self.next_seq,
            next: self.next_seq,
            resumed: true,
        });
        self.trim();
        Ok(Ok((n, id)))
    }

    /// Attaches a fresh stream and hands it what it lacks, as far as its queue takes; its writer
    /// asks for the rest as it drains.
    pub(in super::super) fn attach(&mut self, handle: StreamHandle) {
        self.streams.retain(|s| !s.handle.is_closed());
        let start = self.fresh_start();
        self.streams.push(Attached {
            handle,
            start,
            next: start,
            resumed: false,
        });
        self.pump(self.streams.len() - 1);
        self.trim();
    }

    pub(in super::super) fn detach(&mut self, sid: &str, stream_id: u64, leftovers: Vec<Msg>) {
        self.streams.retain(|s| s.handle.id != stream_id);
        if !leftovers.is_empty() {
            log::debug!(
                "session {sid}: stream {stream_id} ended with {} undelivered message(s)",
                leftovers.len()
            );
        }
        self.redeliver(leftovers);
        self.trim();
    }

    pub(in super::super) fn close_except(&mut self, keep: u64) {
        for s in self.streams.iter().filter(|s| s.handle.id != keep) {
            s.handle.close();
        }
        // The closed streams no longer hold back what the kept one has been handed.
        self.trim();
    }

    /// A keepalive that finds a stream's queue full is skipped: the stream is busy writing what
    /// it has. A client that stopped reading is cut by the write timeout (`--write-timeout-secs`),
    /// and its unwritten messages come back; closing it here would cut a slow reader that is
    /// being paced from the backlog.
    pub(in super::super) fn keepalive(&mut self) {
        for s in &self.streams {
            let _ = s.handle.push(Frame::Comment("keepalive"));
        }
    }

    pub(in super::super) fn close_with(&self, last: &Frame) {
        for s in &self.streams {
            let _ = s.handle.push(last.clone());
            s.handle.close();
        }
    }

    /// Closes the streams and lets go of everything kept (outbox and log), so an ended session's
    /// memory comes back even while something still holds the session.
    pub(in super::super) fn end(&mut self) {
        self.ended = true;
        for s in &self.streams {
            s.handle.close();
        }
        self.streams.clear();
        self.backlog.clear();
        self.log.clear();
    }
}
