//! The seed transport end to end against the real binary.

mod common;
use common::schema::{check_http_error, check_message};
use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[test]
fn stream_head_and_greeting_arrive_before_anything_else() {
    let srv = Server::start(&[]);
    let mut sse = Sse::open(&srv.addr, "/notifications", &[]);
    assert_eq!(sse.status, 200);
    assert_eq!(sse.header("Content-Type"), Some("text/event-stream"));
    assert!(sse.header("Cache-Control").unwrap().contains("no-cache"));
    assert_eq!(sse.header("X-Accel-Buffering"), Some("no"));
    let sid = sse.header("Mcp-Session-Id").unwrap().to_string();
    // Nothing else has been produced yet: reading the greeting proves it was flushed on its own.
    let ev = sse.next_event(T).expect("greeting flushed immediately");
    assert_eq!(ev.data, format!("Connected to session {sid}"));
    assert!(uuid_like(&sid), "{sid}");
    // Event 2 only exists after we ask for it.
    seed_initialize(&srv.addr, &mut sse, &sid);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[test]
fn seed_walkthrough() {
    let srv = Server::start(&[]);
    let (mut sse, sid) = seed_session(&srv.addr);
    // The seed's snake_case initialize.
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocol_version":"2024-11-05","client_info":{"name":"curl","version":"1"}}}"#,
    );
    let init = sse.next_json(T);
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    check_message("2024-11-05", &init, Some("initialize"));
    assert_eq!(init["result"]["serverInfo"]["name"], "fastmcp-server");
    assert!(init["result"]["capabilities"]["tools"].is_object());

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"echo","params":{"message":"Hello World!"}}"#,
    );
    assert_eq!(
        sse.next_json(T),
        json!({"jsonrpc":"2.0","id":2,"result":"Hello World!"})
    );

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":3,"method":"add","params":{"a":42,"b":27}}"#,
    );
    let v = sse.next_json(T);
    assert_eq!(v["result"], json!(69));
    assert!(v["result"].is_i64(), "integers stay integers");

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":4,"method":"add","params":{"a":1.5,"b":2}}"#,
    );
    assert_eq!(sse.next_json(T)["result"], json!(3.5));

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#,
    );
    let tools = sse.next_json(T);
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["echo", "add", "sleep"]);
    check_message("2024-11-05", &tools, Some("tools/list"));
    for t in tools["result"]["tools"].as_array().unwrap() {
        assert!(t["description"].is_string());
        assert_eq!(t["inputSchema"]["type"], "object");
    }
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":6,"method":"list_tools"}"#,
    );
    assert_eq!(sse.next_json(T)["result"], tools["result"]);

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#,
    );
    let v = sse.next_json(T);
    check_message("2024-11-05", &v, Some("tools/call"));
    assert_eq!(
        v["result"],
        json!({"content":[{"type":"text","text":"hi"}]})
    );

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add","arguments":{"a":"x","b":1}}}"#,
    );
    let v = sse.next_json(T);
    check_message("2024-11-05", &v, Some("tools/call"));
    assert_eq!(
        v["result"]["isError"], true,
        "bad arguments are a tool error: {v}"
    );
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("\"a\"")
    );

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"nope"}}"#,
    );
    let v = sse.next_json(T);
    check_message("2024-11-05", &v, Some("tools/call"));
    assert_eq!(v["error"]["code"], -32602);
    assert!(v["error"]["message"].as_str().unwrap().contains("nope"));

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#,
    );
    let v = sse.next_json(T);
    check_message("2024-11-05", &v, Some("ping"));
    assert_eq!(v, json!({"jsonrpc":"2.0","id":"p","result":{}}));

    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":10,"method":"sleep","params":{"seconds":0.2}}"#,
    );
    let v = sse.next_json(T);
    assert_eq!(v["id"], 10);
    assert!(v["result"].is_string());

    // Notifications get 202 and nothing on the stream.
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":11,"method":"ping"}"#,
    );
    assert_eq!(
        sse.next_json(T)["id"],
        11,
        "the notification produced no event"
    );
}

#[test]
fn post_answer_carries_status_and_session_header() {
    let srv = Server::start(&[]);
    let (_sse, sid) = seed_session(&srv.addr);
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[("Mcp-Session-Id", &sid)],
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(r.status, 202);
    assert_eq!(r.json(), json!({"status":"accepted"}));
    assert_eq!(r.header("Mcp-Session-Id"), Some(sid.as_str()));
}

