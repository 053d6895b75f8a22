//! `fastmcp-server gateway`: the real binary in front of a stdio MCP server, mostly the binary
//! itself with `--stdio` (no build step): answers, progress, cancellation, isolation between
//! sessions, children ending with their sessions (checked in /proc), dead and silent children,
//! the tool filter, and the legacy and seed transports through the same path.

mod common;

use common::{Server, Sse, T, post_json, request, seed_initialize, seed_post, seed_session};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const ME: &str = env!("CARGO_BIN_EXE_fastmcp-server");
const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

fn gateway(flags: &[&str], child: &[&str]) -> Server {
    gateway_logging(flags, child, None)
}

fn gateway_logging(flags: &[&str], child: &[&str], log: Option<&Path>) -> Server {
    let mut args = flags.to_vec();
    args.push("--");
    args.extend_from_slice(child);
    Server::start_gateway(&args, log)
}

/// The binary itself on stdio, as the child.
fn stdio_child() -> Vec<&'static str> {
    vec![ME, "--stdio"]
}

fn hello(id: u64) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})
    .to_string()
}

/// Initializes a Streamable HTTP session through the gateway; its id.
fn init(addr: &str) -> String {
    let r = post_json(addr, "/mcp", &[ACCEPT], &hello(1));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["result"]["serverInfo"]["name"], "fastmcp-server", "{v}");
    let sid = r.header("Mcp-Session-Id").expect("session id").to_string();
    let n = post(
        addr,
        &sid,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(n.status, 202);
    sid
}

fn post(addr: &str, sid: &str, body: &str) -> common::Resp {
    post_json(addr, "/mcp", &[ACCEPT, ("Mcp-Session-Id", sid)], body)
}

fn call(id: u64, tool: &str, args: Value, token: Option<&str>) -> String {
    let mut params = json!({"name": tool, "arguments": args});
    if let Some(t) = token {
        params["_meta"] = json!({"progressToken": t});
    }
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":params}).to_string()
}

/// A POST answered as an SSE stream.
fn post_sse(addr: &str, sid: &str, body: &str) -> Sse {
    Sse::open_with(
        addr,
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ACCEPT,
            ("Mcp-Session-Id", sid),
        ],
        body,
    )
}

fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// A process that exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

fn health(addr: &str) -> Value {
    request(addr, "GET", "/health", &[], "").json()
}

/// The one new child after `before`, waited for.
fn new_child(srv: &Server, before: &[u32]) -> u32 {
    let mut found = None;
    assert!(
        wait_until(T, || {
            found = srv.children().into_iter().find(|p| !before.contains(p));
            found.is_some()
        }),
        "no child started"
    );
    found.unwrap()
}

#[test]
fn answers_progress_and_the_child_ends_with_delete() {
    let srv = gateway(&[], &stdio_child());
    assert!(srv.children().is_empty(), "no child before a session");
    let sid = init(&srv.addr);
    let child = new_child(&srv, &[]);
    assert!(alive(child));
    assert_eq!(health(&srv.addr)["children"]["running"], 1);

    let list = post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    )
    .json();
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"add") && names.contains(&"sleep"), "{list}");
    let sum = post(
        &srv.addr,
        &sid,
        &call(3, "add", json!({"a": 2, "b": 40}), None),
    )
    .json();
    assert_eq!(sum["id"], 3);
    assert_eq!(sum["result"]["content"][0]["text"], "42", "{sum}");

    // A progress token: the answer is an SSE stream carrying the child's progress, then its result.
    let mut s = post_sse(
        &srv.addr,
        &sid,
        &call(4, "sleep", json!({"seconds": 1}), Some("tok")),
    );
    assert_eq!(s.status, 200);
    let first = s.next_json(T);
    assert_eq!(first["method"], "notifications/progress", "{first}");
    assert_eq!(first["params"]["progressToken"], "tok");
    let mut last = first;
    while last.get("id").is_none() {
        last = s.next_json(T);
    }
    assert_eq!(last["id"], 4);
    assert_eq!(
        last["result"]["content"][0]["text"], "Slept for 1 seconds",
        "{last}"
    );

    let metrics = request(&srv.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains("fastmcp_gateway_children_running 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("fastmcp_gateway_children_started_total 1"),
        "{metrics}"
    );

    let d = request(&srv.addr, "DELETE", "/mcp", &[("Mcp-Session-Id", &sid)], "");
    assert_eq!(d.status, 200);
    assert!(
        wait_until(T, || !alive(child)),
        "child {child} outlived its session"
    );
    assert!(wait_until(T, || health(&srv.addr)["children"]["running"] == 0));
    let after = post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#,
    );
    assert_eq!(after.status, 404);
}

