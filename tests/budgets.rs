//! Bounded under abuse, the kept-messages half: a client that stopped reading receives everything
//! waiting for it after one reconnect (paced by its reading, not cut at `--stream-queue`), what
//! sessions keep is bounded by bytes (per session and per server) with every loss counted in
//! `/metrics`, and a deleted session's memory comes back (`fastmcp_buffered_bytes` returns to 0).

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// A counter or gauge of `/metrics`.
fn metric(addr: &str, name: &str) -> u64 {
    let body = request(addr, "GET", "/metrics", &[], "").body;
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn streams_open(addr: &str) -> u64 {
    request(addr, "GET", "/health", &[], "").json()["streams"]
        .as_u64()
        .unwrap()
}

fn echo(id: u64, message: &str) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"echo","params":{"message":message}}).to_string()
}

/// The sequence number of a general-channel event id (`0-<seq>`, after a seed session's
/// `<session id>.<secret>.`).
fn seq(ev: &Event) -> u64 {
    let id = ev.id.as_deref().expect("an event id");
    let id = id.rsplit('.').next().unwrap_or(id);
    let (stream, seq) = id.split_once('-').expect("<stream>-<seq>");
    assert_eq!(stream, "0", "a general-channel event");
    seq.parse().unwrap()
}

/// A seed session whose stream read the answer to `initialize` and then stopped reading while
/// 500 answers of 60 KiB were produced; the client then went away for good. Returns the session.
fn stuck_then_gone(addr: &str) -> String {
    let (mut sse, sid) = seed_session(addr);
    seed_initialize(addr, &mut sse, &sid);
    let pad = "p".repeat(60 * 1024);
    for id in 1..=500 {
        seed_post(addr, &sid, &echo(id, &pad));
    }
    // Every answer is produced (each one queued on the stuck stream or waiting in the backlog).
    wait_for("500 answers", || {
        metric(addr, "fastmcp_jsonrpc_requests_total{method=\"echo\"}") == 500
            && metric(addr, "fastmcp_requests_running") == 0
    });
    sse.disconnect();
    wait_for("the dead stream to be let go", || streams_open(addr) == 0);
    sid
}

/// Reads `n` answers from a reconnected seed stream: each once, in event order, and then
/// nothing more.
fn all_once_in_order(back: &mut Sse, n: u64) {
    let greeting = back.next_event(T).expect("greeting");
    assert!(greeting.data.starts_with("Connected to session"));
    let mut seqs = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..n {
        let ev = back
            .next_event(T)
            .unwrap_or_else(|| panic!("an answer after {} of {n}", seqs.len()));
        seqs.push(seq(&ev));
        ids.push(ev.json()["id"].as_u64().unwrap());
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in event order: {seqs:?}"
    );
    ids.sort_unstable();
    assert_eq!(ids, (1..=n).collect::<Vec<_>>(), "every answer once");
    assert!(
        back.next_event(Duration::from_millis(500)).is_none(),
        "nothing twice"
    );
}

const ROOMY: [&str; 6] = [
    "--session-buffer-bytes",
    "64000000",
    "--replay-events",
    "1000",
    "--write-timeout-secs",
    "2",
];

