//! The runner against real programs: hygiene seen from inside the child (`/proc/self`), and
//! stopping seen from outside (`/proc/<pid>`).

use super::*;
use std::process::Stdio;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn spec(argv: &[&str]) -> ChildSpec {
    ChildSpec {
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        ..ChildSpec::new(argv.iter().copied())
    }
}

fn opts(timeout: Duration) -> RunOptions {
    RunOptions {
        kill_grace: Duration::from_secs(1),
        ..RunOptions::new(timeout)
    }
}

fn run(spec: &ChildSpec, opts: RunOptions) -> Outcome {
    let outcome = Supervisor::new()
        .run(spec, opts, &Stop::new().unwrap())
        .unwrap();
    assert!(reaped(outcome.pid), "child {} left a zombie", outcome.pid);
    outcome
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A process's state letter and parent, or `None` when it no longer exists.
fn proc_state(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let mut fields = after.split(' ');
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}

/// Not a zombie of this process (our children must have been waited for).
fn reaped(pid: u32) -> bool {
    proc_state(pid).is_none_or(|(state, ppid)| !(state == 'Z' && ppid == std::process::id()))
}

/// Gone, or a zombie left for its (new) parent: either way, no longer running.
fn dead_within(pid: u32, bound: Duration) -> bool {
    let until = Instant::now() + bound;
    loop {
        match proc_state(pid) {
            None | Some(('Z' | 'X', _)) => return true,
            Some(_) if Instant::now() >= until => return false,
            Some(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fastmcp-child-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_environment_is_exactly_the_given_one() {
    let parent: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    assert!(
        parent.iter().any(|k| k != "A" && k != "B"),
        "the test needs a variable to leak"
    );
    let spec = ChildSpec {
        env: vec![
            ("A".into(), "1".into()),
            ("B".into(), "two words; $(id)".into()),
        ],
        ..ChildSpec::new(["/usr/bin/env"])
    };
    let out = run(&spec, opts(Duration::from_secs(30)));
    assert_eq!(out.exit, Exit::Code(0));
    assert_eq!(text(&out.stdout), "A=1\nB=two words; $(id)\n");
}

#[test]
fn arguments_reach_the_child_inert() {
    let hostile = [
        "; id", "$(id)", "`id`", "a\nb", "-rf", "--help", "*", "' \" \\",
    ];
    let mut argv = vec!["/usr/bin/printf", "[%s]\\n"];
    argv.extend(hostile);
    let out = run(&spec(&argv), opts(Duration::from_secs(30)));
    let expected: String = hostile.iter().map(|a| format!("[{a}]\n")).collect();
    assert_eq!(text(&out.stdout), expected);
    assert_eq!(out.exit, Exit::Code(0));
}

#[test]
fn a_timeout_terminates_the_group_and_its_grandchild() {
    let argv = ["/bin/sh", "-c", "sleep 100 & echo $!; wait"];
    let out = run(&spec(&argv), opts(Duration::from_millis(500)));
    assert!(out.timed_out && !out.cancelled && !out.shutdown);
    // SIGTERM came first and the shell died of it (no SIGKILL needed).
    assert_eq!(out.exit, Exit::Signal(15));
    assert!(out.duration >= Duration::from_millis(500));
    assert!(
        out.duration < Duration::from_millis(500 + 1000 + 2000),
        "{:?}",
        out.duration
    );
    let grandchild: u32 = text(&out.stdout).trim().parse().unwrap();
    assert!(
        dead_within(grandchild, Duration::from_secs(2)),
        "sleep {grandchild} survived"
    );
}

#[test]
fn a_child_ignoring_sigterm_is_killed_after_the_grace() {
    let argv = [
        "/bin/sh",
        "-c",
        "trap '' TERM; echo ready; sleep 100; echo survived",
    ];
    let out = run(&spec(&argv), opts(Duration::from_millis(300)));
    assert!(out.timed_out);
    assert_eq!(out.exit, Exit::Signal(9));
    assert_eq!(text(&out.stdout), "ready\n");
    assert!(
        out.duration >= Duration::from_millis(300 + 1000),
        "{:?}",
        out.duration
    );
    assert!(
        out.duration < Duration::from_millis(300 + 1000 + 2000),
        "{:?}",
        out.duration
    );
}

#[test]
fn output_beyond_the_cap_is_read_and_dropped() {
    let cap = 64 * 1024;
    let argv = [
        "/bin/sh",
        "-c",
        // The pause lets the stderr reader take the last of its pipe before stdout starts: the
        // two readers share the cap, and under load stdout could otherwise take part of it first.
        "head -c 100000 /dev/zero >&2; sleep 1; head -c 10M /dev/zero",
    ];
    let out = run(
        &spec(&argv),
        RunOptions {
            max_output_bytes: cap,
            ..opts(Duration::from_secs(60))
        },
    );
    assert_eq!(out.exit, Exit::Code(0));
    assert!(!out.timed_out);
    assert!(out.truncated);
    assert!(out.stdout.len() + out.stderr.len() <= cap);
    assert_eq!(
        out.stderr.len(),
        cap,
        "stderr came first and filled the cap"
    );
    assert_eq!(out.output_bytes, 100_000 + 10 * 1024 * 1024);
}

#[test]
fn a_grandchild_holding_stdout_does_not_hang_the_run() {
    // In the group: killed with it when the shell exits, which closes the pipe.
    let argv = ["/bin/sh", "-c", "sleep 100 & echo $!; exit 3"];
    let out = run(&spec(&argv), opts(Duration::from_secs(30)));
    assert_eq!(out.exit, Exit::Code(3));
    assert!(!out.timed_out);
    assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
    let grandchild: u32 = text(&out.stdout).trim().parse().unwrap();
    assert!(
        dead_within(grandchild, Duration::from_secs(2)),
        "sleep {grandchild} survived"
    );
}

#[test]
fn a_process_that_left_the_group_holds_the_pipes_only_for_the_drain() {
    let dir = temp_dir("escape");
    let script = "setsid sh -c 'echo $$ > pid; exec sleep 100' & \
                  while [ ! -s pid ]; do sleep 0.05; done; cat pid";
    let spec = ChildSpec {
        cwd: Some(dir.clone()),
        ..spec(&["/bin/sh", "-c", script])
    };
    let out = run(&spec, opts(Duration::from_secs(30)));
    let escaped: u32 = text(&out.stdout).trim().parse().unwrap();
    let was_alive = !dead_within(escaped, Duration::ZERO);
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(escaped as i32).unwrap(),
        rustix::process::Signal::KILL,
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        was_alive,
        "the escaped process should have outlived the group kill"
    );
    assert_eq!(out.exit, Exit::Code(0));
    assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
}

#[test]
fn fire_from_another_thread_cancels_the_run() {
    let stop = Stop::new().unwrap();
    let firing = stop.clone();
    let fire = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        firing.fire();
    });
    let out = Supervisor::new()
        .run(
            &spec(&["/bin/sleep", "100"]),
            opts(Duration::from_secs(60)),
            &stop,
        )
        .unwrap();
    fire.join().unwrap();
    assert!(out.cancelled && !out.timed_out && !out.shutdown);
    assert_eq!(out.exit, Exit::Signal(15));
    assert!(out.duration < Duration::from_secs(10), "{:?}", out.duration);
    // A fired stop starts nothing.
    let again = Supervisor::new().run(&spec(&["/bin/true"]), opts(Duration::from_secs(5)), &stop);
    assert_eq!(again.unwrap_err().kind(), std::io::ErrorKind::Interrupted);
}

#[test]
fn shutdown_kills_every_running_child() {
    let sup = Supervisor::new();
    let (started, wait_started) = mpsc::channel();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let (sup, started) = (sup.clone(), Mutex::new(started.clone()));
            thread::spawn(move || {
                let opts = RunOptions {
                    on_stdout_line: Some(Box::new(move |_: &str| {
                        let _ = started.lock().unwrap().send(());
                    })),
                    ..opts(Duration::from_secs(60))
                };
                let argv = ["/bin/sh", "-c", "echo started; exec sleep 100"];
                sup.run(&spec(&argv), opts, &Stop::new().unwrap())
            })
        })
        .collect();
    for _ in 0..3 {
        wait_started.recv_timeout(Duration::from_secs(10)).unwrap();
    }
    assert_eq!(sup.running(), 3);
    let begun = Instant::now();
    sup.shutdown(Duration::from_secs(10));
    assert_eq!(sup.running(), 0);
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "{:?}",
        begun.elapsed()
    );
    for run in runs {
        let out = run.join().unwrap().unwrap();
        assert!(out.shutdown && !out.cancelled && !out.timed_out);
        assert_eq!(out.exit, Exit::Signal(15));
    }
    let late = sup.run(
        &spec(&["/bin/true"]),
        opts(Duration::from_secs(5)),
        &Stop::new().unwrap(),
    );
    assert!(late.is_err());
}

