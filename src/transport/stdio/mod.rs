//! MCP's stdio transport: newline-delimited JSON-RPC on a byte stream pair (the process's stdin
//! and stdout), one session for the life of the stream.
//!
//! It is a transport like the HTTP ones, not a second dispatcher: a line becomes messages for
//! the shared core, and every answer, notification and request of ours leaves through the one
//! send path. The session is an ordinary registered session (so `list_changed` announcements
//! reach it) of kind [`TransportKind::Stdio`], and everything it sends takes `Route::Session`:
//! its general channel, whose one stream is the stdout writer (`writer`). So all output is one
//! ordered, bounded backlog, paced by how fast the client reads, exactly as an SSE stream's.
//!
//! A stalled stdout never blocks request handling: handlers only queue onto the channel; the
//! writer alone blocks in `write`. While it is stuck, messages wait in the session's backlog
//! (`--stream-queue` on the writer's queue, then `--outbox-limit` messages and the session's
//! byte budget); beyond that the oldest are dropped, each loss counted and logged, as for an
//! HTTP client that stopped reading.
//!
//! The reader registers each request before queueing it on the worker pool (a cancellation on
//! the next line always finds it) and handles notifications and the client's answers to our
//! requests itself: they only hand values on, and a worker may be the one waiting for them.

mod batch;
mod modern;
mod queue;
mod writer;

use crate::dispatch::Core;
use crate::jsonrpc::{self, Body, ErrorObject, INVALID_REQUEST, Incoming, RequestId, Response};
use crate::ndjson::{Line, LineReader};
use crate::protocol::Revision;
use crate::session::{Outgoing, Route, Session, TransportKind};
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why serving ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The input reached its end: the client is done (or gone).
    Eof,
    /// Reading the input failed.
    InputError,
    /// Writing the output failed (the client closed its end).
    OutputClosed,
    /// [`StdioStop::stop`] was called (SIGTERM, or a library user).
    Stopped,
}

/// Ends a stdio server from another thread, as the end of its input would.
#[derive(Clone)]
pub struct StdioStop(Sender<End>);

impl StdioStop {
    /// Ends serving: running requests are cancelled and what was answered is written first.
    pub fn stop(&self) {
        let _ = self.0.send(End::Stopped);
    }
}

/// What ends the serving loop: the reader, the writer, or a stop.
pub struct Ending {
    tx: Sender<End>,
    rx: Receiver<End>,
}

impl Default for Ending {
    fn default() -> Self {
        let (tx, rx) = unbounded();
        Ending { tx, rx }
    }
}

impl Ending {
    pub fn stop_handle(&self) -> StdioStop {
        StdioStop(self.tx.clone())
    }
}

/// Serves one session on `input`/`output` until the input ends, the output fails or `ending` is
/// told to stop; then cancels what still runs, lets the last answers out (within
/// `--shutdown-grace-secs`) and returns. The reader thread is left behind if it is blocked in a
/// read that never returns (stdin of a client that neither writes nor closes); a process that
/// exits after this loses nothing by it.
pub fn serve(
    core: &Arc<Core>,
    input: Box<dyn Read + Send>,
    output: Box<dyn Write + Send>,
    ending: Ending,
) -> std::io::Result<End> {
    let session = core
        .sessions
        .create(TransportKind::Stdio, None, None)
        .map_err(|_| std::io::Error::other("no room for the stdio session (--max-sessions)"))?;
    let (handle, tail) = crate::sse::detached(core.config.stream_queue);
    let stream_id = handle.id;
    session.attach(handle.clone());
    let failed = ending.tx.clone();
    let on_failure = Box::new(move || {
        let _ = failed.send(End::OutputClosed);
    });
    let written = writer::start(tail, output, session.clone(), stream_id, on_failure)?;
    let running = modern::Running::default();
    let reader = Reader {
        core: core.clone(),
        session: session.clone(),
        modern: running.clone(),
    };
    let tx = ending.tx.clone();
    let max = core.config.max_body_bytes;
    std::thread::Builder::new()
        .name("stdio-reader".into())
        .spawn(move || {
            let end = reader.run(LineReader::new(input, max));
            let _ = tx.send(end);
        })?;
    log::info!("serving MCP on stdio (session {})", session.id);
    let end = ending.rx.recv().unwrap_or(End::Stopped);
    log::info!("stdio: {end:?}; shutting down");
    finish(core, (&session, &running), &handle, written, end);
    Ok(end)
}

