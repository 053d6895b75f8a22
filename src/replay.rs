//! Resumable streams: every message event of a POST's SSE answer has an id `<stream>-<seq>`
//! (unique in the session, naming its stream), and each such stream keeps a bounded log of its
//! events (`--replay-events`). A client whose stream was cut, or ended early by the server
//! (2025-11-25 SSE polling), reconnects with `GET` + `Last-Event-ID` and receives exactly the
//! events of that stream after that id, then the rest as it comes: never events of another
//! stream, never one twice.

use crate::sse::{Frame, Msg, Push, StreamHandle};
use std::collections::VecDeque;
use std::sync::Arc;

/// The event id of event `seq` of stream `stream`.
pub(crate) fn event_id(stream: u64, seq: u64) -> Arc<str> {
    format!("{stream}-{seq}").into()
}

/// The (stream, seq) an event id names.
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.trim().split_once('-')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// Why a stream cannot be resumed after an id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Gap {
    /// The events after that id were evicted from the bounded log.
    Evicted,
    /// That id was never sent on this stream.
    Unknown,
}

/// Whether a log whose oldest kept event is `first_kept` and whose next event will be `next_seq`
/// can resume a client that saw everything up to `after`: the one rule behind exactly-once.
pub(crate) fn can_resume(after: u64, first_kept: u64, next_seq: u64) -> Result<(), Gap> {
    if after >= next_seq {
        Err(Gap::Unknown)
    } else if after + 1 < first_kept {
        Err(Gap::Evicted)
    } else {
        Ok(())
    }
}

/// One resumable stream: its log, and the SSE stream it is being written to now, if any.
pub(crate) struct StreamLog {
    cap: usize,
    events: VecDeque<(u64, Arc<str>)>,
    next_seq: u64,
    /// Whether the final event (the last answer) has been logged.
    done: bool,
    /// Where new events go; `None` while the client is away.
    target: Option<StreamHandle>,
    /// Whether a client resumed this stream (its first stream is then obsolete).
    resumed: bool,
}

impl StreamLog {
    /// A log whose stream is not open yet: it is findable (and resumable) before its first byte
    /// is sent, so a client that resumes at once never misses it.
    pub fn new(cap: usize) -> StreamLog {
        StreamLog {
            cap: cap.max(1),
            events: VecDeque::new(),
            // 0 is the priming event's id.
            next_seq: 1,
            done: false,
            target: None,
            resumed: false,
        }
    }

    /// Attaches the stream the request was first answered on, unless a client already resumed.
    pub fn attach_first(&mut self, target: StreamHandle) {
        if self.resumed {
            target.close();
        } else {
            self.target = Some(target);
        }
    }

    /// Logs an event of stream `stream` and writes it to the current target; `last` ends the
    /// stream after it. False if no client received it now (it waits in the log).
    pub fn push(&mut self, stream: u64, json: Arc<str>, last: bool) -> bool {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.events.len() >= self.cap {
            self.events.pop_front();
        }
        self.events.push_back((seq, json.clone()));
        self.done |= last;
        let msg = Msg {
            seq,
            json,
            id: Some(event_id(stream, seq)),
        };
        let frame = if last {
            Frame::Final(msg)
        } else {
            Frame::Message(msg)
        };
        match &self.target {
            Some(t) if t.push(frame) == Push::Queued => true,
            Some(t) => {
                t.close();
                self.target = None;
                false
            }
            None => false,
        }
    }

    /// Ends the current SSE stream without ending the request (the client resumes later).
    pub fn end_stream(&mut self) -> bool {
        match self.target.take() {
            Some(t) => {
                t.close();
                true
            }
            None => false,
        }
    }

    /// Ends the stream when the request ends without a final event (cancelled).
    pub fn finish_silently(&mut self) {
        self.done = true;
        if let Some(t) = self.target.take() {
            t.close();
        }
    }

    /// Resumes after event `after` on a stream `open` opens with the replayed events as its first
    /// frames (written before anything queued, so a long replay is never cut by the queue bound),
    /// then keeps writing new events there, or ends it if the request is done. Under this log's
    /// lock, so no event slips between replay and attach.
    pub fn resume(
        &mut self,
        stream: u64,
        after: u64,
        open: &mut dyn FnMut(Vec<Frame>) -> Option<StreamHandle>,
    ) -> Result<usize, Gap> {
        let first_kept = self.events.front().map_or(self.next_seq, |(s, _)| *s);
        can_resume(after, first_kept, self.next_seq)?;
        let last_seq = self.next_seq - 1;
        let replay: Vec<Frame> = self
            .events
            .iter()
            .filter(|(s, _)| *s > after)
            .map(|(seq, json)| {
                let msg = Msg {
                    seq: *seq,
                    json: json.clone(),
                    id: Some(event_id(stream, *seq)),
                };
                if self.done && *seq == last_seq {
                    Frame::Final(msg)
                } else {
                    Frame::Message(msg)
                }
            })
            .collect();
        let n = replay.len();
        self.resumed = true;
        if let Some(old) = self.target.take() {
            old.close();
        }
        let Some(target) = open(replay) else {
            return Ok(n);
        };
        if self.done {
            target.close();
        } else {
            self.target = Some(target);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_rule() {
        // Events 5..=9 kept, 10 next.
        assert_eq!(can_resume(4, 5, 10), Ok(()), "saw 4: replay 5..=9");
        assert_eq!(can_resume(9, 5, 10), Ok(()), "saw all: replay nothing");
        assert_eq!(can_resume(3, 5, 10), Err(Gap::Evicted), "4 is gone");
        assert_eq!(can_resume(10, 5, 10), Err(Gap::Unknown), "never sent");
        assert_eq!(can_resume(0, 1, 1), Ok(()), "nothing logged yet");
    }

    #[test]
    fn event_ids_round_trip() {
        assert_eq!(parse_event_id(&event_id(12, 3)), Some((12, 3)));
        for bad in ["", "12", "a-1", "1-b", "-1"] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }
}
