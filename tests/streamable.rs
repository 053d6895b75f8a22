//! MCP Streamable HTTP on /mcp against the real binary; every JSON-RPC message the server sends is
//! validated against the official schema of the negotiated revision.

mod common;
use common::schema::{check_http_error, check_message};
use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

/// A Streamable HTTP client session that validates everything it receives.
struct Mcp {
    addr: String,
    sid: String,
    rev: String,
    next_id: i64,
}

fn init_body(rev: &str) -> String {
    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":rev,"capabilities":{},"clientInfo":{"name":"rust-test","version":"1"}}}).to_string()
}

impl Mcp {
    fn init(addr: &str, rev: &str) -> Mcp {
        let r = post_json(addr, "/mcp", &[ACCEPT], &init_body(rev));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let sid = r.header("Mcp-Session-Id").expect("session id").to_string();
        assert!(
            !sid.is_empty() && sid.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            "visible ASCII: {sid:?}"
        );
        let v = r.json();
        let negotiated = v["result"]["protocolVersion"].as_str().unwrap().to_string();
        check_message(&negotiated, &v, Some("initialize"));
        let mcp = Mcp {
            addr: addr.to_string(),
            sid,
            rev: negotiated,
            next_id: 1,
        };
        let r = mcp.post(
            &json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string(),
            &[],
        );
        assert_eq!((r.status, r.body.as_str()), (202, ""));
        mcp
    }

    fn headers<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut h = vec![
            ACCEPT,
            ("Mcp-Session-Id", self.sid.as_str()),
            ("MCP-Protocol-Version", self.rev.as_str()),
        ];
        h.extend_from_slice(extra);
        h
    }

    fn post(&self, body: &str, extra: &[(&str, &str)]) -> Resp {
        post_json(&self.addr, "/mcp", &self.headers(extra), body)
    }

    /// Sends a request and returns its (validated) response message.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let r = self.post(
            &json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string(),
            &[],
        );
        assert_eq!(r.status, 200, "{method}: {}", r.body);
        assert_eq!(r.header("Mcp-Session-Id"), Some(self.sid.as_str()));
        let v = r.json();
        assert_eq!(v["id"], id);
        check_message(&self.rev, &v, Some(method));
        v
    }
}

#[test]
fn handshake_and_tools_for_every_revision() {
    let srv = Server::start(&[]);
    for rev in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let mut c = Mcp::init(&srv.addr, rev);
        assert_eq!(c.rev, rev);
        assert_eq!(c.call("ping", json!({}))["result"], json!({}));
        let tools = c.call("tools/list", json!({}));
        assert_eq!(tools["result"]["tools"].as_array().unwrap().len(), 3);
        let v = c.call(
            "tools/call",
            json!({"name":"echo","arguments":{"message":"Hello World!"}}),
        );
        assert_eq!(
            v["result"],
            json!({"content":[{"type":"text","text":"Hello World!"}]})
        );
        let v = c.call(
            "tools/call",
            json!({"name":"add","arguments":{"a":42,"b":27}}),
        );
        assert_eq!(v["result"]["content"][0]["text"], "69");
        let v = c.call(
            "tools/call",
            json!({"name":"add","arguments":{"a":[],"b":1}}),
        );
        assert_eq!(v["result"]["isError"], true);
        let v = c.call("tools/call", json!({"name":"nope","arguments":{}}));
        assert_eq!(
            v["error"]["code"], -32602,
            "unknown tool is a JSON-RPC error on HTTP 200"
        );
        let v = c.call("no/such/method", json!({}));
        assert_eq!(v["error"]["code"], -32601);
        let v = c.call(
            "tools/call",
            json!({"name":"sleep","arguments":{"seconds":0.1}}),
        );
        assert_eq!(v["result"]["content"][0]["text"], "Slept for 0.1 seconds");
    }
    // An unknown revision gets our newest.
    let c = Mcp::init(&srv.addr, "2099-01-01");
    assert_eq!(c.rev, "2025-11-25");
}