#[test]
fn cancellation_reaches_the_child() {
    let log = std::env::temp_dir().join(format!("gateway-cancel-{}.log", std::process::id()));
    let srv = gateway_logging(&[], &[ME, "--stdio", "--debug"], Some(&log));
    let sid = init(&srv.addr);
    let mut s = post_sse(
        &srv.addr,
        &sid,
        &call(9, "sleep", json!({"seconds": 30}), Some("c")),
    );
    let started = s.next_json(T);
    assert_eq!(started["method"], "notifications/progress", "{started}");
    let cancel = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}"#;
    assert_eq!(post(&srv.addr, &sid, cancel).status, 202);
    // The stream ends without a result, at once rather than after 30 s.
    assert!(
        s.ended(Duration::from_secs(10)),
        "the cancelled call's stream ended"
    );
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_until(T, || text().contains("a request was cancelled")),
        "the child saw the cancellation: {}",
        text()
    );
    // The session goes on.
    let sum = post(
        &srv.addr,
        &sid,
        &call(10, "add", json!({"a": 1, "b": 1}), None),
    )
    .json();
    assert_eq!(sum["result"]["content"][0]["text"], "2", "{sum}");
    let _ = std::fs::remove_file(&log);
}

#[test]
fn two_sessions_never_see_each_others_messages() {
    let srv = gateway(&[], &stdio_child());
    let (a, b) = (init(&srv.addr), init(&srv.addr));
    assert_eq!(srv.children().len(), 2, "one child per session");
    // The same request id and progress token in both sessions, different durations.
    let addr = srv.addr.clone();
    let run = move |sid: String, secs: u64| {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let mut s = post_sse(
                &addr,
                &sid,
                &call(7, "sleep", json!({"seconds": secs}), Some("same")),
            );
            let mut seen = Vec::new();
            loop {
                let v = s.next_json(Duration::from_secs(10));
                let done = v.get("id").is_some();
                seen.push(v);
                if done {
                    return seen;
                }
            }
        })
    };
    let (ta, tb) = (run(a.clone(), 2), run(b.clone(), 1));
    for (seen, secs) in [(ta.join().unwrap(), 2.0), (tb.join().unwrap(), 1.0)] {
        let result = seen.last().unwrap();
        assert_eq!(
            result["result"]["content"][0]["text"],
            format!("Slept for {secs} seconds"),
            "{seen:?}"
        );
        for p in &seen[..seen.len() - 1] {
            assert_eq!(
                p["params"]["total"], secs,
                "only its own progress: {seen:?}"
            );
        }
    }
    // The general streams carry nothing of the other session either.
    for sid in [&a, &b] {
        let mut g = Sse::open(&srv.addr, "/mcp", &[ACCEPT, ("Mcp-Session-Id", sid)]);
        assert_eq!(g.status, 200);
        assert!(g.next_event(Duration::from_millis(300)).is_none());
    }
}

#[test]
fn expiry_ends_the_child() {
    let srv = gateway(&["--session-ttl-secs", "1"], &stdio_child());
    let sid = init(&srv.addr);
    let child = new_child(&srv, &[]);
    let sum = post(
        &srv.addr,
        &sid,
        &call(2, "add", json!({"a": 1, "b": 2}), None),
    )
    .json();
    assert_eq!(sum["result"]["content"][0]["text"], "3");
    assert!(
        wait_until(Duration::from_secs(10), || !alive(child)),
        "expired session's child gone"
    );
    assert_eq!(
        post(
            &srv.addr,
            &sid,
            &call(3, "add", json!({"a": 1, "b": 2}), None)
        )
        .status,
        404
    );
}

