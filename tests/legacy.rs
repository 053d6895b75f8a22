//! The MCP 2024-11-05 HTTP+SSE transport (/sse + /messages) against the real binary; every message
//! on the stream is validated against the schema of the negotiated revision.

mod common;
use common::schema::{check_http_error, check_message};
use common::*;
use serde_json::json;
use std::time::Duration;

fn open(addr: &str) -> (Sse, String) {
    let mut sse = Sse::open(addr, "/sse", &[("Accept", "text/event-stream")]);
    assert_eq!(sse.status, 200);
    assert_eq!(sse.header("Content-Type"), Some("text/event-stream"));
    let ev = sse.next_event(T).expect("endpoint event first");
    assert_eq!(ev.event.as_deref(), Some("endpoint"));
    assert!(ev.data.starts_with("/messages?session_id="), "{}", ev.data);
    (sse, ev.data)
}

#[test]
fn endpoint_event_then_answers_as_message_events() {
    let srv = Server::start(&[]);
    let (mut sse, endpoint) = open(&srv.addr);
    let post = |body: &str| {
        let r = post_json(&srv.addr, &endpoint, &[], body);
        assert_eq!(r.status, 202, "{}", r.body);
    };
    post(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"old","version":"0.9"}}}"#,
    );
    let ev = sse.next_event(T).unwrap();
    assert_eq!(ev.event.as_deref(), Some("message"));
    let v = ev.json();
    check_message("2024-11-05", &v, Some("initialize"));
    assert_eq!(v["result"]["protocolVersion"], "2024-11-05");
    post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    for (i, (method, params)) in [
        ("tools/list", json!({})),
        (
            "tools/call",
            json!({"name":"echo","arguments":{"message":"hi"}}),
        ),
        (
            "tools/call",
            json!({"name":"sleep","arguments":{"seconds":0.2}}),
        ),
        ("tools/call", json!({"name":"nope"})),
        ("ping", json!({})),
        ("nope/nope", json!({})),
    ]
    .into_iter()
    .enumerate()
    {
        post(&json!({"jsonrpc":"2.0","id":i + 10,"method":method,"params":params}).to_string());
        let v = sse.next_event(T).unwrap().json();
        assert_eq!(v["id"], i + 10);
        check_message("2024-11-05", &v, Some(method));
    }
    // The TypeScript SDK's spelling of the query parameter works too.
    let alt = endpoint.replace("session_id=", "sessionId=");
    assert_eq!(
        post_json(
            &srv.addr,
            &alt,
            &[],
            r#"{"jsonrpc":"2.0","id":99,"method":"ping"}"#
        )
        .status,
        202
    );
    assert_eq!(sse.next_json(T)["id"], 99);
}

#[test]
fn rejections() {
    let srv = Server::start(&["--max-body-bytes", "2000"]);
    let (_sse, endpoint) = open(&srv.addr);
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let r = request(
        &srv.addr,
        "POST",
        "/sse",
        &[("Content-Type", "application/json")],
        ping,
    );
    assert_eq!(r.status, 405, "the probe of a dual-transport client");
    assert_eq!(r.header("Allow"), Some("GET, OPTIONS"));
    assert_eq!(request(&srv.addr, "GET", "/messages", &[], "").status, 405);
    let r = post_json(&srv.addr, "/messages", &[], ping);
    assert_eq!(r.status, 400);
    check_http_error("2024-11-05", &r.json());
    let r = post_json(&srv.addr, "/messages?session_id=gone", &[], ping);
    assert_eq!(r.status, 404);
    check_http_error("2024-11-05", &r.json());
    let r = post_json(&srv.addr, &endpoint, &[], "{nope");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32700);
    let r = post_json(&srv.addr, &endpoint, &[], &format!("[{ping}]"));
    assert_eq!(r.status, 400);
    let r = request(
        &srv.addr,
        "POST",
        &endpoint,
        &[("Content-Type", "text/plain")],
        ping,
    );
    // A browser sends a text/plain POST cross-origin without a preflight: refused.
    assert_eq!(r.status, 415);
    let r = post_json(&srv.addr, &endpoint, &[], &"x".repeat(5000));
    assert_eq!(r.status, 413);
    assert_eq!(
        request(
            &srv.addr,
            "GET",
            "/sse",
            &[("Accept", "application/json")],
            ""
        )
        .status,
        406
    );
}

#[test]
fn the_session_dies_with_its_stream() {
    let srv = Server::start(&["--keepalive-secs", "1"]);
    let (sse, endpoint) = open(&srv.addr);
    assert_eq!(
        post_json(
            &srv.addr,
            &endpoint,
            &[],
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        )
        .status,
        202
    );
    sse.disconnect();
    std::thread::sleep(Duration::from_millis(2500));
    let r = post_json(
        &srv.addr,
        &endpoint,
        &[],
        r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
    );
    assert_eq!(r.status, 404);
}

#[test]
fn progress_then_the_result_on_the_session_stream() {
    let srv = Server::start(&["--progress-interval-ms", "300"]);
    let (mut sse, endpoint) = open(&srv.addr);
    let post = |body: &str| assert_eq!(post_json(&srv.addr, &endpoint, &[], body).status, 202);
    post(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
    );
    assert_eq!(sse.next_json(T)["id"], 1);
    post(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"sleep","arguments":{"seconds":1},"_meta":{"progressToken":"lp"}}}"#,
    );
    let mut progress = Vec::new();
    let result = loop {
        let v = sse.next_json(T);
        check_message("2024-11-05", &v, None);
        if v.get("id").is_some() {
            break v;
        }
        assert_eq!(v["params"]["progressToken"], "lp");
        assert!(
            v["params"].get("message").is_none(),
            "no progress message before 2025-03-26"
        );
        progress.push(v["params"]["progress"].as_f64().unwrap());
    };
    assert_eq!(result["id"], 2);
    assert!(progress.len() >= 3, "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
}
