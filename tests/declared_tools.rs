//! Tools from a config file (`--config`), end to end against the real binary with real commands:
//! argument checks, injection attempts, path escapes, the child's environment, output caps,
//! timeouts and cancellation that kill whole process groups, the concurrency cap, the audit log,
//! the `check` and `call` subcommands, and refused config files.

mod common;

use common::declared::*;
use common::{Server, post_json};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

/// Whether process `pid` is gone (or a zombie about to be reaped).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Pids of processes whose command line contains `needle`.
fn pids_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) && !gone(pid) {
                out.push(pid);
            }
        }
    }
    out
}

/// Needs FASTMCP_TEST_SECRET in the server's environment (an unset `${VAR}` is a load error).
const ENV_TOOL: &str = r#"
[[tool]]
name = "env"
description = "The child's environment"
command = ["/usr/bin/env"]
env = { GREETING = "hi ${FASTMCP_TEST_SECRET}", LITERAL = "$$HOME" }
env_passthrough = ["FASTMCP_TEST_PASS"]
allow_interpreter = true
"#;

const TOOLS: &str = r#"
[[tool]]
name = "say"
description = "Prints its argument back"
command = ["/usr/bin/printf", "%s|", "{text}", "--n={n}", "{loud}", "{files...}"]
[tool.args.text]
type = "string"
max_len = 100
[tool.args.n]
type = "integer"
min = 1
max = 9
default = 3
[tool.args.loud]
type = "boolean"
flag = "--loud"
default = false
[tool.args.files]
type = "array"
max_items = 3
required = false


[[tool]]
name = "fail"
description = "Exits 3 with a message"
command = ["/bin/sh", "-c", "echo broken >&2; exit 3"]
allow_interpreter = true

[[tool]]
name = "lots"
description = "Much output"
command = ["/usr/bin/seq", "1", "100000"]
max_output_bytes = 1000

[[tool]]
name = "json"
description = "JSON output"
command = ["/usr/bin/printf", "{{\"n\": %s}}", "{n}"]
output = "json"
output_schema = { type = "object", properties = { n = { type = "integer" } } }
[tool.args.n]
type = "integer"

[[tool]]
name = "stdin"
description = "Reads its input"
command = ["/bin/cat"]
stdin = "<{text}>"
[tool.args.text]
type = "string"
"#;

