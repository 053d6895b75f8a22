//! Revision 2026-07-28 on `/mcp`: stateless requests beside the session revisions. Every message
//! the server sends here is validated against `tests/schema/2026-07-28.json`.

mod common;
use common::schema::assert_valid;
use common::*;
use fastmcp_server::{
    Config, Content, Elicitation, InputRequest, Prompt, PromptMessage, Resource, ServerBuilder,
    ServerHandle, Tool, ToolResult,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const REV: &str = "2026-07-28";

struct Fixture {
    addr: String,
    handle: ServerHandle,
    cancelled: Arc<AtomicBool>,
}

fn start(config: Config) -> Fixture {
    let cancelled = Arc::new(AtomicBool::new(false));
    let seen = cancelled.clone();
    let server = ServerBuilder::new(config)
        .builtin_tools()
        .tool(Tool::new(
            "interview",
            "Asks a name, then a model, then answers",
            json!({"type": "object", "properties": {"topic": {"type": "string"}}}),
            |_, responder| {
                std::thread::spawn(move || {
                    let ctx = responder.context().clone();
                    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
                    let name = match ctx.elicit_with_schema("Your name?", schema) {
                        Ok(Elicitation::Accept(c)) => {
                            c.get("name").and_then(Value::as_str).unwrap_or("").to_string()
                        }
                        Ok(Elicitation::Decline | Elicitation::Cancel) => String::new(),
                        Err(e) => return responder.finish(ToolResult::error(e.to_string())),
                    };
                    let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5});
                    match ctx.sample(params) {
                        Ok(r) => responder.finish(ToolResult::text(format!(
                            "{name}: {}",
                            r["content"]["text"].as_str().unwrap_or("")
                        ))),
                        Err(e) => responder.finish(ToolResult::error(e.to_string())),
                    }
                });
            },
        ))
        .tool(Tool::new(
            "roots_and_name",
            "Asks two things at once",
            json!({"type": "object"}),
            |_, responder| {
                let ctx = responder.context().clone();
                let q = [
                    ("who", InputRequest::elicitation("Who?", json!({"type": "object", "properties": {}}))),
                    ("where", InputRequest::roots()),
                ];
                let r = match ctx.ask_client(&q) {
                    Ok(a) => ToolResult::text(format!("{} roots", a["where"]["roots"].as_array().map_or(0, Vec::len))),
                    Err(e) => ToolResult::error(e.to_string()),
                };
                responder.finish(r)
            },
        ))
        .tool(Tool::new(
            "chatty",
            "Logs, then answers",
            json!({"type": "object"}),
            |_, responder| {
                let ctx = responder.context().clone();
                ctx.log(fastmcp_server::LogLevel::Info, "working");
                ctx.log(fastmcp_server::LogLevel::Debug, "details");
                responder.finish(ToolResult::text("done"))
            },
        ))
        .tool(Tool::new(
            "patient",
            "Waits until cancelled",
            json!({"type": "object"}),
            move |_, responder| {
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let ctx = responder.context().clone();
                    ctx.progress(0.0, Some(1.0), Some("waiting"));
                    if ctx.wait_cancelled(Duration::from_secs(10)) {
                        seen.store(true, Ordering::SeqCst);
                    }
                    responder.finish(ToolResult::text("woke"))
                });
            },
        ))
        .tool(Tool::sync(
            "regional",
            "Mirrors region into Mcp-Param-Region",
            json!({"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "zone": {"type": "integer", "x-mcp-header": "Zone"}}}),
            |args| Ok(ToolResult::text(format!("{}", args.get("region").cloned().unwrap_or_default()))),
        ))
        .resource(Resource::text("memo://a", "a", "text/plain", "A"))
        .prompt(Prompt::new("greet", "Greets", |_, _| {
            Ok(vec![PromptMessage::user(Content::text("hello"))])
        }))
        .instructions("Stateless test server")
        .bind()
        .expect("bind");
    let addr = server.local_addr().to_string();
    let handle = server.handle();
    std::thread::spawn(move || server.run());
    Fixture {
        addr,
        handle,
        cancelled,
    }
}

fn local() -> Config {
    Config {
        host: "127.0.0.1".into(),
        port: 0,
        ..Config::default()
    }
}

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "stateless-test", "version": "1"}
    })
}

