//! Running one child to completion on the calling thread, under a deadline and an output cap.
//!
//! One thread does everything: it waits in `poll` on the child's pipes, on a pidfd that becomes
//! readable when the child exits, and on the [`Stop`]'s eventfd, so a run costs no thread but
//! its caller's and no wake-up but real events and its own deadlines.
//!
//! The child leads its own process group, and the group is always killed before the child is
//! reaped: while the leader is an unreaped zombie its pid (the group's id) cannot be reused, so
//! the group kill can never hit a stranger. Killing the group after a normal exit too means no
//! grandchild outlives its tool call and none keeps the pipes open. A process that left the group
//! (`setsid`) cannot be reached that way; if it holds the pipes the run stops reading [`DRAIN`]
//! after the child's exit instead of hanging.

use super::output::{Collector, Pipe};
use super::spec::ChildSpec;
use super::stop::{Reason, Stop};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal, WaitId, WaitIdOptions};
use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long the pipes are still read after the child exited and its group was killed: enough
/// for what is buffered, bounded for a process that escaped the group and holds them.
const DRAIN: Duration = Duration::from_secs(1);
/// Without a pidfd (kernels before 5.3, or a seccomp filter refusing it), how often the child's
/// exit is checked.
const TICK: Duration = Duration::from_millis(20);
/// Bytes taken from a pipe per wake-up: a pipe that is never empty cannot starve the other.
const READ_CHUNK: usize = 32 * 1024;

/// How to run a child to completion.
pub struct RunOptions {
    /// Written to the child's stdin, which is then closed; `None` = `/dev/null`.
    pub stdin: Option<Vec<u8>>,
    /// From the start; then the group gets SIGTERM.
    pub timeout: Duration,
    /// SIGTERM to the group, SIGKILL after this.
    pub kill_grace: Duration,
    /// stdout+stderr together; beyond: drained and dropped.
    pub max_output_bytes: usize,
    /// Each complete stdout line (for progress), within the kept output, on the running thread.
    #[allow(clippy::type_complexity)]
    // spelled out: callers write the closure, not a type name
    pub on_stdout_line: Option<Box<dyn FnMut(&str) + Send>>,
}

impl RunOptions {
    /// No stdin, `timeout`, a 2 s grace, 1 MiB of output, no line callback.
    pub fn new(timeout: Duration) -> RunOptions {
        RunOptions {
            stdin: None,
            timeout,
            kill_grace: Duration::from_secs(2),
            max_output_bytes: 1 << 20,
            on_stdout_line: None,
        }
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("stdin", &self.stdin.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .field("kill_grace", &self.kill_grace)
            .field("max_output_bytes", &self.max_output_bytes)
            .field("on_stdout_line", &self.on_stdout_line.is_some())
            .finish()
    }
}

/// How the child ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it (ours after a timeout or a stop, or another).
    Signal(i32),
}

/// What a finished run produced.
#[derive(Debug)]
pub struct Outcome {
    /// How the child ended.
    pub exit: Exit,
    /// The kept part of stdout.
    pub stdout: Vec<u8>,
    /// The kept part of stderr.
    pub stderr: Vec<u8>,
    /// The output cap was hit: the child wrote more than was kept.
    pub truncated: bool,
    /// The deadline passed and the group was killed.
    pub timed_out: bool,
    /// A [`Stop`] was fired and the group was killed.
    pub cancelled: bool,
    /// The server shut down and the group was killed.
    pub shutdown: bool,
    /// Total bytes the child wrote (kept or not).
    pub output_bytes: u64,
    /// From just before the spawn to the end of the run.
    pub duration: Duration,
    /// The child's pid (gone by now: it was reaped).
    pub pid: u32,
}

/// Why the group was told to stop.
#[derive(Clone, Copy, PartialEq)]
enum Why {
    Timeout,
    Stopped(Reason),
}

/// Spawns the child described by `spec` and runs it to completion on this thread.
pub(crate) fn run(spec: &ChildSpec, opts: RunOptions, stop: &Stop) -> io::Result<Outcome> {
    run_watching(spec, opts, stop, true)
}

/// [`run`], noticing the child's exit through a pidfd if `pidfd` (and the kernel allows), else
/// by checking every [`TICK`] (the tests take that path on purpose).
pub(crate) fn run_watching(
    spec: &ChildSpec,
    opts: RunOptions,
    stop: &Stop,
    pidfd: bool,
) -> io::Result<Outcome> {
    let RunOptions {
        stdin,
        timeout,
        kill_grace,
        max_output_bytes,
        on_stdout_line,
    } = opts;
    if stop.is_fired() {
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "stopped before the command started",
        ));
    }
    let stdin_mode = if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut cmd = spec.command(stdin_mode, Stdio::piped(), Stdio::piped())?;
    let started = Instant::now();
    let child = cmd.spawn().map_err(|e| {
        let program = spec.argv.first().map_or("", String::as_str);
        io::Error::new(e.kind(), format!("cannot start {program}: {e}"))
    })?;
    let deadline = later(started, timeout);
    let mut run = Running::new(child, stdin, stop, deadline, kill_grace, pidfd)?;
    let mut out = Collector::new(max_output_bytes, on_stdout_line);
    let status = run.serve(&mut out)?;
    out.finish();
    Ok(Outcome {
        exit: match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(-1),
        },
        stdout: out.stdout,
        stderr: out.stderr,
        truncated: out.truncated,
        timed_out: run.why == Some(Why::Timeout),
        cancelled: run.why == Some(Why::Stopped(Reason::Cancelled)),
        shutdown: run.why == Some(Why::Stopped(Reason::Shutdown)),
        output_bytes: out.total,
        duration: started.elapsed(),
        pid: run.pid.as_raw_nonzero().get() as u32,
    })
}