#[test]
fn accept_and_content_type_rules() {
    let srv = Server::start(&[]);
    let body = init_body("2025-06-18");
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("application/*"),
        Some("text/event-stream"),
        Some("application/json, text/event-stream"),
    ] {
        let h: Vec<(&str, &str)> = accept.map(|a| vec![("Accept", a)]).unwrap_or_default();
        let r = post_json(&srv.addr, "/mcp", &h, &body);
        assert_eq!(r.status, 200, "Accept {accept:?}");
        let v = if r.header("Content-Type") == Some("text/event-stream") {
            let ev = r
                .body
                .split("\n\n")
                .find(|e| e.contains("data: {"))
                .expect("an event");
            serde_json::from_str::<Value>(
                ev.lines().find_map(|l| l.strip_prefix("data: ")).unwrap(),
            )
            .unwrap()
        } else {
            r.json()
        };
        assert_eq!(
            v["result"]["protocolVersion"], "2025-06-18",
            "Accept {accept:?}"
        );
    }
    let r = post_json(&srv.addr, "/mcp", &[("Accept", "text/html")], &body);
    assert_eq!(r.status, 406);
    check_http_error("2025-06-18", &r.json());
    let r = request(
        &srv.addr,
        "POST",
        "/mcp",
        &[ACCEPT, ("Content-Type", "text/plain")],
        &body,
    );
    assert_eq!(r.status, 415);
    check_http_error("2025-06-18", &r.json());
    let r = request(
        &srv.addr,
        "POST",
        "/mcp",
        &[ACCEPT, ("Content-Type", "application/json; charset=utf-8")],
        &body,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn session_rules() {
    let srv = Server::start(&[]);
    let c = Mcp::init(&srv.addr, "2025-11-25");
    let ping = r#"{"jsonrpc":"2.0","id":"x","method":"ping"}"#;
    // Missing session id: 400, echoing the request id.
    let r = post_json(&srv.addr, "/mcp", &[ACCEPT], ping);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["id"], "x");
    check_http_error("2025-11-25", &r.json());
    // Unknown session id: 404.
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[ACCEPT, ("Mcp-Session-Id", "no-such-session")],
        ping,
    );
    assert_eq!(r.status, 404);
    check_http_error("2025-11-25", &r.json());
    // initialize on a live session: 400 -32600.
    let r = c.post(&init_body("2025-11-25"), &[]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32600);
    // Notifications and responses alone: 202, empty body.
    let r = c.post(
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}"#,
        &[],
    );
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let r = c.post(r#"{"jsonrpc":"2.0","id":"srv-1","result":{}}"#, &[]);
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    // Other HTTP methods: 405 with Allow.
    let r = request(&srv.addr, "PUT", "/mcp", &[], "");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("GET, POST, DELETE, OPTIONS"));
    // DELETE ends the session; then every use of the id is 404.
    let r = request(
        &srv.addr,
        "DELETE",
        "/mcp",
        &[("Mcp-Session-Id", &c.sid)],
        "",
    );
    assert_eq!(r.status, 200);
    assert_eq!(c.post(ping, &[]).status, 404);
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/mcp",
            &[("Accept", "text/event-stream"), ("Mcp-Session-Id", &c.sid)],
            ""
        )
        .status,
        404
    );
    assert_eq!(
        request(
            &srv.addr,
            "DELETE",
            "/mcp",
            &[("Mcp-Session-Id", &c.sid)],
            ""
        )
        .status,
        404
    );
    assert_eq!(request(&srv.addr, "DELETE", "/mcp", &[], "").status, 400);
}

#[test]
fn rejected_initialize_leaves_no_session_behind() {
    let srv = Server::start(&["--max-sessions", "1"]);
    for _ in 0..3 {
        assert_eq!(
            request(
                &srv.addr,
                "POST",
                "/mcp",
                &[ACCEPT, ("Content-Type", "text/plain")],
                &init_body("2025-06-18")
            )
            .status,
            415
        );
        assert_eq!(
            post_json(
                &srv.addr,
                "/mcp",
                &[ACCEPT],
                "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}]"
            )
            .status,
            400
        );
        assert_eq!(post_json(&srv.addr, "/mcp", &[ACCEPT], "{").status, 400);
    }
    let only = Mcp::init(&srv.addr, "2025-06-18");
    // Used (a request after initialize): a pending session would be evicted to admit a new one.
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(only.post(ping, &[]).status, 200);
    let r = post_json(&srv.addr, "/mcp", &[ACCEPT], &init_body("2025-06-18"));
    assert_eq!(
        r.status, 503,
        "the one slot is taken by the one successful initialize"
    );
}

