//! More than one process (README: Running more than one): the shared `requestState` key
//! (`--state-key-file`), session ids that name their instance (`--instance-id`) on every
//! transport, systemd socket activation (`LISTEN_FDS`) and `--reuse-port`.

mod common;
use common::*;
use fastmcp_server::{Config, Elicitation, ServerBuilder, StateKey, Tool, ToolResult};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_fastmcp-server");
const REV: &str = "2026-07-28";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fastmcp-multi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn key_file(dir: &std::path::Path, mode: u32) -> PathBuf {
    let path = dir.join("state.key");
    std::fs::write(&path, "0123456789abcdef0123456789abcdef-shared\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// Runs the binary with `args` expecting it to refuse them: its exit status and stderr.
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_key_file_others_may_read_is_refused() {
    let dir = temp_dir("perm");
    let path = key_file(&dir, 0o640);
    let p = path.to_str().unwrap();
    let (code, err) = refused(&["--port", "0", "--state-key-file", p]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("--state-key-file") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let srv = Server::start(&["--state-key-file", p]);
    let r = request(&srv.addr, "GET", "/health", &[], "");
    assert_eq!(r.status, 200, "{}", r.body);
    for bad in ["a.b", "", "x/y", &"n".repeat(33)] {
        let (code, err) = refused(&["--port", "0", "--instance-id", bad]);
        assert_eq!(code, Some(2), "{bad:?}: {err}");
        assert!(err.contains("--instance-id"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server whose `ask` tool elicits a name, then samples a model (two input rounds).
fn asking_server(key: Option<StateKey>) -> String {
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        state_key: key,
        ..Config::default()
    };
    let server = ServerBuilder::new(config)
        .tool(Tool::new(
            "ask",
            "Asks a name, then a model",
            json!({"type": "object"}),
            |_, responder| {
                let ctx = responder.context().clone();
                let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
                let name = match ctx.elicit_with_schema("Your name?", schema) {
                    Ok(Elicitation::Accept(c)) => c["name"].as_str().unwrap_or("").to_string(),
                    Ok(_) => String::new(),
                    Err(e) => return responder.finish(ToolResult::error(e.to_string())),
                };
                let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5});
                match ctx.sample(params) {
                    Ok(r) => responder.finish(ToolResult::text(format!(
                        "{name}: {}",
                        r["content"]["text"].as_str().unwrap_or("")
                    ))),
                    Err(e) => responder.finish(ToolResult::error(e.to_string())),
                }
            },
        ))
        .bind()
        .expect("bind");
    let addr = server.local_addr().to_string();
    std::thread::spawn(move || server.run());
    addr
}

/// One stateless `tools/call` of `ask` on `addr`.
fn ask(addr: &str, id: u64, state: Option<&Value>, responses: Value) -> Value {
    let mut params = json!({"name": "ask", "arguments": {}, "_meta": {
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}},
        "io.modelcontextprotocol/clientInfo": {"name": "multi-test", "version": "1"}}});
    if let Some(s) = state {
        params["requestState"] = s.clone();
        params["inputResponses"] = responses;
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
    let headers = [
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", REV),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "ask"),
    ];
    post_json(addr, "/mcp", &headers, &body.to_string()).json()
}

#[test]
fn instances_with_one_key_accept_each_others_request_state() {
    let dir = temp_dir("key");
    let path = key_file(&dir, 0o600);
    let shared = || Some(StateKey::from_file(&path).expect("key"));
    let (a, b, c) = (
        asking_server(shared()),
        asking_server(shared()),
        asking_server(shared()),
    );
    let stranger = asking_server(None);

    // Round 1 on a, round 2 on b, round 3 on c: each accepts the state the previous one signed.
    let v = ask(&a, 1, None, json!({}));
    assert_eq!(v["result"]["resultType"], "input_required", "{v}");
    let name = json!({"elicitation-1": {"action": "accept", "content": {"name": "Ada"}}});
    let v = ask(&b, 2, Some(&v["result"]["requestState"]), name.clone());
    assert!(
        v["result"]["inputRequests"]["sampling-2"].is_object(),
        "{v}"
    );
    let state = v["result"]["requestState"].clone();
    let model = json!({"sampling-2": {"role": "assistant", "content": {"type": "text", "text": "hello"}, "model": "m"}});
    let v = ask(&c, 3, Some(&state), model.clone());
    assert_eq!(v["result"]["content"][0]["text"], "Ada: hello", "{v}");

    // An instance with its own key refuses it, as it refuses a forged state.
    let v = ask(&stranger, 4, Some(&state), model);
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_session_id_names_its_instance() {
    let srv = Server::start(&["--instance-id", "node-7"]);
    // Streamable HTTP: the Mcp-Session-Id of initialize, and it is usable.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "multi", "version": "1"}}});
    let accept = ("Accept", "application/json, text/event-stream");
    let r = post_json(&srv.addr, "/mcp", &[accept], &init.to_string());
    let sid = r
        .header("Mcp-Session-Id")
        .expect("a session id")
        .to_string();
    assert!(sid.starts_with("node-7.") && sid.len() > 20, "{sid}");
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    let headers = [
        accept,
        ("Mcp-Session-Id", &sid),
        ("MCP-Protocol-Version", "2025-11-25"),
    ];
    let r = post_json(&srv.addr, "/mcp", &headers, ping);
    assert_eq!(r.status, 200, "{}", r.body);

    // Legacy HTTP+SSE: the endpoint's session_id.
    let mut legacy = Sse::open(&srv.addr, "/sse", &[("Accept", "text/event-stream")]);
    let endpoint = legacy.next_event(T).expect("endpoint").data;
    assert!(
        endpoint.starts_with("/messages?session_id=node-7."),
        "{endpoint}"
    );

    // Seed: the session id, and its event ids, which a bare reconnect (Last-Event-ID only, as a
    // browser's EventSource sends it) still resolves to the session.
    let mut raw = Sse::open(&srv.addr, "/notifications", &[]);
    let greeting = raw.next_raw(T).expect("greeting");
    let seed = greeting
        .data
        .strip_prefix("Connected to session ")
        .expect("greeting names the session")
        .to_string();
    assert!(seed.starts_with("node-7."), "{seed}");
    let position = raw.next_raw(T).expect("the id event").id.expect("an id");
    assert!(position.starts_with(&format!("{seed}.")), "{position}");
    seed_initialize(&srv.addr, &mut raw, &seed);
    raw.disconnect();
    seed_post(
        &srv.addr,
        &seed,
        r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#,
    );
    let prefix = &position[..position.len() - position.rsplit('.').next().unwrap().len()];
    let last = format!("{prefix}0-1");
    let mut back = Sse::open(&srv.addr, "/notifications", &[("Last-Event-ID", &last)]);
    assert_eq!(back.header("Mcp-Session-Id"), Some(seed.as_str()));
    assert_eq!(
        back.next_event(T).unwrap().data,
        format!("Resumed session {seed}")
    );
    assert_eq!(back.next_json(T)["id"], 5);
}

/// Starts the binary the way systemd does: a listening socket as descriptor 3, `LISTEN_FDS=1`
/// and `LISTEN_PID` naming the server's own process. A Python parent makes the socket, forks,
/// and after the server exits reports whether the socket is still listening (a restart must find
/// it so). Returns the child and its stdout lines.
fn activated(
    args: &[&str],
    stderr: &std::path::Path,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStdout>>,
) {
    const SCRIPT: &str = r#"
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execv(sys.argv[1], sys.argv[1:])
print("pid", pid, flush=True)
os.waitpid(pid, 0)
c = socket.create_connection(s.getsockname(), timeout=2)
print("still listening", flush=True)
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT, BIN])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr).expect("stderr file"))
        .spawn()
        .expect("python3");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

#[test]
fn an_inherited_socket_serves_and_outlives_the_server() {
    // --port 1 cannot be bound by an unprivileged test: the server must not try.
    let log = std::env::temp_dir().join(format!("fastmcp-activated-{}.err", std::process::id()));
    let (mut child, mut lines) = activated(&["--host", "127.0.0.1", "--port", "1"], &log);
    // The Python parent's and the server's stderr, to say why if a line never comes.
    let why = || std::fs::read_to_string(&log).unwrap_or_default();
    let mut next = || match lines.next() {
        Some(Ok(line)) => line,
        other => panic!("no line ({other:?}); stderr:\n{}", why()),
    };
    // The parent prints the pid after `fork`, the server its banner after `exec`: either may come
    // first (under load the server often wins; CI once failed on that order).
    let (mut pid, mut addr) = (None, None);
    while pid.is_none() || addr.is_none() {
        let line = next();
        if let Some(p) = line.strip_prefix("pid ") {
            pid = Some(p.to_string());
        } else if line.contains("listening on") {
            let a = line.split("http://").nth(1).expect("the listening line");
            addr = Some(a.trim().to_string());
        }
    }
    let (Some(pid), Some(addr)) = (pid, addr) else {
        unreachable!("the loop ends with both")
    };
    assert!(!addr.ends_with(":1"), "{addr}");
    let r = request(&addr, "GET", "/health", &[], "");
    assert_eq!(r.status, 200, "{}", r.body);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"a","version":"1"}}}"#;
    let r = post_json(
        &addr,
        "/mcp",
        &[("Accept", "application/json, text/event-stream")],
        init,
    );
    assert_eq!(
        r.status, 200,
        "the Host check accepts the inherited address: {}",
        r.body
    );
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let rest: Vec<String> = std::iter::from_fn(|| lines.next().and_then(Result::ok)).collect();
    assert!(
        rest.iter().any(|l| l == "still listening"),
        "SIGTERM must leave systemd's socket listening: {rest:?}"
    );
    let _ = child.wait();
    let _ = std::fs::remove_file(&log);
}

#[test]
fn reuse_port_lets_two_servers_share_a_port() {
    let first = Server::start(&["--reuse-port"]);
    let port = first.addr.rsplit(':').next().unwrap().to_string();
    let (code, err) = refused(&["--host", "127.0.0.1", "--port", &port]);
    assert_eq!(
        code,
        Some(1),
        "without --reuse-port the port is taken: {err}"
    );
    let mut second = Command::new(BIN)
        .args(["--host", "127.0.0.1", "--port", &port, "--reuse-port"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let line = BufReader::new(second.stdout.take().unwrap())
        .lines()
        .next()
        .expect("a line")
        .unwrap();
    assert!(line.contains(&format!(":{port}")), "{line}");
    let _ = second.kill();
    let _ = second.wait();
    // The first still answers.
    let r = request(&first.addr, "GET", "/health", &[], "");
    assert_eq!(r.status, 200);
    std::thread::sleep(Duration::from_millis(10));
}
