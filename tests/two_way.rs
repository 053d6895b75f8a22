//! Long-running and two-way work: progress from parked calls, cancellation, and requests from a
//! tool to the client (elicitation, sampling, roots) answered by a scripted client. Every message
//! is validated against the schema of the session's revision.

mod common;
use common::schema::check_message;
use common::*;
use fastmcp_server::{ClientRequestError, Config, Elicitation, ServerBuilder, Tool, ToolResult};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
const REV: &str = "2025-06-18";

/// A Streamable HTTP session that declared `capabilities`.
struct Session {
    addr: String,
    sid: String,
}

impl Session {
    fn new(addr: &str, capabilities: Value) -> Session {
        let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":REV,"capabilities":capabilities,"clientInfo":{"name":"two-way","version":"1"}}});
        let r = post_json(addr, "/mcp", &[ACCEPT], &body.to_string());
        assert_eq!(r.status, 200, "{}", r.body);
        let s = Session {
            addr: addr.to_string(),
            sid: r.header("Mcp-Session-Id").unwrap().to_string(),
        };
        assert_eq!(
            s.post(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
                .status,
            202
        );
        s
    }

    fn headers(&self) -> [(&str, &str); 3] {
        [
            ACCEPT,
            ("Mcp-Session-Id", &self.sid),
            ("MCP-Protocol-Version", REV),
        ]
    }

    fn post(&self, body: &Value) -> Resp {
        post_json(&self.addr, "/mcp", &self.headers(), &body.to_string())
    }

    /// POSTs a request and returns its answer as an open SSE stream.
    fn stream(&self, body: &Value) -> Sse {
        let mut h = self.headers().to_vec();
        h.push(("Content-Type", "application/json"));
        let s = Sse::open_with(&self.addr, "POST", "/mcp", &h, &body.to_string());
        assert_eq!(s.status, 200);
        assert_eq!(s.header("Content-Type"), Some("text/event-stream"));
        s
    }

    fn metric(&self, name: &str) -> u64 {
        request(&self.addr, "GET", "/metrics", &[], "")
            .body
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("metric {name}"))
    }
}

fn next(s: &mut Sse) -> Value {
    let v = s.next_json(T);
    check_message(REV, &v, None);
    v
}

fn local(f: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config {
        host: "127.0.0.1".into(),
        port: 0,
        progress_interval: Duration::from_millis(400),
        ..Config::default()
    };
    f(&mut c);
    c
}

fn serve(b: ServerBuilder) -> String {
    let server = b.bind().expect("bind");
    let addr = server.local_addr().to_string();
    std::thread::spawn(move || server.run());
    addr
}

/// An elicitation answer as the client sent it: `{"action": ..., "content"?: ...}`.
fn answer_json(answer: Elicitation<serde_json::Map<String, Value>>) -> Value {
    match answer {
        Elicitation::Accept(content) => json!({"action": "accept", "content": content}),
        Elicitation::Decline => json!({"action": "decline"}),
        Elicitation::Cancel => json!({"action": "cancel"}),
    }
}

fn asking_server(config: Config) -> String {
    let describe = |r: Result<Value, ClientRequestError>| match r {
        Ok(v) => ToolResult::text(format!("ok {v}")),
        Err(e) => ToolResult::error(format!("err {e}")),
    };
    serve(
        ServerBuilder::new(config)
            .builtin_tools()
            // These run on a worker and block it while they wait: the client's answers must still
            // get through with a single worker.
            .tool(Tool::new("elicit", "Elicits a name", json!({"type":"object"}), move |_, r| {
                let schema = json!({"type":"object","properties":{"name":{"type":"string"}}});
                let out = describe(r.context().elicit_with_schema("Your name?", schema).map(answer_json));
                r.finish(out)
            }))
            .tool(Tool::new("sample", "Samples", json!({"type":"object"}), move |_, r| {
                let out = describe(r.context().sample(json!({"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":5})));
                r.finish(out)
            }))
            .tool(Tool::new("elicit_url", "Sends the user to a URL", json!({"type":"object"}), move |_, r| {
                let out = describe(r.context().elicit_url("Sign in", "https://example.com/login", "e-1"));
                r.finish(out)
            }))
            .tool(Tool::new("roots", "Lists roots", json!({"type":"object"}), move |_, r| {
                let out = describe(r.context().list_roots());
                r.finish(out)
            })),
    )
}

