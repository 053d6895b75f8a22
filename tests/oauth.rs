//! The OAuth resource server in the real binary, against a fake issuer (a std listener serving
//! metadata and a JWKS; the tokens are signed here with keys made here): the resource metadata,
//! the 401 and 403 challenges, a valid token calling tools on each of the three transports, a
//! token missing a tool's scope, step-up on the same session, another subject kept out of it,
//! static tokens beside OAuth, and what `/health` and `/metrics` show. End-to-end runs with a
//! real identity provider and the SDK clients are elsewhere.

mod common;
#[path = "common/idp.rs"]
mod idp;

use common::declared::{scratch, wait_until, write_config};
use common::*;
use idp::{FakeIdp, Key, now, unsigned};
use serde_json::{Value, json};
use std::time::Duration;

const CONFIG: &str = r#"
demo_tools = true

[[tool]]
name = "admin_hello"
description = "needs tools:admin"
command = ["/bin/echo", "admin says hi"]
scope = "tools:admin"
"#;

struct Setup {
    _idp: FakeIdp,
    key: Key,
    issuer: String,
    srv: Server,
    log: std::path::PathBuf,
}

impl Setup {
    fn start(name: &str, extra: &[&str]) -> Setup {
        let idp = FakeIdp::start();
        let key = Key::new("k1");
        idp.set_keys(&[&key]);
        let dir = scratch(&format!("oauth-{name}"));
        let config = write_config(&dir, CONFIG);
        let log = dir.join("server.log");
        let mut args = vec![
            "--config",
            config.to_str().unwrap(),
            "--oauth-issuer",
            &idp.url,
            "--oauth-required-scope",
            "mcp",
        ];
        args.extend_from_slice(extra);
        let srv = Server::start_logging(&args, &log);
        Setup {
            issuer: idp.url.clone(),
            _idp: idp,
            key,
            srv,
            log,
        }
    }

    fn resource(&self) -> String {
        format!("http://{}/mcp", self.srv.addr)
    }

    fn token(&self, sub: &str, scope: &str) -> String {
        self.key.sign(
            &json!({"iss": self.issuer, "aud": self.resource(), "sub": sub,
            "client_id": "test-client", "exp": now() + 300, "scope": scope}),
        )
    }

    fn addr(&self) -> &str {
        &self.srv.addr
    }
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

fn post(addr: &str, token: &str, sid: Option<&str>, body: &Value) -> Resp {
    let auth = bearer(token);
    let mut h = vec![
        ("Accept", "application/json, text/event-stream"),
        ("Authorization", auth.as_str()),
    ];
    if let Some(s) = sid {
        h.push(("Mcp-Session-Id", s));
    }
    post_json(addr, "/mcp", &h, &body.to_string())
}

fn init(rev: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": rev, "capabilities": {},
        "clientInfo": {"name": "oauth-test", "version": "1"}}})
}

fn call(id: u64, tool: &str) -> Value {
    let args = if tool == "echo" {
        json!({"message": "hi"})
    } else {
        json!({})
    };
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": args}})
}

fn session(addr: &str, token: &str) -> String {
    let r = post(addr, token, None, &init("2025-11-25"));
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("Mcp-Session-Id").unwrap().to_string();
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(addr, token, Some(&sid), &done).status, 202);
    sid
}

fn tool_names(v: &Value) -> Vec<String> {
    v["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The value of `param` in a `WWW-Authenticate` challenge.
fn param<'a>(challenge: &'a str, param: &str) -> Option<&'a str> {
    let start = challenge.find(&format!("{param}=\""))? + param.len() + 2;
    let len = challenge[start..].find('"')?;
    Some(&challenge[start..start + len])
}

fn keys_fetched(s: &Setup, token: &str) -> bool {
    let auth = bearer(token);
    let r = request(s.addr(), "GET", "/health", &[("Authorization", &auth)], "");
    r.status == 200 && r.json()["oauth"]["issuers"][0]["keys"] == 1
}

