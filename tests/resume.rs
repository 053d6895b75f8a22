//! Resumable POST streams: event ids, priming events (2025-11-25), `GET` + `Last-Event-ID`
//! replaying exactly the events after that id of that stream, evicted ids, and the server ending
//! a stream early (SSE polling). Every message is validated against its revision's schema.

mod common;
use common::schema::check_message;
use common::*;
use fastmcp_server::{Config, ServerBuilder, Tool, ToolResult};
use serde_json::{Value, json};
use std::time::Duration;

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

fn serve(replay_events: usize) -> String {
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
    std::thread::spawn(move || server.run());
    addr
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