#[test]
fn batches_only_in_2025_03_26() {
    let srv = Server::start(&[]);
    let c = Mcp::init(&srv.addr, "2025-03-26");
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}]"#;
    let r = c.post(batch, &[]);
    assert_eq!(r.status, 200);
    let v = r.json();
    check_message("2025-03-26", &v, None);
    let arr = v.as_array().unwrap();
    assert_eq!(
        arr.len(),
        2,
        "one response per request, none for the notification"
    );
    let mut ids: Vec<String> = arr.iter().map(|m| m["id"].to_string()).collect();
    ids.sort();
    assert_eq!(ids, vec!["\"two\"", "1"]);
    let r = c.post(
        r#"[{"jsonrpc":"2.0","method":"notifications/initialized"}]"#,
        &[],
    );
    assert_eq!((r.status, r.body.as_str()), (202, ""));
    let r = c.post("[]", &[]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32600);
    let r = c.post(
        r#"[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}]"#,
        &[],
    );
    assert_eq!(r.status, 400);

    let later = Mcp::init(&srv.addr, "2025-06-18");
    let r = later.post(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, &[]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32600);
    check_http_error("2025-06-18", &r.json());
}

#[test]
fn protocol_version_header() {
    let srv = Server::start(&[]);
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let c = Mcp::init(&srv.addr, "2025-06-18");
    let h = |v: &'static str| {
        vec![
            ACCEPT,
            ("Mcp-Session-Id", c.sid.as_str()),
            ("MCP-Protocol-Version", v),
        ]
    };
    let r = post_json(&srv.addr, "/mcp", &h("1999-01-01"), ping);
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1999-01-01")
    );
    assert_eq!(
        post_json(&srv.addr, "/mcp", &h("2025-03-26"), ping).status,
        200,
        "a supported value is tolerated"
    );
    assert_eq!(
        post_json(
            &srv.addr,
            "/mcp",
            &[ACCEPT, ("Mcp-Session-Id", &c.sid)],
            ping
        )
        .status,
        200,
        "absent = negotiated"
    );
    let get = request(
        &srv.addr,
        "GET",
        "/mcp",
        &[
            ("Accept", "text/event-stream"),
            ("Mcp-Session-Id", &c.sid),
            ("MCP-Protocol-Version", "bogus"),
        ],
        "",
    );
    assert_eq!(get.status, 400);
    let del = request(
        &srv.addr,
        "DELETE",
        "/mcp",
        &[
            ("Mcp-Session-Id", &c.sid),
            ("MCP-Protocol-Version", "bogus"),
        ],
        "",
    );
    assert_eq!(del.status, 400);
    // The initialize POST may carry the header; it is not checked there.
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[ACCEPT, ("MCP-Protocol-Version", "bogus")],
        &init_body("2025-06-18"),
    );
    assert_eq!(r.status, 200);
    // Sessions before 2025-06-18 do not use the header at all.
    let old = Mcp::init(&srv.addr, "2025-03-26");
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[
            ACCEPT,
            ("Mcp-Session-Id", &old.sid),
            ("MCP-Protocol-Version", "bogus"),
        ],
        ping,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn get_stream_rules_and_replacement() {
    let srv = Server::start(&["--keepalive-secs", "1"]);
    let c = Mcp::init(&srv.addr, "2025-11-25");
    let h = [
        ("Accept", "text/event-stream"),
        ("Mcp-Session-Id", c.sid.as_str()),
    ];
    let mut first = Sse::open(&srv.addr, "/mcp", &h);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("Content-Type"), Some("text/event-stream"));
    assert_eq!(first.header("Mcp-Session-Id"), Some(c.sid.as_str()));
    // Proof the head and first bytes were flushed: a comment is readable at once.
    assert!(first.next_raw(T).is_some());
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/mcp",
            &[("Accept", "application/json"), ("Mcp-Session-Id", &c.sid)],
            ""
        )
        .status,
        406
    );
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/mcp",
            &[("Accept", "text/event-stream")],
            ""
        )
        .status,
        400
    );
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/mcp",
            &[("Accept", "text/event-stream"), ("Mcp-Session-Id", "nope")],
            ""
        )
        .status,
        404
    );
    // A second GET replaces the first instead of 409.
    let mut second = Sse::open(&srv.addr, "/mcp", &h);
    assert_eq!(second.status, 200);
    assert!(
        first.ended(Duration::from_secs(5)),
        "the old stream is closed"
    );
    // 2025-11-25: the stream opens with a priming event (an id, empty data), then keepalives.
    let priming = second.next_raw(T).expect("a priming event");
    assert!(
        priming.id.is_some() && priming.data.is_empty(),
        "{priming:?}"
    );
    let ka = second
        .next_raw(Duration::from_secs(3))
        .expect("keepalive on the new stream");
    assert!(!ka.comments.is_empty());
    // Responses to POSTs never go to the GET stream.
    let sid = c.sid.clone();
    let mut c = c;
    c.call("ping", json!({}));
    let _ = sid;
    second.set_timeout(Duration::from_millis(1500));
    assert!(second.next_event(Duration::from_millis(1500)).is_none());
}

