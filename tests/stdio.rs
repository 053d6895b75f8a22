//! The stdio transport end to end: the real binary started with `--stdio` on pipes, and the
//! library's `serve_io` with tools that log and ask the client. Every line the server writes must
//! be a JSON-RPC message valid for the session's revision.

mod common;

use common::schema::{assert_valid, check_message};
use fastmcp_server::{Config, Context, LogLevel, ServerBuilder, StdioEnd, Tool, ToolResult};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const REV: &str = "2025-11-25";
const WAIT: Duration = Duration::from_secs(10);

/// One client on a stdio server's pipes: each line read is parsed and checked against the schema
/// of the session's revision (answers against the result type of the method they answer).
struct Client {
    stdin: Option<Box<dyn Write + Send>>,
    lines: Receiver<String>,
    rev: &'static str,
    /// Methods of our requests by id, to check their answers' results.
    asked: HashMap<String, String>,
    /// Messages read while waiting for another.
    early: Vec<Value>,
}

impl Client {
    fn new(
        stdin: Box<dyn Write + Send>,
        stdout: impl Read + Send + 'static,
        rev: &'static str,
    ) -> Client {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Client {
            stdin: Some(stdin),
            lines: rx,
            rev,
            asked: HashMap::new(),
            early: Vec::new(),
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        let w = self.stdin.as_mut().expect("stdin open");
        w.write_all(bytes).expect("write");
        w.flush().expect("flush");
    }

    fn send(&mut self, msg: Value) {
        if let (Some(id), Some(m)) = (msg.get("id"), msg.get("method")) {
            self.asked
                .insert(id.to_string(), m.as_str().unwrap_or("").into());
        }
        let mut line = msg.to_string();
        line.push('\n');
        self.raw(line.as_bytes());
    }

    fn request(&mut self, id: u64, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next line, parsed and checked; `None` if none came within `timeout` or stdout ended.
    fn next_line(&mut self, timeout: Duration) -> Option<Value> {
        let line = match self.lines.recv_timeout(timeout) {
            Ok(l) => l,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        };
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
        assert!(!line.contains('\n'));
        if v.get("error").is_some() && v.get("id").is_none() {
            // An error that could name no request: valid as such from 2025-11-25.
            assert_valid("2025-11-25", "JSONRPCErrorResponse", &v);
        } else {
            let method = v.get("id").and_then(|id| self.asked.get(&id.to_string()));
            check_message(self.rev, &v, method.map(|m| m.as_str()));
        }
        Some(v)
    }

    /// The first message (read now or earlier) that `pred` accepts.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.early.iter().position(&pred) {
            return self.early.remove(i);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .next_line(left)
                .unwrap_or_else(|| panic!("no {what} within {WAIT:?}; had {:?}", self.early));
            if pred(&v) {
                return v;
            }
            self.early.push(v);
        }
    }

    fn answer(&mut self, id: u64) -> Value {
        self.wait_for(&format!("answer {id}"), |v| {
            v["id"] == json!(id) && v.get("method").is_none()
        })
    }

    fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.request(id, method, params);
        self.answer(id)
    }

    fn initialize(&mut self, capabilities: Value) -> Value {
        let init = self.call(
            0,
            "initialize",
            json!({"protocolVersion": self.rev, "capabilities": capabilities,
                   "clientInfo": {"name": "stdio-test", "version": "1"}}),
        );
        assert_eq!(init["result"]["protocolVersion"], self.rev);
        self.notify("notifications/initialized", json!({}));
        init
    }

    /// Nothing more arrives for `within` (besides what `ignore` accepts).
    fn quiet(&mut self, within: Duration, ignore: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + within;
        while let Some(v) = self.next_line(deadline.saturating_duration_since(Instant::now())) {
            assert!(ignore(&v), "unexpected message: {v}");
        }
    }

    fn close(&mut self) {
        self.stdin = None;
    }
}

/// The binary with `--stdio`, killed when dropped.
struct Proc {
    child: Child,
}