#[test]
fn metadata_and_challenges() {
    let s = Setup::start("challenges", &[]);
    let resource = s.resource();
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let r = request(s.addr(), "GET", path, &[], "");
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let doc = r.json();
        assert_eq!(doc["resource"], resource.as_str());
        assert_eq!(doc["authorization_servers"], json!([s.issuer]));
        assert_eq!(doc["scopes_supported"], json!(["mcp", "tools:admin"]));
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
    }
    // No token: 401 pointing at the metadata, with the scope to ask for and no error.
    let r = post_json(s.addr(), "/mcp", &[], &init("2025-11-25").to_string());
    assert_eq!(r.status, 401);
    let c = r.header("WWW-Authenticate").unwrap();
    assert!(c.starts_with("Bearer "), "{c}");
    assert_eq!(
        param(c, "resource_metadata"),
        Some(
            format!(
                "http://{}/.well-known/oauth-protected-resource/mcp",
                s.addr()
            )
            .as_str()
        )
    );
    assert_eq!(param(c, "scope"), Some("mcp"));
    assert_eq!(param(c, "error"), None);
    // Refused tokens: 401 invalid_token, saying why, never quoting the token.
    let good = s.token("alice", "mcp");
    assert!(wait_until(Duration::from_secs(10), || keys_fetched(
        &s, &good
    )));
    let c = json!({"iss": s.issuer, "aud": resource, "sub": "alice", "exp": now() + 300, "scope": "mcp"});
    let mut expired = c.clone();
    expired["exp"] = json!(now() - 600);
    let mut other_aud = c.clone();
    other_aud["aud"] = json!("https://elsewhere.example/mcp");
    let mut other_iss = c.clone();
    other_iss["iss"] = json!("https://evil.example");
    let forged = unsigned(&json!({"alg": "none"}), &c, "");
    let good_sig = s.key.sign(&c);
    let mut mallory = c.clone();
    mallory["sub"] = json!("mallory");
    let other = s.key.sign(&mallory);
    let head = other.rsplit_once('.').unwrap().0;
    let tampered = format!("{head}.{}", good_sig.rsplit_once('.').unwrap().1);
    for (token, why) in [
        (s.key.sign(&expired), "expired"),
        (s.key.sign(&other_aud), "aud"),
        (s.key.sign(&other_iss), "issuer"),
        (forged, "alg none"),
        (tampered, "signature"),
        ("not-a-jwt".to_string(), "not a JWT"),
    ] {
        let r = post(s.addr(), &token, None, &init("2025-11-25"));
        assert_eq!(r.status, 401, "{why}: {}", r.body);
        let c = r.header("WWW-Authenticate").unwrap();
        assert_eq!(param(c, "error"), Some("invalid_token"), "{c}");
        let d = param(c, "error_description").unwrap();
        assert!(d.contains(why), "{why}: {d}");
        assert!(!c.contains(&token) && !r.body.contains(&token));
    }
    // A valid token without the required scope: 403 insufficient_scope.
    let r = post(
        s.addr(),
        &s.token("alice", "other"),
        None,
        &init("2025-11-25"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let c = r.header("WWW-Authenticate").unwrap();
    assert_eq!(param(c, "error"), Some("insufficient_scope"));
    assert_eq!(param(c, "scope"), Some("mcp"));
    // /health needs a token (no --public-health) and shows the issuer's keys.
    assert_eq!(request(s.addr(), "GET", "/health", &[], "").status, 401);
    let auth = bearer(&good);
    let h = request(s.addr(), "GET", "/health", &[("Authorization", &auth)], "");
    assert_eq!(h.status, 200, "{}", h.body);
    let o = &h.json()["oauth"];
    assert_eq!(o["resource"], resource.as_str());
    assert_eq!(o["issuers"][0]["issuer"], s.issuer.as_str());
    assert_eq!(o["issuers"][0]["last_fetch"], "ok");
    assert!(o["issuers"][0]["last_ok_at"].as_u64().unwrap() > 1_700_000_000);
    let m = request(s.addr(), "GET", "/metrics", &[("Authorization", &auth)], "");
    assert!(
        m.body
            .contains("fastmcp_oauth_refusals_total{reason=\"expired\"} 1"),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains("fastmcp_oauth_refusals_total{reason=\"insufficient_scope\"} 1")
    );
    assert!(m.body.contains(&format!(
        "fastmcp_oauth_fetches_total{{issuer=\"{}\",result=\"ok\"}} 1",
        s.issuer
    )));
}

#[test]
fn streamable_http_scopes_step_up_and_subjects() {
    let s = Setup::start("streamable", &[]);
    let alice = s.token("alice", "mcp");
    let sid = session(s.addr(), &alice);
    let list = post(
        s.addr(),
        &alice,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
    );
    let names = tool_names(&list.json());
    assert!(names.contains(&"echo".to_string()), "{names:?}");
    assert!(!names.contains(&"admin_hello".to_string()), "{names:?}");
    let r = post(s.addr(), &alice, Some(&sid), &call(2, "echo"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["result"]["content"][0]["text"], "hi");
    // The tool needs tools:admin: 403 naming every scope needed, before any exchange.
    let r = post(s.addr(), &alice, Some(&sid), &call(3, "admin_hello"));
    assert_eq!(r.status, 403, "{}", r.body);
    let c = r.header("WWW-Authenticate").unwrap();
    assert_eq!(param(c, "error"), Some("insufficient_scope"));
    assert_eq!(param(c, "scope"), Some("mcp tools:admin"));
    assert!(param(c, "resource_metadata").is_some());
    // Stepped up: alice's new token keeps the session and sees and calls the tool.
    let admin = s.token("alice", "mcp tools:admin");
    let list = post(
        s.addr(),
        &admin,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"}),
    );
    assert!(tool_names(&list.json()).contains(&"admin_hello".to_string()));
    let r = post(s.addr(), &admin, Some(&sid), &call(5, "admin_hello"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("admin says hi"), "{}", r.body);
    // The audit line names the subject.
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&s.log)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("tool=admin_hello") && l.contains("caller=alice"))
    }));
    // Another subject's valid token is no key to alice's session.
    let bob = s.token("bob", "mcp tools:admin");
    let r = post(s.addr(), &bob, Some(&sid), &call(6, "echo"));
    assert_eq!(r.status, 404, "{}", r.body);
    // Stateless revision: the same 403 on a POST without a session.
    let r = post_json(
        s.addr(),
        "/mcp",
        &[
            ("Accept", "application/json, text/event-stream"),
            ("Authorization", &bearer(&alice)),
            ("MCP-Protocol-Version", "2026-07-28"),
        ],
        &call(7, "admin_hello").to_string(),
    );
    assert_eq!(r.status, 403, "{}", r.body);
}

