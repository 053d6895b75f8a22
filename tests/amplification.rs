//! Errors never amplify input: whatever a client sends (a 3 MB method, tool name, URI, cursor,
//! id or wrongly typed value, a 10 KB header), the error answering it stays within 2 KiB, keeps
//! its code, quotes a recognisable prefix with a marker, and is a valid message of the revision.

mod common;
use common::schema::{assert_valid, check_http_error, check_message};
use common::*;
use serde_json::{Value, json};

/// No error answer, body or SSE event, may be longer than this.
const MAX_ERROR: usize = 2048;
const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
const REV: &str = "2025-06-18";
const STATELESS: &str = "2026-07-28";

fn big() -> String {
    "m".repeat(3_000_000)
}

fn start() -> Server {
    // Room for 3 MB values, with the JSON around them.
    Server::start(&["--max-body-bytes", "8388608"])
}

/// The error in `text` (a body or an event's data): within bounds, with `code`, quoting a
/// prefix of what was sent and saying how much was cut.
fn small_error(text: &str, code: i64) -> Value {
    assert!(
        text.len() <= MAX_ERROR,
        "{} bytes: {}",
        text.len(),
        &text[..300]
    );
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["error"]["code"], code, "{v}");
    v
}

fn cut_marker(v: &Value) -> &str {
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains(" bytes cut]"), "no marker: {m}");
    m
}

/// A Streamable HTTP session of revision `REV`, initialized.
fn session(addr: &str) -> String {
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":REV,"capabilities":{},"clientInfo":{"name":"amplification","version":"1"}}});
    let r = post_json(addr, "/mcp", &[ACCEPT], &init.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("Mcp-Session-Id").expect("session id").to_string();
    let h = [
        ACCEPT,
        ("Mcp-Session-Id", &sid),
        ("MCP-Protocol-Version", REV),
    ];
    let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(post_json(addr, "/mcp", &h, &note.to_string()).status, 202);
    sid
}

fn call(addr: &str, sid: &str, id: Value, method: &str, params: Value) -> Resp {
    let h = [
        ACCEPT,
        ("Mcp-Session-Id", sid),
        ("MCP-Protocol-Version", REV),
    ];
    let body = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params});
    post_json(addr, "/mcp", &h, &body.to_string())
}

/// A JSON-RPC error answered with 200 in the session: bounded, schema-valid, id echoed.
fn session_error(r: &Resp, code: i64) -> Value {
    assert_eq!(r.status, 200, "{}", &r.body[..r.body.len().min(300)]);
    let v = small_error(&r.body, code);
    check_message(REV, &v, None);
    v
}

#[test]
fn session_errors_quote_a_prefix() {
    let srv = start();
    let a = srv.addr.as_str();
    let sid = session(a);
    let big = big();

    let v = session_error(&call(a, &sid, json!(1), &big, json!({})), -32601);
    assert!(cut_marker(&v).starts_with("Method not found: mmm"), "{v}");
    assert_eq!(v["id"], 1);

    let v = session_error(
        &call(a, &sid, json!(2), "tools/call", json!({"name": big})),
        -32602,
    );
    assert!(cut_marker(&v).starts_with("Unknown tool: mmm"), "{v}");

    // The URI is quoted twice: in the message and in data.uri, each cut.
    let v = session_error(
        &call(a, &sid, json!(3), "resources/read", json!({"uri": big})),
        -32002,
    );
    assert!(cut_marker(&v).starts_with("Resource not found: mmm"), "{v}");
    let uri = v["error"]["data"]["uri"].as_str().expect("data.uri kept");
    assert!(
        uri.starts_with("mmm") && uri.ends_with(" bytes cut]"),
        "{uri}"
    );

    // serde's own message quotes the value: cut in the middle, its end still says what was
    // expected.
    let v = session_error(
        &call(
            a,
            &sid,
            json!(4),
            "tools/call",
            json!({"name": "echo", "arguments": big}),
        ),
        -32602,
    );
    let m = cut_marker(&v);
    assert!(
        m.starts_with("Invalid params: arguments: invalid type: string"),
        "{m}"
    );
    assert!(m.ends_with("expected a map"), "{m}");

    let v = session_error(
        &call(a, &sid, json!(5), "tools/list", json!({"cursor": big})),
        -32602,
    );
    assert!(cut_marker(&v).starts_with("Invalid params: unknown cursor \"mmm"));

    // An id is echoed by every answer, so an over-long one is refused without being echoed.
    let r = call(a, &sid, json!(big), "ping", json!({}));
    assert_eq!(r.status, 400);
    let v = small_error(&r.body, -32600);
    assert!(v.get("id").is_none(), "{v}");
    check_http_error(REV, &v);

    // Normal input: unchanged.
    let v = session_error(&call(a, &sid, json!(6), "nope", json!({})), -32601);
    assert_eq!(v["error"]["message"], "Method not found: nope");
}