fn body(id: Value, method: &str, mut params: Value) -> String {
    if params.get("_meta").is_none() {
        params["_meta"] = meta(json!({}));
    }
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

/// The headers a 2026 client sends for `body`.
fn headers_for(body: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(body).unwrap();
    let method = v["method"].as_str().unwrap_or_default().to_string();
    let mut h = vec![
        (
            "Accept".to_string(),
            "application/json, text/event-stream".to_string(),
        ),
        ("MCP-Protocol-Version".to_string(), REV.to_string()),
        ("Mcp-Method".to_string(), method.clone()),
    ];
    let name = match method.as_str() {
        "tools/call" | "prompts/get" => v["params"]["name"].as_str(),
        "resources/read" => v["params"]["uri"].as_str(),
        _ => None,
    };
    if let Some(n) = name {
        h.push(("Mcp-Name".to_string(), n.to_string()));
    }
    h
}

fn send(addr: &str, body: &str, extra: &[(&str, &str)], drop: &[&str]) -> Resp {
    let mut h = headers_for(body);
    h.retain(|(k, _)| !drop.iter().any(|d| d.eq_ignore_ascii_case(k)));
    h.retain(|(k, _)| !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)));
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    let r = post_json(addr, "/mcp", &all, body);
    // Every JSON answer, accepted or refused, is a valid message of the revision.
    if r.header("Content-Type") == Some("application/json") && !r.body.is_empty() {
        assert_valid(REV, "JSONRPCMessage", &r.json());
    }
    r
}

/// A stateless call answered as JSON; the message is checked against the schema, and its result
/// against `def` when given.
fn call(addr: &str, id: u64, method: &str, params: Value, def: Option<&str>) -> Value {
    let b = body(json!(id), method, params);
    let r = send(addr, &b, &[], &[]);
    assert!(
        r.header("Mcp-Session-Id").is_none(),
        "no session ids in 2026-07-28"
    );
    let v = r.json();
    assert_valid(REV, "JSONRPCMessage", &v);
    assert_eq!(v["id"], id, "{v}");
    if let (Some(def), Some(result)) = (def, v.get("result")) {
        assert_valid(REV, def, result);
        assert_eq!(r.status, 200);
    }
    v
}

/// A rejected request: its status, its error code, the id echoed, the body schema-valid.
fn rejected(r: &Resp, status: u16, code: i64) -> Value {
    let v = r.json();
    assert_eq!(
        (r.status, v["error"]["code"].as_i64()),
        (status, Some(code)),
        "{v}"
    );
    assert_valid(REV, "JSONRPCErrorResponse", &v);
    v
}

#[test]
fn discovery_and_results_carry_type_server_info_and_caching() {
    let f = start(local());
    let d = call(
        &f.addr,
        1,
        "server/discover",
        json!({}),
        Some("DiscoverResult"),
    );
    let r = &d["result"];
    assert_eq!(r["resultType"], "complete");
    assert_eq!(
        r["supportedVersions"],
        json!([
            "2026-07-28",
            "2025-11-25",
            "2025-06-18",
            "2025-03-26",
            "2024-11-05"
        ])
    );
    assert_eq!(r["instructions"], "Stateless test server");
    assert_eq!(
        r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "fastmcp-server"
    );
    assert!(r["capabilities"]["tools"].is_object() && r["capabilities"]["prompts"].is_object());
    assert_eq!(
        (r["ttlMs"].as_u64(), r["cacheScope"].as_str()),
        (Some(60_000), Some("public"))
    );

    for (method, def) in [
        ("tools/list", "ListToolsResult"),
        ("prompts/list", "ListPromptsResult"),
        ("resources/list", "ListResourcesResult"),
        ("resources/templates/list", "ListResourceTemplatesResult"),
    ] {
        let v = call(&f.addr, 2, method, json!({}), Some(def));
        let r = &v["result"];
        assert_eq!(r["resultType"], "complete", "{method}");
        assert!(
            r["ttlMs"].as_u64().is_some() && r["cacheScope"] == "public",
            "{method}: {r}"
        );
        assert!(r["_meta"]["io.modelcontextprotocol/serverInfo"].is_object());
    }
    let read = call(
        &f.addr,
        3,
        "resources/read",
        json!({"uri": "memo://a"}),
        Some("ReadResourceResult"),
    );
    assert_eq!(read["result"]["contents"][0]["text"], "A");
    assert_eq!(read["result"]["ttlMs"], 0);
    let prompt = call(
        &f.addr,
        4,
        "prompts/get",
        json!({"name": "greet"}),
        Some("GetPromptResult"),
    );
    assert_eq!(prompt["result"]["resultType"], "complete");
    let add = call(
        &f.addr,
        5,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
        Some("CallToolResult"),
    );
    assert_eq!(add["result"]["content"][0]["text"], "5");
    assert!(
        add["result"].get("ttlMs").is_none(),
        "tool results are not cacheable"
    );
    let c = call(
        &f.addr,
        6,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "x", "value": ""}}),
        Some("CompleteResult"),
    );
    assert_eq!(c["result"]["resultType"], "complete");

    // A missing resource is -32602 with data.uri (2026 retired -32002), never empty contents.
    let miss = call(
        &f.addr,
        7,
        "resources/read",
        json!({"uri": "memo://nope"}),
        None,
    );
    assert_eq!(miss["error"]["code"], -32602);
    assert_eq!(miss["error"]["data"]["uri"], "memo://nope");
}