#[test]
fn requests_before_initialize_are_refused_except_ping() {
    let srv = Server::start(&[]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    );
    let v = sse.next_json(T);
    assert_eq!(v["error"]["code"], -32600);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize")
    );
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
    );
    assert_eq!(sse.next_json(T)["result"], json!({}));
}

#[test]
fn version_negotiation() {
    let srv = Server::start(&[]);
    for (asked, got) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let (mut sse, sid) = seed_session(&srv.addr);
        seed_post(
            &srv.addr,
            &sid,
            &format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"{asked}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
            ),
        );
        assert_eq!(sse.next_json(T)["result"]["protocolVersion"], got);
    }
}

#[test]
fn error_codes() {
    let srv = Server::start(&[]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    let path = format!("/mcp?session_id={sid}");

    // Not JSON: HTTP 400 with -32700 and no id.
    let r = post_json(&srv.addr, &path, &[], "{nope");
    assert_eq!(r.status, 400);
    let v = r.json();
    check_http_error("2025-03-26", &v);
    assert_eq!(v["error"]["code"], -32700);
    assert!(
        v.get("id").is_none(),
        "never an id (or null id) when unknown: {v}"
    );

    // Valid JSON, invalid request: -32600, id echoed when readable, never null.
    for (body, id) in [
        (r#"{"id":5,"method":"ping"}"#, Some(json!(5))),
        (r#"{"jsonrpc":"2.0","id":"a","method":7}"#, Some(json!("a"))),
        (r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, None),
        (r#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#, None),
        (r#"[1,2]"#, None),
        (r#"42"#, None),
    ] {
        let r = post_json(&srv.addr, &path, &[], body);
        assert_eq!(r.status, 400, "{body}");
        let v = r.json();
        check_http_error("2025-03-26", &v);
        assert_eq!(v["error"]["code"], -32600, "{body}: {v}");
        assert_eq!(v.get("id").cloned(), id, "{body}");
    }

    // Method not found and bad params travel on the stream.
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"no/such"}"#,
    );
    let v = sse.next_json(T);
    check_message("2025-03-26", &v, None);
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].clone()),
        (json!(1), json!(-32601))
    );
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"echo","params":{"message":5}}"#,
    );
    assert_eq!(sse.next_json(T)["error"]["code"], -32602);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":[1]}}"#,
    );
    assert_eq!(sse.next_json(T)["error"]["code"], -32602);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":4,"method":"sleep","params":{"seconds":-1}}"#,
    );
    assert_eq!(sse.next_json(T)["error"]["code"], -32602);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"sleep","arguments":{"seconds":1e9}}}"#,
    );
    assert_eq!(sse.next_json(T)["result"]["isError"], true);

    // Session errors: 400 without an id, 404 for an unknown one; JSON bodies that say why.
    let r = post_json(
        &srv.addr,
        "/mcp",
        &[],
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("session")
    );
    let r = post_json(
        &srv.addr,
        "/mcp?session_id=nope",
        &[],
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(r.status, 404);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope")
    );
    let r = request(&srv.addr, "GET", "/notifications?session_id=nope", &[], "");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_object());
    let r = request(&srv.addr, "GET", "/nowhere", &[], "");
    assert_eq!(r.status, 404);
    let r = request(&srv.addr, "PUT", "/notifications", &[], "");
    assert_eq!(r.status, 405);
    assert!(r.header("Allow").unwrap().contains("GET"));
}

#[test]
fn ids_are_echoed_with_their_type() {
    let srv = Server::start(&[]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    for id in [r#""7""#, "7", r#""""#, "-3", "18446744073709551615"] {
        seed_post(
            &srv.addr,
            &sid,
            &format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#),
        );
        let ev = sse.next_event(T).unwrap();
        assert!(
            ev.data.contains(&format!(r#""id":{id}"#)),
            "{id} -> {}",
            ev.data
        );
    }
}

#[test]
fn two_sleeps_do_not_queue_behind_one_worker() {
    let srv = Server::start(&["--workers", "1"]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    let start = Instant::now();
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":"a","method":"sleep","params":{"seconds":2}}"#,
    );
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"sleep","arguments":{"seconds":2}}}"#,
    );
    // While both sleep, the single worker is still free to answer.
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":"c","method":"ping"}"#,
    );
    assert_eq!(sse.next_json(T)["id"], "c");
    let mut ids = vec![
        sse.next_json(T)["id"].clone(),
        sse.next_json(T)["id"].clone(),
    ];
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(ids, vec![json!("a"), json!("b")]);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(3500),
        "{took:?}"
    );
}

