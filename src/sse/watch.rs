//! Noticing a client that went away while its stream has nothing to write.
//!
//! A stream's writer blocks on its queue, and a closed or reset connection only shows at the next
//! write, which for an idle stream is the next keepalive (30 s): until then the dead stream holds
//! its `--max-streams` slot and its thread, and a stateless request whose client left keeps
//! running. Polling each socket on a timer would wake every stream periodically; instead one
//! thread waits in `epoll` on the sockets of all open streams and wakes only when one of them
//! changes. The client of an event stream sends nothing, so any change (end of stream, a reset,
//! bytes sent ahead) is rare, and the watcher then nudges that stream's writer, which checks its
//! own socket ([`peer_state`]) and ends if the client is gone.
//!
//! The watcher never reads a socket, only registers it: the writer owns the connection, and it
//! removes the socket from the set before returning it, so the watcher never refers to a
//! descriptor that was closed (and possibly reused). The set is bounded by `--max-streams`: a
//! socket is registered only while its stream holds a slot.

use crossbeam_channel::{Receiver, Sender, bounded, never};
use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::{EventfdFlags, eventfd};
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::RecvFlags;
use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// The epoll key of the stop signal; stream ids count up from 1 and never reach it.
const STOP: u64 = u64::MAX;

/// Most events taken from one `epoll_wait`; more are returned by the next.
const EVENTS: usize = 256;

/// The watcher thread and the set of sockets it waits on.
pub struct PeerWatch {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    epoll: OwnedFd,
    /// An eventfd in the set: written once to end the thread.
    stop: OwnedFd,
    /// Each watched stream's nudge, by stream id (the socket's epoll key).
    writers: Mutex<HashMap<u64, Sender<()>>>,
}

impl Shared {
    fn writers(&self) -> MutexGuard<'_, HashMap<u64, Sender<()>>> {
        self.writers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PeerWatch {
    /// Creates the set and starts the thread that waits on it.
    pub fn start() -> std::io::Result<PeerWatch> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let stop = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(&epoll, &stop, EventData::new_u64(STOP), EventFlags::IN)?;
        let shared = Arc::new(Shared {
            epoll,
            stop,
            writers: Mutex::new(HashMap::new()),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("peer-watch".into())
            .stack_size(128 * 1024)
            .spawn(move || run(&s))?;
        Ok(PeerWatch {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Watches `socket`, the connection of stream `id`, until the returned guard is dropped. The
    /// guard's `nudge` receives a message whenever the socket changed: the writer then checks
    /// with [`peer_state`] whether the client is gone.
    pub(super) fn watch<'a>(&'a self, socket: &'a TcpStream, id: u64) -> Watched<'a> {
        // One pending nudge is enough: the writer checks the socket's state, not how often it
        // changed, so a nudge never waits for room and never blocks the watcher.
        let (tx, rx) = bounded(1);
        self.shared.writers().insert(id, tx);
        // Edge-triggered: a client that sent bytes ahead (a pipelined request) is reported once,
        // not on every wait; its later end of stream or reset is a new edge and is reported too.
        let flags = EventFlags::IN | EventFlags::RDHUP | EventFlags::ET;
        if let Err(e) = epoll::add(&self.shared.epoll, socket, EventData::new_u64(id), flags) {
            self.shared.writers().remove(&id);
            log::warn!("stream {id}: cannot watch its client ({e}); noticed at its next write");
            return Watched::unwatched();
        }
        Watched {
            watched: Some((&self.shared, socket)),
            id,
            nudge: rx,
        }
    }

    /// Ends the watcher thread (at the end of a graceful shutdown, or when the server is
    /// dropped). Streams still open are then noticed at their next write, as without a watcher.
    pub fn stop(&self) {
        let _ = rustix::io::write(&self.shared.stop, &1u64.to_ne_bytes());
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for PeerWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A stream's registration with the watcher; dropping it removes the socket from the set.
pub(super) struct Watched<'a> {
    watched: Option<(&'a Shared, &'a TcpStream)>,
    id: u64,
    /// Receives a message when the socket changed (see [`PeerWatch::watch`]).
    pub(super) nudge: Receiver<()>,
}

impl Watched<'_> {
    /// For a server without a watcher, or a socket that could not be added: never nudged.
    pub(super) fn unwatched() -> Watched<'static> {
        Watched {
            watched: None,
            id: 0,
            nudge: never(),
        }
    }
}

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        if let Some((shared, socket)) = self.watched.take() {
            let _ = epoll::delete(&shared.epoll, socket);
            shared.writers().remove(&self.id);
        }
    }
}

/// The watcher thread: sleeps in `epoll_wait` with no timeout, so it wakes only when a watched
/// socket changed or the server stops.
fn run(shared: &Shared) {
    let mut events: Vec<Event> = Vec::with_capacity(EVENTS);
    loop {
        events.clear();
        match epoll::wait(
            &shared.epoll,
            rustix::buffer::spare_capacity(&mut events),
            None,
        ) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => {
                log::error!(
                    "peer watcher stopped: {e}; dead clients are noticed at their next write"
                );
                return;
            }
        }
        let writers = shared.writers();
        for ev in &events {
            let id = ev.data.u64();
            if id == STOP {
                return;
            }
            // An event for a stream that just ended finds no entry and is ignored.
            // A full nudge channel already has a nudge pending, which is all the writer needs.
            if let Some(tx) = writers.get(&id) {
                let _ = tx.try_send(());
            }
        }
    }
}

/// What a peek at a stream's socket tells of its client.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PeerState {
    /// Nothing to read, or bytes it sent ahead (a pipelined request): still there.
    There,
    /// It closed its side in order (end of stream).
    Closed,
    /// The connection failed (a reset).
    Reset,
}

/// Peeks at the client's side of the connection without consuming anything. Never blocks, and
/// leaves the socket in blocking mode for the writer (no `O_NONBLOCK` toggled under a write).
pub(super) fn peer_state(socket: &TcpStream) -> PeerState {
    let mut byte = [0u8; 1];
    match rustix::net::recv(
        socket.as_fd(),
        &mut byte[..],
        RecvFlags::PEEK | RecvFlags::DONTWAIT,
    ) {
        Ok((0, _)) => PeerState::Closed,
        Ok(_) => PeerState::There,
        Err(Errno::WOULDBLOCK | Errno::INTR) => PeerState::There,
        Err(_) => PeerState::Reset,
    }
}