#[test]
fn the_validation_ladder() {
    let f = start(local());
    let a = &f.addr;
    let list = body(json!(1), "tools/list", json!({}));

    // _meta missing or partial: -32602 / 400; clientInfo is optional.
    let no_meta =
        json!({"jsonrpc": "2.0", "id": "m", "method": "tools/list", "params": {}}).to_string();
    let v = rejected(&send(a, &no_meta, &[], &[]), 400, -32602);
    assert_eq!(v["id"], "m");
    let partial = body(
        json!(2),
        "tools/list",
        json!({"_meta": {"io.modelcontextprotocol/protocolVersion": REV}}),
    );
    rejected(&send(a, &partial, &[], &[]), 400, -32602);
    let anon = body(
        json!(3),
        "tools/list",
        json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": {}}}),
    );
    assert_eq!(send(a, &anon, &[], &[]).status, 200);

    // The version header: required, and equal to _meta.
    rejected(&send(a, &list, &[], &["MCP-Protocol-Version"]), 400, -32020);
    let v999 = body(
        json!(4),
        "tools/list",
        json!({"_meta": {
        "io.modelcontextprotocol/protocolVersion": "v999.0.0",
        "io.modelcontextprotocol/clientCapabilities": {}}}),
    );
    rejected(&send(a, &v999, &[], &[]), 400, -32020);

    // Unsupported version (header and body agree): -32022 naming what we serve.
    let v = rejected(
        &send(a, &v999, &[("MCP-Protocol-Version", "v999.0.0")], &[]),
        400,
        -32022,
    );
    assert_valid(REV, "UnsupportedProtocolVersionError", &v);
    assert_eq!(v["error"]["data"]["requested"], "v999.0.0");
    assert_eq!(v["error"]["data"]["supported"][0], REV);

    // Mcp-Method: required, value exact (names case-insensitive), whitespace trimmed.
    rejected(&send(a, &list, &[], &["Mcp-Method"]), 400, -32020);
    rejected(
        &send(a, &list, &[("Mcp-Method", "TOOLS/LIST")], &[]),
        400,
        -32020,
    );
    assert_eq!(
        send(a, &list, &[("mcp-method", "  tools/list ")], &[]).status,
        200
    );
    rejected(
        &send(
            a,
            &list,
            &[("Mcp-Method", "tools/list"), ("MCP-METHOD", "tools/list")],
            &[],
        ),
        400,
        -32020,
    );

    // Mcp-Name mirrors the tool name; base64 values are decoded, invalid base64 refused.
    let add = body(
        json!(5),
        "tools/call",
        json!({"name": "add", "arguments": {"a": 1, "b": 1}}),
    );
    rejected(&send(a, &add, &[], &["Mcp-Name"]), 400, -32020);
    let v = rejected(&send(a, &add, &[("Mcp-Name", "echo")], &[]), 400, -32020);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("Mcp-Name"),
        "{v}"
    );
    assert_eq!(
        send(a, &add, &[("Mcp-Name", "=?base64?YWRk?=")], &[]).status,
        200
    );
    rejected(
        &send(a, &add, &[("Mcp-Name", "=?base64?YWR?=")], &[]),
        400,
        -32020,
    );

    // x-mcp-header arguments: the header must carry the body's value; integers numerically.
    let regional = body(
        json!(6),
        "tools/call",
        json!({"name": "regional", "arguments": {"region": "eu", "zone": 7}}),
    );
    rejected(&send(a, &regional, &[], &[]), 400, -32020);
    let ok = send(
        a,
        &regional,
        &[("Mcp-Param-Region", "eu"), ("Mcp-Param-Zone", "007")],
        &[],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    rejected(
        &send(
            a,
            &regional,
            &[("Mcp-Param-Region", "us"), ("Mcp-Param-Zone", "7")],
            &[],
        ),
        400,
        -32020,
    );
    let no_region = body(
        json!(7),
        "tools/call",
        json!({"name": "regional", "arguments": {}}),
    );
    assert_eq!(send(a, &no_region, &[], &[]).status, 200);

    // Methods the revision removed, and unknown ones: 404 + -32601.
    for m in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "unknown/method",
    ] {
        let b = body(json!(8), m, json!({"uri": "memo://a", "level": "info"}));
        let v = rejected(&send(a, &b, &[], &[]), 404, -32601);
        assert_eq!(v["id"], 8, "{m}");
    }

    // Clients post no responses; notifications are accepted and ignored.
    let resp = json!({"jsonrpc": "2.0", "id": 9, "result": {}}).to_string();
    let r = send(a, &resp, &[("Mcp-Method", "x")], &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    let note = json!({"jsonrpc": "2.0", "method": "notifications/whatever", "params": {"_meta": meta(json!({}))}}).to_string();
    assert_eq!(send(a, &note, &[], &[]).status, 202);

    // The revision is POST only: a sessionless GET or DELETE naming it is 405, Allow: POST.
    for m in ["GET", "DELETE"] {
        let r = request(
            a,
            m,
            "/mcp",
            &[
                ("Accept", "text/event-stream"),
                ("MCP-Protocol-Version", REV),
            ],
            "",
        );
        assert_eq!((r.status, r.header("Allow")), (405, Some("POST")), "{m}");
    }
    // A session header on a 2026 request is ignored.
    let with_sid = send(a, &list, &[("Mcp-Session-Id", "not-a-session")], &[]);
    assert_eq!(with_sid.status, 200, "{}", with_sid.body);
}