#[test]
fn a_killed_child_makes_its_session_404_and_a_new_one_works() {
    let srv = gateway(&[], &stdio_child());
    let sid = init(&srv.addr);
    let child = new_child(&srv, &[]);
    let mut s = post_sse(
        &srv.addr,
        &sid,
        &call(2, "sleep", json!({"seconds": 30}), Some("k")),
    );
    let _ = s.next_json(T);
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &child.to_string()])
            .status()
            .unwrap()
            .success()
    );
    // The call in flight is answered with an error, and the session is gone.
    let answer = s.next_json(T);
    assert_eq!(answer["id"], 2);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exited"),
        "{answer}"
    );
    assert!(wait_until(T, || post(
        &srv.addr,
        &sid,
        &call(3, "add", json!({"a": 1, "b": 1}), None)
    )
    .status
        == 404));
    assert_eq!(health(&srv.addr)["children"]["died"], 1);
    let again = init(&srv.addr);
    let sum = post(
        &srv.addr,
        &again,
        &call(4, "add", json!({"a": 1, "b": 1}), None),
    )
    .json();
    assert_eq!(sum["result"]["content"][0]["text"], "2");
}

#[test]
fn a_child_that_never_answers_initialize_is_killed() {
    let srv = gateway(&["--init-timeout-secs", "1"], &["/bin/sleep", "100"]);
    let started = Instant::now();
    let r = post_json(&srv.addr, "/mcp", &[ACCEPT], &hello(1));
    let v = r.json();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("--init-timeout-secs"),
        "{v}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(wait_until(T, || srv.children().is_empty()), "sleep killed");
    let sid = r.header("Mcp-Session-Id").unwrap_or("none").to_string();
    assert_eq!(
        post(&srv.addr, &sid, &call(2, "x", json!({}), None)).status,
        404
    );
    let metrics = request(&srv.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains("fastmcp_gateway_init_timeouts_total 1"),
        "{metrics}"
    );
}

#[test]
fn the_tool_filter_hides_and_refuses() {
    let srv = gateway(&["--deny-tool", "sl*"], &stdio_child());
    let sid = init(&srv.addr);
    let list = post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    )
    .json();
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"echo") && !names.contains(&"sleep"),
        "{names:?}"
    );
    let refused = post(
        &srv.addr,
        &sid,
        &call(3, "sleep", json!({"seconds": 1}), None),
    )
    .json();
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert_eq!(refused["error"]["message"], "Unknown tool: sleep");
}

#[test]
fn max_children_refuses_the_next_session() {
    let srv = gateway(&["--max-children", "1"], &stdio_child());
    let _first = init(&srv.addr);
    let r = post_json(&srv.addr, "/mcp", &[ACCEPT], &hello(1)).json();
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("--max-children"),
        "{r}"
    );
    assert_eq!(srv.children().len(), 1);
}

#[test]
fn legacy_and_seed_sessions_go_through_the_gateway() {
    let srv = gateway(&[], &stdio_child());
    // Legacy HTTP+SSE: answers on the /sse stream.
    let mut sse = Sse::open(&srv.addr, "/sse", &[("Accept", "text/event-stream")]);
    let endpoint = sse.next_event(T).expect("endpoint").data;
    let r = post_json(
        &srv.addr,
        &endpoint,
        &[],
        &hello(1).replace("2025-06-18", "2024-11-05"),
    );
    assert_eq!(r.status, 202);
    assert_eq!(sse.next_json(T)["result"]["protocolVersion"], "2024-11-05");
    post_json(
        &srv.addr,
        &endpoint,
        &[],
        &call(2, "add", json!({"a": 3, "b": 4}), None),
    );
    assert_eq!(sse.next_json(T)["result"]["content"][0]["text"], "7");
    let child = new_child(&srv, &[]);
    // Its session dies with its stream, and the child with it.
    sse.disconnect();
    assert!(
        wait_until(T, || !alive(child)),
        "legacy child gone with its stream"
    );

    let (mut seed, sid) = seed_session(&srv.addr);
    let v = seed_initialize(&srv.addr, &mut seed, &sid);
    assert_eq!(v["result"]["serverInfo"]["name"], "fastmcp-server");
    seed_post(
        &srv.addr,
        &sid,
        &call(3, "echo", json!({"message": "hi"}), None),
    );
    assert_eq!(seed.next_json(T)["result"]["content"][0]["text"], "hi");
}

/// A stateless (2026-07-28) request: `_meta` with the revision and client, mirrored headers.
fn stateless(addr: &str, id: u64, method: &str, mut params: Value) -> common::Resp {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}});
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let body = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string();
    let mut headers = vec![
        ACCEPT,
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", method),
    ];
    if let Some(n) = name.as_deref() {
        headers.push(("Mcp-Name", n));
    }
    post_json(addr, "/mcp", &headers, &body)
}

