//! The accept loop: takes connections and gives each its own thread, within
//! `--max-connections`, and never stops while the server runs.
//!
//! Every `accept()` error is survivable: out of file descriptors (EMFILE/ENFILE) the loop uses a
//! spare descriptor it keeps for exactly this, to accept the waiting connection, answer it 503 and
//! close it, so the backlog drains instead of the loop spinning; any other error is logged and
//! retried after a short back-off. The loop blocks in `accept()` and does nothing while idle.

use super::conn::{self, Limits};
use super::request::{Method, Reply, reason};
use super::service::{ListenerStats, Service};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Stack of a connection thread. Measured: a connection (parsing, writing replies and SSE frames)
/// touches under 16 KiB of it; the rest is address space, not memory. Debug builds need more.
const CONN_STACK: usize = 256 * 1024;
/// A connection thread whose connection ended waits this long for another before it exits, so a
/// burst of short connections does not pay for a thread start each (measured: ~25 µs of the
/// ~77 µs a fresh connection and its `initialize` cost). Idle threads retire, but for the spares
/// (`--spare-threads`), which wait for a connection with no timeout: nothing polls.
const RETIRE: Duration = Duration::from_secs(2);
const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_millis(200);

/// Stops a running listener from any thread (a signal handler's thread, a test).
#[derive(Clone)]
pub struct StopHandle {
    socket: Arc<TcpListener>,
    stats: Arc<ListenerStats>,
    shared: bool,
}

impl StopHandle {
    /// Makes the accept loop return. Shutting the listening socket down wakes a blocked
    /// `accept()` at once (Linux), with no connection needed, even with no descriptors left.
    /// A shared socket (systemd's) is not shut down: that would stop
    /// it listening for the next process too, and reset the connections waiting in its backlog.
    /// One connection to itself wakes the loop instead; the rest of the backlog stays queued.
    pub fn stop(&self) {
        self.stats.set_stopping();
        if self.shared && self.wake_by_connecting() {
            return;
        }
        let _ = socket2::SockRef::from(&*self.socket).shutdown(std::net::Shutdown::Both);
    }

    /// Connects to the listening socket (the unspecified address through loopback) so that a
    /// blocked `accept()` returns; false if that failed.
    fn wake_by_connecting(&self) -> bool {
        let Ok(mut addr) = self.socket.local_addr() else {
            return false;
        };
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
    }

    /// Whether `stop` was called.
    pub fn is_stopped(&self) -> bool {
        self.stats.stopping()
    }
}

/// The listening socket and its accept loop.
pub struct Listener {
    socket: Arc<TcpListener>,
    limits: Arc<Limits>,
    max_connections: usize,
    stats: Arc<ListenerStats>,
    /// The whole answer sent to a connection refused without a thread.
    refusal: Vec<u8>,
    /// Hands a new connection to a connection thread that is waiting for one (zero capacity: a
    /// send succeeds only if a thread is waiting right now).
    handoff: (Sender<Accepted>, Receiver<Accepted>),
    /// Another process holds the socket too (see [`Listener::shared`]).
    shared: bool,
    /// Connection threads kept waiting for a connection however long it takes.
    spares: usize,
    /// How many of them wait now.
    parked: Arc<AtomicUsize>,
}

type Accepted = (TcpStream, SocketAddr);