/// A spawned child that is killed with its group and reaped however the run ends (an error, a
/// panicking line callback): no zombie and no orphaned group is left behind.
struct Reaper {
    child: Option<Child>,
    pid: Pid,
}

impl Reaper {
    /// Kills what is left of the group, then reaps the (exited) leader.
    fn reap(&mut self) -> io::Result<ExitStatus> {
        signal_group(self.pid, Signal::KILL);
        match self.child.take() {
            Some(mut child) => child.wait(),
            None => Err(io::Error::other("the child was already reaped")),
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.reap();
        }
    }
}

/// Which descriptor a poll entry is.
#[derive(Clone, Copy)]
enum Slot {
    Stdin,
    Out(Pipe),
    Exit,
    Stop,
}

struct Running<'a> {
    child: Reaper,
    pid: Pid,
    /// Readable when the child has exited; `None` without pidfd support (then [`TICK`]).
    exit_fd: Option<OwnedFd>,
    have_pidfd: bool,
    /// The pipe, the bytes, how many were written.
    stdin: Option<(OwnedFd, Vec<u8>, usize)>,
    stdout: Option<OwnedFd>,
    stderr: Option<OwnedFd>,
    stop: &'a Stop,
    deadline: Instant,
    grace: Duration,
    why: Option<Why>,
    kill_at: Option<Instant>,
    killed: bool,
    status: Option<ExitStatus>,
    drain_until: Option<Instant>,
    buf: Vec<u8>,
}

