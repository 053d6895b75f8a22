//! One long-lived stdio child: started with the hygiene of [`ChildSpec::command`], fed one line
//! at a time by its own writer thread, read line by line by the thread that started it, its
//! stderr sent to the log with every line capped.
//!
//! The thread that spawns the child also reads its stdout and reaps it: the parent-death signal
//! follows the spawning thread, so that thread must outlive the child, and the reader does (it
//! ends only after the child's stdout has closed and the child is reaped). A child that closes
//! stdout is over for us: its whole group is killed then.

use crate::child::ChildSpec;
use crate::ndjson::{Line, LineReader};
use crossbeam_channel::{Sender, TrySendError};
use rustix::process::{Pid, Signal};
use std::io::{self, Write};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Lines waiting for the child to read them; past this a child that stopped reading makes
/// forwarding fail (answered with an error) rather than block a worker or grow without bound.
const STDIN_QUEUE: usize = 1024;
/// Longest stderr line logged whole; a longer one is logged as its first bytes and its length.
const STDERR_LINE: usize = 4096;
/// Thread stacks: the threads only move lines.
const STACK: usize = 256 * 1024;

/// A running child process. Dropping it does not stop it: [`Child::kill`] does, and the child's
/// stdout ending does.
pub(super) struct Child {
    pid: Pid,
    stdin: Mutex<Option<Sender<String>>>,
    killed: AtomicBool,
}

impl Child {
    /// Starts the child. `on_line` gets each stdout line of at most `max_line` bytes (a longer
    /// one is logged and skipped); `on_exit` runs once, after the child's stdout closed, its
    /// group was killed and the child reaped, with whether [`Child::kill`] was called first.
    pub(super) fn start(
        spec: &ChildSpec,
        max_line: usize,
        mut on_line: impl FnMut(Vec<u8>) + Send + 'static,
        on_exit: impl FnOnce(bool) + Send + 'static,
    ) -> io::Result<Arc<Child>> {
        let mut cmd = spec.command(Stdio::piped(), Stdio::piped(), Stdio::piped())?;
        let (started_tx, started_rx) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name("gateway-child".into())
            .stack_size(STACK)
            .spawn(move || {
                let mut proc = match cmd.spawn() {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                let (Some(stdin), Some(stdout), Some(stderr), Some(pid)) = (
                    proc.stdin.take(),
                    proc.stdout.take(),
                    proc.stderr.take(),
                    Pid::from_raw(proc.id() as i32),
                ) else {
                    let _ = proc.kill();
                    let _ = proc.wait();
                    let _ = started_tx.send(Err(io::Error::other("child without pipes")));
                    return;
                };
                let child = Arc::new(Child {
                    pid,
                    stdin: Mutex::new(Some(writer(stdin, pid))),
                    killed: AtomicBool::new(false),
                });
                log_stderr(stderr, pid);
                if started_tx.send(Ok(child.clone())).is_err() {
                    child.kill();
                }
                let mut lines = LineReader::new(stdout, max_line);
                loop {
                    match lines.next_line() {
                        Ok(Some(Line::Message(bytes))) => on_line(bytes),
                        Ok(Some(Line::TooLong { bytes })) => log::warn!(
                            "gateway child {}: a line of {bytes} bytes is over the limit ({max_line}); skipped",
                            pid.as_raw_nonzero()
                        ),
                        Ok(None) | Err(_) => break,
                    }
                }
                // The leader is not reaped yet, so its pid still names the group: kill what is
                // left of it (the child itself, or what it started), then reap.
                signal_group(pid, Signal::KILL);
                let status = proc.wait();
                child.close_stdin();
                let killed = child.killed.load(Ordering::Acquire);
                log::info!(
                    "gateway child {} ended{}: {}",
                    pid.as_raw_nonzero(),
                    if killed { " (stopped)" } else { "" },
                    status.map_or_else(|e| e.to_string(), |s| s.to_string())
                );
                on_exit(killed);
            })?;
        started_rx
            .recv()
            .map_err(|_| io::Error::other("the child's thread ended before it started"))?
    }

    pub(super) fn pid(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    /// Queues one line for the child's stdin; false when the child is gone or stopped reading.
    pub(super) fn send(&self, line: String) -> bool {
        let guard = self.stdin.lock().unwrap_or_else(|p| p.into_inner());
        let Some(tx) = guard.as_ref() else {
            return false;
        };
        match tx.try_send(line) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                log::warn!(
                    "gateway child {}: {STDIN_QUEUE} lines waiting on its stdin; a message was refused",
                    self.pid.as_raw_nonzero()
                );
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Stops the child: its stdin closes and its whole process group is killed. Idempotent; the
    /// reader thread reaps it and runs `on_exit`.
    pub(super) fn kill(&self) {
        if self.killed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.close_stdin();
        // The reader reaps the leader only after its stdout closed, which the kill causes, so the
        // pid still names the group here.
        signal_group(self.pid, Signal::KILL);
    }

    fn close_stdin(&self) {
        self.stdin.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// The writer thread: one line and its newline per message, flushed; ends when the queue's
/// senders are gone or the child's stdin is closed.
fn writer(mut stdin: std::process::ChildStdin, pid: Pid) -> Sender<String> {
    let (tx, rx) = crossbeam_channel::bounded::<String>(STDIN_QUEUE);
    let spawned = std::thread::Builder::new()
        .name("gateway-stdin".into())
        .stack_size(STACK)
        .spawn(move || {
            for line in rx {
                if crate::ndjson::write_line(&mut stdin, &line)
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    log::debug!("gateway child {}: stdin closed", pid.as_raw_nonzero());
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        log::error!("gateway: no thread for a child's stdin: {e}");
    }
    tx
}

/// The child's stderr, line by line, into the log (each line cut to [`STDERR_LINE`] bytes).
fn log_stderr(stderr: std::process::ChildStderr, pid: Pid) {
    let spawned = std::thread::Builder::new()
        .name("gateway-stderr".into())
        .stack_size(STACK)
        .spawn(move || {
            let mut lines = LineReader::new(stderr, STDERR_LINE);
            let pid = pid.as_raw_nonzero();
            while let Ok(Some(line)) = lines.next_line() {
                match line {
                    Line::Message(b) => log::info!(
                        "gateway child {pid} stderr: {}",
                        String::from_utf8_lossy(&b)
                    ),
                    Line::TooLong { bytes } => {
                        log::info!(
                            "gateway child {pid} stderr: [a line of {bytes} bytes, not shown]"
                        )
                    }
                }
            }
        });
    if let Err(e) = spawned {
        log::error!("gateway: no thread for a child's stderr: {e}");
    }
}

/// Signals the group led by `leader` (not yet reaped), or the leader alone if it has no group.
fn signal_group(leader: Pid, signal: Signal) {
    if rustix::process::kill_process_group(leader, signal).is_err() {
        let _ = rustix::process::kill_process(leader, signal);
    }
}