#[test]
fn three_hundred_parked_sleeps_with_two_workers() {
    let srv = Server::start(&["--workers", "2"]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    let addr = srv.addr.clone();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let addr = addr.clone();
            let sid = sid.clone();
            std::thread::spawn(move || {
                for i in 0..75 {
                    let id = t * 75 + i;
                    seed_post(&addr, &sid, &format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"sleep","params":{{"seconds":1}}}}"#));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 300 {
        let v = sse.next_json(Duration::from_secs(10));
        assert!(v["result"].is_string(), "{v}");
        seen.insert(v["id"].as_i64().unwrap());
    }
    assert_eq!(seen.len(), 300);
    assert_eq!((*seen.first().unwrap(), *seen.last().unwrap()), (0, 299));
}

#[test]
fn answer_produced_while_disconnected_arrives_after_reconnect() {
    let srv = Server::start(&[]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":"late","method":"sleep","params":{"seconds":1}}"#,
    );
    sse.disconnect();
    std::thread::sleep(Duration::from_millis(1800));
    let mut again = Sse::open(&srv.addr, &format!("/notifications?session_id={sid}"), &[]);
    assert_eq!(again.status, 200);
    assert_eq!(
        again.next_event(T).unwrap().data,
        format!("Connected to session {sid}")
    );
    let v = again.next_json(T);
    assert_eq!(v["id"], "late", "{v}");
}

#[test]
fn answer_produced_with_no_stream_at_all_waits_in_outbox() {
    let srv = Server::start(&[]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    sse.disconnect();
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..5 {
        seed_post(
            &srv.addr,
            &sid,
            &format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping"}}"#),
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut again = Sse::open(&srv.addr, &format!("/notifications?session_id={sid}"), &[]);
    again.next_event(T).unwrap();
    // The pings run concurrently on the workers, so their answers have no defined order: each
    // must wait in the outbox and arrive exactly once.
    let got: Vec<Value> = (0..5).map(|_| again.next_json(T)["id"].clone()).collect();
    let mut ids: Vec<i64> = got.iter().filter_map(Value::as_i64).collect();
    ids.sort();
    assert_eq!(ids, [0, 1, 2, 3, 4], "each once, none lost: {got:?}");
    assert!(
        again.next_event(Duration::from_millis(300)).is_none(),
        "nothing twice"
    );
}

#[test]
fn every_stream_of_a_session_gets_every_message() {
    let srv = Server::start(&[]);
    let (mut a, sid) = seed_session(&srv.addr);
    let mut b = Sse::open(&srv.addr, &format!("/notifications?session_id={sid}"), &[]);
    b.next_event(T).unwrap();
    seed_initialize(&srv.addr, &mut a, &sid);
    assert_eq!(b.next_json(T)["id"], 0);
    seed_post(
        &srv.addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(a.next_json(T)["id"], 1);
    assert_eq!(b.next_json(T)["id"], 1);
}

#[test]
fn keepalive_comments() {
    let srv = Server::start(&["--keepalive-secs", "1"]);
    let (mut sse, _sid) = seed_session(&srv.addr);
    // The stream's `id:` + `retry:` event (no data) comes first.
    let mut ev = sse
        .next_raw(Duration::from_secs(3))
        .expect("a keepalive within 3 s");
    if ev.comments.is_empty() {
        assert!(ev.data.is_empty() && ev.id.is_some(), "{ev:?}");
        ev = sse
            .next_raw(Duration::from_secs(3))
            .expect("a keepalive within 3 s");
    }
    assert!(ev.comments.iter().any(|c| c == "keepalive"), "{ev:?}");
}

#[test]
fn idle_sessions_expire_but_open_streams_keep_them() {
    let srv = Server::start(&["--session-ttl-secs", "1", "--keepalive-secs", "1"]);
    let (mut kept, kept_id) = seed_session(&srv.addr);
    let (gone, gone_id) = seed_session(&srv.addr);
    gone.disconnect();
    // Found dead at the next keepalive (+ probe), then idle for the TTL.
    std::thread::sleep(Duration::from_millis(3500));
    let r = post_json(
        &srv.addr,
        &format!("/mcp?session_id={gone_id}"),
        &[],
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(r.status, 404, "expired");
    seed_post(
        &srv.addr,
        &kept_id,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(kept.next_json(T)["id"], 1);
}

#[test]
fn oversized_bodies_get_413_without_being_read() {
    let srv = Server::start(&["--max-body-bytes", "1000"]);
    let (_sse, sid) = seed_session(&srv.addr);
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"echo","params":{{"message":"{}"}}}}"#,
        "x".repeat(2000)
    );
    let r = post_json(&srv.addr, &format!("/mcp?session_id={sid}"), &[], &big);
    assert_eq!(r.status, 413);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1000")
    );

    // A 100 MB declared body: the answer comes at once, before any of it is sent.
    use std::io::{BufRead, BufReader, Write};
    let start = Instant::now();
    let mut s = std::net::TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "POST /mcp?session_id={sid} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n").unwrap();
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line).unwrap();
    assert!(line.contains(" 413 "), "{line}");
    assert!(start.elapsed() < Duration::from_secs(2));

    // Absurd declared lengths must not bring the server down.
    let mut s = std::net::TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "POST /mcp?session_id={sid} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 99999999999999999\r\n\r\n").unwrap();
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line).unwrap();
    assert!(line.contains(" 413 "), "{line}");
    drop(s);
    let r = request(&srv.addr, "GET", "/nowhere", &[], "");
    assert_eq!(r.status, 404, "still serving");
}

