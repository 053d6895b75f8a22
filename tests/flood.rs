//! Session floods against the real binary: unauthenticated `initialize` POSTs (and seed streams
//! opened and left) must not lock legitimate clients out. Pending sessions (never used after the
//! handshake) are evicted oldest first when `--max-sessions` is reached and expire after
//! `--pending-session-ttl-secs`; `--max-sessions-per-client` evicts a client's own pending
//! sessions first and refuses it only when all of its sessions are in use.

mod common;
use common::*;
use std::time::{Duration, Instant};

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"flood","version":"1"}}}"#;

/// `initialize` on Streamable HTTP: the answer (its session id in `Mcp-Session-Id`).
fn initialize(addr: &str) -> Resp {
    post_json(addr, "/mcp", &[ACCEPT], INIT)
}

fn session_of(r: &Resp) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    r.header("Mcp-Session-Id")
        .expect("a session id")
        .to_string()
}

/// A tools/call echo on a session: its HTTP status (and the echo checked when 200).
fn echo(addr: &str, sid: &str) -> u16 {
    let r = post_json(
        addr,
        "/mcp",
        &[
            ACCEPT,
            ("Mcp-Session-Id", sid),
            ("MCP-Protocol-Version", "2025-06-18"),
        ],
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"still here"}}}"#,
    );
    if r.status == 200 {
        assert_eq!(
            r.json()["result"]["content"][0]["text"],
            "still here",
            "{}",
            r.body
        );
    }
    r.status
}

/// `n` initialize POSTs from four threads; how many got each status.
fn flood(addr: &str, n: usize) -> std::collections::BTreeMap<u16, usize> {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let addr = addr.to_string();
            std::thread::spawn(move || {
                (t..n)
                    .step_by(4)
                    .map(|_| initialize(&addr).status)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    for t in threads {
        for status in t.join().unwrap() {
            *counts.entry(status).or_insert(0) += 1;
        }
    }
    counts
}

fn sessions(addr: &str) -> u64 {
    request(addr, "GET", "/health", &[], "").json()["sessions"]
        .as_u64()
        .expect("sessions in /health")
}

fn metric(addr: &str, name: &str) -> u64 {
    let text = request(addr, "GET", "/metrics", &[], "").body;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics:\n{text}"))
}

/// Polls `f` every 50 ms until it holds or `within` has passed.
fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_legitimate_client_gets_in_at_once_after_an_initialize_flood() {
    let srv = Server::start(&[
        "--max-sessions",
        "200",
        "--pending-session-ttl-secs",
        "2",
        "--max-sessions-per-client",
        "0",
    ]);
    // A client that was working before the flood.
    let early = session_of(&initialize(&srv.addr));
    assert_eq!(echo(&srv.addr, &early), 200);
    let counts = flood(&srv.addr, 1000);
    assert_eq!(counts.get(&200), Some(&1000), "{counts:?}");
    // Seed streams opened and dropped, never initialized.
    for _ in 0..5 {
        let (sse, _) = seed_session(&srv.addr);
        sse.disconnect();
    }
    assert_eq!(sessions(&srv.addr), 200, "the table is full");

    let start = Instant::now();
    let sid = session_of(&initialize(&srv.addr));
    assert_eq!(echo(&srv.addr, &sid), 200);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(
        echo(&srv.addr, &early),
        200,
        "a used session is never evicted"
    );
    assert!(metric(&srv.addr, "fastmcp_sessions_evicted_total") >= 1000 - 200);

    // The flood's sessions are gone after the pending TTL; the two used ones stay.
    assert!(
        eventually(Duration::from_secs(6), || sessions(&srv.addr) == 2),
        "sessions left: {}",
        sessions(&srv.addr)
    );
    assert_eq!(echo(&srv.addr, &sid), 200);
    assert_eq!(echo(&srv.addr, &early), 200);
    assert!(metric(&srv.addr, "fastmcp_sessions_expired") >= 195);
}

#[test]
fn a_table_full_of_used_sessions_still_says_503() {
    let srv = Server::start(&["--max-sessions", "3", "--max-sessions-per-client", "0"]);
    let sids: Vec<String> = (0..3).map(|_| session_of(&initialize(&srv.addr))).collect();
    for sid in &sids {
        assert_eq!(echo(&srv.addr, sid), 200);
    }
    let r = initialize(&srv.addr);
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("--max-sessions"), "{}", r.body);
    assert!(r.header("Retry-After").is_some());
    assert_eq!(metric(&srv.addr, "fastmcp_sessions_evicted_total"), 0);
}

#[test]
fn the_per_client_cap_evicts_that_clients_pending_sessions_then_refuses() {
    let srv = Server::start(&["--max-sessions-per-client", "3"]);
    let first = session_of(&initialize(&srv.addr));
    assert_eq!(echo(&srv.addr, &first), 200);
    let second = session_of(&initialize(&srv.addr));
    let third = session_of(&initialize(&srv.addr));
    // Over the cap: the client's own oldest unused session makes room.
    let fourth = session_of(&initialize(&srv.addr));
    assert_eq!(echo(&srv.addr, &second), 404, "evicted");
    assert_eq!(echo(&srv.addr, &third), 200);
    assert_eq!(echo(&srv.addr, &fourth), 200);
    assert_eq!(echo(&srv.addr, &first), 200);
    // All three in use: refused, naming the flag.
    let r = initialize(&srv.addr);
    assert_eq!(r.status, 503, "{}", r.body);
    let message = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("--max-sessions-per-client 3"), "{message}");
    assert!(r.header("Retry-After").is_some());
    // Ending one frees its slot.
    let r = request(
        &srv.addr,
        "DELETE",
        "/mcp",
        &[("Mcp-Session-Id", &first)],
        "",
    );
    assert_eq!(r.status, 200);
    session_of(&initialize(&srv.addr));
    assert_eq!(metric(&srv.addr, "fastmcp_sessions_evicted_total"), 1);
}

#[test]
fn an_unused_session_expires_after_the_pending_ttl_and_a_used_one_does_not() {
    let srv = Server::start(&["--pending-session-ttl-secs", "1"]);
    let unused = session_of(&initialize(&srv.addr));
    let used = session_of(&initialize(&srv.addr));
    assert_eq!(echo(&srv.addr, &used), 200);
    // A seed stream held open that never initializes: ended at the handshake deadline.
    let (mut idle_stream, _) = seed_session(&srv.addr);
    assert!(eventually(Duration::from_secs(5), || sessions(&srv.addr) == 1));
    assert!(
        idle_stream.ended(Duration::from_secs(2)),
        "its stream is closed"
    );
    assert_eq!(echo(&srv.addr, &unused), 404);
    assert_eq!(echo(&srv.addr, &used), 200);
}
