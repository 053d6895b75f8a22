//! What a child is: its argv, its whole environment, its directory, its limits and its user.
//!
//! Kept apart from running it ([`super::run`]) because the stdio gateway will start long-lived
//! children with the same hygiene and talk to them over their pipes instead of running them to
//! completion.

use super::setup::{self, Hardening};
use super::user;
use rustix::process::Resource;
use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Resource limits applied in the child before exec (`setrlimit`, soft = hard, so the child
/// cannot raise them again).
///
/// When the server is not root a limit above the server's own hard limit is lowered to it (an
/// unprivileged process cannot raise a hard limit, and the child still gets no more than asked).
/// `processes` (`RLIMIT_NPROC`) counts every process of the child's real user and is not
/// enforced for root: it only means something together with [`ChildSpec::user`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// CPU seconds (`RLIMIT_CPU`); the kernel kills the child when they are used up.
    pub cpu_secs: Option<u64>,
    /// Address space in bytes (`RLIMIT_AS`).
    pub memory_bytes: Option<u64>,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
    /// Processes of the child's user (`RLIMIT_NPROC`).
    pub processes: Option<u64>,
    /// Largest file the child may write, in bytes (`RLIMIT_FSIZE`).
    pub file_size_bytes: Option<u64>,
}

impl Limits {
    /// Each limit with the resource it sets.
    fn resources(&self) -> [(Resource, Option<u64>); 5] {
        [
            (Resource::Cpu, self.cpu_secs),
            (Resource::As, self.memory_bytes),
            (Resource::Nofile, self.open_files),
            (Resource::Nproc, self.processes),
            (Resource::Fsize, self.file_size_bytes),
        ]
    }
}

/// How to start a child. `argv[0]` must be an absolute path (checked: error otherwise), so no
/// `PATH` lookup ever decides which program runs.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// The program (absolute path) and its arguments, each passed as one inert element.
    pub argv: Vec<String>,
    /// The COMPLETE environment: the child gets exactly this (env_clear first). The caller builds it.
    pub env: Vec<(String, String)>,
    /// The child's working directory; the server's own when `None`.
    pub cwd: Option<PathBuf>,
    /// Resource limits set in the child before exec.
    pub limits: Limits,
    /// Run as this user (name looked up in /etc/passwd without NSS: the binary is static).
    /// Only when the server runs as root; otherwise `spawn` fails with a clear error.
    pub user: Option<String>,
}

impl ChildSpec {
    /// A spec for `argv` with an empty environment, no directory, no limits, no user.
    pub fn new<I, S>(argv: I) -> ChildSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ChildSpec {
            argv: argv.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: None,
            limits: Limits::default(),
            user: None,
        }
    }

    /// A std Command with all the hygiene: env_clear + env, cwd, own process group
    /// (`process_group(0)`), stdin/stdout/stderr piped or null as asked, and in pre_exec:
    /// no_new_privs, rlimits, parent-death signal SIGKILL (the runner thread lives until the child
    /// ends), uid/gid (+ setgroups) for `user`. Reusable by the gateway later.
    ///
    /// The parent-death signal follows the *thread* that spawns: spawn from a thread that
    /// outlives the child.
    pub fn command(&self, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> io::Result<Command> {
        self.check()?;
        let account = match &self.user {
            None => None,
            Some(name) => {
                may_switch_user(rustix::process::geteuid().as_raw(), name)?;
                Some(user::lookup(name)?)
            }
        };
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr);
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        // Its own group, so that one kill reaches every process the command starts.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        setup::harden(&mut cmd, Hardening::new(&self.limits.resources(), account));
        Ok(cmd)
    }

    /// Refuses what would be ambiguous at exec time, with a message naming the element.
    fn check(&self) -> io::Result<()> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        let program = self
            .argv
            .first()
            .ok_or_else(|| invalid("empty command".to_string()))?;
        if !program.starts_with('/') {
            return Err(invalid(format!(
                "the command {program:?} is not an absolute path"
            )));
        }
        if let Some(arg) = self.argv.iter().find(|a| a.contains('\0')) {
            return Err(invalid(format!("the argument {arg:?} contains a NUL byte")));
        }
        for (name, value) in &self.env {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(invalid(format!(
                    "invalid environment variable name {name:?}"
                )));
            }
            if value.contains('\0') {
                return Err(invalid(format!("the variable {name} contains a NUL byte")));
            }
        }
        if let Some(dir) = &self.cwd
            && !dir.is_absolute()
        {
            return Err(invalid(format!(
                "the directory {} is not absolute",
                dir.display()
            )));
        }
        Ok(())
    }
}

/// Only root can become another user; saying so here beats an `EPERM` from inside the child.
pub(crate) fn may_switch_user(euid: u32, name: &str) -> io::Result<()> {
    if euid == 0 {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "running a command as user {name:?} needs the server to run as root (it runs as uid {euid})"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn null() -> (Stdio, Stdio, Stdio) {
        (Stdio::null(), Stdio::null(), Stdio::null())
    }

    #[test]
    fn refuses_relative_programs_and_nul_bytes() {
        let cases: Vec<ChildSpec> = vec![
            ChildSpec::new(Vec::<String>::new()),
            ChildSpec::new(["echo", "hi"]),
            ChildSpec::new(["./echo"]),
            ChildSpec::new(["/bin/echo", "a\0b"]),
            ChildSpec {
                env: vec![("A=B".into(), "x".into())],
                ..ChildSpec::new(["/bin/true"])
            },
            ChildSpec {
                env: vec![("".into(), "x".into())],
                ..ChildSpec::new(["/bin/true"])
            },
            ChildSpec {
                env: vec![("A".into(), "x\0".into())],
                ..ChildSpec::new(["/bin/true"])
            },
            ChildSpec {
                cwd: Some("tmp".into()),
                ..ChildSpec::new(["/bin/true"])
            },
        ];
        for spec in cases {
            let (i, o, e) = null();
            let err = spec.command(i, o, e).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{spec:?}");
        }
        let (i, o, e) = null();
        assert!(ChildSpec::new(["/bin/true"]).command(i, o, e).is_ok());
    }

    #[test]
    fn another_user_needs_root() {
        assert!(may_switch_user(0, "nobody").is_ok());
        let e = may_switch_user(1000, "nobody").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(
            e.to_string().contains("root") && e.to_string().contains("nobody"),
            "{e}"
        );
    }
}
