//! The typed exchange the transports see: a parsed [`Request`] (head and complete body) and the
//! [`Reply`] or hand-over (a response that takes the connection over) it is answered with.
//!
//! A request is handled on its connection's thread, and answered by handing an [`Outcome`] back
//! through the request; the connection thread writes it once the handler has returned (and given
//! its worker permit back). So a client that stops reading can only ever hold its own connection
//! thread. The one exception is a stream its handler needs running early ([`Launch`]).

use super::fields::Fields;
use super::handover::Handover;
use std::net::SocketAddr;
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

/// The request methods the server routes on; anything else is `Other` and gets 405.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `PATCH`
    Patch,
    /// Any other method.
    Other,
}

impl Method {
    /// The method named by a request line (case-sensitive, as HTTP methods are).
    pub fn parse(s: &str) -> Method {
        match s {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }

    /// The method's name (`other` for unknown ones, a closed set for metric labels).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Other => "other",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a handler hands back to the connection thread.
pub(crate) enum Outcome {
    Reply(Reply),
    /// A reply, then work the connection thread does once it is written: a 202 must reach the
    /// client before the messages it accepted are handled (their answers travel on a stream).
    ReplyThen(Reply, Box<dyn FnOnce() + Send>),
    /// The connection thread becomes this response's writer until it ends.
    Handover(Box<dyn Handover>),
}

/// What the connection thread finds once its request was handled.
pub(crate) enum Answer {
    /// The outcome to write; `None` if the request was dropped unanswered.
    Outcome(Option<Outcome>),
    /// The hand-over was started on a thread of its own while the handler still ran (see
    /// [`Launch`]) and has ended: true when cleanly, so the connection may carry on.
    Ran(bool),
}

enum State {
    Waiting,
    Ready(Option<Outcome>),
    /// A hand-over runs on a thread of its own; the connection waits for it to end.
    Launched,
    Ended(bool),
}

/// Where a request's one answer is left for the connection thread waiting on it.
///
/// A mutex and condition variable, not a channel: the waiter parks at once, whereas a channel's
/// receive spins and yields before parking, taking the CPU from the very thread that is producing
/// the answer (measured on a one-core server: that spinning was 12 % of its time under load).
pub(crate) struct AnswerSlot {
    state: Mutex<Slot>,
    ready: Condvar,
}

/// The answer's state, and whether the connection thread waits for it: a handler that ran on
/// that thread answers before it waits, and then no wake-up (a system call) is needed.
struct Slot {
    state: State,
    waiting: bool,
}

impl AnswerSlot {
    pub fn new() -> Arc<AnswerSlot> {
        Arc::new(AnswerSlot {
            state: Mutex::new(Slot {
                state: State::Waiting,
                waiting: false,
            }),
            ready: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The answer, once there is one (at once when the handler ran on this thread).
    pub fn wait(&self) -> Answer {
        let mut slot = self.lock();
        loop {
            match std::mem::replace(&mut slot.state, State::Waiting) {
                State::Ready(answer) => return Answer::Outcome(answer),
                State::Ended(clean) => return Answer::Ran(clean),
                other @ (State::Waiting | State::Launched) => slot.state = other,
            }
            slot.waiting = true;
            slot = self.ready.wait(slot).unwrap_or_else(|p| p.into_inner());
            slot.waiting = false;
        }
    }

    fn put(&self, answer: Option<Outcome>) {
        let mut slot = self.lock();
        if matches!(slot.state, State::Waiting) {
            slot.state = State::Ready(answer);
        }
        self.wake(slot);
    }

    fn ended(&self, clean: bool) {
        let mut slot = self.lock();
        slot.state = State::Ended(clean);
        self.wake(slot);
    }

    fn wake(&self, slot: MutexGuard<'_, Slot>) {
        let waiting = slot.waiting;
        drop(slot);
        if waiting {
            self.ready.notify_one();
        }
    }
}

/// The sending half: answers once, or on drop tells the waiter there will be no answer.
pub(crate) struct AnswerTx {
    slot: Option<Arc<AnswerSlot>>,
    /// The connection, for a hand-over that must start before its handler returns.
    socket: Option<(Arc<TcpStream>, bool)>,
}

impl AnswerTx {
    pub fn new(slot: &Arc<AnswerSlot>) -> AnswerTx {
        AnswerTx {
            slot: Some(slot.clone()),
            socket: None,
        }
    }

    /// An answer whose hand-over may be started on another thread (see [`Launch`]); `chunked`
    /// as [`Handover::run`] takes it.
    pub fn launchable(mut self, socket: Arc<TcpStream>, chunked: bool) -> AnswerTx {
        self.socket = Some((socket, chunked));
        self
    }

    fn send(mut self, outcome: Outcome) {
        if let Some(slot) = self.slot.take() {
            slot.put(Some(outcome));
        }
    }
}

impl Drop for AnswerTx {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.put(None);
        }
    }
}

/// Starts a hand-over that is still waiting for its connection thread, on a thread of its own.
///
/// Handlers run on the connection's thread, which becomes a stream's writer only when the handler
/// returns. Most streams need nothing sooner: their one answer is queued by then, and the whole
/// stream is written with no other thread woken. A handler that sends something before its result
/// (progress, a log, a request to the client that it then waits for) needs the writer running
/// now; its stream calls this, and the connection thread, once the handler returns, waits for
/// that writer to end instead of writing itself.
#[derive(Clone)]
pub struct Launch {
    slot: Arc<AnswerSlot>,
    /// Weak: a stream's handle may outlive its connection, and must not keep the socket open.
    socket: Weak<TcpStream>,
    chunked: bool,
}

/// Stack of a writer started by [`Launch`], as for a connection thread (see `listener`).
const WRITER_STACK: usize = 256 * 1024;

impl Launch {
    /// Starts the writer unless it runs already (or its connection thread took it).
    pub fn start(&self) {
        // Gone when the connection ended: then there is nothing left to start.
        let Some(socket) = self.socket.upgrade() else {
            return;
        };
        let job = {
            let mut slot = self.slot.lock();
            match std::mem::replace(&mut slot.state, State::Launched) {
                State::Ready(Some(Outcome::Handover(job))) => job,
                other => {
                    slot.state = other;
                    return;
                }
            }
        };
        let (slot, chunked) = (self.slot.clone(), self.chunked);
        let spawned = std::thread::Builder::new()
            .name("stream-writer".into())
            .stack_size(WRITER_STACK)
            .spawn(move || {
                let run = std::panic::AssertUnwindSafe(|| job.run(&socket, chunked));
                let clean = std::panic::catch_unwind(run).unwrap_or(false);
                slot.ended(clean);
            });
        if let Err(e) = spawned {
            // The job went with the closure: the stream is closed and so is the connection.
            log::error!("could not start a stream writer: {e}; the connection is closed");
            self.slot.ended(false);
        }
    }
}

/// One HTTP request with its complete body, and the way back to its connection.
///
/// Dropping a request without answering it makes its connection answer 500, so no client waits
/// for an answer that will never come.
pub struct Request {
    pub(crate) method: Method,
    /// The target and header fields.
    pub(crate) head: Fields,
    pub(crate) body: Vec<u8>,
    /// The TCP peer, from `accept()`: what the per-client session cap counts by.
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) answer: Option<AnswerTx>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("target", &self.head.target())
            .finish_non_exhaustive()
    }
}

impl Request {
    /// The request method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The request target as sent (path and query).
    pub fn url(&self) -> &str {
        self.head.target()
    }