/// The soft and hard values of one line of `/proc/<pid>/limits`.
fn limit(limits: &str, name: &str) -> (String, String) {
    let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
    let mut values = line[name.len()..].split_whitespace().map(String::from);
    (values.next().unwrap(), values.next().unwrap())
}

#[test]
fn limits_are_set_soft_and_hard_in_the_child() {
    let spec = ChildSpec {
        limits: Limits {
            cpu_secs: Some(10),
            memory_bytes: Some(1 << 30),
            open_files: Some(37),
            processes: Some(100),
            file_size_bytes: Some(4096),
        },
        ..spec(&["/bin/cat", "/proc/self/limits"])
    };
    let out = run(&spec, opts(Duration::from_secs(30)));
    let limits = text(&out.stdout);
    let both = |v: &str| (v.to_string(), v.to_string());
    assert_eq!(limit(&limits, "Max cpu time"), both("10"), "{limits}");
    assert_eq!(limit(&limits, "Max address space"), both("1073741824"));
    assert_eq!(limit(&limits, "Max open files"), both("37"));
    assert_eq!(limit(&limits, "Max processes"), both("100"));
    assert_eq!(limit(&limits, "Max file size"), both("4096"));
}

#[test]
fn the_file_size_limit_stops_a_large_write_in_the_working_directory() {
    let dir = temp_dir("fsize");
    let spec = ChildSpec {
        cwd: Some(dir.clone()),
        limits: Limits {
            file_size_bytes: Some(4096),
            ..Limits::default()
        },
        ..spec(&[
            "/bin/sh",
            "-c",
            "head -c 1M /dev/zero > big; echo status $?",
        ])
    };
    let out = run(&spec, opts(Duration::from_secs(30)));
    let size = std::fs::metadata(dir.join("big")).map(|m| m.len());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(size.unwrap(), 4096);
    assert_ne!(text(&out.stdout), "status 0\n");
}