impl Listener {
    /// Serves `socket` with `limits`; beyond `max_connections` open connections a new one gets `refusal` and is closed at once.
    pub fn new(
        socket: TcpListener,
        limits: Limits,
        max_connections: usize,
        refusal: Reply,
    ) -> Listener {
        let mut bytes = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = write_refusal(&mut bytes, &refusal);
        Listener {
            socket: Arc::new(socket),
            limits: Arc::new(limits),
            max_connections: max_connections.max(1),
            stats: Arc::new(ListenerStats::default()),
            refusal: bytes,
            handoff: crossbeam_channel::bounded(0),
            shared: false,
            spares: 0,
            parked: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Keeps `n` connection threads ready for new connections, started with the listener and never
    /// retired, so a burst of connections does not wait for thread starts. Each costs its stack's
    /// touched pages (measured in README, "Performance"), and no wake-up while it waits.
    pub fn spare_threads(mut self, n: usize) -> Listener {
        self.spares = n;
        self
    }

    /// Marks the socket as shared with another process (systemd socket activation): stopping
    /// must leave it listening.
    pub fn shared(mut self) -> Listener {
        self.shared = true;
        self
    }

    /// The counters `/health` and `/metrics` read.
    pub fn stats(&self) -> Arc<ListenerStats> {
        self.stats.clone()
    }

    /// A handle that stops [`Listener::run`] from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            socket: self.socket.clone(),
            stats: self.stats.clone(),
            shared: self.shared,
        }
    }

