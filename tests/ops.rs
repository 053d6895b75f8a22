//! Operating the server: graceful shutdown, /health and /metrics.

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

fn streamable_session(addr: &str) -> String {
    let r = post_json(
        addr,
        "/mcp",
        &[ACCEPT],
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    );
    assert_eq!(r.status, 200);
    r.header("Mcp-Session-Id").unwrap().to_string()
}

#[test]
fn sigterm_answers_everything_and_exits_zero_within_the_grace_period() {
    let grace = Duration::from_secs(4);
    let mut srv = Server::start(&["--shutdown-grace-secs", "4", "--workers", "2"]);
    // 100 open streams: 75 seed sessions, of which 25 have a short sleep pending (it fits in the
    // grace period and must arrive as a normal result), and 25 more streams on one of them.
    let mut streams = Vec::new();
    for i in 0..75 {
        let (mut sse, sid) = seed_session(&srv.addr);
        if i < 25 {
            seed_initialize(&srv.addr, &mut sse, &sid);
            seed_post(
                &srv.addr,
                &sid,
                &format!(
                    r#"{{"jsonrpc":"2.0","id":"short-{i}","method":"sleep","params":{{"seconds":1}}}}"#
                ),
            );
        }
        streams.push((sse, sid, i < 25));
    }
    let extra_sid = streams[30].1.clone();
    for _ in 0..25 {
        let mut s = Sse::open(
            &srv.addr,
            &format!("/notifications?session_id={extra_sid}"),
            &[],
        );
        s.next_event(T).expect("greeting");
        streams.push((s, extra_sid.clone(), false));
    }
    assert_eq!(streams.len(), 100);
    // 25 long sleeps over Streamable HTTP, each a parked JSON request: they cannot finish in time
    // and must be answered with an error.
    let sid = streamable_session(&srv.addr);
    let addr = srv.addr.clone();
    let long: Vec<_> = (0..25)
        .map(|i| {
            let (addr, sid) = (addr.clone(), sid.clone());
            std::thread::spawn(move || {
                let body = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"sleep","arguments":{{"seconds":60}}}}}}"#);
                post_json(&addr, "/mcp", &[ACCEPT, ("Mcp-Session-Id", &sid)], &body)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    srv.signal("TERM");
    // Long sleeps: each answered with a JSON-RPC error saying why.
    for (i, h) in long.into_iter().enumerate() {
        let r = h.join().unwrap();
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v["id"], i);
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("shutting down"),
            "{v}"
        );
    }
    // Streams: pending short sleeps delivered, then a final event, then the end of the stream.
    for (mut sse, _sid, has_short) in streams {
        if has_short {
            let v = sse.next_json(T);
            assert!(
                v["result"].is_string(),
                "the short sleep finished normally: {v}"
            );
        }
        let last = sse.next_event(T).expect("a final event");
        assert_eq!(last.event.as_deref(), Some("shutdown"));
        assert!(sse.ended(T), "stream ended");
    }
    let code = srv.wait_exit(grace + Duration::from_secs(2));
    let took = start.elapsed();
    assert_eq!(code, Some(0), "exit status");
    assert!(took < grace, "exited in {took:?}, grace {grace:?}");
}