#[test]
fn stateless_requests_go_through_a_pool_of_initialized_children() {
    let srv = gateway(&["--stateless-children", "2"], &stdio_child());
    assert!(srv.children().is_empty(), "the pool starts when needed");
    let d = stateless(&srv.addr, 1, "server/discover", json!({}));
    assert_eq!(d.status, 200, "{}", d.body);
    let d = d.json();
    let r = &d["result"];
    assert_eq!(d["id"], 1);
    assert_eq!(r["resultType"], "complete", "{d}");
    assert_eq!(r["supportedVersions"][0], "2026-07-28", "{d}");
    assert!(r["capabilities"]["tools"].is_object(), "the child's: {d}");
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "fastmcp-server",
        "{d}"
    );
    let list = stateless(&srv.addr, 2, "tools/list", json!({})).json();
    assert_eq!(list["id"], 2);
    assert_eq!(list["result"]["resultType"], "complete", "{list}");
    assert!(list["result"]["ttlMs"].is_u64(), "{list}");
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"add"), "{list}");
    // Concurrent calls with the same id are each answered with their own sum.
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let addr = srv.addr.clone();
            std::thread::spawn(move || {
                let r = stateless(
                    &addr,
                    9,
                    "tools/call",
                    json!({"name": "add", "arguments": {"a": i, "b": 100}}),
                );
                (i, r.status, r.json())
            })
        })
        .collect();
    for h in handles {
        let (i, status, v) = h.join().unwrap();
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["id"], 9);
        assert_eq!(
            v["result"]["content"][0]["text"],
            (i + 100).to_string(),
            "{v}"
        );
        assert_eq!(v["result"]["resultType"], "complete", "{v}");
    }
    let n = srv.children().len();
    assert!((1..=2).contains(&n), "{n} pool children");
    // Listening cannot be served: refused, and said why.
    let listen = stateless(&srv.addr, 3, "subscriptions/listen", json!({}));
    assert_eq!(listen.status, 404, "{}", listen.body);
    assert!(
        listen.body.contains("does not serve subscriptions/listen"),
        "{}",
        listen.body
    );
    // A session on the same gateway still gets a child of its own.
    let sid = init(&srv.addr);
    let sum = post(
        &srv.addr,
        &sid,
        &call(2, "add", json!({"a": 1, "b": 2}), None),
    )
    .json();
    assert_eq!(sum["result"]["content"][0]["text"], "3");
    assert!(
        sum["result"].get("resultType").is_none(),
        "a 2025 answer: {sum}"
    );
}

#[test]
fn stateless_requests_are_refused_clearly_without_a_pool() {
    let srv = gateway(&["--stateless-children", "0"], &stdio_child());
    let r = stateless(&srv.addr, 1, "server/discover", json!({}));
    assert!(
        r.body.contains("--stateless-children is 0"),
        "{} {}",
        r.status,
        r.body
    );
    assert!(srv.children().is_empty());
}

