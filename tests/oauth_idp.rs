//! OAuth end to end with a real authorization server: tests/idp/provider.mjs (npm `oidc-provider`,
//! the certified OpenID provider) issues every token these tests present, through its own token
//! endpoint; the real binary verifies them (`--oauth-issuer`, `--oauth-resource`,
//! `--oauth-required-scope mcp:tools`, a config with a `scope = "tools:admin"` tool).
//! The refused tokens are real ones too, expired, for another resource, from another instance of
//! the provider, or re-encoded (`alg: none`, HS256, a flipped signature bit, an edited payload).
//!
//! Needs `node` and `tests/idp/node_modules` (scripts/test.sh installs them before `cargo test`):
//! without them these tests fail, they never skip.

mod common;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use common::declared::{ACCEPT, Mcp, is_error, scratch, text, wait_until, write_config};
use common::{Resp, Sse, T, post_json, request};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IDP_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/idp");
const ADMIN_TOOL: &str = "admin_echo";
const ALL_SCOPES: &str = "mcp:tools tools:admin";

/// One run of the provider, killed when dropped. Each run has its own fresh keys.
struct Idp {
    child: Child,
    issuer: String,
    addr: String,
}

impl Idp {
    /// Starts the provider; its first stdout line is `issuer URL`.
    fn start(args: &[&str]) -> Idp {
        let modules = Path::new(IDP_DIR).join("node_modules/oidc-provider");
        assert!(
            modules.is_dir(),
            "{} is missing: run `npm install --no-audit --no-fund` in tests/idp (scripts/test.sh does)",
            modules.display()
        );
        let mut child = Command::new("node")
            .arg(Path::new(IDP_DIR).join("provider.mjs"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node is needed to run the OpenID provider: {e}"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let issuer = first
            .strip_prefix("issuer ")
            .unwrap_or_else(|| panic!("the provider did not start: {first:?}"))
            .to_string();
        std::thread::spawn(move || for _ in lines {});
        let addr = issuer.trim_start_matches("http://").to_string();
        Idp {
            child,
            issuer,
            addr,
        }
    }

    fn port(&self) -> u16 {
        self.addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port")
    }

    /// The token endpoint's answer to a client_credentials request for `resource`.
    fn token_response(&self, client: &str, secret: &str, resource: &str, scope: &str) -> Resp {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{client}:{secret}"))
        );
        let form = format!(
            "grant_type=client_credentials&resource={}&scope={}",
            form_encode(resource),
            form_encode(scope)
        );
        request(
            &self.addr,
            "POST",
            "/token",
            &[
                ("Host", &self.addr),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &basic),
            ],
            &form,
        )
    }

    fn token(&self, client: &str, secret: &str, resource: &str, scope: &str) -> String {
        let r = self.token_response(client, secret, resource, scope);
        assert_eq!(r.status, 200, "token for {client}: {}", r.body);
        r.json()["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    fn admin(&self, resource: &str) -> String {
        self.token("mcp-admin", "admin-secret", resource, ALL_SCOPES)
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The real binary on a port chosen before it starts, so that `--oauth-resource` can name it.
struct Srv {
    child: Child,
    addr: String,
    resource: String,
    log: PathBuf,
}

impl Srv {
    /// The server trusting `issuers` (none: OAuth off), with the config of [`ADMIN_TOOL`].
    fn start(dir: &Path, issuers: &[&str], extra: &[&str]) -> Srv {
        let cfg = write_config(
            dir,
            &format!(
                "demo_tools = true\n\n[[tool]]\nname = \"{ADMIN_TOOL}\"\ndescription = \"needs tools:admin\"\n\
                 command = [\"/bin/echo\", \"admin\"]\nscope = \"tools:admin\"\n"
            ),
        );
        let log = dir.join("server.log");
        // A port just seen free may be taken before the server binds it: try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port()
                .to_string();
            let resource = format!("http://127.0.0.1:{port}/mcp");
            let mut args: Vec<&str> = vec!["--host", "127.0.0.1", "--port", &port];
            for i in issuers {
                args.extend(["--oauth-issuer", i]);
            }
            if !issuers.is_empty() {
                args.extend(["--oauth-resource", &resource]);
                args.extend(["--oauth-required-scope", "mcp:tools"]);
            }
            args.extend(["--config", cfg.to_str().expect("utf-8 path")]);
            args.extend_from_slice(extra);
            // FASTMCP_SERVER_BIN: another build of the server (the measurement below, on release).
            let bin = std::env::var("FASTMCP_SERVER_BIN")
                .unwrap_or_else(|_| env!("CARGO_BIN_EXE_fastmcp-server").to_string());
            let mut child = Command::new(&bin)
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
                .spawn()
                .expect("start the server");
            let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
            match lines.next().and_then(Result::ok) {
                Some(first) if first.contains("http://") => {
                    std::thread::spawn(move || for _ in lines {});
                    let addr = first.split("http://").nth(1).unwrap().trim().to_string();
                    return Srv {
                        child,
                        addr,
                        resource,
                        log,
                    };
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let err = std::fs::read_to_string(&log).unwrap_or_default();
                    assert!(
                        err.contains("in use"),
                        "the server did not start ({args:?}): {err}"
                    );
                }
            }
        }
        panic!("no free port for the server");
    }

    fn prm_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            self.resource.trim_end_matches("/mcp")
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn initialize_body() -> String {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"oauth-idp","version":"1"}}}).to_string()
}