#[test]
fn arguments_reach_the_child_as_single_inert_elements() {
    let dir = scratch("args");
    let cfg = write_config(&dir, TOOLS);
    let srv = Server::start(&["--config", cfg.to_str().unwrap()]);
    let mut c = Mcp::new(&srv.addr);
    let list = c.request("tools/list", json!({}));
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["say", "fail", "lots", "json", "stdin"],
        "no demo tools"
    );
    let say = &list["result"]["tools"][0]["inputSchema"];
    assert_eq!(say["properties"]["n"]["maximum"], 9);
    assert_eq!(say["required"], json!(["text"]));
    assert_eq!(say["additionalProperties"], false);

    for inert in ["; id", "$(id)", "`id`", "a b | c", "x' \"y", "*", "~root"] {
        let r = c.call("say", json!({"text": inert}));
        assert!(!is_error(&r), "{inert}: {r}");
        assert_eq!(text(&r), format!("{inert}|--n=3|"), "one element, verbatim");
    }
    let r = c.call(
        "say",
        json!({"text": "t", "n": 5, "loud": true, "files": ["a b", "c"]}),
    );
    assert_eq!(text(&r), "t|--n=5|--loud|a b|c|");
    for (args, why) in [
        (json!({"text": "a\nb"}), "control character"),
        (json!({"text": "-rf"}), "may not start with '-'"),
        (json!({"text": "--help"}), "may not start with '-'"),
        (json!({"text": "x", "n": 10}), "between 1 and 9"),
        (json!({"text": "x", "n": "5"}), "expected an integer"),
        (
            json!({"text": "x", "files": ["a", "b", "c", "d"]}),
            "more than 3",
        ),
        (json!({"text": "x", "files": ["--x"]}), "item 0"),
        (json!({"text": "x", "extra": 1}), "unknown argument"),
        (json!({}), "missing required argument \"text\""),
        (json!({"text": "x".repeat(101)}), "longer than 100"),
    ] {
        let r = c.call("say", args.clone());
        assert!(is_error(&r), "{args} must be refused: {r}");
        assert!(text(&r).contains(why), "{args}: {}", text(&r));
    }
    let r = c.call("stdin", json!({"text": "line\u{7f}"}));
    assert!(is_error(&r), "DEL is a control character: {r}");
    let r = c.call("stdin", json!({"text": "hello"}));
    assert_eq!(text(&r), "<hello>");
    let r = c.call("json", json!({"n": 42}));
    assert_eq!(r["structuredContent"], json!({"n": 42}), "{r}");
    let r = c.call("fail", json!({}));
    assert!(
        is_error(&r) && text(&r).contains("exit code 3") && text(&r).contains("broken"),
        "{r}"
    );
    let r = c.call("lots", json!({}));
    assert!(!is_error(&r), "{r}");
    let t = text(&r);
    assert!(
        t.contains("[output truncated: 1000 of 588895 bytes kept"),
        "{t}"
    );
    assert!(t.starts_with("1\n2\n3\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_child_gets_an_empty_environment_but_what_the_file_names() {
    let dir = scratch("env");
    let cfg = write_config(&dir, ENV_TOOL);
    // The server's own environment holds a secret the child must not see.
    let mut srv = Command::new(env!("CARGO_BIN_EXE_fastmcp-server"));
    srv.args([
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--config",
        cfg.to_str().unwrap(),
    ])
    .env("FASTMCP_TEST_SECRET", "s3cret")
    .env("FASTMCP_TEST_PASS", "passed")
    .env("AWS_SECRET_ACCESS_KEY", "leak")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    let mut child = srv.spawn().unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let addr = line.split("http://").nth(1).unwrap().trim().to_string();
    let mut c = Mcp::new(&addr);
    let r = c.call("env", json!({}));
    let all = text(&r);
    let mut vars: Vec<&str> = all.lines().collect();
    vars.sort();
    assert_eq!(
        vars,
        [
            "FASTMCP_TEST_PASS=passed",
            "GREETING=hi s3cret",
            "LITERAL=$HOME",
            "PATH=/usr/bin:/bin"
        ]
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn paths_cannot_leave_their_root() {
    let dir = scratch("paths");
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/ok.txt"), "inside\n").unwrap();
    std::fs::write(dir.join("secret.txt"), "outside\n").unwrap();
    std::os::unix::fs::symlink(dir.join("secret.txt"), root.join("link.txt")).unwrap();
    std::fs::create_dir_all(dir.join("root2")).unwrap();
    std::fs::write(dir.join("root2/x.txt"), "sibling\n").unwrap();
    let cfg = write_config(
        &dir,
        &format!(
            r#"
[[tool]]
name = "show"
description = "Shows a file under the root"
command = ["/bin/cat", "--", "{{file}}"]
[tool.args.file]
type = "path"
root = "{}"
kind = "file"
"#,
            root.display()
        ),
    );
    let srv = Server::start(&["--config", cfg.to_str().unwrap()]);
    let mut c = Mcp::new(&srv.addr);
    assert_eq!(
        text(&c.call("show", json!({"file": "sub/ok.txt"}))),
        "inside\n"
    );
    for escape in [
        "../secret.txt",
        "sub/../../secret.txt",
        "link.txt",
        "../root2/x.txt",
        dir.join("secret.txt").to_str().unwrap(),
        "/etc/passwd",
        "sub",
        "missing.txt",
    ] {
        let r = c.call("show", json!({"file": escape}));
        assert!(is_error(&r), "{escape} must be refused: {r}");
        assert!(
            !text(&r).contains("outside") && !text(&r).contains("sibling"),
            "{r}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_timeout_kills_the_whole_process_group_and_the_audit_log_says_so() {
    let dir = scratch("timeout");
    let pidfile = dir.join("grandchild.pid");
    let cfg = write_config(
        &dir,
        &format!(
            r#"
[[tool]]
name = "hang"
description = "Starts a grandchild and waits"
command = ["/bin/sh", "-c", "trap '' TERM; /bin/sleep 61 & echo $! > {}; wait"]
allow_interpreter = true
timeout_secs = 1
kill_grace_secs = 1
"#,
            pidfile.display()
        ),
    );
    let log = dir.join("server.log");
    let srv = Server::start_logging(&["--config", cfg.to_str().unwrap()], &log);
    let mut c = Mcp::new(&srv.addr);
    let start = Instant::now();
    let r = c.call("hang", json!({}));
    let took = start.elapsed();
    assert!(
        is_error(&r) && text(&r).contains("timed out after 1 s"),
        "{r}"
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(6),
        "{took:?}"
    );
    let grandchild: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(3), || gone(grandchild)),
        "grandchild {grandchild} survived its tool call"
    );
    let audit = std::fs::read_to_string(&log).unwrap();
    let line = audit
        .lines()
        .find(|l| l.contains("tool=hang"))
        .expect("an audit line");
    assert!(
        line.contains("killed=timeout") && line.contains("caller=-"),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrency_is_capped_and_cancellation_kills_the_command() {
    let dir = scratch("cancel");
    let cfg = write_config(
        &dir,
        r#"
[[tool]]
name = "nap"
description = "Sleeps"
command = ["/bin/sleep", "{secs}"]
max_concurrency = 1
[tool.args.secs]
type = "string"
pattern = "[0-9.]+"
"#,
    );
    let srv = Server::start(&["--config", cfg.to_str().unwrap()]);
    let mut c = Mcp::new(&srv.addr);
    let addr = srv.addr.clone();
    let sid = c.sid.clone();
    let marker = "31.4159";
    let first = call_in_background(addr, sid, json!("long"), json!({"secs": marker}));
    assert!(
        wait_until(Duration::from_secs(5), || !pids_with(marker).is_empty()),
        "the command started"
    );
    let pid = pids_with(marker)[0];
    // A second call while the first runs is refused at once, not queued.
    let started = Instant::now();
    let r = c.call("nap", json!({"secs": "0.1"}));
    assert!(is_error(&r) && text(&r).contains("max_concurrency"), "{r}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let r = c.post(
        &json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"long"}}),
    );
    assert_eq!(r.status, 202);
    assert!(
        wait_until(Duration::from_secs(5), || gone(pid)),
        "cancelled command {pid} still runs"
    );
    let answer = first.join().unwrap();
    assert!(answer.body.contains("-32800"), "{}", answer.body);
    // The slot is free again.
    let r = c.call("nap", json!({"secs": "0"}));
    assert!(!is_error(&r), "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_kills_running_commands() {
    let dir = scratch("shutdown");
    let cfg = write_config(
        &dir,
        r#"
[[tool]]
name = "nap"
description = "Sleeps"
command = ["/bin/sleep", "27.1828"]
"#,
    );
    let mut srv = Server::start(&["--config", cfg.to_str().unwrap()]);
    let c = Mcp::new(&srv.addr);
    let (addr, sid) = (srv.addr.clone(), c.sid.clone());
    call_in_background(addr, sid, json!(1), json!({}));
    assert!(wait_until(Duration::from_secs(5), || !pids_with("27.1828").is_empty()));
    let pid = pids_with("27.1828")[0];
    srv.signal("TERM");
    assert!(
        srv.wait_exit(Duration::from_secs(15)).is_some(),
        "server exits"
    );
    assert!(
        wait_until(Duration::from_secs(3), || gone(pid)),
        "{pid} outlived the server"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tools/call` of `nap` with request id `id` on a thread of its own (its answer waits for the
/// command).
fn call_in_background(
    addr: String,
    sid: String,
    id: Value,
    args: Value,
) -> std::thread::JoinHandle<common::Resp> {
    std::thread::spawn(move || {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"nap","arguments":args}});
        post_json(
            &addr,
            "/mcp",
            &[
                ACCEPT,
                ("Mcp-Session-Id", &sid),
                ("MCP-Protocol-Version", REV),
            ],
            &body.to_string(),
        )
    })
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_fastmcp-server"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn check_and_call_subcommands_and_refused_files() {
    let dir = scratch("check");
    let cfg = write_config(&dir, TOOLS);
    let path = cfg.to_str().unwrap();
    let (code, out, _) = run(&["check", "--config", path]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("tools (5):")
            && out.contains("say")
            && out.contains("text (String, required)"),
        "{out}"
    );
    assert!(
        !out.contains("warning: tool \"fail\""),
        "allow_interpreter silences the warning: {out}"
    );
    let (code, out, err) = run(&["call", "--config", path, "say", r#"{"text":"$(id)"}"#]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["content"][0]["text"], "$(id)|--n=3|");
    assert!(
        err.contains("tool=say") && err.contains("caller=command line"),
        "audit line: {err}"
    );
    let (code, _, _) = run(&["call", "--config", path, "say", r#"{"text":"-x"}"#]);
    assert_eq!(code, 1, "a tool error exits 1");
    let (code, _, err) = run(&["call", "--config", path, "nope", "{}"]);
    assert_eq!(code, 2, "{err}");

    // A broken file: reported with its line and column, exit 2 (and the server refuses it too).
    let broken = write_config(
        &dir,
        "[[tool]]\nname = \"x\"\ndescription = \"d\"\ncommand = [\"/bin/true\", \"{nope}\"]\n",
    );
    let (code, _, err) = run(&["check", "--config", broken.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!("{}:1:1: tool \"x\"", broken.display())),
        "{err}"
    );
    assert!(err.contains("{nope} names no declared argument"), "{err}");
    let (code, _, err) = run(&["--port", "0", "--config", broken.to_str().unwrap()]);
    assert_eq!(code, 2, "the server refuses to start: {err}");
    std::fs::write(&broken, "[[tool]]\nname = \"x\"\ndescription = 7\n").unwrap();
    let (code, _, err) = run(&["check", "--config", broken.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!("{}:3:", broken.display())),
        "{err}"
    );

    // A file others may write is refused whatever it holds.
    let cfg = write_config(&dir, "demo_tools = true\n");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, _, err) = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("chmod go-w"), "{err}");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out, _) = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("echo, add, sleep (demo_tools = true)"),
        "{out}"
    );
    // An interpreter as command[0] loads with a warning.
    let cfg = write_config(
        &dir,
        "[[tool]]\nname = \"sh\"\ndescription = \"d\"\ncommand = [\"/bin/bash\", \"-c\", \"id\"]\n",
    );
    let (code, out, _) = run(&["check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("warning: tool \"sh\": /bin/bash runs other programs"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sighup_reloads_and_keeps_the_old_file_when_the_new_one_is_broken() {
    let dir = scratch("reload");
    let cfg = write_config(
        &dir,
        "[[tool]]\nname = \"one\"\ndescription = \"d\"\ncommand = [\"/bin/echo\", \"one\"]\n",
    );
    let log = dir.join("server.log");
    let srv = Server::start_logging(&["--config", cfg.to_str().unwrap()], &log);
    let mut c = Mcp::new(&srv.addr);
    let names = |c: &mut Mcp| -> Vec<String> {
        c.request("tools/list", json!({}))["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&mut c), ["one"]);
    std::fs::write(&cfg, "[[tool]]\nname = \"two\"\ndescription = \"d\"\ncommand = [\"/bin/echo\", \"two\"]\ndemo_tools = true\n").unwrap();
    // (demo_tools after a table belongs to the table: a broken file.)
    srv.signal("HUP");
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("reload failed")
    }));
    assert_eq!(names(&mut c), ["one"], "the old file is kept");
    std::fs::write(&cfg, "demo_tools = true\n[[tool]]\nname = \"two\"\ndescription = \"d\"\ncommand = [\"/bin/echo\", \"two\"]\n").unwrap();
    srv.signal("HUP");
    assert!(wait_until(Duration::from_secs(5), || names(&mut c)
        .contains(&"two".to_string())));
    let mut now = names(&mut c);
    now.sort();
    assert_eq!(now, ["add", "echo", "sleep", "two"]);
    assert_eq!(text(&c.call("two", json!({}))), "two\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_child_cannot_read_the_servers_environment_from_proc() {
    // Children run as the server's user; as root every /proc file is readable anyway, so the
    // server runs as nobody here (setpriv, util-linux), from a copy nobody may execute.
    let dir = scratch("environ");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.join("fastmcp-server");
    std::fs::copy(env!("CARGO_BIN_EXE_fastmcp-server"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = write_config(
        &dir,
        r#"
[[tool]]
name = "peek"
description = "Reads its parent's environment"
command = ["/bin/sh", "-c", "cat /proc/$PPID/environ"]
allow_interpreter = true
"#,
    );
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["call", "--config", cfg.to_str().unwrap(), "peek", "{}"])
        .env("FASTMCP_TEST_SECRET", "hunter2")
        .output()
        .expect("setpriv runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("hunter2"), "the secret leaked: {stdout}");
    assert!(
        stdout.contains("Permission denied"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deleting_the_session_kills_its_running_command() {
    let dir = scratch("delete");
    let cfg = write_config(
        &dir,
        "[[tool]]\nname = \"nap\"\ndescription = \"Sleeps\"\ncommand = [\"/bin/sleep\", \"23.1406\"]\n",
    );
    let srv = Server::start(&["--config", cfg.to_str().unwrap()]);
    let c = Mcp::new(&srv.addr);
    let running = call_in_background(srv.addr.clone(), c.sid.clone(), json!(7), json!({}));
    assert!(wait_until(Duration::from_secs(5), || !pids_with("23.1406").is_empty()));
    let pid = pids_with("23.1406")[0];
    let r = common::request(
        &srv.addr,
        "DELETE",
        "/mcp",
        &[("Mcp-Session-Id", &c.sid), ("MCP-Protocol-Version", REV)],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        wait_until(Duration::from_secs(5), || gone(pid)),
        "the command of a deleted session still runs"
    );
    let _ = running.join();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_command_resource_reads_at_most_max_concurrency_at_once() {
    let dir = scratch("resource-cap");
    let cfg = write_config(
        &dir,
        "[[resource]]\nuri = \"host://slow\"\ncommand = [\"/bin/sleep\", \"2.71828\"]\ntimeout_secs = 10\n",
    );
    let srv = Server::start(&["--config", cfg.to_str().unwrap()]);
    let c = Mcp::new(&srv.addr);
    let (addr, sid) = (srv.addr.clone(), c.sid.clone());
    let first = std::thread::spawn(move || {
        let body = json!({"jsonrpc":"2.0","id":"slow","method":"resources/read","params":{"uri":"host://slow"}});
        post_json(
            &addr,
            "/mcp",
            &[
                ACCEPT,
                ("Mcp-Session-Id", &sid),
                ("MCP-Protocol-Version", REV),
            ],
            &body.to_string(),
        )
    });
    assert!(wait_until(Duration::from_secs(5), || !pids_with("2.71828").is_empty()));
    // The one place is taken: a second read is refused at once instead of holding a worker.
    let started = Instant::now();
    let r = c.post(
        &json!({"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"host://slow"}}),
    );
    assert!(r.body.contains("max_concurrency"), "{}", r.body);
    assert!(started.elapsed() < Duration::from_secs(2));
    let done = first.join().unwrap();
    assert!(
        done.body.contains("\"contents\""),
        "the first read completes: {}",
        done.body
    );
    let _ = std::fs::remove_dir_all(&dir);
}
