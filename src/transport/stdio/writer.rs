//! The one thread that writes stdout: it drains the session's general stream, writing each
//! message as one line. Nothing else in the process writes there, so every line a client reads
//! is a whole JSON-RPC message (keepalive comments and the shutdown event, which only SSE has a
//! way to say, are dropped here).

use crate::ndjson::write_line;
use crate::session::Session;
use crate::sse::{Frame, Tail};
use crossbeam_channel::{Receiver, bounded};
use std::io::Write;
use std::sync::Arc;

/// Most messages written in one `write` when several are queued.
const BATCH: usize = 64;

/// Starts the writer; the receiver it returns gets `()` once the stream was closed and all that
/// was queued before was written and flushed. A failed write calls `on_failure` (which ends
/// serving).
pub(super) fn start(
    tail: Tail,
    mut out: Box<dyn Write + Send>,
    session: Arc<Session>,
    stream_id: u64,
    on_failure: Box<dyn FnOnce() + Send>,
) -> std::io::Result<Receiver<()>> {
    let (done_tx, done_rx) = bounded(1);
    std::thread::Builder::new()
        .name("stdio-writer".into())
        .spawn(move || match drain(&tail, &mut out, &session, stream_id) {
            Ok(()) => {
                let _ = done_tx.send(());
            }
            Err(e) => {
                log::info!("stdio: writing the output failed ({e}); the client is gone");
                tail.close();
                on_failure();
            }
        })?;
    Ok(done_rx)
}

/// Writes until the stream is closed. Each wake-up writes everything queued (up to `BATCH`) in
/// one `write` and flushes, so a message reaches the client as soon as it is ready.
fn drain(
    tail: &Tail,
    out: &mut dyn Write,
    session: &Session,
    stream_id: u64,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Ok(first) = tail.rx.recv() {
        let mut closing = false;
        for frame in std::iter::once(first).chain(tail.rx.try_iter().take(BATCH - 1)) {
            match frame {
                Frame::Message(m) | Frame::Final(m) => {
                    if let Err(e) = write_line(&mut buf, &m.json) {
                        log::error!("stdio: a message was not sent: {e}");
                    }
                }
                Frame::Close => {
                    closing = true;
                    break;
                }
                Frame::Event { .. } | Frame::Comment(_) | Frame::Priming { .. } | Frame::Resume => {
                }
            }
        }
        if !buf.is_empty() {
            out.write_all(&buf)?;
            out.flush()?;
            buf.clear();
        }
        if closing {
            break;
        }
        // Room was made: the session hands over what waited in its backlog.
        if tail.take_refill() {
            session.refill(stream_id);
        }
    }
    out.flush()
}
