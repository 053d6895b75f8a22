//! What a child does to itself between `fork` and `exec`: the one `unsafe` of the library.
//!
//! std offers no safe way to run code in the child before exec, and `setrlimit`, `setgroups`,
//! `PR_SET_NO_NEW_PRIVS` and `PR_SET_PDEATHSIG` have to be done there (they act on the calling
//! process, and the server must not limit or demote itself). Between `fork` and `exec` only
//! async-signal-safe calls are allowed: another thread of the server may have held the
//! allocator's lock at the moment of the fork. So everything is computed before (the
//! [`Hardening`] value), and the closure makes plain system calls through rustix, whose errors
//! (`Errno`) become `io::Error`s without allocating.
//!
//! std's `CommandExt::uid`/`gid` are not used: std runs them before `pre_exec` and then clears
//! the supplementary groups, which loses the user's own groups, and a limit set after the switch
//! could no longer exceed the old hard limit.

use super::user::Account;
use rustix::io::Errno;
use rustix::process::{Gid, Pid, Resource, Rlimit, Signal, Uid};
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Everything the child applies to itself, ready before `fork`.
pub(crate) struct Hardening {
    limits: Vec<(Resource, u64)>,
    /// Supplementary groups, gid and uid, in the order they must be set.
    account: Option<(Vec<Gid>, Gid, Uid)>,
    /// The server's pid: if the child's parent is someone else by the time the death signal is
    /// armed, the server died during the fork and the child must not go on alone.
    parent: Option<Pid>,
}

impl Hardening {
    /// Prepares the `limits` asked for (lowered to the server's hard limits unless the server is
    /// root) and the switch to `account`.
    pub(crate) fn new(limits: &[(Resource, Option<u64>)], account: Option<Account>) -> Hardening {
        let root = rustix::process::geteuid().is_root();
        let limits = limits
            .iter()
            .copied()
            .filter_map(|(resource, value)| {
                let value = value?;
                let hard = rustix::process::getrlimit(resource).maximum;
                Some((
                    resource,
                    if root {
                        value
                    } else {
                        hard.map_or(value, |h| value.min(h))
                    },
                ))
            })
            .collect();
        let account = account.map(|a| {
            let groups = a.groups.iter().map(|&g| Gid::from_raw(g)).collect();
            (groups, Gid::from_raw(a.gid), Uid::from_raw(a.uid))
        });
        Hardening {
            limits,
            account,
            parent: Some(rustix::process::getpid()),
        }
    }

    /// Runs in the child after `fork`: only system calls, no allocation.
    fn apply(&self) -> io::Result<()> {
        // Limits first: as root they may be set to anything, after the switch only lowered.
        for &(resource, value) in &self.limits {
            let limit = Rlimit {
                current: Some(value),
                maximum: Some(value),
            };
            rustix::process::setrlimit(resource, limit)?;
        }
        if let Some((groups, gid, uid)) = &self.account {
            // The child has one thread, so the per-thread calls switch the whole process; the
            // order matters: groups and gid need root, which setuid gives away.
            rustix::thread::set_thread_groups(groups)?;
            rustix::thread::set_thread_gid(*gid)?;
            rustix::thread::set_thread_uid(*uid)?;
        }
        // After the switch: the kernel clears the death signal when credentials change.
        rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
        if rustix::process::getppid() != self.parent {
            return Err(Errno::SRCH.into());
        }
        rustix::thread::set_no_new_privs(true)?;
        Ok(())
    }
}

/// Makes `cmd`'s child apply `hardening` to itself before exec.
pub(crate) fn harden(cmd: &mut Command, hardening: Hardening) {
    // SAFETY: the closure runs in the forked child, where only async-signal-safe operations are
    // sound. `apply` only reads the prepared `Hardening` (no allocation, no lock, no drop of an
    // owned value) and makes raw system calls through rustix; an error is an `Errno` turned into
    // an `io::Error` of the OS-error kind, which does not allocate either.
    unsafe {
        cmd.pre_exec(move || hardening.apply());
    }
}