    /// The request target's path (no query).
    pub fn path(&self) -> &str {
        super::target::path(self.head.target())
    }

    /// The first header of that name (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.first(name).map(str::trim_ascii)
    }

    /// Every header of that name, in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.head.values(name)
    }

    /// The complete request body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the body out (a parked request does not keep it).
    pub fn take_body(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }

    /// The client's address as the socket saw it (a reverse proxy's own, behind one); no
    /// forwarded header is read.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Answers with a complete reply.
    pub fn respond(mut self, reply: Reply) {
        if let Some(tx) = self.answer.take() {
            tx.send(Outcome::Reply(reply));
        }
    }

    /// Hands the connection over to `job`, which writes the whole response on the connection's
    /// thread (counted as a 200 answer: every such response starts with one).
    /// The [`Launch`] starts it before the handler returns, when the handler needs it to.
    pub(crate) fn hand_over(mut self, job: impl Handover) -> Option<Launch> {
        let tx = self.answer.take()?;
        let launch = match (&tx.slot, &tx.socket) {
            (Some(slot), Some((socket, chunked))) => Some(Launch {
                slot: slot.clone(),
                socket: Arc::downgrade(socket),
                chunked: *chunked,
            }),
            _ => None,
        };
        tx.send(Outcome::Handover(Box::new(job)));
        launch
    }

    /// Answers with `reply`, then has the connection thread run `then` once it is written.
    pub(crate) fn respond_then(mut self, reply: Reply, then: Box<dyn FnOnce() + Send>) {
        match self.answer.take() {
            Some(tx) => tx.send(Outcome::ReplyThen(reply, then)),
            None => then(),
        }
    }
}

/// A complete (non-streaming) HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Header fields, in order (`Content-Length`, `Date` and `Connection` are written by the server).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// An empty answer with this status.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: String) -> Reply {
        Reply::new(status)
            .header("Content-Type", "application/json")
            .body(body.into_bytes())
    }

    /// Adds a header field.
    pub fn header(mut self, k: impl Into<String>, v: impl Into<String>) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }

    /// Adds header fields.
    pub fn headers(mut self, hs: &[(String, String)]) -> Reply {
        self.headers.extend_from_slice(hs);
        self
    }

    /// Sets the body.
    pub fn body(mut self, b: Vec<u8>) -> Reply {
        self.body = b;
        self
    }

    /// Whether this reply asks for the connection to be closed after it.
    pub fn closes(&self) -> bool {
        self.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("Connection")
                && v.split(',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case("close"))
        })
    }

    /// Sends this reply as the answer to `req`.
    pub fn send(self, req: Request) {
        req.respond(self)
    }
}

/// The standard reason phrase (clients ignore it, people reading captures do not).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