/// Without `Last-Event-ID` delivery is at-least-once: the server cuts the stuck stream at its
/// write timeout, the client reads what the old connection still carries, and one reconnect
/// brings everything else (the whole outbox, in order, not 64 of it).
#[test]
fn a_stream_that_stopped_reading_gets_all_500_answers_after_one_reconnect() {
    let srv = Server::start(&ROOMY);
    let addr = &srv.addr;
    let (mut old, sid) = seed_session(addr);
    seed_initialize(addr, &mut old, &sid);
    let pad = "p".repeat(60 * 1024);
    for id in 1..=500 {
        seed_post(addr, &sid, &echo(id, &pad));
    }
    wait_for("500 answers and the stuck stream cut", || {
        metric(addr, "fastmcp_jsonrpc_requests_total{method=\"echo\"}") == 500
            && metric(addr, "fastmcp_requests_running") == 0
            && streams_open(addr) == 0
    });
    let mut got = std::collections::BTreeSet::new();
    while let Some(ev) = old.next_event(Duration::from_secs(1)) {
        got.insert(ev.json()["id"].as_u64().unwrap());
    }
    let on_the_old = got.len();
    assert!(on_the_old < 500, "the client did stop reading");
    let mut back = Sse::open(addr, &format!("/notifications?session_id={sid}"), &[]);
    back.next_event(T).expect("greeting");
    let mut seqs = Vec::new();
    let mut again = 0;
    while let Some(ev) = back.next_event(Duration::from_millis(700)) {
        seqs.push(seq(&ev));
        if !got.insert(ev.json()["id"].as_u64().unwrap()) {
            again += 1;
        }
    }
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        (1..=500).collect::<Vec<_>>(),
        "every answer arrived ({on_the_old} on the old stream, {} after the reconnect)",
        seqs.len()
    );
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "the outbox in event order: {seqs:?}"
    );
    assert!(
        again <= 64 + 64,
        "only unconfirmed answers come twice: {again}"
    );
    assert_eq!(metric(addr, "fastmcp_events_dropped_total"), 0);
}

#[test]
fn a_resume_after_the_last_event_seen_gets_all_500_answers_exactly_once() {
    let srv = Server::start(&ROOMY);
    let sid = stuck_then_gone(&srv.addr);
    // The answer to initialize was the general channel's first event.
    let mut back = Sse::open(
        &srv.addr,
        &format!("/notifications?session_id={sid}"),
        &[("Last-Event-ID", "0-1")],
    );
    all_once_in_order(&mut back, 500);
    assert_eq!(metric(&srv.addr, "fastmcp_resume_gaps_total"), 0);
}