#[test]
fn long_headers_are_quoted_in_part() {
    let srv = start();
    let a = srv.addr.as_str();
    let sid = session(a);
    // Within --max-header-bytes (16 KiB), far beyond what an error may carry.
    let long = "v".repeat(10_000);
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"}).to_string();

    let h = [
        ACCEPT,
        ("Mcp-Session-Id", &sid),
        ("MCP-Protocol-Version", &long),
    ];
    let r = post_json(a, "/mcp", &h, &ping);
    assert_eq!(r.status, 400);
    let v = small_error(&r.body, -32600);
    let m = cut_marker(&v);
    assert!(m.contains("MCP-Protocol-Version \"vvv"), "{m}");
    assert!(
        m.ends_with(')'),
        "the list of supported versions survives: {m}"
    );
    check_http_error(REV, &v);

    let h = [
        ACCEPT,
        ("Mcp-Session-Id", &long),
        ("MCP-Protocol-Version", REV),
    ];
    let r = post_json(a, "/mcp", &h, &ping);
    assert_eq!(r.status, 404);
    let v = small_error(&r.body, -32600);
    assert!(cut_marker(&v).starts_with("Session not found: vvv"));
    check_http_error(REV, &v);
}

#[test]
fn seed_stream_errors_quote_a_prefix() {
    let srv = start();
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    let body = json!({"jsonrpc":"2.0","id":7,"method":big()}).to_string();
    seed_post(&srv.addr, &sid, &body);
    let ev = sse.next_event(T).expect("the error on the stream");
    let v = small_error(&ev.data, -32601);
    assert_eq!(v["id"], 7);
    assert!(cut_marker(&v).starts_with("Method not found: mmm"));
}

fn meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

/// A stateless request with the given headers (besides Accept): refused with `status` and
/// `code`, bounded, valid against the 2026-07-28 schema.
fn stateless(a: &str, headers: &[(&str, &str)], body: Value, status: u16, code: i64) -> Value {
    let mut h = vec![ACCEPT];
    h.extend_from_slice(headers);
    let r = post_json(a, "/mcp", &h, &body.to_string());
    assert_eq!(r.status, status, "{}", &r.body[..r.body.len().min(300)]);
    let v = small_error(&r.body, code);
    assert_valid(STATELESS, "JSONRPCErrorResponse", &v);
    v
}

#[test]
fn stateless_errors_quote_a_prefix() {
    let srv = start();
    let a = srv.addr.as_str();
    let big = big();
    let pv = ("MCP-Protocol-Version", STATELESS);

    // 3 MB cannot be mirrored in a header: the missing header is the error, quoting the body.
    let body = json!({"jsonrpc":"2.0","id":1,"method":big,"params":{"_meta":meta(STATELESS)}});
    let v = stateless(a, &[pv], body, 400, -32020);
    assert!(cut_marker(&v).contains("(the body says \"mmm"), "{v}");
    assert_eq!(v["id"], 1);

    let body = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":big,"_meta":meta(STATELESS)}});
    stateless(a, &[pv, ("Mcp-Method", "tools/call")], body, 400, -32020);

    // A method that fits in a header, mirrored exactly: unknown, quoted in part.
    let long = "x".repeat(10_000);
    let body = json!({"jsonrpc":"2.0","id":3,"method":long,"params":{"_meta":meta(STATELESS)}});
    let v = stateless(a, &[pv, ("Mcp-Method", &long)], body, 404, -32601);
    assert!(cut_marker(&v).starts_with("Method not found: xxx"), "{v}");

    // Mcp-Name disagreeing with the body.
    let body = json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","_meta":meta(STATELESS)}});
    let h = [pv, ("Mcp-Method", "tools/call"), ("Mcp-Name", &long)];
    let v = stateless(a, &h, body, 400, -32020);
    assert!(
        cut_marker(&v).ends_with("does not match the body's \"echo\""),
        "{v}"
    );

    // An unsupported version, header and body agreeing: data.requested is cut too.
    let body = json!({"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"_meta":meta(&long)}});
    let h = [
        ("MCP-Protocol-Version", long.as_str()),
        ("Mcp-Method", "tools/list"),
    ];
    let v = stateless(a, &h, body, 400, -32022);
    assert_valid(STATELESS, "UnsupportedProtocolVersionError", &v);
    let requested = v["error"]["data"]["requested"].as_str().unwrap();
    assert!(requested.ends_with(" bytes cut]"), "{requested}");
    assert_eq!(v["error"]["data"]["supported"][0], STATELESS);

    // A wrongly typed _meta value: serde's message, cut.
    let wrong = json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": big,
    });
    let body = json!({"jsonrpc":"2.0","id":6,"method":"tools/list","params":{"_meta":wrong}});
    let v = stateless(a, &[pv, ("Mcp-Method", "tools/list")], body, 400, -32602);
    cut_marker(&v);
}
