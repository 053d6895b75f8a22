//! Resumable streams: every message event of a POST's SSE answer has an id `<stream>-<seq>`
//! (unique in the session, naming its stream), and each such stream keeps a bounded log of its
//! events (`--replay-events`). A client whose stream was cut, or ended early by the server
//! (2025-11-25 SSE polling), reconnects with `GET` + `Last-Event-ID` and receives exactly the
//! events of that stream after that id, then the rest as it comes: never events of another
//! stream, never one twice.
//!
//! What is kept for a client (these logs, and the general channel's log and outbox) is held to
//! byte budgets as well as counts: each session's (`--session-buffer-bytes`, [`SessionBuffers`])
//! and the whole server's (`--buffer-bytes`). Every kept message carries a [`Charge`] that gives
//! its bytes back when it is dropped, whatever drops it (eviction, delivery, the session ending),
//! so the accounting cannot drift from what is actually held.

use crate::decimal::Decimal;
use crate::metrics::Metrics;
use crate::sse::{Frame, Msg, Push, StreamHandle};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One session's share of its server's budget for kept messages, and where its losses are
/// counted and logged (with the session's id, which the logs of its POST streams do not know).
pub(crate) struct SessionBuffers {
    sid: String,
    used: AtomicUsize,
    metrics: Arc<Metrics>,
}

impl SessionBuffers {
    pub(crate) fn new(sid: String, metrics: Arc<Metrics>) -> Arc<SessionBuffers> {
        Arc::new(SessionBuffers {
            sid,
            used: AtomicUsize::new(0),
            metrics,
        })
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Bytes this session keeps now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether `bytes` could be kept at all: a message larger than a budget is never kept, and
    /// must not evict everything older on its way to failing.
    pub(crate) fn could_fit(&self, bytes: usize) -> bool {
        self.metrics.buffers.could_fit(bytes)
    }

    /// Takes `bytes` from this session's budget and the server's; `None` (nothing taken) when
    /// either is full, and the caller evicts its oldest and tries again.
    pub(crate) fn charge(self: &Arc<Self>, bytes: usize) -> Option<Charge> {
        let limit = self.metrics.buffers.session_limit();
        let before = self.used.fetch_add(bytes, Ordering::AcqRel);
        if before.saturating_add(bytes) > limit || !self.metrics.buffers.try_reserve(bytes) {
            self.used.fetch_sub(bytes, Ordering::AcqRel);
            return None;
        }
        Some(Charge {
            owner: self.clone(),
            bytes,
        })
    }

    /// `n` messages no client will receive: counted and logged with the session.
    pub(crate) fn dropped(&self, n: usize, why: &str) {
        if n == 0 {
            return;
        }
        self.metrics
            .events_dropped
            .fetch_add(n as u64, Ordering::Relaxed);
        log::warn!("session {}: {n} message(s) dropped ({why})", self.sid);
    }

    /// `n` events evicted from a replay log: a resume after them becomes a gap.
    pub(crate) fn evicted(&self, n: usize, why: &str) {
        if n == 0 {
            return;
        }
        self.metrics
            .events_evicted
            .fetch_add(n as u64, Ordering::Relaxed);
        log::debug!(
            "session {}: {n} event(s) evicted from a replay log ({why})",
            self.sid
        );
    }
}

/// The bytes of one kept message, given back to its session's and its server's budgets when
/// dropped.
pub(crate) struct Charge {
    owner: Arc<SessionBuffers>,
    bytes: usize,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.owner.used.fetch_sub(self.bytes, Ordering::AcqRel);
        self.owner.metrics.buffers.release(self.bytes);
    }
}

/// The event id of event `seq` of stream `stream`.
pub(crate) fn event_id(stream: u64, seq: u64) -> Arc<str> {
    event_id_in("", stream, seq)
}

/// The event id of event `seq` of stream `stream`, after `prefix` (a seed session's general
/// channel: `<session id>.<secret>.`).
pub(crate) fn event_id_in(prefix: &str, stream: u64, seq: u64) -> Arc<str> {
    let (stream, seq) = (Decimal::new(stream), Decimal::new(seq));
    let mut id =
        String::with_capacity(prefix.len() + stream.as_bytes().len() + 1 + seq.as_bytes().len());
    id.push_str(prefix);
    id.push_str(stream.as_str());
    id.push('-');
    id.push_str(seq.as_str());
    id.into()
}

/// A seed event id's parts: the session id, its secret and the `<stream>-<seq>` rest; `None`
/// for an id of another form (`0-5`).
pub(crate) fn split_seed_event_id(id: &str) -> Option<(&str, &str, &str)> {
    // From the right: a session id may itself hold a dot (`<instance>.<uuid>`, `--instance-id`);
    // the secret and the `0-<seq>` part never do.
    let mut parts = id.trim().rsplitn(3, '.');
    let (rest, secret, sid) = (parts.next()?, parts.next()?, parts.next()?);
    (!sid.is_empty() && !secret.is_empty()).then_some((sid, secret, rest))
}