/// A seed session with no stream: its messages wait in the outbox, which keeps at most
/// `--session-buffer-bytes`; the oldest are dropped, and every one is either delivered on the
/// reconnect or counted.
#[test]
fn the_outbox_is_held_to_the_session_budget_and_every_loss_is_counted() {
    let srv = Server::start(&["--session-buffer-bytes", "1000000"]);
    let addr = &srv.addr;
    let (mut sse, sid) = seed_session(addr);
    seed_initialize(addr, &mut sse, &sid);
    std::thread::sleep(Duration::from_millis(300));
    sse.disconnect();
    // The server notices the dead stream at its next write.
    seed_post(addr, &sid, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    wait_for("the dead stream to be let go", || streams_open(addr) == 0);
    let pad = "b".repeat(100_000);
    for id in 2..=51 {
        seed_post(addr, &sid, &echo(id, &pad));
    }
    wait_for("51 answers", || {
        metric(addr, "fastmcp_jsonrpc_requests_total{method=\"echo\"}") == 50
            && metric(addr, "fastmcp_requests_running") == 0
    });
    let held = metric(addr, "fastmcp_buffered_bytes");
    assert!(held <= 1_000_000, "held {held}");
    assert!(held >= 800_000, "the newest fill the budget: {held}");
    let dropped = metric(addr, "fastmcp_events_dropped_total");
    assert!(dropped >= 40, "dropped {dropped}");
    assert!(metric(addr, "fastmcp_events_evicted_total") >= 40);
    let mut back = Sse::open(addr, &format!("/notifications?session_id={sid}"), &[]);
    back.next_event(T).expect("greeting");
    let mut got = Vec::new();
    while let Some(ev) = back.next_event(Duration::from_millis(700)) {
        let id = ev.json()["id"].as_u64().unwrap();
        if id != 0 {
            got.push(id);
        }
    }
    assert_eq!(
        got.len() as u64 + dropped,
        51,
        "each answer delivered or counted: {got:?}, {dropped} dropped"
    );
    assert!(
        got.iter().all(|&id| id > 1),
        "the oldest went first: {got:?}"
    );
}

#[test]
fn the_server_budget_bounds_every_session_together() {
    let srv = Server::start(&[
        "--session-buffer-bytes",
        "800000",
        "--buffer-bytes",
        "1000000",
    ]);
    let addr = &srv.addr;
    let pad = "c".repeat(100_000);
    for _ in 0..2 {
        let (mut sse, sid) = seed_session(addr);
        seed_initialize(addr, &mut sse, &sid);
        sse.disconnect();
        seed_post(addr, &sid, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        wait_for("the dead stream to be let go", || streams_open(addr) == 0);
        for id in 2..=21 {
            seed_post(addr, &sid, &echo(id, &pad));
        }
    }
    wait_for("40 answers", || {
        metric(addr, "fastmcp_jsonrpc_requests_total{method=\"echo\"}") == 40
            && metric(addr, "fastmcp_requests_running") == 0
    });
    let held = metric(addr, "fastmcp_buffered_bytes");
    assert!(held <= 1_000_000, "held {held}");
    assert!(metric(addr, "fastmcp_events_dropped_total") >= 30);
}

/// Streamable HTTP POST streams keep their answers for resuming, within the session's budget;
/// a DELETE gives everything back.
#[test]
fn post_stream_logs_are_held_to_the_budget_and_a_deleted_session_holds_nothing() {
    let srv = Server::start(&["--sse-responses", "--session-buffer-bytes", "2000000"]);
    let addr = &srv.addr;
    let accept = ("Accept", "application/json, text/event-stream");
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"budgets","version":"1"}}});
    let r = post_json(addr, "/mcp", &[accept], &init.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("Mcp-Session-Id").unwrap().to_string();
    let h = [
        accept,
        ("Mcp-Session-Id", sid.as_str()),
        ("MCP-Protocol-Version", "2025-11-25"),
    ];
    let r = post_json(
        addr,
        "/mcp",
        &h,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(r.status, 202);
    let pad = "d".repeat(200_000);
    for id in 1..=12 {
        let call = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":"echo","arguments":{"message":pad}}});
        let r = post_json(addr, "/mcp", &h, &call.to_string());
        assert_eq!(r.status, 200);
        assert!(r.body.contains(&pad), "the answer arrives whole");
    }
    let held = metric(addr, "fastmcp_buffered_bytes");
    assert!((1_000_000..=2_000_000).contains(&held), "held {held}");
    assert!(metric(addr, "fastmcp_events_evicted_total") >= 2);
    assert_eq!(
        metric(addr, "fastmcp_events_dropped_total"),
        0,
        "every evicted answer had been delivered"
    );
    let r = request(addr, "DELETE", "/mcp", &h, "");
    assert_eq!(r.status, 200);
    assert_eq!(metric(addr, "fastmcp_buffered_bytes"), 0);
}

/// A seed session that kept 30 MB for a client that is gone gives it all back when deleted
/// (here: expired), and so does the server.
#[test]
fn memory_comes_back_when_sessions_go() {
    let srv = Server::start(&ROOMY);
    let addr = &srv.addr;
    stuck_then_gone(addr);
    let held = metric(addr, "fastmcp_buffered_bytes");
    assert!(held >= 30_000_000, "held {held}");
    // A second server, the same load, and sessions that expire at once.
    let srv2 = Server::start(&[
        "--session-buffer-bytes",
        "64000000",
        "--write-timeout-secs",
        "2",
        "--session-ttl-secs",
        "1",
    ]);
    let addr2 = &srv2.addr;
    let (mut sse, sid) = seed_session(addr2);
    seed_initialize(addr2, &mut sse, &sid);
    sse.disconnect();
    let pad = "e".repeat(100_000);
    for id in 1..=50 {
        seed_post(addr2, &sid, &echo(id, &pad));
    }
    wait_for("the session to expire and let go", || {
        metric(addr2, "fastmcp_sessions_expired") == 1
    });
    assert_eq!(metric(addr2, "fastmcp_buffered_bytes"), 0);
}