#[test]
fn seed_and_legacy_transports_take_tokens_and_refuse_scopes_with_403() {
    let s = Setup::start("transports", &[]);
    let alice = s.token("alice", "mcp");
    let auth = bearer(&alice);
    // Without a token, neither stream opens.
    assert_eq!(Sse::open(s.addr(), "/notifications", &[]).status, 401);
    assert_eq!(Sse::open(s.addr(), "/sse", &[]).status, 401);
    // Seed: GET /notifications, POST /mcp?session_id=.
    let mut sse = Sse::open(s.addr(), "/notifications", &[("Authorization", &auth)]);
    assert_eq!(sse.status, 200);
    let ev = sse.next_event(T).unwrap();
    let sid = ev
        .data
        .strip_prefix("Connected to session ")
        .unwrap()
        .to_string();
    let seed_post = |body: &Value| {
        post_json(
            s.addr(),
            &format!("/mcp?session_id={sid}"),
            &[("Authorization", &auth)],
            &body.to_string(),
        )
    };
    let mut init = init("2025-03-26");
    assert_eq!(seed_post(&init).status, 202);
    assert_eq!(sse.next_json(T)["id"], 0);
    assert_eq!(seed_post(&call(1, "echo")).status, 202);
    let v = sse.next_json(T);
    assert_eq!(v["result"]["content"][0]["text"], "hi", "{v}");
    let r = seed_post(&call(2, "admin_hello"));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        param(r.header("WWW-Authenticate").unwrap(), "error"),
        Some("insufficient_scope")
    );
    // Legacy: GET /sse, POST /messages.
    let mut sse = Sse::open(
        s.addr(),
        "/sse",
        &[("Accept", "text/event-stream"), ("Authorization", &auth)],
    );
    assert_eq!(sse.status, 200);
    let endpoint = sse.next_event(T).unwrap().data;
    let post = |body: &Value| {
        post_json(
            s.addr(),
            &endpoint,
            &[("Authorization", &auth)],
            &body.to_string(),
        )
    };
    init["params"]["protocolVersion"] = json!("2024-11-05");
    assert_eq!(post(&init).status, 202);
    assert_eq!(sse.next_json(T)["id"], 0);
    assert_eq!(post(&call(1, "echo")).status, 202);
    let v = sse.next_json(T);
    assert_eq!(v["result"]["content"][0]["text"], "hi", "{v}");
    let r = post(&call(2, "admin_hello"));
    assert_eq!(r.status, 403, "{}", r.body);
}

#[test]
fn static_tokens_work_beside_oauth_and_health_can_be_public() {
    let dir = scratch("oauth-static-token");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "static-secret").unwrap();
    let s = Setup::start(
        "static",
        &[
            "--auth-token-file",
            token_file.to_str().unwrap(),
            "--public-health",
        ],
    );
    let sid = session(s.addr(), "static-secret");
    let r = post(
        s.addr(),
        "static-secret",
        Some(&sid),
        &call(1, "admin_hello"),
    );
    assert_eq!(
        r.status, 200,
        "the static token sees every tool: {}",
        r.body
    );
    let sid = session(s.addr(), &s.token("carol", "mcp"));
    assert!(!sid.is_empty());
    // --public-health: no token needed, and the issuer's state is there.
    assert!(wait_until(Duration::from_secs(10), || {
        let r = request(s.addr(), "GET", "/health", &[], "");
        r.status == 200 && r.json()["oauth"]["issuers"][0]["keys"] == 1
    }));
}

#[test]
fn an_unreachable_issuer_degrades_health_and_refuses_with_503() {
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let srv = Server::start(&[
        "--oauth-issuer",
        &url,
        "--public-health",
        "--oauth-jwks-refresh-secs",
        "1",
    ]);
    assert!(wait_until(Duration::from_secs(10), || {
        let r = request(&srv.addr, "GET", "/health", &[], "");
        r.status == 503 && r.json()["oauth"]["issuers"][0]["last_fetch"] == "error"
    }));
    let key = Key::new("k1");
    std::thread::sleep(Duration::from_millis(1100));
    let token = key.sign(&json!({"iss": url, "aud": format!("http://{}/mcp", srv.addr), "sub": "a", "exp": now() + 60}));
    let r = post(&srv.addr, &token, None, &init("2025-11-25"));
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.header("Retry-After").is_some());
    // Nothing else is held up: the metadata still answers.
    let r = request(
        &srv.addr,
        "GET",
        "/.well-known/oauth-protected-resource",
        &[],
        "",
    );
    assert_eq!(r.status, 200);
}