/// An event id fit for a log line: a seed id's secret is left out.
pub(crate) fn redacted_event_id(id: &str) -> String {
    match split_seed_event_id(id) {
        Some((sid, _, rest)) => format!("{sid}.<secret>.{rest}"),
        None => id.to_string(),
    }
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

/// One logged event of a POST stream.
struct Logged {
    seq: u64,
    json: Arc<str>,
    /// Handed to a stream already; evicting one that was not loses it (a drop, not only an
    /// eviction).
    delivered: bool,
    /// `None` while the log is not yet held to a session's budget.
    _charge: Option<Charge>,
}

/// One resumable stream: its log, and the SSE stream it is being written to now, if any.
pub(crate) struct StreamLog {
    cap: usize,
    events: VecDeque<Logged>,
    /// The session budget the log is held to, once its session keeps it resumable.
    buffers: Option<Arc<SessionBuffers>>,
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
            buffers: None,
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

    /// Holds the log to its session's byte budget (and counts its losses there); nothing is
    /// logged before, since the session binds it before the stream's first event.
    pub fn keep_within(&mut self, buffers: Arc<SessionBuffers>) {
        self.buffers = Some(buffers);
    }

    /// Lets go of every logged event (the session ended, or no longer keeps this stream
    /// resumable); `counted` counts them as evicted, and those never delivered as dropped.
    pub fn release(&mut self, counted: bool) {
        if counted {
            while self.evict_oldest("the session keeps newer streams") {}
        } else {
            self.events.clear();
        }
    }

    /// Evicts the oldest logged event, counting it; false if the log is empty.
    fn evict_oldest(&mut self, why: &str) -> bool {
        let Some(old) = self.events.pop_front() else {
            return false;
        };
        if let Some(b) = &self.buffers {
            b.evicted(1, why);
            if !old.delivered {
                b.dropped(1, why);
            }
        }
        true
    }

    /// Logs an event of stream `stream` and writes it to the current target; `last` ends the
    /// stream after it. False if no client received it now (it waits in the log). The oldest
    /// events make room for it (`--replay-events`, the byte budgets); one that cannot fit even
    /// then is not logged, and is lost if no client took it now.
    pub fn push(&mut self, stream: u64, json: Arc<str>, last: bool) -> bool {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.done |= last;
        let msg = Msg {
            seq,
            json: json.clone(),
            id: Some(event_id(stream, seq)),
        };
        let frame = if last {
            Frame::Final(msg)
        } else {
            // Something before the result: the client needs it now, not when the handler returns.
            if let Some(t) = &self.target {
                t.start_writer();
            }
            Frame::Message(msg)
        };
        let delivered = match &self.target {
            Some(t) if t.push(frame) == Push::Queued => true,
            Some(t) => {
                t.close();
                self.target = None;
                false
            }
            None => false,
        };
        if self.events.len() >= self.cap {
            self.evict_oldest("--replay-events");
        }
        let charge = match self.buffers.clone() {
            None => None,
            Some(b) => {
                let charge = b.could_fit(json.len()).then(|| {
                    loop {
                        if let Some(c) = b.charge(json.len()) {
                            break Some(c);
                        }
                        if !self.evict_oldest("byte budget") {
                            break None;
                        }
                    }
                });
                match charge.flatten() {
                    Some(c) => Some(c),
                    None => {
                        b.evicted(1, "larger than the byte budget");
                        if !delivered {
                            b.dropped(1, "larger than the byte budget");
                        }
                        return delivered;
                    }
                }
            }
        };
        self.events.push_back(Logged {
            seq,
            json,
            delivered,
            _charge: charge,
        });
        delivered
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
        let first_kept = self.events.front().map_or(self.next_seq, |e| e.seq);
        can_resume(after, first_kept, self.next_seq)?;
        let last_seq = self.next_seq - 1;
        let replay: Vec<Frame> = self
            .events
            .iter()
            .filter(|e| e.seq > after)
            .map(|e| {
                let msg = Msg {
                    seq: e.seq,
                    json: e.json.clone(),
                    id: Some(event_id(stream, e.seq)),
                };
                if self.done && e.seq == last_seq {
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
        self.events
            .iter_mut()
            .filter(|e| e.seq > after)
            .for_each(|e| e.delivered = true);
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
    use std::sync::atomic::Ordering;

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
    fn a_stream_log_is_held_to_its_session_budget() {
        let metrics = Arc::new(Metrics::new().with_buffer_limits(20, 1 << 20));
        let buffers = SessionBuffers::new("s".into(), metrics.clone());
        let mut log = StreamLog::new(100);
        log.keep_within(buffers.clone());
        // No client attached: every event waits in the log, and an evicted one is lost.
        for i in 0..4 {
            assert!(!log.push(1, format!("event-{i}-").into(), false));
        }
        let kept: Vec<u64> = log.events.iter().map(|e| e.seq).collect();
        assert_eq!(kept, [3, 4], "the oldest went first");
        assert_eq!(buffers.used(), 16);
        assert_eq!(metrics.events_evicted.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 2);
        assert_eq!(
            log.resume(1, 1, &mut |_| None),
            Err(Gap::Evicted),
            "a resume before them is a gap"
        );
        log.release(false);
        assert_eq!((buffers.used(), metrics.buffers.used()), (0, 0));
    }

    #[test]
    fn seed_event_ids_split_from_the_right() {
        assert_eq!(split_seed_event_id("s.k.0-5"), Some(("s", "k", "0-5")));
        assert_eq!(
            split_seed_event_id("node-1.s.k.0-5"),
            Some(("node-1.s", "k", "0-5")),
            "an instance-prefixed session id keeps its dot"
        );
        for other in ["0-5", "k.0-5", ".k.0-5", "s..0-5"] {
            assert_eq!(split_seed_event_id(other), None, "{other}");
        }
    }

    #[test]
    fn event_ids_round_trip() {
        assert_eq!(parse_event_id(&event_id(12, 3)), Some((12, 3)));
        for bad in ["", "12", "a-1", "1-b", "-1"] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }
}
