//! Dead clients are noticed in about a second (issue 15): a stream, listen stream or stateless
//! request whose client reset the connection frees its `--max-streams` slot (and a stateless
//! request is cancelled) within 1 s, not at the next keepalive (30 s before), and without waking
//! the server periodically for every open stream.

mod common;
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const REV: &str = "2026-07-28";

/// How long a freed slot may take: the 1 s, plus a margin for a loaded test machine.
const NOTICED: Duration = Duration::from_millis(1500);

/// Sends a raw request and reads the response head; returns the status and the socket, still
/// open, for a stream to keep flowing (or to be reset).
fn open(addr: &str, method: &str, headers: &[(&str, &str)], body: &str) -> (u16, TcpStream) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    let mut req = format!("{method} /mcp HTTP/1.1\r\nHost: localhost\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    // Byte by byte, so nothing after the head is taken from the socket.
    let mut r = BufReader::with_capacity(1, s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap_or(0) == 0 || l.trim_end().is_empty() {
            break;
        }
    }
    (status, s)
}

/// Drops the connection with a reset, as a client that crashed or lost its network would.
fn reset(s: TcpStream) {
    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
    drop(s);
}

fn open_streams(addr: &str) -> u64 {
    request(addr, "GET", "/health", &[], "").json()["streams"]
        .as_u64()
        .expect("streams in /health")
}

fn metric(addr: &str, name: &str) -> u64 {
    let body = request(addr, "GET", "/metrics", &[], "").body;
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics"))
}

/// A Streamable HTTP session (initialized), for its GET stream.
fn session(addr: &str) -> String {
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"dead-clients","version":"1"}}}).to_string();
    let accept = ("Accept", "application/json, text/event-stream");
    let r = post_json(addr, "/mcp", &[accept], &init);
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("Mcp-Session-Id").expect("session id").to_string();
    let done = json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string();
    let r = post_json(addr, "/mcp", &[accept, ("Mcp-Session-Id", &sid)], &done);
    assert_eq!(r.status, 202, "{}", r.body);
    sid
}

fn get_stream(addr: &str, sid: &str) -> (u16, TcpStream) {
    open(
        addr,
        "GET",
        &[("Accept", "text/event-stream"), ("Mcp-Session-Id", sid)],
        "",
    )
}

/// A stateless (2026-07-28) request that is answered with a stream.
fn stateless(addr: &str, method: &str, params: Value) -> (u16, TcpStream) {
    let mut params = params;
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(REV);
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = json!({});
    params["_meta"]["io.modelcontextprotocol/clientInfo"] =
        json!({"name": "dead-clients", "version": "1"});
    let name = params["name"].as_str().map(str::to_string);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut h = vec![
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", REV),
        ("Mcp-Method", method),
    ];
    if let Some(n) = &name {
        h.push(("Mcp-Name", n));
    }
    open(addr, "POST", &h, &body)
}

fn listen(addr: &str) -> (u16, TcpStream) {
    stateless(
        addr,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
    )
}