fn call(id: u64, tool: &str, meta: Option<Value>) -> Value {
    let mut params = json!({"name": tool, "arguments": {}});
    if let Some(m) = meta {
        params["_meta"] = m;
    }
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":params})
}

#[test]
fn parked_calls_report_progress_in_order_then_the_result() {
    let addr = serve(ServerBuilder::new(local(|_| {})).builtin_tools());
    let s = Session::new(&addr, json!({}));
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sleep","arguments":{"seconds":2},"_meta":{"progressToken":"p-1"}}});
    let start = Instant::now();
    let mut sse = s.stream(&body);
    let mut progress = Vec::new();
    let result = loop {
        let v = next(&mut sse);
        if v.get("id").is_some() {
            break v;
        }
        assert_eq!(v["method"], "notifications/progress");
        assert_eq!(v["params"]["progressToken"], "p-1");
        assert_eq!(v["params"]["total"], 2.0);
        progress.push(v["params"]["progress"].as_f64().unwrap());
    };
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(
        result["result"]["content"][0]["text"],
        "Slept for 2 seconds"
    );
    assert!(
        progress.len() >= 4,
        "0 and about every 400 ms: {progress:?}"
    );
    assert!(
        progress.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing: {progress:?}"
    );
    assert!(sse.ended(T), "the stream ends after the result");

    // The seed transport: progress then the result on the session stream.
    let (mut stream, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut stream, &sid);
    seed_post(&addr, &sid, &json!({"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"sleep","arguments":{"seconds":1},"_meta":{"progressToken":7}}}).to_string());
    let mut n = 0;
    loop {
        let v = stream.next_json(T);
        check_message("2025-03-26", &v, None);
        if v.get("id").is_some() {
            assert_eq!(v["id"], "s");
            break;
        }
        assert_eq!(v["params"]["progressToken"], 7);
        n += 1;
    }
    assert!(n >= 2, "{n}");
}

#[test]
fn cancelled_calls_leave_the_timer_and_send_no_result() {
    // The real binary: its metrics are its own (in-process servers share the process's).
    let srv = Server::start(&[]);
    let addr = srv.addr.clone();
    let s = Session::new(&addr, json!({}));
    // The periodic duties (keepalives, expiry) are the baseline; a just-started server's timer
    // may not have counted them yet.
    let baseline = (0..40)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(25));
            Some(s.metric("fastmcp_timer_tasks")).filter(|&n| n > 0)
        })
        .expect("the timer's periodic duties");
    // An SSE answer: the stream ends without a result.
    let mut long_sleep = call(1, "sleep", Some(json!({"progressToken": "c"})));
    long_sleep["params"]["arguments"] = json!({"seconds": 10});
    let mut sse = s.stream(&long_sleep);
    assert_eq!(next(&mut sse)["method"], "notifications/progress");
    assert!(
        (0..40).any(|_| {
            std::thread::sleep(Duration::from_millis(25));
            s.metric("fastmcp_timer_tasks") > baseline
        }),
        "parked on the timer"
    );
    std::thread::sleep(Duration::from_millis(600));
    let start = Instant::now();
    let r = s.post(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1,"reason":"test"}}));
    assert_eq!(r.status, 202);
    while let Some(ev) = sse.next_event(T) {
        let v = ev.json();
        assert!(v.get("id").is_none(), "no result after the cancel: {v}");
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "ended at once: {:?}",
        start.elapsed()
    );
    assert!(
        (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            s.metric("fastmcp_timer_tasks") <= baseline
        }),
        "the parked call left the timer: {} tasks, baseline {baseline}",
        s.metric("fastmcp_timer_tasks")
    );
    assert_eq!(s.metric("fastmcp_requests_cancelled_total"), 1);
    // A JSON answer cannot stay silent: -32800.
    let (addr2, sid2) = (s.addr.clone(), s.sid.clone());
    let waiter = std::thread::spawn(move || {
        let body = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"sleep","arguments":{"seconds":10}}});
        post_json(
            &addr2,
            "/mcp",
            &[
                ACCEPT,
                ("Mcp-Session-Id", &sid2),
                ("MCP-Protocol-Version", REV),
            ],
            &body.to_string(),
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    s.post(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}));
    let r = waiter.join().unwrap();
    assert_eq!(r.json()["error"]["code"], -32800, "{}", r.body);
    // Unknown and finished requests are ignored.
    assert_eq!(
        s.post(
            &json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}})
        )
        .status,
        202
    );
    assert_eq!(s.metric("fastmcp_requests_cancelled_total"), 2);

    // The seed transport: nothing at all is sent for a cancelled call.
    let (mut stream, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut stream, &sid);
    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":5,"method":"sleep","params":{"seconds":1}}"#,
    );
    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}"#,
    );
    std::thread::sleep(Duration::from_millis(1500));
    seed_post(&addr, &sid, r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#);
    assert_eq!(
        stream.next_json(T)["id"],
        6,
        "the cancelled sleep never answered"
    );
}

