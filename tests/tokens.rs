//! Scoped bearer tokens (`Config::tokens`, `[[auth.token]]`): each token sees and calls only the
//! tools its globs match, on every transport; the static token sees all; sessions are bound to
//! the token that opened them; grants replaced at run time apply to the next request. Served
//! in-process through the library (the binary does not read a config file yet).

mod common;
use common::*;
use fastmcp_server::{AccessHandle, Config, ServerBuilder, TokenGrant, Tool, ToolResult};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const STATIC: &str = "static-token";
const CI: &str = "ci-token";
const OPS: &str = "ops-token";

fn hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn grant(name: &str, token: &str, tools: &[&str]) -> TokenGrant {
    let tools = tools.iter().map(|t| t.to_string()).collect();
    TokenGrant::new(name, &hex(token), tools).expect("a valid grant")
}

/// A tool that answers with the name of the token that called it.
fn whoami() -> Tool {
    Tool::new(
        "whoami",
        "Names the caller",
        json!({"type": "object"}),
        |_, responder| {
            let who = responder.context().caller().unwrap_or("nobody").to_string();
            responder.finish(ToolResult::text(who))
        },
    )
}

fn plain(name: &str) -> Tool {
    let answer = format!("{name} ran");
    Tool::sync(name, "A test tool", json!({"type": "object"}), move |_| {
        Ok(ToolResult::text(answer.clone()))
    })
}

/// Seven tools, registered so that each grant's tools are spread among the others (a cursor
/// counting in the unfiltered list would skip or repeat): echo, add, sleep, journal, disk_usage,
/// whoami, disk_free. Two tools a page.
fn start(auth_token: Option<&str>, tokens: Vec<TokenGrant>) -> (String, AccessHandle) {
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        page_size: 2,
        auth_token: auth_token.map(String::from),
        tokens,
        ..Config::default()
    };
    let server = ServerBuilder::new(config)
        .builtin_tools()
        .tool(plain("journal"))
        .tool(plain("disk_usage"))
        .tool(whoami())
        .tool(plain("disk_free"))
        .bind()
        .expect("bind");
    let addr = server.local_addr().to_string();
    let access = server.access();
    std::thread::spawn(move || server.run());
    (addr, access)
}

fn scoped() -> (String, AccessHandle) {
    start(
        Some(STATIC),
        vec![
            grant("ci", CI, &["journal", "disk_*"]),
            grant("ops", OPS, &["echo", "whoami"]),
        ],
    )
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Streamable HTTP: POSTs one message with `token` (and `sid`).
fn post(addr: &str, token: Option<&str>, sid: Option<&str>, body: &Value) -> Resp {
    let auth = token.map(bearer);
    let mut h = vec![("Accept", "application/json, text/event-stream")];
    if let Some(a) = &auth {
        h.push(("Authorization", a));
    }
    if let Some(s) = sid {
        h.push(("Mcp-Session-Id", s));
    }
    post_json(addr, "/mcp", &h, &body.to_string())
}

/// An initialized Streamable HTTP session opened with `token`.
fn session(addr: &str, token: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "tokens-test", "version": "1"}}});
    let r = post(addr, Some(token), None, &init);
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r
        .header("Mcp-Session-Id")
        .expect("a session id")
        .to_string();
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(addr, Some(token), Some(&sid), &done).status, 202);
    sid
}