impl<'a> Running<'a> {
    fn new(
        mut child: Child,
        input: Option<Vec<u8>>,
        stop: &'a Stop,
        deadline: Instant,
        grace: Duration,
        pidfd: bool,
    ) -> io::Result<Running<'a>> {
        let stdin = child.stdin.take().map(OwnedFd::from);
        let stdout = child.stdout.take().map(OwnedFd::from);
        let stderr = child.stderr.take().map(OwnedFd::from);
        let pid = Pid::from_raw(child.id() as i32).ok_or_else(|| io::Error::other("no pid"))?;
        let child = Reaper {
            child: Some(child),
            pid,
        };
        for fd in [&stdin, &stdout, &stderr].into_iter().flatten() {
            rustix::io::ioctl_fionbio(fd, true)?;
        }
        let exit_fd = pidfd
            .then(|| rustix::process::pidfd_open(pid, PidfdFlags::empty()).ok())
            .flatten();
        Ok(Running {
            child,
            pid,
            have_pidfd: exit_fd.is_some(),
            exit_fd,
            stdin: stdin.zip(input).map(|(fd, bytes)| (fd, bytes, 0)),
            stdout,
            stderr,
            stop,
            deadline,
            grace,
            why: None,
            kill_at: None,
            killed: false,
            status: None,
            drain_until: None,
            buf: vec![0; READ_CHUNK],
        })
    }

    /// Until the child is reaped and its pipes are closed (or drained for [`DRAIN`]).
    fn serve(&mut self, out: &mut Collector) -> io::Result<ExitStatus> {
        loop {
            let now = Instant::now();
            if self.status.is_none() {
                self.enforce(now);
                if !self.have_pidfd && self.exited()? {
                    self.on_exit()?;
                }
            }
            if let (Some(status), Some(until)) = (self.status, self.drain_until)
                && ((self.stdout.is_none() && self.stderr.is_none()) || now >= until)
            {
                if self.stdout.is_some() || self.stderr.is_some() {
                    log::warn!(
                        "a process that left child {}'s group still holds its output pipes",
                        self.pid.as_raw_nonzero()
                    );
                }
                return Ok(status);
            }
            for (slot, revents) in self.wait(now)? {
                self.handle(slot, revents, out)?;
            }
        }
    }

    /// Sends SIGTERM on the deadline or a stop, SIGKILL after the grace.
    fn enforce(&mut self, now: Instant) {
        if self.why.is_none() {
            self.why = match self.stop.reason() {
                Some(reason) => Some(Why::Stopped(reason)),
                None if now >= self.deadline => Some(Why::Timeout),
                None => None,
            };
            if self.why.is_some() {
                signal_group(self.pid, Signal::TERM);
                self.kill_at = Some(later(now, self.grace));
            }
        }
        if let Some(at) = self.kill_at
            && !self.killed
            && now >= at
        {
            signal_group(self.pid, Signal::KILL);
            self.killed = true;
        }
    }

    /// Without a pidfd: whether the child has exited, leaving it unreaped.
    fn exited(&self) -> io::Result<bool> {
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        loop {
            match rustix::process::waitid(WaitId::Pid(self.pid), options) {
                Ok(found) => return Ok(found.is_some()),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The child exited: kill its group while its pid still names the group, then reap it.
    fn on_exit(&mut self) -> io::Result<()> {
        self.status = Some(self.child.reap()?);
        self.exit_fd = None;
        self.stdin = None;
        self.drain_until = Some(Instant::now() + DRAIN);
        Ok(())
    }

    /// Waits for the next event or deadline; returns the descriptors that are ready.
    fn wait(&self, now: Instant) -> io::Result<Vec<(Slot, PollFlags)>> {
        let mut slots = Vec::with_capacity(5);
        let mut fds = Vec::with_capacity(5);
        let mut add = |slot, fd, flags| {
            slots.push(slot);
            fds.push(PollFd::from_borrowed_fd(fd, flags));
        };
        if let Some((fd, _, _)) = &self.stdin {
            add(Slot::Stdin, fd.as_fd(), PollFlags::OUT);
        }
        if let Some(fd) = &self.stdout {
            add(Slot::Out(Pipe::Stdout), fd.as_fd(), PollFlags::IN);
        }
        if let Some(fd) = &self.stderr {
            add(Slot::Out(Pipe::Stderr), fd.as_fd(), PollFlags::IN);
        }
        if let Some(fd) = &self.exit_fd {
            add(Slot::Exit, fd.as_fd(), PollFlags::IN);
        }
        if self.why.is_none() && self.status.is_none() {
            add(Slot::Stop, self.stop.wake_fd(), PollFlags::IN);
        }
        let timeout = self
            .next_wake()
            .map(|at| timespec(at.saturating_duration_since(now)));
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(slots
            .into_iter()
            .zip(&fds)
            .map(|(slot, fd)| (slot, fd.revents()))
            .filter(|(_, revents)| !revents.is_empty())
            .collect())
    }

    /// The earliest moment something must happen without an event.
    fn next_wake(&self) -> Option<Instant> {
        if let Some(until) = self.drain_until {
            return Some(until);
        }
        let mut next = None;
        let mut consider = |at: Instant| next = Some(next.map_or(at, |n: Instant| n.min(at)));
        if self.why.is_none() {
            consider(self.deadline);
        }
        if let (Some(at), false) = (self.kill_at, self.killed) {
            consider(at);
        }
        if !self.have_pidfd {
            consider(Instant::now() + TICK);
        }
        next
    }

    fn handle(&mut self, slot: Slot, revents: PollFlags, out: &mut Collector) -> io::Result<()> {
        match slot {
            Slot::Stdin => self.feed(),
            Slot::Out(pipe) => self.read(pipe, out),
            Slot::Exit if revents.intersects(PollFlags::IN | PollFlags::ERR | PollFlags::HUP) => {
                return self.on_exit();
            }
            // The stop is looked at by `enforce`: the wake-up was all it had to do.
            Slot::Exit | Slot::Stop => {}
        }
        Ok(())
    }

    /// Writes what the pipe takes; closes it when all is written or the child stopped reading.
    fn feed(&mut self) {
        let Some((fd, bytes, written)) = &mut self.stdin else {
            return;
        };
        match rustix::io::write(&*fd, &bytes[*written..]) {
            Ok(n) => *written += n,
            Err(Errno::AGAIN | Errno::INTR) => return,
            Err(_) => *written = bytes.len(), // EPIPE: the child closed its stdin
        }
        if *written >= bytes.len() {
            self.stdin = None;
        }
    }

    fn read(&mut self, pipe: Pipe, out: &mut Collector) {
        let slot = match pipe {
            Pipe::Stdout => &mut self.stdout,
            Pipe::Stderr => &mut self.stderr,
        };
        let Some(fd) = slot else { return };
        match rustix::io::read(&*fd, &mut self.buf) {
            Ok(0) => *slot = None,
            Ok(n) => out.push(pipe, &self.buf[..n]),
            Err(Errno::AGAIN | Errno::INTR) => {}
            Err(_) => *slot = None,
        }
    }
}

/// Signals the group led by `leader`, which must not have been reaped yet (so that its pid still
/// names our group). If there is no such group (the leader could not create it), the leader alone.
fn signal_group(leader: Pid, signal: Signal) {
    if rustix::process::kill_process_group(leader, signal).is_err() {
        let _ = rustix::process::kill_process(leader, signal);
    }
}

/// `at + d`, or a century later when a configured duration is absurdly long (no overflow panic).
fn later(at: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    at.checked_add(d.min(CENTURY)).unwrap_or(at)
}

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}