#[test]
fn session_revisions_are_untouched_on_the_same_endpoint() {
    let f = start(local());
    // initialize asking for 2026-07-28 gets the newest handshake revision.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": REV, "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}});
    let r = post_json(
        &f.addr,
        "/mcp",
        &[("Accept", "application/json, text/event-stream")],
        &init.to_string(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"]["protocolVersion"], "2025-11-25");
    let sid = r.header("Mcp-Session-Id").expect("a session").to_string();
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}).to_string();
    let r = post_json(
        &f.addr,
        "/mcp",
        &[
            ("Accept", "application/json, text/event-stream"),
            ("Mcp-Session-Id", &sid),
            ("MCP-Protocol-Version", "2025-11-25"),
        ],
        &ping,
    );
    assert_eq!((r.status, r.json()["result"].clone()), (200, json!({})));
    // Without a session and without 2026 metadata: the session era's 400.
    let r = post_json(&f.addr, "/mcp", &[("Accept", "application/json")], &ping);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], -32600);
}

#[test]
fn seed_and_legacy_refuse_stateless_requests() {
    let f = start(local());
    let (_sse, sid) = seed_session(&f.addr);
    let b = body(json!(1), "tools/list", json!({}));
    let r = post_json(&f.addr, &format!("/mcp?session_id={sid}"), &[], &b);
    let v = r.json();
    assert_eq!(
        (r.status, v["error"]["code"].as_i64()),
        (400, Some(-32022)),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("POST /mcp")
    );

    let mut legacy = Sse::open(&f.addr, "/sse", &[("Accept", "text/event-stream")]);
    let endpoint = legacy.next_event(T).expect("endpoint event").data;
    let r = post_json(&f.addr, &endpoint, &[], &b);
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_i64()),
        (400, Some(-32022))
    );
}

