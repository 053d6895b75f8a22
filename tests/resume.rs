//! Resumable POST streams: event ids, priming events (2025-11-25), `GET` + `Last-Event-ID`
//! replaying exactly the events after that id of that stream, evicted ids, and the server ending
//! a stream early (SSE polling). Every message is validated against its revision's schema.

mod common;
use common::schema::check_message;
use common::*;
use fastmcp_server::{Config, ServerBuilder, ServerHandle, Tool, ToolResult};
use serde_json::{Value, json};
use std::time::Duration;

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

fn serve(replay_events: usize) -> String {
    serve_with_handle(replay_events).0
}

fn serve_with_handle(replay_events: usize) -> (String, ServerHandle) {
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        replay_events,
        ..Config::default()
    };
    let server = ServerBuilder::new(config)
        // Reports progress 1..=n, 150 ms apart, then answers "done n".
        .tool(Tool::new(
            "steps",
            "Counts",
            json!({"type":"object"}),
            |args, r| {
                let n = args.get("n").and_then(Value::as_u64).unwrap_or(5);
                std::thread::spawn(move || {
                    for i in 1..=n {
                        std::thread::sleep(Duration::from_millis(150));
                        r.context().progress(i as f64, Some(n as f64), None);
                    }
                    r.finish(ToolResult::text(format!("done {n}")))
                });
            },
        ))
        // Sends the client away at once and answers 300 ms later.
        .tool(Tool::new(
            "poll",
            "Polls",
            json!({"type":"object"}),
            |_, r| {
                std::thread::spawn(move || {
                    assert!(r.context().close_stream());
                    std::thread::sleep(Duration::from_millis(300));
                    r.finish(ToolResult::text("polled"))
                });
            },
        ))
        .bind()
        .expect("bind");
    let addr = server.local_addr().to_string();
    let handle = server.handle();
    std::thread::spawn(move || server.run());
    (addr, handle)
}

struct Client {
    addr: String,
    sid: String,
    rev: &'static str,
}

impl Client {
    fn new(addr: &str, rev: &'static str) -> Client {
        let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":rev,"capabilities":{},"clientInfo":{"name":"resume","version":"1"}}});
        let r = post_json(addr, "/mcp", &[ACCEPT], &body.to_string());
        Client {
            addr: addr.to_string(),
            sid: r.header("Mcp-Session-Id").unwrap().to_string(),
            rev,
        }
    }

    fn call(&self, id: u64, tool: &str, n: u64) -> Sse {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{"n":n},"_meta":{"progressToken":id}}});
        let s = Sse::open_with(
            &self.addr,
            "POST",
            "/mcp",
            &[
                ACCEPT,
                ("Content-Type", "application/json"),
                ("Mcp-Session-Id", &self.sid),
                ("MCP-Protocol-Version", self.rev),
            ],
            &body.to_string(),
        );
        assert_eq!(s.status, 200);
        s
    }

    fn resume(&self, last_event_id: &str) -> Sse {
        let s = Sse::open(
            &self.addr,
            "/mcp",
            &[
                ("Accept", "text/event-stream"),
                ("Mcp-Session-Id", &self.sid),
                ("MCP-Protocol-Version", self.rev),
                ("Last-Event-ID", last_event_id),
            ],
        );
        assert_eq!(s.status, 200);
        s
    }
}

/// The next message event: (id, message), validated.
fn next(s: &mut Sse, rev: &str) -> (String, Value) {
    let ev = s.next_event(T).expect("an event");
    let v = ev.json();
    check_message(rev, &v, None);
    (ev.id.expect("message events carry ids"), v)
}

/// Reads messages until the response to `id`; returns (event ids, progress values, response).
fn drain(s: &mut Sse, rev: &str, id: u64) -> (Vec<String>, Vec<f64>, Value) {
    let (mut ids, mut progress) = (Vec::new(), Vec::new());
    loop {
        let (eid, v) = next(s, rev);
        ids.push(eid);
        if v["id"] == id {
            return (ids, progress, v);
        }
        progress.push(v["params"]["progress"].as_f64().unwrap());
    }
}