#[test]
fn a_scoped_token_sees_and_calls_only_its_tools_of_the_child() {
    use sha2::{Digest, Sha256};
    let hex = |t: &str| -> String {
        Sha256::digest(t.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let dir = std::env::temp_dir().join(format!("fastmcp-gw-tokens-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("gw.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[auth.token]]\nname = \"narrow\"\nsha256 = \"{}\"\ntools = [\"echo\"]\n\n[[auth.token]]\nname = \"wide\"\nsha256 = \"{}\"\ntools = [\"*\"]\n",
            hex("narrow-token"),
            hex("wide-token")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let srv = gateway(&["--config", cfg.to_str().unwrap()], &stdio_child());
    let names_for = |token: &str| -> (String, Vec<String>) {
        let auth = format!("Bearer {token}");
        let r = post_json(
            &srv.addr,
            "/mcp",
            &[ACCEPT, ("Authorization", &auth)],
            &hello(1),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let sid = r.header("Mcp-Session-Id").unwrap().to_string();
        let h = [
            ACCEPT,
            ("Mcp-Session-Id", sid.as_str()),
            ("Authorization", auth.as_str()),
        ];
        post_json(
            &srv.addr,
            "/mcp",
            &h,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        );
        let list = post_json(
            &srv.addr,
            "/mcp",
            &h,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        )
        .json();
        let names = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str().map(String::from))
            .collect();
        let refused = post_json(
            &srv.addr,
            "/mcp",
            &h,
            &call(3, "add", json!({"a": 1, "b": 2}), None),
        )
        .json();
        (refused.to_string(), names)
    };
    let (refused, narrow) = names_for("narrow-token");
    assert_eq!(narrow, ["echo"]);
    assert!(refused.contains("Unknown tool: add"), "{refused}");
    let (allowed, wide) = names_for("wide-token");
    assert_eq!(wide, ["echo", "add", "sleep"]);
    assert!(allowed.contains("\"text\":\"3\""), "{allowed}");
    let no_token = post_json(&srv.addr, "/mcp", &[ACCEPT], &hello(1));
    assert_eq!(no_token.status, 401);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `sleep` for `secs` with request id 7 and progress token "same" on session `sid`; every
/// message of the answer stream.
fn sleep_same_id(addr: &str, sid: &str, secs: u64) -> std::thread::JoinHandle<Vec<Value>> {
    let (addr, sid) = (addr.to_string(), sid.to_string());
    std::thread::spawn(move || {
        let mut s = post_sse(
            &addr,
            &sid,
            &call(7, "sleep", json!({"seconds": secs}), Some("same")),
        );
        let mut seen = Vec::new();
        loop {
            let v = s.next_json(Duration::from_secs(10));
            let done = v.get("id").is_some();
            seen.push(v);
            if done {
                return seen;
            }
        }
    })
}

#[test]
fn shared_child_sessions_never_see_each_others_answers_or_progress() {
    let srv = gateway(&["--gateway-shared"], &stdio_child());
    let (a, b) = (init(&srv.addr), init(&srv.addr));
    assert_eq!(srv.children().len(), 1, "one child for both sessions");
    let (ta, tb) = (
        sleep_same_id(&srv.addr, &a, 2),
        sleep_same_id(&srv.addr, &b, 1),
    );
    for (seen, secs) in [(ta.join().unwrap(), 2.0), (tb.join().unwrap(), 1.0)] {
        let result = seen.last().unwrap();
        assert_eq!(result["id"], 7, "the client's own id back: {seen:?}");
        assert_eq!(
            result["result"]["content"][0]["text"],
            format!("Slept for {secs} seconds"),
            "{seen:?}"
        );
        assert!(seen.len() > 1, "progress arrived: {seen:?}");
        for p in &seen[..seen.len() - 1] {
            assert_eq!(p["params"]["progressToken"], "same", "{seen:?}");
            assert_eq!(
                p["params"]["total"], secs,
                "only its own progress: {seen:?}"
            );
        }
    }
    for sid in [&a, &b] {
        let mut g = Sse::open(&srv.addr, "/mcp", &[ACCEPT, ("Mcp-Session-Id", sid)]);
        assert_eq!(g.status, 200);
        assert!(g.next_event(Duration::from_millis(300)).is_none());
    }
    // Ending one session leaves the other, and the child, working.
    let del = request(&srv.addr, "DELETE", "/mcp", &[("Mcp-Session-Id", &a)], "");
    assert!(del.status < 300, "{}", del.status);
    let sum = post(
        &srv.addr,
        &b,
        &call(8, "add", json!({"a": 2, "b": 2}), None),
    )
    .json();
    assert_eq!(sum["result"]["content"][0]["text"], "4", "{sum}");
    assert_eq!(srv.children().len(), 1);
    assert_eq!(health(&srv.addr)["status"], "ok");
}

#[test]
fn a_killed_shared_child_is_restarted_until_the_cap() {
    let srv = gateway(
        &[
            "--gateway-shared",
            "--restart-max",
            "1",
            "--restart-window-secs",
            "600",
        ],
        &stdio_child(),
    );
    let kill = |pid: u32| {
        assert!(
            std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .unwrap()
                .success()
        )
    };
    let first = new_child(&srv, &[]);
    let a = init(&srv.addr);
    kill(first);
    // Its session ends (404: initialize again), a new child comes, and new sessions work.
    assert!(wait_until(T, || post(
        &srv.addr,
        &a,
        &call(2, "add", json!({"a": 1, "b": 1}), None)
    )
    .status
        == 404));
    let second = new_child(&srv, &[first]);
    assert!(wait_until(T, || health(&srv.addr)["status"] == "ok"));
    let b = init(&srv.addr);
    let sum = post(
        &srv.addr,
        &b,
        &call(3, "add", json!({"a": 1, "b": 1}), None),
    )
    .json();
    assert_eq!(sum["result"]["content"][0]["text"], "2", "{sum}");
    assert_eq!(health(&srv.addr)["children"]["died"], 1);
    // The second death is past --restart-max 1: the gateway stays down and says so.
    kill(second);
    assert!(wait_until(T, || {
        request(&srv.addr, "GET", "/health", &[], "").status == 503
    }));
    let h = request(&srv.addr, "GET", "/health", &[], "");
    assert_eq!(h.json()["children"]["down"], true, "{}", h.body);
    std::thread::sleep(Duration::from_millis(500));
    assert!(srv.children().is_empty(), "not restarted past the cap");
    let r = post_json(&srv.addr, "/mcp", &[ACCEPT], &hello(1));
    assert!(r.body.contains("down"), "{} {}", r.status, r.body);
}

#[test]
fn a_cancellation_on_the_shared_child_cancels_only_its_sessions_request() {
    let log =
        std::env::temp_dir().join(format!("gateway-shared-cancel-{}.log", std::process::id()));
    let srv = gateway_logging(
        &["--gateway-shared"],
        &[ME, "--stdio", "--debug"],
        Some(&log),
    );
    let (a, b) = (init(&srv.addr), init(&srv.addr));
    let other = sleep_same_id(&srv.addr, &b, 2);
    let mut s = post_sse(
        &srv.addr,
        &a,
        &call(7, "sleep", json!({"seconds": 30}), Some("same")),
    );
    let started = s.next_json(T);
    assert_eq!(started["method"], "notifications/progress", "{started}");
    let cancel = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#;
    assert_eq!(post(&srv.addr, &a, cancel).status, 202);
    assert!(
        s.ended(Duration::from_secs(10)),
        "the cancelled call's stream ended"
    );
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_until(T, || text().contains("a request was cancelled")),
        "the child saw the cancellation: {}",
        text()
    );
    // The other session's request 7 was not the one cancelled.
    let seen = other.join().unwrap();
    assert_eq!(
        seen.last().unwrap()["result"]["content"][0]["text"],
        "Slept for 2 seconds",
        "{seen:?}"
    );
    let _ = std::fs::remove_file(&log);
}

/// A stdio MCP server of a few lines (not this project's): a tool with an `x-mcp-header`
/// argument, and a tool that asks the client for a sampling before it answers (as a well-behaved
/// server does only when the client declared sampling).
const PY_CHILD: &str = r#"
import sys, json
def out(o):
    sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
asked = None
for line in sys.stdin:
    m = json.loads(line); i = m.get("id"); meth = m.get("method")
    if meth == "initialize":
        caps = m["params"]["capabilities"]
        out({"jsonrpc": "2.0", "id": i, "result": {"protocolVersion": "2025-11-25",
             "capabilities": {"tools": {}}, "serverInfo": {"name": "py", "version": "1"}}})
    elif meth == "tools/list":
        out({"jsonrpc": "2.0", "id": i, "result": {"tools": [
            {"name": "region", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"}}}},
            {"name": "ask", "inputSchema": {"type": "object"}}]}})
    elif meth == "tools/call" and m["params"]["name"] == "ask" and "sampling" not in caps:
        out({"jsonrpc": "2.0", "id": i, "result": {"content": [{"type": "text", "text": "no sampling"}]}})
    elif meth == "tools/call" and m["params"]["name"] == "ask":
        asked = i
        out({"jsonrpc": "2.0", "id": "s1", "method": "sampling/createMessage",
             "params": {"messages": [], "maxTokens": 1}})
    elif meth == "tools/call":
        region = m["params"]["arguments"]["region"]
        out({"jsonrpc": "2.0", "id": i, "result": {"content": [{"type": "text", "text": region}]}})
    elif meth is None and i == "s1":
        out({"jsonrpc": "2.0", "id": asked, "result": {"content": [{"type": "text", "text": "asked"}]}})
"#;

#[test]
fn stateless_calls_check_the_childs_header_params_and_ask_the_client_in_rounds() {
    let srv = gateway(&["--stateless-children", "1"], &["python3", "-c", PY_CHILD]);
    let region = |header: &str| {
        let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
            "name":"region","arguments":{"region":"eu"},"_meta":{
            "io.modelcontextprotocol/protocolVersion":"2026-07-28",
            "io.modelcontextprotocol/clientCapabilities":{}}}})
        .to_string();
        post_json(
            &srv.addr,
            "/mcp",
            &[
                ACCEPT,
                ("MCP-Protocol-Version", "2026-07-28"),
                ("Mcp-Method", "tools/call"),
                ("Mcp-Name", "region"),
                ("Mcp-Param-Region", header),
            ],
            &body,
        )
    };
    let ok = region("eu");
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["result"]["content"][0]["text"], "eu");
    let bad = region("us");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.json()["error"]["code"], -32020, "{}", bad.body);
    // Asking for a sampling: -32021 without the capability, a clear error with it.
    let r = stateless(&srv.addr, 2, "tools/call", json!({"name": "ask"}));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], -32021, "{}", r.body);
    // With it, an input-required round: the child's question, answered on the retry.
    let sampling = json!({"sampling": {}});
    let r = asking(
        &srv.addr,
        3,
        "tools/call",
        json!({"name": "ask"}),
        &sampling,
    );
    let v = r.json();
    assert_eq!(v["id"], 3, "{v}");
    let (key, state) = round(&v, "sampling/createMessage");
    let answer =
        json!({"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m"});
    let retry = json!({"name": "ask", "inputResponses": {key: answer}, "requestState": state});
    let v = asking(&srv.addr, 4, "tools/call", retry, &sampling).json();
    assert_eq!(v["id"], 4, "{v}");
    assert_eq!(v["result"]["content"][0]["text"], "asked", "{v}");
    assert_eq!(v["result"]["resultType"], "complete", "{v}");
    // The child goes on serving.
    assert_eq!(region("eu").status, 200);
}