fn retry(params: &Value, state: &Value, responses: Value) -> Value {
    let mut p = params.clone();
    p["requestState"] = state.clone();
    p["inputResponses"] = responses;
    p
}

#[test]
fn tools_ask_through_input_required_results() {
    let f = start(local());
    let caps = json!({"elicitation": {}, "sampling": {}, "roots": {}});
    let params =
        json!({"name": "interview", "arguments": {"topic": "t"}, "_meta": meta(caps.clone())});

    // Round 1: the first question, and a signed state.
    let v = call(
        &f.addr,
        1,
        "tools/call",
        params.clone(),
        Some("InputRequiredResult"),
    );
    let r = &v["result"];
    assert_eq!(r["resultType"], "input_required", "{v}");
    assert_eq!(
        r["inputRequests"]["elicitation-1"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        r["inputRequests"]["elicitation-1"]["params"]["message"],
        "Your name?"
    );
    assert!(r.get("ttlMs").is_none());
    let name = json!({"elicitation-1": {"action": "accept", "content": {"name": "Ada"}}});

    // Round 2 (a new id): the handler runs again; the first answer is known, the second asked.
    let v = call(
        &f.addr,
        2,
        "tools/call",
        retry(&params, &r["requestState"], name),
        Some("InputRequiredResult"),
    );
    let r = &v["result"];
    assert_eq!(
        r["inputRequests"]["sampling-2"]["method"], "sampling/createMessage",
        "{v}"
    );
    let reply = json!({"sampling-2": {"role": "assistant", "content": {"type": "text", "text": "hello"}, "model": "m"}});

    // Round 3: complete, with extra keys ignored.
    let mut answers = reply.clone();
    answers["unrelated"] = json!({"action": "decline"});
    let v = call(
        &f.addr,
        3,
        "tools/call",
        retry(&params, &r["requestState"], answers),
        Some("CallToolResult"),
    );
    assert_eq!(v["result"]["resultType"], "complete");
    assert_eq!(v["result"]["content"][0]["text"], "Ada: hello");

    // A changed state, or one moved to other arguments, is refused.
    let state = r["requestState"].as_str().unwrap();
    let mut bytes = state.as_bytes().to_vec();
    let i = bytes.len() - 3;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let forged = Value::String(String::from_utf8(bytes).unwrap());
    let v = call(
        &f.addr,
        4,
        "tools/call",
        retry(&params, &forged, reply.clone()),
        None,
    );
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let mut moved = retry(&params, &r["requestState"], reply);
    moved["arguments"]["topic"] = json!("other");
    let v = call(&f.addr, 5, "tools/call", moved, None);
    assert_eq!(v["error"]["code"], -32602, "{v}");

    // A malformed answer is asked for again, not passed to the tool.
    let bad = json!({"elicitation-1": {"nope": true}});
    let mut p = params.clone();
    p["inputResponses"] = bad;
    let v = call(&f.addr, 6, "tools/call", p, Some("InputRequiredResult"));
    assert!(
        v["result"]["inputRequests"]["elicitation-1"].is_object(),
        "{v}"
    );

    // Several questions go out in one round.
    let p = json!({"name": "roots_and_name", "arguments": {}, "_meta": meta(caps)});
    let v = call(&f.addr, 7, "tools/call", p, Some("InputRequiredResult"));
    let keys: Vec<&String> = v["result"]["inputRequests"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["where", "who"]);
}

#[test]
fn asking_without_the_capability_is_minus_32021() {
    let f = start(local());
    let params =
        json!({"name": "interview", "arguments": {}, "_meta": meta(json!({"sampling": {}}))});
    let b = body(json!(1), "tools/call", params);
    let r = send(&f.addr, &b, &[], &[]);
    let v = rejected(&r, 400, -32021);
    assert_valid(REV, "MissingRequiredClientCapabilityError", &v);
    assert_eq!(
        v["error"]["data"]["requiredCapabilities"],
        json!({"elicitation": {}})
    );
}

fn stream(addr: &str, body: &str) -> Sse {
    let h = headers_for(body);
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.push(("Content-Type", "application/json"));
    Sse::open_with(addr, "POST", "/mcp", &all, body)
}

#[test]
fn progress_and_logs_stream_only_when_asked_for() {
    let f = start(local());
    let mut m = meta(json!({}));
    m["progressToken"] = json!("p1");
    let b = body(
        json!(1),
        "tools/call",
        json!({"name": "sleep", "arguments": {"seconds": 0.3}, "_meta": m}),
    );
    let mut s = stream(&f.addr, &b);
    assert_eq!(s.status, 200);
    assert_eq!(s.header("Content-Type"), Some("text/event-stream"));
    let first = s.next_event(T).expect("progress");
    assert!(
        first.id.is_none(),
        "no event ids: the revision has no resumption"
    );
    let first = first.json();
    assert_valid(REV, "JSONRPCMessage", &first);
    assert_eq!(first["method"], "notifications/progress");
    loop {
        let v = s.next_json(T);
        assert_valid(REV, "JSONRPCMessage", &v);
        assert!(
            v.get("method").is_none() || v.get("id").is_none(),
            "never a request: {v}"
        );
        if v.get("id").is_some() {
            assert_valid(REV, "CallToolResult", &v["result"]);
            break;
        }
    }
    assert!(s.ended(T), "the answer ends the stream");

    // logLevel opts in: info and above, not debug.
    let mut m = meta(json!({}));
    m["io.modelcontextprotocol/logLevel"] = json!("info");
    let b = body(
        json!(2),
        "tools/call",
        json!({"name": "chatty", "arguments": {}, "_meta": m}),
    );
    let mut s = stream(&f.addr, &b);
    let log = s.next_json(T);
    assert_valid(REV, "LoggingMessageNotification", &log);
    assert_eq!(log["params"]["data"], "working");
    assert_eq!(s.next_json(T)["result"]["content"][0]["text"], "done");

    // Without it: a plain JSON answer, no log messages.
    let v = call(
        &f.addr,
        3,
        "tools/call",
        json!({"name": "chatty", "arguments": {}}),
        Some("CallToolResult"),
    );
    assert_eq!(v["result"]["content"][0]["text"], "done");
}

#[test]
fn closing_the_stream_cancels_the_request() {
    let f = start(local());
    let mut m = meta(json!({}));
    m["progressToken"] = json!(7);
    let b = body(
        json!(1),
        "tools/call",
        json!({"name": "patient", "arguments": {}, "_meta": m}),
    );
    let mut s = stream(&f.addr, &b);
    assert_eq!(s.next_json(T)["method"], "notifications/progress");
    s.disconnect();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !f.cancelled.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        f.cancelled.load(Ordering::SeqCst),
        "the tool saw its cancellation"
    );
}