#[test]
fn a_cut_stream_resumes_with_exactly_the_missed_events() {
    let addr = serve(256);
    let c = Client::new(&addr, "2025-06-18");
    let mut a = c.call(1, "steps", 6);
    let (first, v1) = next(&mut a, c.rev);
    let (second, v2) = next(&mut a, c.rev);
    assert_eq!(
        (
            v1["params"]["progress"].as_f64(),
            v2["params"]["progress"].as_f64()
        ),
        (Some(1.0), Some(2.0))
    );
    a.disconnect();
    // Another stream of the same session runs meanwhile; nothing of it may show up below.
    let mut b = c.call(2, "steps", 2);
    std::thread::sleep(Duration::from_millis(400));
    let mut resumed = c.resume(&second);
    let (ids, progress, done) = drain(&mut resumed, c.rev, 1);
    assert_eq!(
        progress,
        [3.0, 4.0, 5.0, 6.0],
        "exactly the missed events, once, in order"
    );
    assert_eq!(done["result"]["content"][0]["text"], "done 6");
    let stream = first.split('-').next().unwrap();
    assert!(
        ids.iter().all(|i| i.starts_with(&format!("{stream}-"))),
        "one stream: {ids:?} vs {first}"
    );
    assert!(resumed.ended(T), "the resumed stream ends after the result");
    let (_, p2, d2) = drain(&mut b, c.rev, 2);
    assert_eq!(
        (p2, d2["result"]["content"][0]["text"].as_str()),
        (vec![1.0, 2.0], Some("done 2"))
    );
}

#[test]
fn priming_events_and_server_initiated_polling() {
    let addr = serve(256);
    let c = Client::new(&addr, "2025-11-25");
    let mut s = c.call(1, "poll", 0);
    let priming = s.next_raw(T).expect("a priming event");
    let id = priming.id.clone().expect("with an id");
    assert!(id.ends_with("-0") && priming.data.is_empty(), "{priming:?}");
    assert!(s.ended(T), "the server ended the stream early");
    let mut resumed = c.resume(&id);
    let (_, _, done) = drain(&mut resumed, c.rev, 1);
    assert_eq!(done["result"]["content"][0]["text"], "polled");
    assert!(resumed.ended(T));
    // Earlier revisions get ids but no priming event.
    let old = Client::new(&addr, "2025-06-18");
    let mut s = old.call(1, "steps", 1);
    let ev = s.next_raw(T).unwrap();
    assert!(!ev.data.is_empty() && ev.id.is_some(), "{ev:?}");
}

#[test]
fn evicted_and_unknown_ids_start_a_fresh_stream() {
    let addr = serve(2);
    let c = Client::new(&addr, "2025-11-25");
    let mut s = c.call(1, "steps", 5);
    let priming = s.next_raw(T).unwrap().id.unwrap();
    s.disconnect();
    std::thread::sleep(Duration::from_millis(1200));
    let gaps = || {
        request(&addr, "GET", "/metrics", &[], "")
            .body
            .lines()
            .find_map(|l| l.strip_prefix("fastmcp_resume_gaps_total "))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap()
    };
    let before = gaps();
    // Only the last two events are kept: resuming after the priming event would skip some.
    let mut fresh = c.resume(&priming);
    assert_eq!(gaps(), before + 1);
    assert!(
        fresh.next_event(Duration::from_millis(500)).is_none(),
        "a fresh general stream, no replay"
    );
    drop(fresh);
    let fresh = c.resume("999-1");
    assert_eq!(fresh.status, 200);
    assert_eq!(gaps(), before + 2);
}

/// Waits (up to 10 s) until the server reports no open stream.
fn wait_for_no_streams(addr: &str, what: &str) {
    let streams = || {
        request(addr, "GET", "/health", &[], "").json()["streams"]
            .as_u64()
            .unwrap()
    };
    assert!(
        (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            streams() == 0
        }),
        "{what}: {}",
        request(addr, "GET", "/health", &[], "").body
    );
}

fn tool(n: u32) -> Tool {
    Tool::sync(
        format!("t{n}"),
        "Added at run time",
        json!({"type":"object"}),
        |_| Ok(ToolResult::text("")),
    )
}

