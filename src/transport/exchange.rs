//! How a Streamable HTTP POST gets its answers: one JSON body written when the last response is
//! in, or an SSE stream kept in a bounded log so that a client that lost it can resume.

use crate::http::{Reply, Request};
use crate::jsonrpc::{ErrorObject, RequestId, Response};
use crate::replay::{Gap, SessionBuffers, StreamLog};
use crate::session::{Exchange, Outgoing};
use crate::sse::{self, StreamHandle};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The error a JSON answer to a cancelled request carries.
const REQUEST_CANCELLED: i64 = -32800;

/// A POST answered with one JSON body once every request in it has its response.
pub struct JsonExchange {
    pending: Mutex<Option<Pending>>,
    expected: usize,
    batch: bool,
}

struct Pending {
    req: Request,
    headers: Vec<(String, String)>,
    answers: Vec<Arc<str>>,
}

impl JsonExchange {
    /// Answers `req` with `headers` once `expected` responses are in; `batch` answers with an
    /// array even for one.
    pub fn new(
        req: Request,
        headers: Vec<(String, String)>,
        expected: usize,
        batch: bool,
    ) -> JsonExchange {
        JsonExchange {
            pending: Mutex::new(Some(Pending {
                req,
                headers,
                answers: Vec::with_capacity(expected),
            })),
            expected,
            batch,
        }
    }
}

impl Exchange for JsonExchange {
    /// A JSON body cannot stay silent, so a cancelled request is answered with -32800 (what the
    /// official Python SDK sends; the client has stopped waiting and ignores it).
    fn cancelled(&self, id: &RequestId) {
        let e = ErrorObject::new(REQUEST_CANCELLED, "Request cancelled");
        self.deliver(&Outgoing::answer(id, &Response::error(Some(id.clone()), e)));
    }

    fn streams(&self) -> bool {
        false
    }

    fn deliver(&self, msg: &Outgoing) -> bool {
        if msg.answers.is_none() {
            // A JSON body has no room for messages before the result; such requests get SSE.
            log::debug!("a notification for a JSON exchange was dropped");
            return true;
        }
        let mut guard = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some(p) = guard.as_mut() else {
            return false;
        };
        p.answers.push(msg.json.clone());
        if p.answers.len() < self.expected {
            return true;
        }
        let Some(p) = guard.take() else { return false };
        drop(guard);
        let body = if self.batch {
            format!(
                "[{}]",
                p.answers.iter().map(|a| &**a).collect::<Vec<_>>().join(",")
            )
        } else {
            p.answers.first().map(|a| a.to_string()).unwrap_or_default()
        };
        Reply::json(200, body).headers(&p.headers).send(p.req);
        true
    }
}

/// A POST answered with an SSE stream that ends after the last response. Its events have ids
/// and stay in a bounded log, so a client that lost the stream (or that the server sent away
/// early) resumes it with `GET` + `Last-Event-ID`.
pub struct SseExchange {
    stream: u64,
    remaining: AtomicUsize,
    log: Mutex<StreamLog>,
}

impl SseExchange {
    /// Stream number `stream` of its session, ending after `requests` responses, keeping at most
    /// `replay_events` events for resumption.
    pub fn new(stream: u64, requests: usize, replay_events: usize) -> SseExchange {
        SseExchange {
            stream,
            remaining: AtomicUsize::new(requests),
            log: Mutex::new(StreamLog::new(replay_events)),
        }
    }

    /// Hands the log the stream its events go to first (until a resume replaces it).
    pub fn attach_first(&self, handle: StreamHandle) {
        self.log().attach_first(handle);
    }

    fn log(&self) -> MutexGuard<'_, StreamLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Exchange for SseExchange {
    /// The stream ends without the cancelled request's result.
    fn cancelled(&self, _id: &RequestId) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.log().finish_silently();
        }
    }

    fn streams(&self) -> bool {
        true
    }

    fn end_stream(&self) -> bool {
        self.log().end_stream()
    }

    fn resume(
        &self,
        after: u64,
        open: &mut dyn FnMut(Vec<sse::Frame>) -> Option<StreamHandle>,
    ) -> Result<usize, Gap> {
        self.log().resume(self.stream, after, open)
    }

    fn can_resume(&self) -> bool {
        true
    }

    fn keep_within(&self, buffers: Arc<SessionBuffers>) {
        self.log().keep_within(buffers);
    }

    fn release(&self, counted: bool) {
        self.log().release(counted);
    }

    /// Every message is logged, so one the client could not take now is not lost: it gets it
    /// when it resumes.
    fn deliver(&self, msg: &Outgoing) -> bool {
        let last = msg.answers.is_some() && self.remaining.fetch_sub(1, Ordering::AcqRel) == 1;
        self.log().push(self.stream, msg.json.clone(), last);
        true
    }
}