#[test]
fn sigint_with_nothing_running_exits_at_once() {
    let mut srv = Server::start(&[]);
    let start = Instant::now();
    srv.signal("INT");
    assert_eq!(srv.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn health_and_metrics() {
    let srv = Server::start(&[]);
    let r = request(&srv.addr, "GET", "/health", &[], "");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["status"], "ok");
    assert!(v["uptime_secs"].is_u64());
    assert_eq!(
        (v["sessions"].clone(), v["streams"].clone()),
        (json!(0), json!(0))
    );

    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m"}}}"#,
    );
    sse.next_json(T);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":{}}}"#,
    );
    sse.next_json(T);
    let v = request(&srv.addr, "GET", "/health", &[], "").json();
    assert_eq!(
        (v["sessions"].clone(), v["streams"].clone()),
        (json!(1), json!(1))
    );

    let m = request(&srv.addr, "GET", "/metrics", &[], "");
    assert_eq!(m.status, 200);
    assert!(m.header("Content-Type").unwrap().starts_with("text/plain"));
    // Stream threads count an event just after writing it, so the client may read it first:
    // scrape until the counters settle (a generous bound, not a timing claim).
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut text = m.body;
    while !text.lines().any(|l| l == "fastmcp_events_sent_total 3") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        text = request(&srv.addr, "GET", "/metrics", &[], "").body;
    }
    for line in [
        "fastmcp_sessions_open 1",
        "fastmcp_streams_open 1",
        "fastmcp_sessions_created 1",
        "fastmcp_tool_calls_total{tool=\"echo\",outcome=\"ok\"} 1",
        "fastmcp_tool_calls_total{tool=\"add\",outcome=\"error\"} 1",
        "fastmcp_jsonrpc_requests_total{method=\"tools/call\"} 2",
        "fastmcp_http_responses_total{endpoint=\"/mcp\",method=\"POST\",status=\"202\"} 3",
        "fastmcp_http_responses_total{endpoint=\"/notifications\",method=\"GET\",status=\"200\"} 1",
        "fastmcp_events_sent_total 3",
        "fastmcp_request_duration_seconds_count 3",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains("# TYPE fastmcp_request_duration_seconds histogram"));
}

#[test]
fn health_needs_the_token_unless_public() {
    let dir = std::env::temp_dir().join(format!("fastmcp-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "tok").unwrap();
    let f = file.to_str().unwrap();
    let srv = Server::start(&["--auth-token-file", f]);
    assert_eq!(request(&srv.addr, "GET", "/health", &[], "").status, 401);
    assert_eq!(request(&srv.addr, "GET", "/metrics", &[], "").status, 401);
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/health",
            &[("Authorization", "Bearer tok")],
            ""
        )
        .status,
        200
    );
    let srv = Server::start(&["--auth-token-file", f, "--public-health"]);
    assert_eq!(request(&srv.addr, "GET", "/health", &[], "").status, 200);
    assert_eq!(request(&srv.addr, "GET", "/metrics", &[], "").status, 200);
    assert_eq!(
        request(&srv.addr, "GET", "/notifications", &[], "").status,
        401,
        "only the ops endpoints are public"
    );
}

/// 500 clients vanish at once with a reset (seed streams, legacy streams, and POSTs waiting on a
/// parked call): threads and sessions return to their baseline.
#[test]
fn five_hundred_abrupt_disconnects_leave_nothing_behind() {
    use std::io::Write;
    let srv = Server::start(&["--keepalive-secs", "1", "--session-ttl-secs", "1"]);
    std::thread::sleep(Duration::from_millis(300));
    let threads0 = srv.threads();
    let sessions = || {
        request(&srv.addr, "GET", "/health", &[], "").json()["sessions"]
            .as_u64()
            .unwrap()
    };
    let sid = streamable_session(&srv.addr);
    let mut conns: Vec<std::net::TcpStream> = Vec::new();
    for i in 0..500 {
        let mut s = std::net::TcpStream::connect(&srv.addr).unwrap();
        let req = match i % 3 {
            0 => "GET /notifications HTTP/1.1\r\nHost: localhost\r\n\r\n".to_string(),
            1 => "GET /sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
                .to_string(),
            _ => {
                let body = format!(
                    r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"sleep","arguments":{{"seconds":1}},"_meta":{{"progressToken":{i}}}}}}}"#
                );
                format!(
                    "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            }
        };
        s.write_all(req.as_bytes()).unwrap();
        conns.push(s);
    }
    // Connection threads start at accept; sessions are made by the workers a moment later, so
    // both are waited for (a loaded machine can take a while).
    assert!(
        (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            srv.threads() >= threads0 + 450 && sessions() > 300
        }),
        "the clients are being served: {} threads, {} sessions",
        srv.threads(),
        sessions()
    );
    for s in conns {
        // A reset, not a close: the client is simply gone.
        let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
        drop(s);
    }
    let settled = (0..300).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        srv.threads() <= threads0 && sessions() == 0
    });
    assert!(
        settled,
        "threads {} (baseline {threads0}), sessions {}",
        srv.threads(),
        sessions()
    );
}