#[test]
fn listen_streams_get_the_changes_they_asked_for() {
    let f = start(local());
    let b = body(
        json!("sub-1"),
        "subscriptions/listen",
        json!({
        "notifications": {"toolsListChanged": true, "resourceSubscriptions": ["memo://a"]}}),
    );
    let mut s = stream(&f.addr, &b);
    assert_eq!(s.status, 200);
    let ack = s.next_json(T);
    assert_valid(REV, "SubscriptionsAcknowledgedNotification", &ack);
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "sub-1"
    );
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true, "resourceSubscriptions": ["memo://a"]})
    );

    // A prompt change was not asked for; the tool change and the resource update were.
    f.handle.remove_prompt("greet");
    f.handle
        .add_tool(Tool::sync("new", "New", json!({"type": "object"}), |_| {
            Ok(ToolResult::text("x"))
        }));
    f.handle.resource_updated("memo://other");
    f.handle.resource_updated("memo://a");
    let changed = s.next_json(T);
    assert_valid(REV, "ToolListChangedNotification", &changed);
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "sub-1"
    );
    let updated = s.next_json(T);
    assert_valid(REV, "ResourceUpdatedNotification", &updated);
    assert_eq!(updated["params"]["uri"], "memo://a");

    // A malformed filter is -32602; a listen request must accept a stream.
    let bad = body(
        json!(2),
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": "yes"}}),
    );
    rejected(&send(&f.addr, &bad, &[], &[]), 400, -32602);
    let r = post_json(
        &f.addr,
        "/mcp",
        &[
            ("Accept", "application/json"),
            ("MCP-Protocol-Version", REV),
            ("Mcp-Method", "subscriptions/listen"),
        ],
        &b,
    );
    assert_eq!(r.status, 406);
}
