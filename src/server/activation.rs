//! systemd socket activation: the listening socket a `.socket` unit opened, passed to this process
//! as descriptor 3 (`LISTEN_FDS`, `LISTEN_PID`; sd_listen_fds(3)). systemd holds the socket while
//! the service is down, so a host starts the server on its first connection, and a restart
//! queues connections in the backlog instead of refusing them.
//!
//! A few lines of std and rustix rather than a crate: the protocol is two environment variables
//! and one descriptor number.

use std::net::TcpListener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const FIRST_FD: i32 = 3;

/// Set once descriptor 3 is adopted: a second server in the same process must not own it too.
static ADOPTED: AtomicBool = AtomicBool::new(false);

/// The socket systemd passed to this process, if it passed one: `None` when `LISTEN_PID` is not
/// this process (a variable inherited by a child of the activated process means nothing to it)
/// or `LISTEN_FDS` is absent or 0, or when an earlier server of this process took it. An error
/// when the variables promise a listening TCP socket that descriptor 3 is not.
pub(super) fn inherited() -> std::io::Result<Option<TcpListener>> {
    let pid = std::env::var("LISTEN_PID").ok();
    if pid.and_then(|p| p.trim().parse::<u32>().ok()) != Some(std::process::id()) {
        return Ok(None);
    }
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    if count == 0 || ADOPTED.swap(true, Ordering::SeqCst) {
        return Ok(None);
    }
    if count > 1 {
        log::warn!("LISTEN_FDS={count}: serving on the first socket (descriptor 3) only");
    }
    // Before taking ownership, without any unsafe: the descriptor is open and is a socket.
    match std::fs::read_link(format!("/proc/self/fd/{FIRST_FD}")) {
        Ok(target) if !target.to_string_lossy().starts_with("socket:") => {
            return Err(not_ours(&format!("it is {}", target.display())));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(not_ours("it is not open"));
        }
        // No /proc: trust systemd, the SO_ACCEPTCONN check below still applies.
        _ => {}
    }
    // SAFETY: LISTEN_PID names this process, so by the sd_listen_fds(3) protocol descriptor 3 was
    // opened for it and nothing in the process owns it yet; ADOPTED makes this the only adoption.
    // std has no safe way to take over an inherited descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(FIRST_FD) };
    // systemd passes it without close-on-exec: the tools' child processes must not inherit it.
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    if rustix::net::sockopt::socket_type(&fd)? != rustix::net::SocketType::STREAM
        || !rustix::net::sockopt::socket_acceptconn(&fd)?
    {
        return Err(not_ours("it is not a listening stream socket"));
    }
    let listener = TcpListener::from(fd);
    listener.set_nonblocking(false)?;
    Ok(Some(listener))
}

fn not_ours(why: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "LISTEN_FDS names descriptor {FIRST_FD} as the listening socket, but {why} (ListenStream= in the .socket unit)"
    ))
}