#[test]
fn sse_responses_and_progress_requests() {
    let srv = Server::start(&["--sse-responses"]);
    let c = Mcp::init_sse(&srv.addr);
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"sleep","arguments":{"seconds":0.5}}}"#;
    let h = c.headers(&[("Content-Type", "application/json")]);
    let mut s = Sse::open_with(&srv.addr, "POST", "/mcp", &h, body);
    assert_eq!(s.status, 200);
    assert_eq!(s.header("Content-Type"), Some("text/event-stream"));
    let ev = s.next_event(T).expect("the result");
    assert_eq!(ev.event.as_deref(), Some("message"));
    let v = ev.json();
    check_message(&c.rev, &v, Some("tools/call"));
    assert_eq!(v["id"], 7);
    assert!(s.ended(T), "the stream ends after the last response");

    // In JSON mode, a request carrying a progress token still gets a stream.
    let srv = Server::start(&[]);
    let c = Mcp::init(&srv.addr, "2025-11-25");
    let body = r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"message":"p"},"_meta":{"progressToken":"t"}}}"#;
    let h = c.headers(&[("Content-Type", "application/json")]);
    let mut s = Sse::open_with(&srv.addr, "POST", "/mcp", &h, body);
    assert_eq!(s.header("Content-Type"), Some("text/event-stream"));
    let v = s.next_json(T);
    check_message(&c.rev, &v, Some("tools/call"));
    assert_eq!(v["result"]["content"][0]["text"], "p");
}

impl Mcp {
    /// Initialises a session on a server started with --sse-responses (initialize answered as SSE).
    fn init_sse(addr: &str) -> Mcp {
        let mut s = Sse::open_with(
            addr,
            "POST",
            "/mcp",
            &[ACCEPT, ("Content-Type", "application/json")],
            &init_body("2025-11-25"),
        );
        assert_eq!(s.status, 200);
        let sid = s.header("Mcp-Session-Id").unwrap().to_string();
        let v = s.next_json(T);
        check_message("2025-11-25", &v, Some("initialize"));
        Mcp {
            addr: addr.to_string(),
            sid,
            rev: "2025-11-25".into(),
            next_id: 1,
        }
    }
}

#[test]
fn two_hundred_parked_sleeps_with_two_workers() {
    let srv = Server::start(&["--workers", "2"]);
    let c = Mcp::init(&srv.addr, "2025-06-18");
    let start = Instant::now();
    let handles: Vec<_> = (0..200)
        .map(|i| {
            let (addr, sid) = (srv.addr.clone(), c.sid.clone());
            std::thread::spawn(move || {
                let body = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"sleep","arguments":{{"seconds":1}}}}}}"#);
                let r = post_json(&addr, "/mcp", &[ACCEPT, ("Mcp-Session-Id", &sid), ("MCP-Protocol-Version", "2025-06-18")], &body);
                assert_eq!(r.status, 200);
                let v = r.json();
                check_message("2025-06-18", &v, Some("tools/call"));
                assert_eq!(v["id"], i);
                assert_eq!(v["result"]["content"][0]["text"], "Slept for 1 seconds");
            })
        })
        .collect();
    for h in handles {
        h.join().expect("every call answered correctly");
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn dns_rebinding_protection() {
    let srv = Server::start(&[]);
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    let body = init_body("2025-11-25");
    let evil = [
        ("Host", "evil.example.com"),
        ("Origin", "http://evil.example.com"),
    ];
    let mut h = vec![ACCEPT];
    h.extend_from_slice(&evil);
    let r = post_json(&srv.addr, "/mcp", &h, &body);
    assert_eq!(r.status, 403);
    check_http_error("2025-11-25", &r.json());
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[ACCEPT, ("Origin", "http://evil.example.com")],
        &body,
    );
    assert_eq!(r.status, 403, "a foreign Origin alone");
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/sse",
            &[("Host", "evil.example.com")],
            ""
        )
        .status,
        403
    );
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/notifications",
            &[("Origin", "null")],
            ""
        )
        .status,
        403
    );
    // A second Host cannot smuggle a foreign name: RFC 9112 §3.2 makes it a malformed request.
    let two_hosts = [ACCEPT, ("Host", "localhost"), ("Host", "evil.example.com")];
    assert_eq!(
        post_json(&srv.addr, "/mcp", &two_hosts, &body).status,
        400,
        "two Host headers are refused"
    );
    let host = format!("localhost:{port}");
    let origin = format!("http://localhost:{port}");
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[ACCEPT, ("Host", &host), ("Origin", &origin)],
        &body,
    );
    assert_eq!(r.status, 200);
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[
            ACCEPT,
            ("Host", "[::1]:1"),
            ("Origin", "http://127.0.0.1:9"),
        ],
        &body,
    );
    assert_eq!(r.status, 200);

    let srv = Server::start(&[
        "--allowed-host",
        "mcp.example.com",
        "--allowed-origin",
        "https://app.example.com",
    ]);
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[
            ACCEPT,
            ("Host", "mcp.example.com"),
            ("Origin", "https://app.example.com"),
        ],
        &body,
    );
    assert_eq!(r.status, 200);
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[ACCEPT, ("Host", "other.example.com")],
        &body,
    );
    assert_eq!(r.status, 403);
}