#[test]
fn no_new_privileges_and_its_own_process_group() {
    let out = run(
        &spec(&["/bin/cat", "/proc/self/status", "/proc/self/stat"]),
        opts(Duration::from_secs(30)),
    );
    let all = text(&out.stdout);
    assert!(all.lines().any(|l| l == "NoNewPrivs:\t1"), "{all}");
    let stat = all.lines().last().unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let (pid, ppid, pgrp) = (stat.split(' ').next().unwrap(), fields[1], fields[2]);
    assert_eq!(pid, out.pid.to_string());
    assert_eq!(pgrp, pid, "the child leads its own group");
    assert_eq!(ppid, std::process::id().to_string());
}

#[test]
fn the_child_dies_with_the_thread_that_started_it() {
    let spawner = thread::spawn(|| {
        let (i, o, e) = (Stdio::null(), Stdio::null(), Stdio::null());
        spec(&["/bin/sleep", "100"])
            .command(i, o, e)
            .unwrap()
            .spawn()
            .unwrap()
    });
    let mut child = spawner.join().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
}

#[test]
fn runs_as_another_user_with_only_its_groups() {
    if rustix::process::geteuid().as_raw() != 0 {
        return; // covered by spec::tests::another_user_needs_root
    }
    let nobody = ChildSpec {
        user: Some("nobody".into()),
        ..spec(&[
            "/bin/sh",
            "-c",
            "id -u; id -G; grep NoNewPrivs /proc/self/status",
        ])
    };
    let out = run(&nobody, opts(Duration::from_secs(30)));
    assert_eq!(
        text(&out.stdout),
        "65534\n65534\nNoNewPrivs:\t1\n",
        "{}",
        text(&out.stderr)
    );
    let unknown = ChildSpec {
        user: Some("no-such-user-here".into()),
        ..spec(&["/bin/true"])
    };
    let e = Supervisor::new()
        .run(
            &unknown,
            opts(Duration::from_secs(5)),
            &Stop::new().unwrap(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    assert!(e.to_string().contains("no-such-user-here"), "{e}");
}

#[test]
fn stdin_is_delivered_while_output_is_read() {
    // More than a pipe holds both ways: writing all before reading would deadlock with cat.
    let input: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let out = run(
        &spec(&["/bin/cat"]),
        RunOptions {
            stdin: Some(input.clone()),
            max_output_bytes: 2_000_000,
            ..opts(Duration::from_secs(60))
        },
    );
    assert_eq!(out.exit, Exit::Code(0));
    assert!(out.stdout == input, "{} bytes back", out.stdout.len());
    // A child that does not read its stdin: the write fails quietly, the run ends normally.
    let out = run(
        &spec(&["/bin/true"]),
        RunOptions {
            stdin: Some(input),
            ..opts(Duration::from_secs(30))
        },
    );
    assert_eq!(out.exit, Exit::Code(0));
}

#[test]
fn each_stdout_line_reaches_the_callback_on_the_calling_thread() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let caller = thread::current().id();
    let argv = [
        "/bin/sh",
        "-c",
        "printf 'one\\n'; sleep 0.1; printf 'two\\r\\nthr'; echo ee >&2; printf 'ee'",
    ];
    let out = run(
        &spec(&argv),
        RunOptions {
            on_stdout_line: Some(Box::new(move |line: &str| {
                sink.lock()
                    .unwrap()
                    .push((line.to_string(), thread::current().id()));
            })),
            ..opts(Duration::from_secs(30))
        },
    );
    assert_eq!(text(&out.stdout), "one\ntwo\r\nthree");
    let seen = seen.lock().unwrap();
    let lines: Vec<&str> = seen.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(lines, ["one", "two", "three"]);
    assert!(seen.iter().all(|(_, id)| *id == caller));
}

#[test]
fn a_program_that_cannot_start_is_an_error_naming_it() {
    let sup = Supervisor::new();
    let stop = Stop::new().unwrap();
    let e = sup
        .run(
            &spec(&["/no/such/program"]),
            opts(Duration::from_secs(5)),
            &stop,
        )
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    assert!(e.to_string().contains("/no/such/program"), "{e}");
    let e = sup
        .run(&spec(&["sleep", "1"]), opts(Duration::from_secs(5)), &stop)
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(sup.running(), 0);
}

#[test]
fn without_a_pidfd_the_exit_is_noticed_by_checking() {
    let stop = Stop::new().unwrap();
    let argv = ["/bin/sh", "-c", "sleep 100 & echo $!; exit 4"];
    let out = run::run_watching(&spec(&argv), opts(Duration::from_secs(30)), &stop, false);
    let out = out.unwrap();
    assert_eq!(out.exit, Exit::Code(4));
    assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
    let grandchild: u32 = text(&out.stdout).trim().parse().unwrap();
    assert!(
        dead_within(grandchild, Duration::from_secs(2)),
        "sleep {grandchild} survived"
    );
    let slow = spec(&["/bin/sleep", "100"]);
    let out = run::run_watching(&slow, opts(Duration::from_millis(300)), &stop, false).unwrap();
    assert!(out.timed_out && reaped(out.pid));
    assert_eq!(out.exit, Exit::Signal(15));
}
