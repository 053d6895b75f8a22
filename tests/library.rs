//! The library API, used as a library user would: custom tools beside the built-ins.

mod common;
use common::*;
use fastmcp_server::{Config, ServerBuilder, Tool, ToolResult};
use serde_json::json;
use std::time::Duration;

/// Binds `builder` on a free port, serves it on a thread, and opens an initialized seed session.
fn serve(builder: ServerBuilder) -> (String, Sse, String) {
    let server = builder.bind().expect("bind");
    let addr = server.local_addr().to_string();
    std::thread::spawn(move || server.run());
    let (mut sse, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut sse, &sid);
    (addr, sse, sid)
}

fn start() -> String {
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        ..Config::default()
    };
    let server = ServerBuilder::new(config)
        .builtin_tools()
        .tool(Tool::sync(
            "shout",
            "Upper-cases text",
            json!({"type":"object","properties":{"text":{"type":"string"}}}),
            |args| {
                Ok(ToolResult::value(json!(
                    args.get("text")
                        .and_then(|t| t.as_str())
                        .unwrap_or("")
                        .to_uppercase()
                )))
            },
        ))
        .tool(Tool::sync(
            "explode",
            "Always panics",
            json!({"type":"object"}),
            |_| panic!("boom"),
        ))
        .tool(Tool::new(
            "later",
            "Answers from another thread",
            json!({"type":"object"}),
            |_, responder| {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    responder.finish(ToolResult::value(json!("from a thread")));
                });
            },
        ))
        .tool(Tool::new(
            "forgetful",
            "Drops its responder",
            json!({"type":"object"}),
            |_, responder| drop(responder),
        ))
        .instructions("Test server")
        .bind()
        .expect("bind");
    let addr = server.local_addr().to_string();
    std::thread::spawn(move || server.run());
    addr
}

#[test]
fn custom_tools_and_failures() {
    let addr = start();
    let (mut sse, sid) = seed_session(&addr);
    let init = seed_initialize(&addr, &mut sse, &sid);
    assert_eq!(init["result"]["instructions"], "Test server");

    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    );
    let names: Vec<String> = sse.next_json(T)["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "echo",
            "add",
            "sleep",
            "shout",
            "explode",
            "later",
            "forgetful"
        ]
    );

    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"shout","arguments":{"text":"hi"}}}"#,
    );
    assert_eq!(sse.next_json(T)["result"]["content"][0]["text"], "HI");

    // A panic inside a handler is an internal error for that call; the server keeps serving.
    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"explode"}}"#,
    );
    let v = sse.next_json(T);
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].clone()),
        (json!(3), json!(-32603))
    );

    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"later"}}"#,
    );
    assert_eq!(
        sse.next_json(T)["result"]["content"][0]["text"],
        "from a thread"
    );

    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"forgetful"}}"#,
    );
    assert_eq!(sse.next_json(T)["error"]["code"], -32603);

    seed_post(&addr, &sid, r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#);
    assert_eq!(sse.next_json(T)["id"], 6);
}

/// With every worker busy and the queue full, a request is refused at once with 503 and
/// Retry-After; the accept loop never blocks.
#[test]
fn full_worker_queue_answers_503() {
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        workers: 1,
        queue: 1,
        ..Config::default()
    };
    let builder = ServerBuilder::new(config).tool(Tool::sync(
        "block",
        "Holds its worker until released",
        json!({"type":"object"}),
        move |_| {
            let _ = release_rx.recv_timeout(Duration::from_secs(10));
            Ok(ToolResult::value(json!("released")))
        },
    ));
    let (addr, mut sse, sid) = serve(builder);
    // The only worker is now held by `block`.
    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"block"}}"#,
    );
    std::thread::sleep(Duration::from_millis(200));
    // One request fits in the queue; hold it open on its own thread.
    let queued = {
        let (addr, sid) = (addr.clone(), sid.clone());
        std::thread::spawn(move || {
            post_json(
                &addr,
                &format!("/mcp?session_id={sid}"),
                &[],
                r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            )
            .status
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let start = std::time::Instant::now();
    let r = post_json(
        &addr,
        &format!("/mcp?session_id={sid}"),
        &[],
        r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.header("Retry-After").is_some());
    assert!(start.elapsed() < Duration::from_secs(2), "refused at once");
    release_tx.send(()).unwrap();
    assert_eq!(
        queued.join().unwrap(),
        202,
        "the queued request is served once a worker is free"
    );
    assert_eq!(sse.next_json(T)["result"]["content"][0]["text"], "released");
}

/// A body that arrives more slowly than --body-timeout-secs gets 408, and it is read on its
/// connection's thread, so the workers stay free meanwhile.
#[test]
fn slow_request_body_gets_408_without_holding_a_worker() {
    use std::io::{BufRead, BufReader, Write};
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        workers: 1,
        body_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let (addr, mut sse, sid) = serve(ServerBuilder::new(config).builtin_tools());
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(slow, "POST /mcp?session_id={sid} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n").unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..8 {
            if slow.write_all(b" ").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let mut line = String::new();
        let _ = BufReader::new(&slow).read_line(&mut line);
        line
    });
    // Meanwhile the single worker serves others.
    std::thread::sleep(Duration::from_millis(300));
    seed_post(&addr, &sid, r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#);
    assert_eq!(sse.next_json(T)["id"], 9);
    let status_line = trickle.join().unwrap();
    assert!(status_line.contains(" 408 "), "{status_line:?}");
}