/// One Streamable HTTP POST (a new session's initialize unless `body` says otherwise).
fn post(addr: &str, token: Option<&str>, body: &str) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![ACCEPT, ("MCP-Protocol-Version", "2025-11-25")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a));
    }
    post_json(addr, "/mcp", &headers, body)
}

/// A stateless 2026-07-28 tools/call.
fn stateless_call(addr: &str, token: &str, tool: &str, args: Value) -> Resp {
    let auth = format!("Bearer {token}");
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":tool,"arguments":args,
        "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}});
    post_json(
        addr,
        "/mcp",
        &[
            ACCEPT,
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", tool),
            ("Authorization", &auth),
        ],
        &body.to_string(),
    )
}

/// The last JSON-RPC message of an answer (JSON or SSE).
fn answer(r: &Resp) -> Value {
    Mcp::messages(r).pop().expect("an answer")
}

fn challenge(r: &Resp) -> String {
    r.header("WWW-Authenticate")
        .unwrap_or_else(|| panic!("{} without WWW-Authenticate: {}", r.status, r.body))
        .to_string()
}

/// 401, `Bearer error="invalid_token"` whose description contains `why`, the metadata URL, and
/// nothing of the token itself.
fn assert_invalid_token(srv: &Srv, r: &Resp, token: &str, why: &str) {
    assert_eq!(r.status, 401, "{why}: {}", r.body);
    let h = challenge(r);
    assert!(h.starts_with("Bearer "), "{why}: {h}");
    assert!(h.contains(r#"error="invalid_token""#), "{why}: {h}");
    assert!(
        h.contains(&format!(r#"resource_metadata="{}""#, srv.prm_url())),
        "{why}: {h}"
    );
    let description = h
        .split("error_description=\"")
        .nth(1)
        .and_then(|d| d.split('"').next())
        .unwrap_or_else(|| panic!("{why}: no error_description in {h}"));
    assert!(
        description.to_ascii_lowercase().contains(why),
        "the description should say {why:?}: {h}"
    );
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(
            !h.contains(part) && !r.body.contains(part),
            "the token is echoed: {h} {}",
            r.body
        );
    }
}

fn segments(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let mut part = || {
        let seg = it.next().expect("three segments");
        serde_json::from_slice::<Value>(&B64URL.decode(seg).expect("base64url")).expect("JSON")
    };
    let (h, p) = (part(), part());
    (
        h,
        p,
        token.split('.').nth(2).expect("a signature").to_string(),
    )
}

fn encode(v: &Value) -> String {
    B64URL.encode(v.to_string())
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |x: u8| k.iter().map(|b| b ^ x).collect::<Vec<u8>>();
    let inner = Sha256::digest([pad(0x36), msg.to_vec()].concat());
    Sha256::digest([pad(0x5c), inner.to_vec()].concat()).to_vec()
}

/// A seed-transport session opened with `token`, initialized: the stream and its session id.
fn seed_open(addr: &str, token: &str) -> (Sse, String) {
    let auth = format!("Bearer {token}");
    let mut sse = Sse::open(addr, "/notifications", &[("Authorization", &auth)]);
    assert_eq!(sse.status, 200, "seed stream with a valid token");
    let ev = sse.next_event(T).expect("greeting");
    let sid = ev
        .data
        .strip_prefix("Connected to session ")
        .expect("a greeting")
        .to_string();
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    assert_eq!(seed_send(addr, token, &sid, init).status, 202);
    assert_eq!(sse.next_json(T)["id"], 0);
    (sse, sid)
}

fn seed_send(addr: &str, token: &str, sid: &str, body: &str) -> Resp {
    let auth = format!("Bearer {token}");
    post_json(
        addr,
        &format!("/mcp?session_id={sid}"),
        &[("Authorization", &auth)],
        body,
    )
}

/// A legacy HTTP+SSE session opened with `token`, initialized: the stream and its endpoint.
fn legacy_open(addr: &str, token: &str) -> (Sse, String) {
    let auth = format!("Bearer {token}");
    let mut sse = Sse::open(
        addr,
        "/sse",
        &[("Accept", "text/event-stream"), ("Authorization", &auth)],
    );
    assert_eq!(sse.status, 200, "legacy stream with a valid token");
    let endpoint = sse.next_event(T).expect("endpoint event").data;
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    assert_eq!(legacy_send(addr, token, &endpoint, init).status, 202);
    assert_eq!(
        sse.next_event(T).expect("initialize result").json()["id"],
        0
    );
    (sse, endpoint)
}

fn legacy_send(addr: &str, token: &str, endpoint: &str, body: &str) -> Resp {
    let auth = format!("Bearer {token}");
    post_json(addr, endpoint, &[("Authorization", &auth)], body)
}

fn call_body(id: u64, tool: &str, args: Value) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":args}})
        .to_string()
}

#[test]
fn tokens_from_the_provider_call_tools_on_every_transport() {
    let dir = scratch("oauth-idp-valid");
    let idp = Idp::start(&[]);
    let srv = Srv::start(&dir, &[&idp.issuer], &[]);
    let admin = idp.admin(&srv.resource);
    let claims = segments(&admin).1;
    assert_eq!(claims["aud"], srv.resource.as_str(), "{claims}");
    assert_eq!(claims["iss"], idp.issuer.as_str(), "{claims}");

    // Streamable HTTP.
    let mut m = Mcp::with_token(&srv.addr, Some(&admin));
    let names = m.tool_names();
    assert!(
        names.contains(&"add".to_string()) && names.contains(&ADMIN_TOOL.to_string()),
        "{names:?}"
    );
    let r = m.call("add", json!({"a": 2, "b": 3}));
    assert_eq!(text(&r), "5", "{r}");
    let r = m.call(ADMIN_TOOL, json!({}));
    assert!(!is_error(&r) && text(&r).contains("admin"), "{r}");
    // The audit line of the declared tool names the token's subject (a client_credentials
    // token's `sub` is its client id).
    let audited = || {
        srv.log()
            .lines()
            .any(|l| l.contains(&format!("tool={ADMIN_TOOL} ")) && l.contains("caller=mcp-admin"))
    };
    assert!(wait_until(Duration::from_secs(5), audited), "{}", srv.log());

    // A fresh token of the same subject keeps the session; another subject's is refused 404.
    let again = idp.admin(&srv.resource);
    assert_ne!(again, admin);
    m.token = Some(again);
    assert_eq!(text(&m.call("add", json!({"a": 1, "b": 1}))), "2");
    let user = idp.token("mcp-user", "user-secret", &srv.resource, "mcp:tools");
    m.token = Some(user);
    let r = m.post(&json!({"jsonrpc":"2.0","id":99,"method":"tools/list","params":{}}));
    assert_eq!(r.status, 404, "another subject on the session: {}", r.body);

    // An ES256-signed token of the same provider.
    let es = idp.token("mcp-es256", "es256-secret", &srv.resource, ALL_SCOPES);
    assert_eq!(segments(&es).0["alg"], "ES256");
    let mut m = Mcp::with_token(&srv.addr, Some(&es));
    assert_eq!(text(&m.call("add", json!({"a": 20, "b": 22}))), "42");

    // Stateless 2026-07-28.
    let r = stateless_call(&srv.addr, &admin, "add", json!({"a": 4, "b": 5}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(text(&answer(&r)["result"]), "9", "{}", r.body);

    // The seed transport.
    let (mut sse, sid) = seed_open(&srv.addr, &admin);
    let r = seed_send(
        &srv.addr,
        &admin,
        &sid,
        &call_body(1, ADMIN_TOOL, json!({})),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let v = sse.next_json(T);
    assert!(text(&v["result"]).contains("admin"), "{v}");

    // The legacy HTTP+SSE transport.
    let (mut sse, endpoint) = legacy_open(&srv.addr, &admin);
    let r = legacy_send(
        &srv.addr,
        &admin,
        &endpoint,
        &call_body(1, "add", json!({"a": 6, "b": 7})),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let v = sse.next_event(T).expect("an answer").json();
    assert_eq!(text(&v["result"]), "13", "{v}");
}

#[test]
fn no_token_is_401_with_metadata_that_names_the_issuer() {
    let dir = scratch("oauth-idp-discovery");
    let idp = Idp::start(&[]);
    let srv = Srv::start(&dir, &[&idp.issuer], &[]);
    let r = post(&srv.addr, None, &initialize_body());
    assert_eq!(r.status, 401, "{}", r.body);
    let h = challenge(&r);
    assert!(h.starts_with("Bearer "), "{h}");
    assert!(!h.contains("error="), "no token presented, no error: {h}");
    assert!(h.contains(r#"scope="mcp:tools""#), "{h}");
    let prm_url = h
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no resource_metadata in {h}"));
    assert_eq!(prm_url, srv.prm_url());

    // What a client does next: fetch the metadata, then the authorization server's.
    let path = prm_url
        .split_once("/.well-known")
        .map(|(_, p)| format!("/.well-known{p}"))
        .unwrap();
    let prm = request(&srv.addr, "GET", &path, &[], "");
    assert_eq!(prm.status, 200, "{}", prm.body);
    let prm = prm.json();
    assert_eq!(prm["resource"], srv.resource.as_str(), "{prm}");
    assert_eq!(prm["authorization_servers"], json!([idp.issuer]), "{prm}");
    let scopes: Vec<&str> = prm["scopes_supported"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        scopes.contains(&"mcp:tools") && scopes.contains(&"tools:admin"),
        "{prm}"
    );
    let meta = request(
        &idp.addr,
        "GET",
        "/.well-known/oauth-authorization-server",
        &[("Host", &idp.addr)],
        "",
    );
    assert_eq!(meta.status, 200, "{}", meta.body);
    assert_eq!(meta.json()["issuer"], idp.issuer.as_str());

    // A token obtained the way the metadata says works.
    let token = idp.token(
        "mcp-user",
        "user-secret",
        prm["resource"].as_str().unwrap(),
        "mcp:tools",
    );
    assert_eq!(
        post(&srv.addr, Some(&token), &initialize_body()).status,
        200
    );
}

#[test]
fn tokens_that_must_not_pass_are_401_invalid_token() {
    let dir = scratch("oauth-idp-refused");
    let idp = Idp::start(&[]);
    let other = Idp::start(&[]);
    let srv = Srv::start(&dir, &[&idp.issuer], &[]);
    let good = idp.token("mcp-user", "user-secret", &srv.resource, "mcp:tools");
    assert_eq!(
        post(&srv.addr, Some(&good), &initialize_body()).status,
        200,
        "the good token"
    );
    let (header, payload, signature) = segments(&good);
    let body = initialize_body();
    let refused = |token: &str, why: &str| {
        let r = post(&srv.addr, Some(token), &body);
        assert_invalid_token(&srv, &r, token, why);
    };

    // Issued by the right provider for another resource (RFC 8707: never passed through).
    let elsewhere = idp.token("mcp-admin", "admin-secret", "http://other/mcp", ALL_SCOPES);
    assert_eq!(segments(&elsewhere).1["aud"], "http://other/mcp");
    refused(&elsewhere, "aud");
    // Issued for this resource by another provider (its own keys, its own issuer URL).
    refused(&other.admin(&srv.resource), "issuer");
    // Unsigned: the header re-encoded as alg none, the signature dropped.
    let mut none = header.clone();
    none["alg"] = json!("none");
    refused(&format!("{}.{}.", encode(&none), encode(&payload)), "alg");
    // HS256 keyed with the provider's public key (the algorithm-confusion attack).
    let jwks = request(&idp.addr, "GET", "/jwks", &[("Host", &idp.addr)], "").json();
    let public = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the signing key")
        .to_string();
    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    let signing_input = format!("{}.{}", encode(&hs), encode(&payload));
    let mac = B64URL.encode(hmac_sha256(public.as_bytes(), signing_input.as_bytes()));
    refused(&format!("{signing_input}.{mac}"), "alg");
    // One bit of the signature flipped.
    let mut sig = B64URL.decode(&signature).unwrap();
    let mid = sig.len() / 2;
    sig[mid] ^= 0x01;
    let parts: Vec<&str> = good.split('.').collect();
    refused(
        &format!("{}.{}.{}", parts[0], parts[1], B64URL.encode(&sig)),
        "signature",
    );
    // The payload edited to grant itself tools:admin, the signature kept.
    let mut escalated = payload.clone();
    escalated["scope"] = json!(ALL_SCOPES);
    refused(
        &format!("{}.{}.{}", parts[0], encode(&escalated), signature),
        "signature",
    );

    // Every refusal is counted by reason.
    let metrics = request(
        &srv.addr,
        "GET",
        "/metrics",
        &[("Authorization", &format!("Bearer {good}"))],
        "",
    );
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(
        metrics.body.contains("fastmcp_oauth_refusals_total{"),
        "{}",
        metrics.body
    );
}

#[test]
fn a_missing_scope_is_403_insufficient_scope_on_every_transport() {
    let dir = scratch("oauth-idp-scope");
    let idp = Idp::start(&[]);
    let srv = Srv::start(&dir, &[&idp.issuer], &[]);
    let user = idp.token("mcp-user", "user-secret", &srv.resource, "mcp:tools");
    assert_eq!(segments(&user).1["scope"], "mcp:tools");
    let assert_403 = |r: &Resp, transport: &str| {
        assert_eq!(r.status, 403, "{transport}: {}", r.body);
        let h = challenge(r);
        assert!(
            h.contains(r#"error="insufficient_scope""#),
            "{transport}: {h}"
        );
        let scope = h
            .split("scope=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("");
        let scope: Vec<&str> = scope.split(' ').collect();
        assert!(
            scope.contains(&"mcp:tools") && scope.contains(&"tools:admin"),
            "{transport}: {h}"
        );
        assert!(
            h.contains(&format!(r#"resource_metadata="{}""#, srv.prm_url())),
            "{transport}: {h}"
        );
    };

    // Streamable HTTP: hidden from tools/list, refused before any exchange is opened.
    let mut m = Mcp::with_token(&srv.addr, Some(&user));
    let names = m.tool_names();
    assert!(
        names.contains(&"add".to_string()) && !names.contains(&ADMIN_TOOL.to_string()),
        "{names:?}"
    );
    let r = m.post(&json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":ADMIN_TOOL,"arguments":{}}}));
    assert_403(&r, "streamable");
    assert_eq!(
        text(&m.call("add", json!({"a": 1, "b": 2}))),
        "3",
        "other tools still work"
    );
    // Stateless 2026-07-28.
    assert_403(
        &stateless_call(&srv.addr, &user, ADMIN_TOOL, json!({})),
        "stateless",
    );
    // The seed transport: the POST is refused instead of 202.
    let (_sse, sid) = seed_open(&srv.addr, &user);
    assert_403(
        &seed_send(&srv.addr, &user, &sid, &call_body(1, ADMIN_TOOL, json!({}))),
        "seed",
    );
    // The legacy transport.
    let (_sse, endpoint) = legacy_open(&srv.addr, &user);
    assert_403(
        &legacy_send(
            &srv.addr,
            &user,
            &endpoint,
            &call_body(1, ADMIN_TOOL, json!({})),
        ),
        "legacy",
    );

    // A token without the scope every request needs gets nothing at all.
    let admin_only = idp.token("mcp-admin", "admin-secret", &srv.resource, "tools:admin");
    let r = post(&srv.addr, Some(&admin_only), &initialize_body());
    assert!(matches!(r.status, 401 | 403), "{} {}", r.status, r.body);
    assert!(challenge(&r).contains("mcp:tools"), "{}", challenge(&r));
}

#[test]
fn an_expired_token_is_401_invalid_token() {
    let dir = scratch("oauth-idp-expiry");
    let idp = Idp::start(&["--ttl", "2"]);
    let srv = Srv::start(&dir, &[&idp.issuer], &["--oauth-leeway-secs", "0"]);
    let token = idp.admin(&srv.resource);
    let claims = segments(&token).1;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        2,
        "{claims}"
    );
    let mut m = Mcp::with_token(&srv.addr, Some(&token));
    assert_eq!(text(&m.call("add", json!({"a": 1, "b": 1}))), "2", "fresh");
    std::thread::sleep(Duration::from_secs(4));
    let r = m.post(&json!({"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}));
    assert_invalid_token(&srv, &r, &token, "expired");
    assert_invalid_token(
        &srv,
        &post(&srv.addr, Some(&token), &initialize_body()),
        &token,
        "expired",
    );
}

#[test]
fn opaque_tokens_are_introspected() {
    let dir = scratch("oauth-idp-introspection");
    let idp = Idp::start(&[]);
    let secret = dir.join("introspection-secret");
    std::fs::write(&secret, "introspector-secret\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let url = format!("{}/token/introspection", idp.issuer);
    let srv = Srv::start(
        &dir,
        &[&idp.issuer],
        &[
            "--oauth-introspection-url",
            &url,
            "--oauth-introspection-client-id",
            "mcp-introspector",
            "--oauth-introspection-secret-file",
            secret.to_str().unwrap(),
        ],
    );
    let opaque = idp.token("mcp-opaque", "opaque-secret", &srv.resource, ALL_SCOPES);
    assert_eq!(opaque.split('.').count(), 1, "an opaque token: {opaque}");
    let mut m = Mcp::with_token(&srv.addr, Some(&opaque));
    assert!(m.tool_names().contains(&ADMIN_TOOL.to_string()));
    assert!(text(&m.call(ADMIN_TOOL, json!({}))).contains("admin"));
    // Introspection says: another audience; and a string the provider never issued is inactive.
    let elsewhere = idp.token(
        "mcp-opaque",
        "opaque-secret",
        "http://other/mcp",
        ALL_SCOPES,
    );
    let r = post(&srv.addr, Some(&elsewhere), &initialize_body());
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        challenge(&r).contains(r#"error="invalid_token""#),
        "{}",
        challenge(&r)
    );
    let r = post(
        &srv.addr,
        Some("NotATokenTheProviderEverIssued0123456789"),
        &initialize_body(),
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        challenge(&r).contains(r#"error="invalid_token""#),
        "{}",
        challenge(&r)
    );
}

/// The provider goes away (and its port then answers nothing): a token whose key is cached still
/// works at once; one signed with a key the server has never seen (the provider restarted with
/// new keys on the same URL, as after a key rotation) needs a fetch, and gets 503 within the
/// bounded wait, never a pass; /health says what happened.
#[test]
fn the_provider_down_never_lets_in_and_never_blocks_cached_keys() {
    let dir = scratch("oauth-idp-down");
    let first = Idp::start(&[]);
    let port = first.port().to_string();
    let issuer = first.issuer.clone();
    let srv = Srv::start(
        &dir,
        &[&issuer],
        &[
            "--oauth-fetch-timeout-secs",
            "2",
            "--oauth-jwks-refresh-secs",
            "1",
        ],
    );
    let cached = first.admin(&srv.resource);
    assert_eq!(
        post(&srv.addr, Some(&cached), &initialize_body()).status,
        200
    );
    first.kill();
    // The same issuer URL, new keys (a rotation): its token's kid is unknown to the server.
    let rotated = Idp::start(&["--port", &port]);
    assert_eq!(rotated.issuer, issuer);
    let fresh = rotated.admin(&srv.resource);
    assert_ne!(segments(&fresh).0["kid"], segments(&cached).0["kid"]);
    rotated.kill();
    std::thread::sleep(Duration::from_millis(1500)); // past --oauth-jwks-refresh-secs

    // Nobody listens: the fetch fails at once.
    let t0 = Instant::now();
    let r = post(&srv.addr, Some(&fresh), &initialize_body());
    assert_eq!(
        r.status, 503,
        "a token needing a fetch from a dead issuer: {}",
        r.body
    );
    assert!(r.header("Retry-After").is_some(), "{:?}", r.headers);
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    assert_eq!(
        post(&srv.addr, Some(&cached), &initialize_body()).status,
        200,
        "cached kid"
    );

    // Something listens but never answers: the request needing the fetch waits at most the
    // fetch timeout, and a request with a cached key meanwhile does not wait for it.
    let silent = TcpListener::bind(format!("127.0.0.1:{port}")).expect("the provider's port");
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        silent.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok((c, _)) = silent.accept() {
                conns.push(c);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    let addr = srv.addr.clone();
    let fresh2 = fresh.clone();
    let waiting = std::thread::spawn(move || {
        let t0 = Instant::now();
        let r = post(&addr, Some(&fresh2), &initialize_body());
        (r.status, t0.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    assert_eq!(
        post(&srv.addr, Some(&cached), &initialize_body()).status,
        200
    );
    let cached_took = t0.elapsed();
    let (status, took) = waiting.join().unwrap();
    assert_eq!(status, 503, "a fetch that times out refuses the request");
    assert!(
        took < Duration::from_secs(12),
        "bounded by the fetch timeout (2 s): {took:?}"
    );
    assert!(
        cached_took < Duration::from_millis(1500),
        "a cached key never waits for the fetch: {cached_took:?}"
    );

    // /health names the issuer and its failed fetch; it still has keys, so it stays 200.
    let health = request(
        &srv.addr,
        "GET",
        "/health",
        &[("Authorization", &format!("Bearer {cached}"))],
        "",
    );
    assert_eq!(health.status, 200, "{}", health.body);
    let h = health.json();
    let entry = h["oauth"]["issuers"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["issuer"] == issuer.as_str()))
        .unwrap_or_else(|| panic!("/health names the issuer: {h}"));
    assert_eq!(entry["last_fetch"], "error", "{h}");
    assert!(entry["keys"].as_u64().is_some_and(|k| k > 0), "{h}");
    assert!(
        entry["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{h}"
    );
    drop(held);
}

/// What token verification costs a client: `N` stateless `tools/call add`, each on its own
/// connection, against the server without OAuth and with a provider's RS256 and ES256 tokens
/// (keys cached after the first), printing the mean per call. In the suite (N = 50) it checks that
/// the same token keeps being accepted call after call, whichever path (verified or remembered)
/// serves it; the measurement is `N=1000 FASTMCP_SERVER_BIN=target/release/fastmcp-server cargo
/// test --test oauth_idp -- --nocapture measure` (README: Authorization).
#[test]
fn measure_token_verification_cost() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let idp = Idp::start(&[]);
    let plain = Srv::start(&scratch("oauth-idp-measure-plain"), &[], &[]);
    let srv = Srv::start(&scratch("oauth-idp-measure"), &[&idp.issuer], &[]);
    let rs = idp.admin(&srv.resource);
    let es = idp.token("mcp-es256", "es256-secret", &srv.resource, ALL_SCOPES);
    let run = |addr: &str, token: Option<&str>| {
        let auth = token.map(|t| format!("Bearer {t}"));
        let call = |i: usize| {
            let body = json!({"jsonrpc":"2.0","id":i,"method":"tools/call","params":{"name":"add","arguments":{"a":i,"b":1},
                "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}});
            let mut headers = vec![
                ACCEPT,
                ("MCP-Protocol-Version", "2026-07-28"),
                ("Mcp-Method", "tools/call"),
                ("Mcp-Name", "add"),
            ];
            if let Some(a) = &auth {
                headers.push(("Authorization", a));
            }
            let r = post_json(addr, "/mcp", &headers, &body.to_string());
            assert_eq!(r.status, 200, "{}", r.body);
        };
        for i in 0..20 {
            call(i); // warm-up (and the first fetch of the keys)
        }
        let t0 = Instant::now();
        for i in 0..n {
            call(i);
        }
        t0.elapsed() / n as u32
    };
    for round in 1..=2 {
        let none = run(&plain.addr, None);
        let with_rs = run(&srv.addr, Some(&rs));
        let with_es = run(&srv.addr, Some(&es));
        println!(
            "round {round}: {n} x tools/call, mean per call: no OAuth {none:?}, RS256 token {with_rs:?} (+{:?}), ES256 token {with_es:?} (+{:?})",
            with_rs.saturating_sub(none),
            with_es.saturating_sub(none)
        );
    }
}