/// Retries `open_one` until it is not refused with 503; the time that took.
fn time_to_open(mut open_one: impl FnMut() -> (u16, TcpStream)) -> (Duration, TcpStream) {
    let start = Instant::now();
    loop {
        let (status, s) = open_one();
        if status == 200 {
            return (start.elapsed(), s);
        }
        assert_eq!(status, 503, "refused only for want of a slot");
        assert!(
            start.elapsed() < NOTICED,
            "still refused {:?} after the reset",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Waits until `/health` counts at most `n` open streams; false after [`NOTICED`].
fn streams_down_to(addr: &str, n: u64) -> bool {
    let deadline = Instant::now() + NOTICED;
    while Instant::now() < deadline {
        if open_streams(addr) <= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

#[test]
fn reset_get_streams_free_their_slots_within_a_second() {
    let srv = Server::start(&["--max-streams", "20"]);
    let sids: Vec<String> = (0..21).map(|_| session(&srv.addr)).collect();
    let streams: Vec<TcpStream> = sids[..20]
        .iter()
        .map(|sid| {
            let (status, s) = get_stream(&srv.addr, sid);
            assert_eq!(status, 200);
            s
        })
        .collect();
    assert_eq!(open_streams(&srv.addr), 20);
    assert_eq!(get_stream(&srv.addr, &sids[20]).0, 503, "all slots taken");
    for s in streams {
        reset(s);
    }
    let (took, _new) = time_to_open(|| get_stream(&srv.addr, &sids[20]));
    eprintln!("a new GET stream opened {took:?} after 20 resets");
    assert!(
        streams_down_to(&srv.addr, 1),
        "{} streams open",
        open_streams(&srv.addr)
    );
}

#[test]
fn reset_listen_streams_free_their_slots_within_a_second() {
    let srv = Server::start(&["--max-streams", "20"]);
    let streams: Vec<TcpStream> = (0..20)
        .map(|_| {
            let (status, s) = listen(&srv.addr);
            assert_eq!(status, 200);
            s
        })
        .collect();
    assert_eq!(open_streams(&srv.addr), 20);
    assert_eq!(listen(&srv.addr).0, 503, "all slots taken");
    for s in streams {
        reset(s);
    }
    let (took, _new) = time_to_open(|| listen(&srv.addr));
    eprintln!("a new listen stream opened {took:?} after 20 resets");
    assert!(
        streams_down_to(&srv.addr, 1),
        "{} streams open",
        open_streams(&srv.addr)
    );
}

#[test]
fn a_stateless_request_whose_client_reset_is_cancelled_within_a_second() {
    // No progress notification after the first: nothing is written that could fail.
    let srv = Server::start(&["--max-streams", "20", "--progress-interval-ms", "60000"]);
    let before = metric(&srv.addr, "fastmcp_requests_cancelled_total");
    let (status, s) = stateless(
        &srv.addr,
        "tools/call",
        json!({"name": "sleep", "arguments": {"seconds": 20}, "_meta": {"progressToken": "p"}}),
    );
    assert_eq!(status, 200);
    assert_eq!(open_streams(&srv.addr), 1);
    // Past the write probe 200 ms after the first progress message: the stream is now silent,
    // and only the reset itself can tell the server.
    std::thread::sleep(Duration::from_millis(600));
    let start = Instant::now();
    reset(s);
    while metric(&srv.addr, "fastmcp_requests_cancelled_total") == before {
        assert!(
            start.elapsed() < NOTICED,
            "not cancelled {:?} after the reset",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    eprintln!("cancelled {:?} after the reset", start.elapsed());
    assert!(streams_down_to(&srv.addr, 0));
    // A client that closes cleanly (FIN, not a reset) cancels too.
    let (status, s) = stateless(
        &srv.addr,
        "tools/call",
        json!({"name": "sleep", "arguments": {"seconds": 20}, "_meta": {"progressToken": "q"}}),
    );
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(600));
    drop(s);
    let start = Instant::now();
    while metric(&srv.addr, "fastmcp_requests_cancelled_total") < before + 2 {
        assert!(
            start.elapsed() < NOTICED,
            "a closed stream is not cancelled"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A request sent ahead on a stream's connection (pipelined) is not taken for a closed client:
/// the stream goes on and still delivers what it is given.
#[test]
fn bytes_sent_ahead_do_not_end_a_stream() {
    let srv = Server::start(&[]);
    let (status, mut s) = stateless(
        &srv.addr,
        "tools/call",
        json!({"name": "sleep", "arguments": {"seconds": 1.5}, "_meta": {"progressToken": "p"}}),
    );
    assert_eq!(status, 200);
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(s);
    let mut all = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !all.contains("Slept for") && Instant::now() < deadline {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap_or(0) == 0 {
            break;
        }
        all.push_str(&l);
    }
    assert!(all.contains("Slept for"), "the answer arrived: {all}");
}

/// No per-stream timers: 200 open streams leave the server asleep.
#[test]
fn many_open_streams_do_not_wake_the_server() {
    let srv = Server::start(&["--max-streams", "300"]);
    let streams: Vec<TcpStream> = (0..200)
        .map(|_| {
            let (status, s) = listen(&srv.addr);
            assert_eq!(status, 200);
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = srv.wakeups();
    std::thread::sleep(Duration::from_secs(3));
    let woke = srv.wakeups() - before;
    eprintln!("{woke} wake-ups in 3 s with {} streams", streams.len());
    assert!(woke <= 9, "{woke} wake-ups in 3 s with 200 open streams");
    // And they are all still open: the watcher did not take a quiet client for a gone one.
    assert_eq!(open_streams(&srv.addr), 200);
}