/// Answers the first request of ours on `sse` with `answer(id)`; returns the request.
fn answer(s: &Session, sse: &mut Sse, answer: impl Fn(&Value) -> Value) -> Value {
    let req = next(sse);
    assert!(
        req.get("method").is_some() && req.get("id").is_some(),
        "a request: {req}"
    );
    let r = s.post(&answer(&req["id"]));
    assert_eq!(r.status, 202, "{}", r.body);
    req
}

#[test]
fn tools_ask_the_client_and_get_its_answers() {
    let addr = asking_server(local(|c| {
        c.workers = 1;
        c.client_request_timeout = Duration::from_secs(1);
    }));
    let caps = json!({"elicitation": {}, "sampling": {}, "roots": {"listChanged": true}});
    let s = Session::new(&addr, caps);

    // Accepted: the answer reaches the tool, which returns it.
    let mut sse = s.stream(&call(1, "elicit", None));
    let req = answer(
        &s,
        &mut sse,
        |id| json!({"jsonrpc":"2.0","id":id,"result":{"action":"accept","content":{"name":"Ada"}}}),
    );
    assert_eq!(req["method"], "elicitation/create");
    assert_eq!(req["params"]["message"], "Your name?");
    let done = next(&mut sse);
    assert_eq!(done["id"], 1);
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("\"Ada\""),
        "{done}"
    );
    // The same answer again is ignored (and nothing breaks).
    assert_eq!(
        s.post(&json!({"jsonrpc":"2.0","id":req["id"],"result":{"action":"accept"}}))
            .status,
        202
    );

    // Declined.
    let mut sse = s.stream(&call(2, "elicit", None));
    answer(
        &s,
        &mut sse,
        |id| json!({"jsonrpc":"2.0","id":id,"result":{"action":"decline"}}),
    );
    assert!(
        next(&mut sse)["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("decline")
    );

    // An error answer reaches the tool as an error value.
    let mut sse = s.stream(&call(3, "sample", None));
    let req = answer(
        &s,
        &mut sse,
        |id| json!({"jsonrpc":"2.0","id":id,"error":{"code":-1,"message":"user rejected"}}),
    );
    assert_eq!(req["method"], "sampling/createMessage");
    let done = next(&mut sse);
    assert_eq!(done["result"]["isError"], true);
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("user rejected")
    );

    // Roots.
    let mut sse = s.stream(&call(4, "roots", None));
    let req = answer(
        &s,
        &mut sse,
        |id| json!({"jsonrpc":"2.0","id":id,"result":{"roots":[{"uri":"file:///src"}]}}),
    );
    assert_eq!(req["method"], "roots/list");
    assert!(
        next(&mut sse)["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("file:///src")
    );

    // Never answered: the tool gets a timeout, and a late answer is ignored.
    let mut sse = s.stream(&call(5, "elicit", None));
    let req = next(&mut sse);
    let done = next(&mut sse);
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{done}"
    );
    assert_eq!(
        s.post(&json!({"jsonrpc":"2.0","id":req["id"],"result":{"action":"accept"}}))
            .status,
        202
    );

    // The single worker is free again: the server still answers.
    let r = s.post(&json!({"jsonrpc":"2.0","id":9,"method":"ping"}));
    assert_eq!(r.json()["result"], json!({}));
}

