//! The library API, used as a library user would: custom tools beside the built-ins.

mod common;
use common::*;
use fastmcp_server::{Config, ServerBuilder, Tool, ToolResult};
use serde_json::json;
use std::time::Duration;

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
                ToolResult::value(json!(
                    args.get("text")
                        .and_then(|t| t.as_str())
                        .unwrap_or("")
                        .to_uppercase()
                ))
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