fn rpc(addr: &str, token: &str, sid: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let r = post(addr, Some(token), Some(sid), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// Every tool name `list` shows, page by page, and the number of pages.
fn all_pages(mut list: impl FnMut(Option<&str>) -> Value) -> (Vec<String>, usize) {
    let (mut names, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let result = list(cursor.as_deref());
        pages += 1;
        let tools = result["tools"].as_array().expect("tools").clone();
        assert!(tools.len() <= 2, "page size 2: {result}");
        names.extend(
            tools
                .iter()
                .map(|t| t["name"].as_str().unwrap_or("").to_string()),
        );
        match result["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (names, pages),
        }
        assert!(pages < 10, "pagination does not end");
    }
}

fn list_session(addr: &str, token: &str, sid: &str) -> (Vec<String>, usize) {
    all_pages(|cursor| {
        let params = cursor.map_or(json!({}), |c| json!({"cursor": c}));
        rpc(addr, token, sid, "tools/list", params)["result"].clone()
    })
}

fn call(addr: &str, token: &str, sid: &str, tool: &str) -> Value {
    rpc(
        addr,
        token,
        sid,
        "tools/call",
        json!({"name": tool, "arguments": {"message": "hi"}}),
    )
}

fn text_of(v: &Value) -> &str {
    v["result"]["content"][0]["text"].as_str().unwrap_or("")
}

/// The error of a call, with the tool's name taken out (to compare a refused tool's error with an
/// unknown one's).
fn error_without(v: &Value, name: &str) -> Value {
    let mut e = v["error"].clone();
    assert!(e.is_object(), "an error: {v}");
    let message = e["message"].as_str().unwrap_or("").replace(name, "NAME");
    e["message"] = json!(message);
    e
}

#[test]
fn each_token_lists_and_calls_only_its_tools() {
    let (addr, _) = scoped();
    let ci = session(&addr, CI);
    let (names, pages) = list_session(&addr, CI, &ci);
    assert_eq!(names, ["journal", "disk_usage", "disk_free"]);
    assert_eq!(pages, 2);
    let ops = session(&addr, OPS);
    assert_eq!(
        list_session(&addr, OPS, &ops),
        (vec!["echo".into(), "whoami".into()], 1)
    );
    let all = session(&addr, STATIC);
    let (names, pages) = list_session(&addr, STATIC, &all);
    let every = [
        "echo",
        "add",
        "sleep",
        "journal",
        "disk_usage",
        "whoami",
        "disk_free",
    ];
    assert_eq!((names, pages), (every.map(String::from).to_vec(), 4));

    assert_eq!(text_of(&call(&addr, CI, &ci, "disk_free")), "disk_free ran");
    assert_eq!(text_of(&call(&addr, OPS, &ops, "echo")), "hi");
    assert_eq!(text_of(&call(&addr, OPS, &ops, "whoami")), "ops");
    assert_eq!(
        text_of(&call(&addr, STATIC, &all, "whoami")),
        "auth-token-file"
    );
    assert_eq!(
        text_of(&call(&addr, STATIC, &all, "journal")),
        "journal ran"
    );

    // Outside the grant is exactly an unknown tool.
    let unknown = error_without(&call(&addr, CI, &ci, "no_such_tool"), "no_such_tool");
    assert_eq!(unknown["code"], -32602, "{unknown}");
    for (token, sid, tool) in [
        (CI, &ci, "echo"),
        (CI, &ci, "whoami"),
        (OPS, &ops, "journal"),
    ] {
        let refused = call(&addr, token, sid, tool);
        assert_eq!(error_without(&refused, tool), unknown, "{tool}: {refused}");
    }
}

#[test]
fn a_missing_or_wrong_token_is_401() {
    let (addr, _) = scoped();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    for token in [None, Some("wrong"), Some(""), Some("ci-token ")] {
        let r = post(&addr, token, None, &list);
        if token == Some("ci-token ") {
            // Surrounding blanks are trimmed, as before: this one is CI's token.
            assert_ne!(r.status, 401, "{}", r.body);
            continue;
        }
        assert_eq!(r.status, 401, "{token:?}: {}", r.body);
        assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    }
    // A token's digest is not the token.
    let r = post(&addr, Some(&hex(CI)), None, &list);
    assert_eq!(r.status, 401);
    // The seed stream too.
    let sse = Sse::open(
        &addr,
        "/notifications",
        &[("Authorization", "Bearer wrong")],
    );
    assert_eq!(sse.status, 401);
}

#[test]
fn stateless_lists_and_calls_are_scoped() {
    let (addr, _) = scoped();
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tokens-test", "version": "1"}
    });
    let send = |token: &str, method: &str, mut params: Value, name: Option<&str>| {
        params["_meta"] = meta.clone();
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let auth = bearer(token);
        let mut h = vec![
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", method),
            ("Authorization", auth.as_str()),
        ];
        if let Some(n) = name {
            h.push(("Mcp-Name", n));
        }
        let r = post_json(&addr, "/mcp", &h, &body.to_string());
        assert!(
            r.header("Mcp-Session-Id").is_none(),
            "stateless: {}",
            r.body
        );
        (r.status, r.json())
    };
    let (names, pages) = all_pages(|cursor| {
        let params = cursor.map_or(json!({}), |c| json!({"cursor": c}));
        let (status, v) = send(CI, "tools/list", params, None);
        assert_eq!(status, 200, "{v}");
        v["result"].clone()
    });
    assert_eq!(
        (names, pages),
        (
            vec!["journal".into(), "disk_usage".into(), "disk_free".into()],
            2
        )
    );
    let (_, ok) = send(
        CI,
        "tools/call",
        json!({"name": "journal"}),
        Some("journal"),
    );
    assert_eq!(text_of(&ok), "journal ran", "{ok}");
    let (s1, refused) = send(CI, "tools/call", json!({"name": "echo"}), Some("echo"));
    let (s2, unknown) = send(CI, "tools/call", json!({"name": "nope"}), Some("nope"));
    assert_eq!(s1, s2);
    assert_eq!(
        error_without(&refused, "echo"),
        error_without(&unknown, "nope")
    );
    let (_, who) = send(OPS, "tools/call", json!({"name": "whoami"}), Some("whoami"));
    assert_eq!(text_of(&who), "ops", "{who}");
}