#[test]
fn asking_needs_the_capability() {
    let addr = asking_server(local(|_| {}));
    let s = Session::new(&addr, json!({}));
    let r = s.post(&call(1, "sample", None));
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json"),
        "no reason to stream"
    );
    let v = r.json();
    check_message(REV, &v, Some("tools/call"));
    assert_eq!(v["result"]["isError"], true);
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("does not support sampling"),
        "{v}"
    );
}

#[test]
fn cancelling_a_call_that_waits_for_the_client_wakes_it() {
    let addr = asking_server(local(|_| {}));
    let s = Session::new(&addr, json!({"elicitation": {}}));
    let mut sse = s.stream(&call(1, "elicit", None));
    let req = next(&mut sse);
    assert_eq!(req["method"], "elicitation/create");
    let start = Instant::now();
    s.post(&json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}));
    assert!(sse.ended(T), "the stream ends without a result");
    assert!(start.elapsed() < Duration::from_secs(5));
    // The stream ends as the cancellation is delivered; the request is forgotten just after.
    let forgotten = (0..40).any(|_| {
        s.metric("fastmcp_requests_running") == 0 || {
            std::thread::sleep(Duration::from_millis(50));
            false
        }
    });
    assert!(forgotten, "the woken call ended its request");
}

#[test]
fn url_mode_elicitation_needs_2025_11_25_and_the_url_capability() {
    let addr = asking_server(local(|_| {}));
    let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"form":{},"url":{}}},"clientInfo":{"name":"url","version":"1"}}});
    let r = post_json(&addr, "/mcp", &[ACCEPT], &body.to_string());
    let sid = r.header("Mcp-Session-Id").unwrap().to_string();
    let h = [
        ACCEPT,
        ("Mcp-Session-Id", sid.as_str()),
        ("MCP-Protocol-Version", "2025-11-25"),
        ("Content-Type", "application/json"),
    ];
    let mut sse = Sse::open_with(
        &addr,
        "POST",
        "/mcp",
        &h,
        &call(1, "elicit_url", None).to_string(),
    );
    let req = loop {
        let v = sse.next_json(T);
        if v.get("method").is_some() {
            break v;
        }
    };
    check_message("2025-11-25", &req, None);
    assert_eq!(req["method"], "elicitation/create");
    assert_eq!(
        (
            req["params"]["mode"].as_str(),
            req["params"]["url"].as_str()
        ),
        (Some("url"), Some("https://example.com/login"))
    );
    let answer = json!({"jsonrpc":"2.0","id":req["id"],"result":{"action":"accept"}});
    assert_eq!(
        post_json(&addr, "/mcp", &h[..3], &answer.to_string()).status,
        202
    );
    let done = sse.next_json(T);
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("accept"),
        "{done}"
    );

    // A form-only client (or an older revision) gets an error the tool can handle.
    let s = Session::new(&addr, json!({"elicitation": {}}));
    let mut sse = s.stream(&call(2, "elicit_url", None));
    let v = next(&mut sse);
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("elicitation.url"),
        "{v}"
    );
}

/// The seed transport answers 202 before a request runs; a client that cancels as soon as it has
/// the 202 must still find its request running (it is registered before the 202 is written), so
/// none of these calls ever answers. With the request registered after the 202, a cancellation
/// that overtook it was ignored and the answer arrived anyway: a race that busy workers widen, so
/// the calls go out while other clients keep the workers and the CPU busy.
#[test]
fn a_cancel_sent_right_after_the_202_always_finds_its_request() {
    let srv = Server::start(&["--workers", "2"]);
    let (mut stream, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut stream, &sid);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..6)
        .map(|_| {
            let (addr, stop) = (srv.addr.clone(), stop.clone());
            std::thread::spawn(move || {
                let s = Session::new(&addr, json!({}));
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    s.post(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}));
                }
            })
        })
        .collect();
    for id in 100..200 {
        seed_post(
            &srv.addr,
            &sid,
            &format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"sleep","params":{{"seconds":0.3}}}}"#
            ),
        );
        seed_post(
            &srv.addr,
            &sid,
            &format!(
                r#"{{"jsonrpc":"2.0","method":"notifications/cancelled","params":{{"requestId":{id}}}}}"#
            ),
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in load {
        let _ = t.join();
    }
    std::thread::sleep(Duration::from_millis(600));
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(
        stream.next_json(T)["id"],
        1,
        "a cancelled call answered after its cancellation"
    );
}