/// A stateless request declaring client capabilities `caps`.
fn asking(addr: &str, id: u64, method: &str, mut params: Value, caps: &Value) -> common::Resp {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}});
    let name = params["name"].as_str().unwrap_or_default().to_string();
    let body = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string();
    post_json(
        addr,
        "/mcp",
        &[
            ACCEPT,
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", method),
            ("Mcp-Name", &name),
        ],
        &body,
    )
}

/// The one question of an input-required answer (of kind `method`): its key and the state.
fn round(v: &Value, method: &str) -> (String, String) {
    assert_eq!(v["result"]["resultType"], "input_required", "{v}");
    let requests = v["result"]["inputRequests"]
        .as_object()
        .expect("inputRequests");
    assert_eq!(requests.len(), 1, "{v}");
    let (key, q) = requests.iter().next().expect("a question");
    assert_eq!(q["method"], method, "{v}");
    let state = v["result"]["requestState"].as_str().expect("requestState");
    (key.clone(), state.to_string())
}

/// `examples/conformance`, built if it is not yet.
fn conformance_child() -> String {
    let exe = Path::new(ME)
        .parent()
        .expect("target dir")
        .join("examples/conformance");
    if !exe.exists() {
        let ok = std::process::Command::new(env!("CARGO"))
            .args(["build", "--example", "conformance"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cargo build --example conformance");
    }
    exe.to_string_lossy().into_owned()
}

fn elicited(fields: Value) -> Value {
    json!({"action": "accept", "content": fields})
}

#[test]
fn a_pool_childs_questions_become_input_required_rounds() {
    let child = conformance_child();
    let srv = gateway(&["--stateless-children", "1"], &[&child, "--stdio"]);
    let caps = json!({"sampling": {}, "elicitation": {}, "roots": {}});
    let call = |id: u64, name: &str, extra: Value| {
        let mut params = json!({"name": name, "arguments": {}});
        if let (Some(p), Value::Object(e)) = (params.as_object_mut(), extra) {
            p.extend(e);
        }
        asking(&srv.addr, id, "tools/call", params, &caps).json()
    };

    // A sampling: the child's own question, then its result on the retry.
    let sampling = "test_input_required_result_sampling";
    let v = call(1, sampling, json!({}));
    let (key, state) = round(&v, "sampling/createMessage");
    assert_eq!(
        v["result"]["inputRequests"][&key]["params"]["maxTokens"], 100,
        "{v}"
    );
    let answer =
        json!({"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m"});
    let v = call(
        2,
        sampling,
        json!({"inputResponses": {&key: answer}, "requestState": state}),
    );
    assert_eq!(v["id"], 2, "{v}");
    assert_eq!(
        v["result"]["content"][0]["text"], "The model says: Paris",
        "{v}"
    );
    // Used once: the same state again is unknown, as a native server's bad state is (-32602).
    let v = call(
        3,
        sampling,
        json!({"inputResponses": {&key: answer}, "requestState": state}),
    );
    assert_eq!(v["error"]["code"], -32602, "{v}");

    // Two elicitations, one round each, a new state each time; a retry that does not answer
    // is asked again.
    let multi = "test_input_required_result_multi_round";
    let v = call(4, multi, json!({}));
    let (k1, s1) = round(&v, "elicitation/create");
    let v = call(
        5,
        multi,
        json!({"inputResponses": {"wrong": {}}, "requestState": s1}),
    );
    let (k1b, s1b) = round(&v, "elicitation/create");
    assert_eq!(k1b, k1, "{v}");
    let v = call(
        6,
        multi,
        json!({"inputResponses": {&k1: elicited(json!({"name": "Alice"}))}, "requestState": s1b}),
    );
    let (k2, s2) = round(&v, "elicitation/create");
    assert_ne!(s2, s1b);
    assert!(
        v["result"]["inputRequests"][&k2]["params"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("color")),
        "{v}"
    );
    // The state is bound to the call: another tool, or an altered state, is refused.
    let other = call(
        7,
        sampling,
        json!({"inputResponses": {&k2: elicited(json!({"color": "red"}))}, "requestState": s2}),
    );
    assert_eq!(other["error"]["code"], -32602, "{other}");
    let mut forged = s2.clone().into_bytes();
    let i = forged.len() / 2;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8_lossy(&forged).into_owned();
    let v = call(
        8,
        multi,
        json!({"inputResponses": {&k2: elicited(json!({"color": "red"}))}, "requestState": forged}),
    );
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let v = call(
        9,
        multi,
        json!({"inputResponses": {&k2: elicited(json!({"color": "blue"}))}, "requestState": s2}),
    );
    assert_eq!(v["result"]["content"][0]["text"], "Alice likes blue", "{v}");

    // Without the capability declared: -32021, as natively.
    let none = asking(
        &srv.addr,
        10,
        "tools/call",
        json!({"name": sampling, "arguments": {}}),
        &json!({}),
    );
    assert_eq!(none.json()["error"]["code"], -32021, "{}", none.body);
    // The one child serves other work again.
    let v = call(11, "test_simple_text", json!({}));
    assert_eq!(v["result"]["resultType"], "complete", "{v}");
}

#[test]
fn a_parked_call_ends_when_it_expires_or_its_child_is_needed() {
    let child = conformance_child();
    let log = std::env::temp_dir().join(format!("gateway-parked-{}.log", std::process::id()));
    let srv = gateway_logging(
        &[
            "--stateless-children",
            "1",
            "--input-state-ttl-secs",
            "1",
            "--debug",
        ],
        &[&child, "--stdio"],
        Some(&log),
    );
    let caps = json!({"elicitation": {}});
    let tool = "test_input_required_result_elicitation";
    let ask = |id: u64| {
        let v = asking(
            &srv.addr,
            id,
            "tools/call",
            json!({"name": tool, "arguments": {}}),
            &caps,
        );
        round(&v.json(), "elicitation/create")
    };
    let retry = |id: u64, key: &str, state: &str| {
        let params = json!({"name": tool, "arguments": {}, "requestState": state,
            "inputResponses": {key: elicited(json!({"name": "A"}))}});
        asking(&srv.addr, id, "tools/call", params, &caps).json()
    };
    // Nobody retries within the TTL: the call ends, and its state is unknown.
    let (key, state) = ask(1);
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(10), || text()
            .contains("parked at a question to the client expired")),
        "the parked call expired: {}",
        text()
    );
    let v = retry(2, &key, &state);
    assert_eq!(v["error"]["code"], -32602, "{v}");
    // The only child is parked and another request comes: the parked call ends, the child serves.
    let (key, state) = ask(3);
    let simple = json!({"name": "test_simple_text", "arguments": {}});
    let v = asking(&srv.addr, 4, "tools/call", simple, &caps).json();
    assert_eq!(v["result"]["resultType"], "complete", "{v}");
    let v = retry(5, &key, &state);
    assert_eq!(v["error"]["code"], -32602, "{v}");
    // A call taken up in time completes.
    let (key, state) = ask(6);
    let v = retry(7, &key, &state);
    assert_eq!(v["result"]["content"][0]["text"], "Hello, A!", "{v}");
    let _ = std::fs::remove_file(&log);
}