impl Proc {
    fn start(args: &[&str], rev: &'static str) -> (Proc, Client) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fastmcp-server"))
            .arg("--stdio")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server");
        let stdin: ChildStdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        (Proc { child }, Client::new(Box::new(stdin), stdout, rev))
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(answer: &Value) -> &str {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
}

#[test]
fn handshake_tools_bad_lines_and_eof() {
    let (mut p, mut c) = Proc::start(&["--max-body-bytes", "2000"], REV);
    c.initialize(json!({}));
    let tools = c.call(1, "tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["echo", "add", "sleep"]);
    let echo = c.call(
        2,
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi\nthere"}}),
    );
    assert_eq!(text(&echo), "hi\nthere");
    let add = c.call(
        3,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 40}}),
    );
    assert_eq!(text(&add), "42");

    c.raw(b"this is not json\n");
    let e = c.wait_for("parse error", |v| v["error"]["code"] == -32700);
    assert!(e.get("id").is_none(), "{e}");
    // Over the cap, spanning several reads: skipped, answered, and the stream goes on.
    let long = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"message\":\"{}\"}}}}}}\n",
        "x".repeat(300_000)
    );
    c.raw(long.as_bytes());
    let e = c.wait_for("over-long error", |v| v["error"]["code"] == -32600);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-body-bytes"),
        "{e}"
    );
    c.raw(b"\n   \n");
    let ping = c.call(4, "ping", json!({}));
    assert_eq!(ping["result"], json!({}));
    c.quiet(Duration::from_millis(200), |_| false);

    // EOF with a request running: it is cancelled (no answer) and the process exits 0.
    c.request(
        5,
        "tools/call",
        json!({"name": "sleep", "arguments": {"seconds": 60}}),
    );
    std::thread::sleep(Duration::from_millis(100));
    let closed = Instant::now();
    c.close();
    assert_eq!(p.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(closed.elapsed() < Duration::from_secs(5));
    assert!(
        c.next_line(Duration::from_secs(1)).is_none(),
        "stdout ends with nothing more"
    );
}

#[test]
fn sleep_holds_no_worker_progress_and_cancellation() {
    let (_p, mut c) = Proc::start(&["--workers", "1", "--progress-interval-ms", "100"], REV);
    c.initialize(json!({}));
    c.request(
        1,
        "tools/call",
        json!({"name": "sleep", "arguments": {"seconds": 1.0}, "_meta": {"progressToken": "p1"}}),
    );
    c.request(
        2,
        "tools/call",
        json!({"name": "sleep", "arguments": {"seconds": 60}}),
    );
    // One worker, two sleeps running: other requests are still answered meanwhile.
    let echo = c.call(
        3,
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "meanwhile"}}),
    );
    assert_eq!(text(&echo), "meanwhile");
    assert!(
        c.early.iter().all(|v| v["id"] != json!(1)),
        "the sleep is not answered before the echo"
    );
    let progress = c.wait_for("progress", |v| v["method"] == "notifications/progress");
    assert_eq!(progress["params"]["progressToken"], "p1");
    let slept = c.answer(1);
    assert!(text(&slept).contains("Slept"), "{slept}");

    c.notify(
        "notifications/cancelled",
        json!({"requestId": 2, "reason": "test"}),
    );
    assert_eq!(c.call(4, "ping", json!({}))["result"], json!({}));
    c.quiet(Duration::from_millis(500), |v| {
        v["method"] == "notifications/progress"
    });
}