#[test]
fn a_client_that_stops_reading_does_not_delay_others() {
    let srv = Server::start(&["--stream-queue", "8", "--write-timeout-secs", "2"]);
    // Client A opens a stream and never reads it.
    let (stuck, stuck_id) = seed_session(&srv.addr);
    let big = "y".repeat(60_000);
    for i in 0..200 {
        let r = post_json(
            &srv.addr,
            &format!("/mcp?session_id={stuck_id}"),
            &[],
            &format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping","params":{{"pad":"{big}"}}}}"#),
        );
        assert_eq!(r.status, 202);
    }
    // Client B is served promptly throughout.
    let (mut b, bid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut b, &bid);
    let start = Instant::now();
    for i in 0..20 {
        seed_post(
            &srv.addr,
            &bid,
            &format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"echo","params":{{"message":"m{i}"}}}}"#
            ),
        );
        assert_eq!(b.next_json(T)["result"], format!("m{i}"));
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    drop(stuck);
}

#[test]
fn cors_preflight_and_headers() {
    let srv = Server::start(&["--cors-origin", "http://app.example"]);
    let r = request(
        &srv.addr,
        "OPTIONS",
        "/mcp",
        &[
            ("Origin", "http://app.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("Access-Control-Allow-Origin"),
        Some("http://app.example")
    );
    assert!(
        r.header("Access-Control-Allow-Headers")
            .unwrap()
            .contains("Mcp-Session-Id")
    );
    let mut sse = Sse::open(
        &srv.addr,
        "/notifications",
        &[("Origin", "http://app.example")],
    );
    assert_eq!(
        sse.header("Access-Control-Expose-Headers"),
        Some("Mcp-Session-Id")
    );
    sse.next_event(T).unwrap();
    let r = request(
        &srv.addr,
        "GET",
        "/nowhere",
        &[("Origin", "http://other.example")],
        "",
    );
    assert_eq!(r.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn session_cap_gives_503() {
    let srv = Server::start(&["--max-sessions", "2"]);
    let _a = seed_session(&srv.addr);
    let _b = seed_session(&srv.addr);
    let r = request(&srv.addr, "GET", "/notifications", &[], "");
    assert_eq!(r.status, 503);
    assert!(r.header("Retry-After").is_some());
}

#[test]
fn cli_rejects_bad_flags_with_exit_2() {
    for args in [&["--bogus"][..], &["--port", "x"], &["--workers", "0"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fastmcp-server"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fastmcp-server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--max-body-bytes"));
}