    /// Accepts until stopped.
    pub fn run(&self, service: Arc<dyn Service>) {
        for _ in 0..self.spares {
            if let Err(e) = self.spawn(None, &service) {
                log::warn!("could not start a spare connection thread: {e}");
                break;
            }
        }
        let mut spare = open_spare();
        let mut backoff = BACKOFF_MIN;
        let mut streak: u64 = 0;
        let mut last_log: Option<Instant> = None;
        loop {
            let accepted = self.socket.accept();
            if self.stats.stopping() {
                return;
            }
            match accepted {
                Ok((stream, peer)) => {
                    if streak > 0 {
                        log::info!("accepting again after {streak} failed accept(s)");
                        self.stats.set_failing(None);
                        streak = 0;
                        backoff = BACKOFF_MIN;
                    }
                    self.stats.accepted.fetch_add(1, Ordering::Relaxed);
                    self.start(stream, peer, &service);
                }
                Err(e) => {
                    self.stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                    streak += 1;
                    self.stats
                        .set_failing(Some(format!("accept() failing: {e}")));
                    if last_log.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        log::warn!(
                            "accept() failed: {e} ({streak} in a row); retrying (see --max-connections and the file descriptor limit)"
                        );
                        last_log = Some(Instant::now());
                    }
                    let out_of_fds = matches!(e.raw_os_error(), Some(24) | Some(23));
                    if out_of_fds && spare.take().is_some() {
                        // The spare descriptor is free now: take a waiting connection, tell it
                        // why, and close it, so clients get an answer rather than a hang. Without
                        // waiting: Linux reserves the descriptor before `accept()` waits, so
                        // EMFILE also comes with an empty queue, and a blocking accept here
                        // would turn away the next client even after descriptors were freed.
                        let drained = self.refuse_waiting(&*service);
                        spare = open_spare();
                        if drained && spare.is_some() {
                            continue;
                        }
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    fn start(&self, stream: TcpStream, peer: SocketAddr, service: &Arc<dyn Service>) {
        let open = self.stats.open.fetch_add(1, Ordering::AcqRel);
        if open >= self.max_connections {
            self.stats.open.fetch_sub(1, Ordering::AcqRel);
            return self.refuse(stream, &**service);
        }
        if let Err(e) = configure(&stream, &self.limits) {
            self.stats.open.fetch_sub(1, Ordering::AcqRel);
            log::debug!("could not configure a connection from {peer}: {e}");
            return;
        }
        let first = match self.handoff.0.try_send((stream, peer)) {
            Ok(()) => return,
            Err(TrySendError::Full(c) | TrySendError::Disconnected(c)) => c,
        };
        let fallback = first.0.try_clone();
        if let Err(e) = self.spawn(Some(first), service) {
            self.stats.open.fetch_sub(1, Ordering::AcqRel);
            log::error!("could not start a connection thread: {e}");
            if let Ok(s) = fallback {
                self.refuse(s, &**service);
            }
        }
    }

    /// Starts a connection thread serving `first` (counted open already), then whatever the
    /// accept loop hands it, until it retires. Without `first` it starts as a spare.
    fn spawn(&self, first: Option<Accepted>, service: &Arc<dyn Service>) -> std::io::Result<()> {
        let (svc, limits, stats) = (service.clone(), self.limits.clone(), self.stats.clone());
        let (next, parked, spares) = (self.handoff.1.clone(), self.parked.clone(), self.spares);
        let wait_as_spare = move || {
            // One more spare than wanted retires instead.
            if parked.fetch_add(1, Ordering::AcqRel) >= spares {
                parked.fetch_sub(1, Ordering::AcqRel);
                return None;
            }
            let conn = next.recv().ok();
            parked.fetch_sub(1, Ordering::AcqRel);
            conn
        };
        let next = self.handoff.1.clone();
        std::thread::Builder::new()
            .stack_size(CONN_STACK)
            .spawn(move || {
                let mut conn = first.or_else(&wait_as_spare);
                while let Some((stream, peer)) = conn.take() {
                    let _open = OpenGuard(stats.clone());
                    let run = std::panic::AssertUnwindSafe(|| {
                        conn::serve(stream, peer, &*svc, &limits, &stats)
                    });
                    if std::panic::catch_unwind(run).is_err() {
                        log::error!("a connection thread panicked; the connection is closed");
                    }
                    drop(_open);
                    conn = match next.recv_timeout(RETIRE) {
                        Ok(c) => Some(c),
                        Err(RecvTimeoutError::Timeout) => wait_as_spare(),
                        Err(RecvTimeoutError::Disconnected) => None,
                    };
                }
            })
            .map(drop)
    }

    /// Refuses one connection waiting in the backlog, if there is one; true if it did.
    fn refuse_waiting(&self, service: &dyn Service) -> bool {
        if self.socket.set_nonblocking(true).is_err() {
            return false;
        }
        let taken = self.socket.accept();
        let _ = self.socket.set_nonblocking(false);
        match taken {
            Ok((s, _)) => {
                // Accepted sockets do not inherit O_NONBLOCK on Linux; `refuse` sets it anyway.
                self.refuse(s, service);
                true
            }
            Err(_) => false,
        }
    }

    /// Answers 503 and closes, without blocking the accept loop and without a thread.
    fn refuse(&self, stream: TcpStream, service: &dyn Service) {
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        service.answered("", Method::Other, 503);
        if stream.set_nonblocking(true).is_ok() {
            let _ = (&stream).write(&self.refusal);
        }
    }
}

struct OpenGuard(Arc<ListenerStats>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

fn write_refusal(out: &mut Vec<u8>, r: &Reply) -> std::io::Result<()> {
    write!(out, "HTTP/1.1 {} {}\r\n", r.status, reason(r.status))?;
    for (k, v) in &r.headers {
        write!(out, "{k}: {v}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    )?;
    out.extend_from_slice(&r.body);
    Ok(())
}

/// Per-connection socket options: no Nagle delay between an event and the next, a send timeout
/// (a client that stops reading cannot block its writer forever) and TCP keepalive (vanished
/// peers of idle streams are noticed).
fn configure(s: &TcpStream, limits: &Limits) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    s.set_write_timeout(Some(limits.write_timeout))?;
    let sock = socket2::SockRef::from(s);
    sock.set_keepalive(true)?;
    sock.set_tcp_keepalive(
        &socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(60))
            .with_interval(Duration::from_secs(10))
            .with_retries(5),
    )
}

fn open_spare() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

/// Raises the soft limit on open files to the hard limit; returns the limit now in force.
pub fn raise_fd_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            log::warn!("could not raise the open-file limit: {e}");
            rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
        }
    }
}

/// The default `--max-connections`: what the open-file limit allows, less room for the
/// listener, logs and the application's own files, and at most 10,000.
pub fn default_max_connections(fd_limit: Option<u64>) -> usize {
    const RESERVED: u64 = 64;
    let fds = fd_limit.unwrap_or(1024);
    fds.saturating_sub(RESERVED).clamp(16, 10_000) as usize
}