/// Cancels the session's running requests (nobody waits for their answers any more), lets the
/// writer write what was answered, then ends the session.
fn finish(
    core: &Core,
    (session, modern): (&Arc<Session>, &modern::Running),
    handle: &crate::sse::StreamHandle,
    written: Receiver<()>,
    end: End,
) {
    let deadline = Instant::now() + core.config.shutdown_grace;
    core.runtime.begin_shutdown();
    let cancelled = session.cancel_all() + modern.cancel_all();
    if cancelled > 0 {
        log::info!("stdio: {cancelled} running request(s) cancelled");
    }
    let settled = || core.sessions.active_requests() == 0 && session.undelivered() == 0;
    while end != End::OutputClosed && !settled() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // After what is queued: the writer writes it, flushes and ends.
    handle.close();
    let left = deadline.saturating_duration_since(Instant::now());
    if end != End::OutputClosed && written.recv_timeout(left).is_err() {
        log::warn!("stdio: output not drained within --shutdown-grace-secs; giving up on it");
    }
    core.sessions.remove(&session.id);
    core.runtime.timer.stop();
}

/// The input side: lines to messages.
struct Reader {
    core: Arc<Core>,
    session: Arc<Session>,
    /// Requests of revision 2026-07-28 running now, by id (for `notifications/cancelled`).
    modern: modern::Running,
}

impl Reader {
    fn run(&self, mut lines: LineReader<Box<dyn Read + Send>>) -> End {
        loop {
            match lines.next_line() {
                Ok(Some(Line::Message(bytes))) => self.line(&bytes),
                Ok(Some(Line::TooLong { bytes })) => {
                    log::warn!("stdio: a line of {bytes} bytes skipped (--max-body-bytes)");
                    self.refuse(
                        None,
                        ErrorObject::new(
                            INVALID_REQUEST,
                            format!(
                                "Invalid Request: message of {bytes} bytes is over the limit of {} (--max-body-bytes); skipped",
                                self.core.config.max_body_bytes
                            ),
                        ),
                    );
                }
                Ok(None) => return End::Eof,
                Err(e) => {
                    log::error!("stdio: reading the input failed: {e}");
                    return End::InputError;
                }
            }
        }
    }

    fn line(&self, bytes: &[u8]) {
        match jsonrpc::parse_body(bytes) {
            Err(rejection) => self.send(rejection.to_response()),
            Ok(Body::Single(msg)) if modern::is_modern(&msg) => {
                modern::serve(&self.core, &self.session, &self.modern, msg)
            }
            Ok(Body::Single(msg)) => self.message(msg, &Route::Session),
            Ok(Body::Batch(msgs)) => self.batch(msgs),
        }
    }

    /// A batch, in the revision that has them (2025-03-26): one answer line holding every
    /// response, as an array.
    fn batch(&self, msgs: Vec<Incoming>) {
        let refused = |m: &str| ErrorObject::new(INVALID_REQUEST, format!("Invalid Request: {m}"));
        if msgs
            .iter()
            .any(|m| matches!(m, Incoming::Request(r) if r.method == "initialize"))
        {
            return self.refuse(None, refused("initialize must not be part of a batch"));
        }
        if self.session.revision() != Some(Revision::V2025_03_26) {
            return self.refuse(
                None,
                refused("batches are not supported in this protocol revision"),
            );
        }
        let requests = msgs
            .iter()
            .filter(|m| matches!(m, Incoming::Request(_)))
            .count();
        let route = batch::route(&self.session, requests);
        for m in msgs {
            self.message(m, &route);
        }
    }

    /// One message: a request is registered, then queued for a worker; anything else is handled
    /// here.
    fn message(&self, msg: Incoming, route: &Route) {
        if let Incoming::Notification(n) = &msg
            && n.method == "notifications/cancelled"
            && self.modern.cancel(&n.params)
        {
            return;
        }
        let id = match &msg {
            // The handshake is answered before the next line is read: a client that sends its
            // first requests without waiting for the answer finds the session initialized.
            Incoming::Request(r) if r.method == "initialize" => {
                return self.core.handle(&self.session, msg, route);
            }
            Incoming::Request(r) => r.id.clone(),
            _ => return self.core.handle(&self.session, msg, route),
        };
        let received = self.core.receive(&self.session, msg);
        queue::submit(&self.core, &self.session, route.clone(), id, received);
    }

    fn refuse(&self, id: Option<RequestId>, e: ErrorObject) {
        self.send(Response::error(id, e));
    }

    fn send(&self, response: Response) {
        let json: Arc<str> = response.to_json().into();
        self.session.send(&Route::Session, Outgoing::message(json));
    }
}