#[test]
fn the_general_stream_resumes_exactly_after_the_last_event_seen() {
    let (addr, handle) = serve_with_handle(256);
    let c = Client::new(&addr, "2025-11-25");
    let get = |last: Option<&str>| {
        let mut h = vec![
            ("Accept", "text/event-stream"),
            ("Mcp-Session-Id", c.sid.as_str()),
            ("MCP-Protocol-Version", c.rev),
        ];
        if let Some(l) = last {
            h.push(("Last-Event-ID", l));
        }
        let s = Sse::open(&addr, "/mcp", &h);
        assert_eq!(s.status, 200);
        s
    };
    let mut g = get(None);
    std::thread::sleep(Duration::from_millis(100));
    handle.add_tool(tool(1));
    let (first, v) = next(&mut g, c.rev);
    assert_eq!(
        (first.as_str(), v["method"].as_str()),
        ("0-1", Some("notifications/tools/list_changed"))
    );
    g.disconnect();
    for n in 2..=5 {
        handle.add_tool(tool(n));
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut resumed = get(Some(&first));
    let ids: Vec<String> = (0..4).map(|_| next(&mut resumed, c.rev).0).collect();
    assert_eq!(
        ids,
        ["0-2", "0-3", "0-4", "0-5"],
        "exactly the missed events, once"
    );
    assert!(
        resumed.next_event(Duration::from_millis(700)).is_none(),
        "nothing twice"
    );
}

#[test]
fn the_seed_stream_resumes_exactly_after_the_last_event_seen() {
    let addr = serve(256);
    let (mut sse, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut sse, &sid);
    seed_post(&addr, &sid, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    let ev = sse.next_event(T).unwrap();
    assert_eq!(ev.json()["id"], 1);
    let seen = ev.id.expect("seed events carry ids");
    sse.disconnect();
    for id in 2..=4 {
        seed_post(
            &addr,
            &sid,
            &format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#),
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut back = Sse::open(
        &addr,
        &format!("/notifications?session_id={sid}"),
        &[("Last-Event-ID", &seen)],
    );
    assert_eq!(back.status, 200);
    let greeting = back.next_event(T).unwrap();
    assert!(greeting.data.starts_with("Connected to session"));
    // Pings 2–4 run concurrently on the workers, so their answers have no defined order: each
    // missed one must arrive exactly once (and ping 1, seen before, not again).
    let got: Vec<Value> = (0..3).map(|_| back.next_json(T)["id"].clone()).collect();
    let mut ids: Vec<i64> = got.iter().filter_map(Value::as_i64).collect();
    ids.sort();
    assert_eq!(ids, [2, 3, 4], "exactly the missed events, once: {got:?}");
    assert!(
        back.next_event(Duration::from_millis(700)).is_none(),
        "nothing twice"
    );
}

#[test]
fn an_evicted_general_id_falls_back_to_the_outbox() {
    let srv = Server::start(&["--replay-events", "2"]);
    let addr = srv.addr.clone();
    let (mut sse, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut sse, &sid);
    // The answer to initialize was the general channel's first event.
    let first_id = "0-1";
    sse.disconnect();
    // A message written to the dead socket gets the server to notice (its answer is handed back
    // to the outbox); once the stream is gone, every later message waits in the outbox too.
    seed_post(&addr, &sid, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
    wait_for_no_streams(&addr, "the dead stream was let go");
    for id in 3..=6 {
        seed_post(
            &addr,
            &sid,
            &format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#),
        );
    }
    let mut back = Sse::open(
        &addr,
        &format!("/notifications?session_id={sid}"),
        &[("Last-Event-ID", first_id)],
    );
    back.next_event(T).unwrap();
    // The log kept only two, so the outbox (which kept all) is delivered instead; that is
    // at-least-once: the answer to initialize, unconfirmed when the stream died, comes again.
    // Pings 3–6 run concurrently on the workers, so their answers have no defined order (and
    // one may still be in progress when the stream attaches): each must arrive exactly once.
    let mut got: Vec<Value> = Vec::new();
    while !(3..=6).all(|id| got.contains(&json!(id))) {
        got.push(back.next_json(T)["id"].clone());
    }
    if got[0] == json!(0) {
        got.remove(0);
    }
    assert_eq!(
        got[0],
        json!(2),
        "the answer produced before the others comes first: {got:?}"
    );
    let mut rest: Vec<i64> = got[1..].iter().filter_map(Value::as_i64).collect();
    rest.sort();
    assert_eq!(rest, [3, 4, 5, 6], "each once: {got:?}");
    assert!(
        back.next_event(Duration::from_millis(300)).is_none(),
        "nothing twice"
    );
}

/// The client resumes before the server noticed its old stream died: the messages the old
/// stream hands back later were already replayed, and are not sent again.
#[test]
fn a_resume_that_races_the_dead_stream_is_still_exactly_once() {
    let addr = serve(256);
    for _ in 0..5 {
        let (mut sse, sid) = seed_session(&addr);
        seed_initialize(&addr, &mut sse, &sid);
        sse.disconnect();
        // Written to the dead socket "successfully" (the first write after the peer closed);
        // the server learns the stream is dead only when its probe fails, 200 ms later.
        seed_post(&addr, &sid, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
        let mut back = Sse::open(
            &addr,
            &format!("/notifications?session_id={sid}"),
            &[("Last-Event-ID", "0-1")],
        );
        back.next_event(T).unwrap();
        assert_eq!(back.next_json(T)["id"], 2);
        assert!(
            back.next_event(Duration::from_millis(800)).is_none(),
            "nothing twice"
        );
    }
}

/// A 2025-11-25 GET stream opens with a priming event; a client cut off right after it resumes
/// from its id and misses nothing.
#[test]
fn the_get_stream_opens_with_a_priming_event() {
    let (addr, handle) = serve_with_handle(256);
    let c = Client::new(&addr, "2025-11-25");
    let h = [
        ("Accept", "text/event-stream"),
        ("Mcp-Session-Id", c.sid.as_str()),
        ("MCP-Protocol-Version", c.rev),
    ];
    let mut g = Sse::open(&addr, "/mcp", &h);
    let priming = g.next_raw(T).unwrap();
    assert_eq!(
        (priming.id.as_deref(), priming.data.as_str()),
        (Some("0-0"), "")
    );
    g.disconnect();
    std::thread::sleep(Duration::from_millis(100));
    handle.add_tool(tool(1));
    handle.add_tool(tool(2));
    std::thread::sleep(Duration::from_millis(400));
    let mut h2 = h.to_vec();
    h2.push(("Last-Event-ID", "0-0"));
    let mut back = Sse::open(&addr, "/mcp", &h2);
    let p = back.next_raw(T).unwrap();
    assert_eq!(
        p.id.as_deref(),
        Some("0-0"),
        "the priming names the resume point"
    );
    let ids: Vec<String> = (0..2).map(|_| next(&mut back, c.rev).0).collect();
    assert_eq!(ids, ["0-1", "0-2"]);
    assert!(back.next_event(Duration::from_millis(500)).is_none());
}

/// A client that stops reading has its stream closed when its queue fills (others are never
/// stalled); it resumes from the log and gets every message exactly once, in order.
#[test]
fn a_stuck_client_is_cut_and_resumes_from_the_log() {
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        stream_queue: 8,
        write_timeout: Duration::from_secs(2),
        ..Config::default()
    };
    let server = ServerBuilder::new(config)
        .builtin_tools()
        .bind()
        .expect("bind");
    let addr = server.local_addr().to_string();
    std::thread::spawn(move || server.run());
    let (mut sse, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut sse, &sid);
    // Stop reading; 30 MB of answers fill the socket buffers and then the stream's queue.
    let pad = "p".repeat(150_000);
    for id in 1..=200 {
        seed_post(
            &addr,
            &sid,
            &format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"echo","params":{{"message":"{pad}"}}}}"#
            ),
        );
    }
    wait_for_no_streams(&addr, "the stuck stream was closed");
    drop(sse);
    let mut back = Sse::open(
        &addr,
        &format!("/notifications?session_id={sid}"),
        &[("Last-Event-ID", "0-1")],
    );
    back.next_event(T).unwrap();
    // Workers answer concurrently, so answers are in the order they were produced (their event
    // ids), not in request order: each exactly once, in event order.
    let mut seqs = Vec::new();
    let mut ids: Vec<u64> = Vec::new();
    for _ in 0..200 {
        let ev = back.next_event(T).expect("an event");
        seqs.push(
            ev.id
                .as_deref()
                .unwrap()
                .rsplit_once('-')
                .unwrap()
                .1
                .parse::<u64>()
                .unwrap(),
        );
        ids.push(ev.json()["id"].as_u64().unwrap());
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in event order: {seqs:?}"
    );
    ids.sort_unstable();
    assert_eq!(ids, (1..=200).collect::<Vec<_>>(), "every message once");
    assert!(back.next_event(Duration::from_millis(500)).is_none());
}