/// A seed session opened with `token`, initialized.
fn seed(addr: &str, token: &str) -> (Sse, String) {
    let auth = bearer(token);
    let mut sse = Sse::open(addr, "/notifications", &[("Authorization", &auth)]);
    assert_eq!(sse.status, 200);
    let ev = sse.next_event(T).expect("greeting");
    let sid = ev
        .data
        .strip_prefix("Connected to session ")
        .expect("a greeting")
        .to_string();
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    assert_eq!(seed_send(addr, token, &sid, init), 202);
    assert_eq!(sse.next_json(T)["id"], 0);
    (sse, sid)
}

fn seed_send(addr: &str, token: &str, sid: &str, body: &str) -> u16 {
    let auth = bearer(token);
    let path = format!("/mcp?session_id={sid}");
    post_json(addr, &path, &[("Authorization", &auth)], body).status
}

#[test]
fn seed_bare_methods_are_tool_calls() {
    let (addr, _) = scoped();
    let (mut sse, sid) = seed(&addr, CI);
    let echo = r#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"message":"hi"}}"#;
    assert_eq!(seed_send(&addr, CI, &sid, echo), 202);
    let v = sse.next_json(T);
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].clone()),
        (json!(1), json!(-32601)),
        "{v}"
    );
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    assert_eq!(seed_send(&addr, CI, &sid, list), 202);
    let v = sse.next_json(T);
    let names: Vec<&str> = v["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["journal", "disk_usage"], "{v}");

    // The same bare call by a token granted `echo`.
    let (mut sse, sid) = seed(&addr, OPS);
    assert_eq!(seed_send(&addr, OPS, &sid, echo), 202);
    let v = sse.next_json(T);
    assert_eq!(v["result"], "hi", "{v}");
}

#[test]
fn a_session_belongs_to_the_token_that_opened_it() {
    let (addr, _) = scoped();
    let ops = session(&addr, OPS);
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    for token in [CI, STATIC] {
        let r = post(&addr, Some(token), Some(&ops), &list);
        assert_eq!(r.status, 404, "{token}: {}", r.body);
        // Exactly what an unknown session gets.
        let unknown = post(&addr, Some(token), Some("no-such-session"), &list);
        assert_eq!(r.json()["error"]["code"], unknown.json()["error"]["code"]);
    }
    // A GET stream and a DELETE by another token are refused alike; the session lives on.
    let auth = bearer(CI);
    let h = [
        ("Accept", "text/event-stream"),
        ("Mcp-Session-Id", ops.as_str()),
        ("Authorization", auth.as_str()),
    ];
    assert_eq!(request(&addr, "GET", "/mcp", &h, "").status, 404);
    assert_eq!(request(&addr, "DELETE", "/mcp", &h[1..], "").status, 404);
    assert_eq!(
        rpc(&addr, OPS, &ops, "tools/list", json!({}))["result"]["tools"][0]["name"],
        "echo"
    );

    // Seed: posting to another token's session, or resuming its stream by event id.
    let (mut sse, sid) = seed(&addr, OPS);
    let echo = r#"{"jsonrpc":"2.0","id":3,"method":"echo","params":{"message":"x"}}"#;
    assert_eq!(seed_send(&addr, STATIC, &sid, echo), 404);
    let path = format!("/notifications?session_id={sid}");
    assert_eq!(
        Sse::open(&addr, &path, &[("Authorization", &auth)]).status,
        404
    );
    assert_eq!(seed_send(&addr, OPS, &sid, echo), 202);
    let answer = sse.next_event(T).expect("the answer");
    assert_eq!(answer.json()["result"], "x");
    let last = answer.id.expect("an event id");
    let mut other = Sse::open(
        &addr,
        "/notifications",
        &[("Authorization", &auth), ("Last-Event-ID", &last)],
    );
    let greeting = other.next_event(T).expect("a greeting").data;
    assert!(
        greeting.starts_with("Connected to session "),
        "a new session, not {greeting:?}"
    );
    assert!(!greeting.contains(&sid));

    // Legacy HTTP+SSE: the endpoint a token's stream names is that token's only.
    let ops_auth = bearer(OPS);
    let h = [
        ("Accept", "text/event-stream"),
        ("Authorization", ops_auth.as_str()),
    ];
    let mut legacy = Sse::open(&addr, "/sse", &h);
    assert_eq!(legacy.status, 200);
    let endpoint = legacy.next_event(T).expect("the endpoint event").data;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    assert_eq!(
        post_json(&addr, &endpoint, &[("Authorization", &auth)], init).status,
        404
    );
    assert_eq!(
        post_json(&addr, &endpoint, &[("Authorization", &ops_auth)], init).status,
        202
    );
    assert_eq!(legacy.next_json(T)["id"], 0);
}