#[test]
fn bearer_token() {
    let dir = std::env::temp_dir().join(format!("fastmcp-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    let token = "s3cr3t-token-value-1234";
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let log = dir.join("server.log");
    let srv = Server::start_logging(
        &["--debug", "--auth-token-file", file.to_str().unwrap()],
        &log,
    );
    let body = init_body("2025-11-25");
    let r = post_json(&srv.addr, "/mcp", &[ACCEPT], &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    check_http_error("2025-11-25", &r.json());
    assert_eq!(
        post_json(
            &srv.addr,
            "/mcp",
            &[ACCEPT, ("Authorization", "Bearer wrong")],
            &body
        )
        .status,
        401
    );
    assert_eq!(
        post_json(
            &srv.addr,
            "/mcp",
            &[ACCEPT, ("Authorization", "Basic czNjcjN0")],
            &body
        )
        .status,
        401
    );
    let auth = format!("Bearer {token}");
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[ACCEPT, ("Authorization", &auth)],
        &body,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        request(&srv.addr, "GET", "/notifications", &[], "").status,
        401,
        "every endpoint"
    );
    assert_eq!(
        request(&srv.addr, "OPTIONS", "/mcp", &[], "").status,
        204,
        "preflights carry no credentials"
    );
    drop(srv);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("POST /mcp"), "debug log was written");
    assert!(!logged.contains(token), "the token is never logged");
    // A missing or empty token file is a startup error.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fastmcp-server"))
        .args(["--auth-token-file", "/nonexistent/token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cors_for_browser_clients() {
    let srv = Server::start(&["--cors-origin", "http://localhost:5173"]);
    let r = request(
        &srv.addr,
        "OPTIONS",
        "/mcp",
        &[
            ("Origin", "http://localhost:5173"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    );
    assert_eq!(r.status, 204);
    let allow = r.header("Access-Control-Allow-Headers").unwrap();
    for h in [
        "Mcp-Session-Id",
        "MCP-Protocol-Version",
        "Last-Event-ID",
        "Authorization",
        "Content-Type",
    ] {
        assert!(allow.contains(h), "{h} in {allow}");
    }
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[ACCEPT, ("Origin", "http://localhost:5173")],
        &init_body("2025-11-25"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Access-Control-Expose-Headers"),
        Some("Mcp-Session-Id")
    );
    assert_eq!(
        r.header("Access-Control-Allow-Origin"),
        Some("http://localhost:5173")
    );
}

/// 200 clients connect at once and keep their connections open until every one has its answer.
/// A regression test from the tiny_http days: its connection pool could queue a new connection
/// without waking a thread for it, and such a client waited until another connection closed,
/// which here is never. Each connection now has its own thread from the moment it is accepted.
#[test]
fn burst_of_keep_alive_clients_all_get_answers() {
    use std::io::{BufRead, BufReader, Write};
    let srv = Server::start(&[]);
    let n = 200;
    let all_answered = std::sync::Arc::new(std::sync::Barrier::new(n));
    let body = init_body("2025-06-18");
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (addr, body, all_answered) = (srv.addr.clone(), body.clone(), all_answered.clone());
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(&addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                write!(s, "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
                let mut line = String::new();
                let answered = BufReader::new(&s).read_line(&mut line).is_ok() && line.contains(" 200 ");
                all_answered.wait();
                answered
            })
        })
        .collect();
    let answered = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|a| *a)
        .count();
    assert_eq!(answered, n);
}