#[test]
fn logging_requests_to_the_client_and_list_changed() {
    let (stdin_r, stdin_w) = std::io::pipe().unwrap();
    let (stdout_r, stdout_w) = std::io::pipe().unwrap();
    let builder = ServerBuilder::new(Config::default())
        .builtin_tools()
        .tool(Tool::new(
            "chatty",
            "Logs, then asks the client's model",
            json!({"type": "object"}),
            |_, responder| {
                std::thread::spawn(move || {
                    let ctx: Context = responder.context().clone();
                    ctx.log(LogLevel::Debug, "too low");
                    ctx.log(LogLevel::Warning, "careful");
                    let asked = ctx.sample(json!({
                        "messages": [{"role": "user", "content": {"type": "text", "text": "2+2?"}}],
                        "maxTokens": 10
                    }));
                    let answer = match asked {
                        Ok(r) => r["content"]["text"].as_str().unwrap_or("").to_string(),
                        Err(e) => format!("failed: {e}"),
                    };
                    responder.finish(ToolResult::text(answer));
                });
            },
        ));
    let server = builder.stdio().unwrap();
    let handle = server.handle();
    let served = std::thread::spawn(move || server.run_on(stdin_r, stdout_w));
    let mut c = Client::new(Box::new(stdin_w), stdout_r, REV);
    c.initialize(json!({"sampling": {}}));

    assert_eq!(
        c.call(1, "logging/setLevel", json!({"level": "info"}))["result"],
        json!({})
    );
    c.request(2, "tools/call", json!({"name": "chatty", "arguments": {}}));
    let log = c.wait_for("log message", |v| v["method"] == "notifications/message");
    assert_eq!(log["params"]["level"], "warning");
    assert_eq!(log["params"]["data"], "careful");
    let ask = c.wait_for("sampling request", |v| {
        v["method"] == "sampling/createMessage"
    });
    c.send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {
        "role": "assistant", "content": {"type": "text", "text": "four"}, "model": "m"
    }}));
    assert_eq!(text(&c.answer(2)), "four");
    assert!(
        c.early.iter().all(|v| v["params"]["data"] != "too low"),
        "below the level set: not sent"
    );

    handle.remove_tool("echo");
    c.wait_for("list_changed", |v| {
        v["method"] == "notifications/tools/list_changed"
    });
    c.close();
    let end = served.join().unwrap().unwrap();
    assert_eq!(end, StdioEnd::Eof);
}

#[test]
fn batches_in_2025_03_26_and_stateless_requests() {
    let (_p, mut c) = Proc::start(&[], "2025-03-26");
    c.initialize(json!({}));
    c.asked.insert("1".into(), "tools/call".into());
    c.raw(
        b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":2}}},\
          {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}]\n",
    );
    let batch = c.wait_for("batch answer", Value::is_array);
    let mut ids: Vec<u64> = batch
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 2]);

    // Revision 2026-07-28 beside the session: each request carries its `_meta`.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}});
    c.rev = "2026-07-28";
    let listed = c.call(3, "tools/list", json!({"_meta": meta}));
    assert_eq!(listed["result"]["resultType"], "complete");
    let old = c.call(
        4,
        "tools/list",
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2099-01-01",
        "io.modelcontextprotocol/clientCapabilities": {}}}),
    );
    assert_eq!(old["error"]["code"], -32022);
}

#[test]
fn config_tools_and_sighup_reload() {
    let dir = std::env::temp_dir().join(format!("fastmcp-stdio-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tools.toml");
    let write = |text: &str| {
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    let tool = |name: &str| {
        format!(
            "[[tool]]\nname = \"{name}\"\ndescription = \"says hello\"\ncommand = [\"/bin/echo\", \"hello from {name}\"]\ntimeout_secs = 5\n"
        )
    };
    write(&tool("greet"));
    let (p, mut c) = Proc::start(&["--config", path.to_str().unwrap()], REV);
    c.initialize(json!({}));
    let called = c.call(1, "tools/call", json!({"name": "greet", "arguments": {}}));
    assert!(text(&called).contains("hello from greet"), "{called}");

    write(&format!("{}\n{}", tool("greet"), tool("wave")));
    p.signal("HUP");
    c.wait_for("list_changed", |v| {
        v["method"] == "notifications/tools/list_changed"
    });
    let tools = c.call(2, "tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["greet", "wave"]);
    let mut p = p;
    p.signal("TERM");
    assert_eq!(p.wait_exit(Duration::from_secs(5)), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