#[test]
fn grants_replaced_at_run_time_apply_to_the_next_request() {
    let (addr, access) = scoped();
    let ci = session(&addr, CI);
    let ops = session(&addr, OPS);
    assert_eq!(
        list_session(&addr, CI, &ci).0,
        ["journal", "disk_usage", "disk_free"]
    );

    access.set_grants(vec![
        grant("ci", CI, &["echo", "add"]),
        grant("new", "new-token", &["sleep"]),
    ]);
    // The same session sees its new tools at once, and loses the old ones.
    assert_eq!(
        list_session(&addr, CI, &ci),
        (vec!["echo".into(), "add".into()], 1)
    );
    assert!(call(&addr, CI, &ci, "journal")["error"].is_object());
    assert_eq!(text_of(&call(&addr, CI, &ci, "echo")), "hi");
    // A token no longer granted is refused, its session included; a new one is let in.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    assert_eq!(post(&addr, Some(OPS), Some(&ops), &list).status, 401);
    let new = session(&addr, "new-token");
    assert_eq!(list_session(&addr, "new-token", &new).0, ["sleep"]);
    // The static token is not a grant: it stays.
    let all = session(&addr, STATIC);
    assert_eq!(list_session(&addr, STATIC, &all).0.len(), 7);
}

#[test]
fn grants_alone_require_a_token_and_removing_them_all_keeps_the_server_closed() {
    // Grants without a static token.
    let (addr, access) = start(None, vec![grant("ci", CI, &["whoami"])]);
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    assert_eq!(post(&addr, None, None, &list).status, 401);
    let ci = session(&addr, CI);
    assert_eq!(text_of(&call(&addr, CI, &ci, "whoami")), "ci");
    // All grants removed: a server that required a token keeps requiring one, so nobody gets
    // in (a reload that drops the last token must not open the server to everyone).
    access.set_grants(Vec::new());
    let open = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "tokens-test", "version": "1"}}});
    assert_eq!(post(&addr, None, None, &open).status, 401);
    assert_eq!(
        post(&addr, Some(CI), None, &open).status,
        401,
        "the removed token too"
    );
    // A server started without any token stays open, and `caller()` is None there.
    let (addr, _access) = start(None, Vec::new());
    let r = post(&addr, None, None, &open);
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("Mcp-Session-Id").expect("a session").to_string();
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami"}});
    let v = post(&addr, None, Some(&sid), &body).json();
    assert_eq!(text_of(&v), "nobody", "{v}");
}

#[test]
fn a_revoked_grant_ends_its_sessions_and_their_open_streams() {
    let (addr, access) = scoped();
    let ci = session(&addr, CI);
    let ops = session(&addr, OPS);
    let open = |token: &str, sid: &str| {
        let auth = bearer(token);
        let s = Sse::open(
            &addr,
            "/mcp",
            &[
                ("Accept", "text/event-stream"),
                ("Mcp-Session-Id", sid),
                ("Authorization", auth.as_str()),
            ],
        );
        assert_eq!(s.status, 200, "the GET stream opens");
        s
    };
    let (mut ci_stream, mut ops_stream) = (open(CI, &ci), open(OPS, &ops));
    // Only ops keeps its grant: ci's session ends now, streams included; ops's stays.
    access.set_grants(vec![grant("ops", OPS, &["echo", "whoami"])]);
    assert!(
        ci_stream.ended(std::time::Duration::from_secs(5)),
        "the revoked token's stream ends"
    );
    assert!(
        !ops_stream.ended(std::time::Duration::from_millis(300)),
        "a granted token's stream stays open"
    );
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    assert_eq!(post(&addr, Some(CI), Some(&ci), &list).status, 401);
    assert_eq!(post(&addr, Some(OPS), Some(&ops), &list).status, 200);
}
