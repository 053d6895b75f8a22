//! Everything else a config file (`--config`) declares, end to end against the real binary:
//! scoped bearer tokens (and their SIGHUP reload), resources (a directory, a file, fixed text, a
//! command's output) with their escapes refused, subscriptions fed by the file watcher,
//! `progress = "lines"` on an SSE answer, and prompts. Messages are checked against the official
//! schema of the session's revision.

mod common;

use common::declared::*;
use common::schema::{assert_valid, check_message};
use common::{Server, Sse, post_json};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Instant;

fn sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Scoped tokens

fn token_config(grants: &[(&str, &str, &[&str])]) -> String {
    let mut s = String::from(
        r#"
[[tool]]
name = "disk_usage"
description = "d"
command = ["/bin/echo", "disk"]

[[tool]]
name = "disk_free"
description = "d"
command = ["/bin/echo", "free"]

[[tool]]
name = "journal"
description = "j"
command = ["/bin/echo", "journal"]

[[tool]]
name = "uptime"
description = "u"
command = ["/bin/echo", "up"]

[[resource]]
uri = "cmd://hi"
command = ["/bin/echo", "hi"]
"#,
    );
    for (name, token, tools) in grants {
        let globs: Vec<String> = tools.iter().map(|t| format!("{t:?}")).collect();
        s.push_str(&format!(
            "\n[[auth.token]]\nname = {name:?}\nsha256 = \"{}\"\ntools = [{}]\n",
            sha256_hex(token),
            globs.join(", ")
        ));
    }
    s
}

/// An `initialize` with the given Authorization header (or none): the HTTP status and body.
fn status_with(addr: &str, auth: Option<&str>) -> (u16, String) {
    let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":REV,"capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
    let mut headers = vec![ACCEPT];
    if let Some(a) = auth {
        headers.push(("Authorization", a));
    }
    let r = post_json(addr, "/mcp", &headers, &body.to_string());
    (r.status, r.body)
}

#[test]
fn scoped_tokens_from_the_file_limit_tools_and_reload_on_sighup() {
    let dir = scratch("tokens");
    let (ci, ops) = ("ci-token-0123456789", "ops-token-9876543210");
    let cfg = write_config(
        &dir,
        &token_config(&[
            ("ci", ci, &["disk_*"]),
            ("ops", ops, &["journal", "uptime"]),
        ]),
    );
    let log = dir.join("server.log");
    // Pages of one tool: the filtered list is what is paginated.
    let srv = Server::start_logging(
        &["--config", cfg.to_str().unwrap(), "--page-size", "1"],
        &log,
    );

    // Who may connect at all.
    for auth in [None, Some("Bearer nope"), Some("Bearer ci-token-012345678")] {
        let (status, body) = status_with(&srv.addr, auth);
        assert_eq!(status, 401, "{auth:?} must be refused: {body}");
    }
    let (status, body) = status_with(&srv.addr, Some(&format!("Bearer {ci}")));
    assert_eq!(status, 200, "{body}");

    let mut a = Mcp::with_token(&srv.addr, Some(ci));
    let mut b = Mcp::with_token(&srv.addr, Some(ops));
    assert_eq!(a.tool_names(), ["disk_usage", "disk_free"]);
    assert_eq!(b.tool_names(), ["journal", "uptime"]);

    // A tool outside the scope is answered exactly as a tool that does not exist.
    let hidden = a.request("tools/call", json!({"name": "journal", "arguments": {}}));
    let unknown = a.request(
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {}}),
    );
    assert!(hidden.get("error").is_some(), "{hidden}");
    assert_eq!(hidden["error"]["code"], unknown["error"]["code"]);
    assert_eq!(
        hidden["error"]["message"].as_str().unwrap(),
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .replace("no_such_tool", "journal"),
        "{hidden} vs {unknown}"
    );
    assert!(
        hidden["error"].get("data").is_none()
            || hidden["error"]["data"] == unknown["error"]["data"]
    );

    let r = a.result("tools/call", json!({"name": "disk_usage", "arguments": {}}));
    assert_eq!(text(&r), "disk\n");
    let r = b.result("tools/call", json!({"name": "uptime", "arguments": {}}));
    assert_eq!(text(&r), "up\n");
    // A session belongs to the token that opened it.
    let mut stolen = Mcp {
        addr: srv.addr.clone(),
        sid: a.sid.clone(),
        token: Some(ops.into()),
        next: 100,
    };
    let r = stolen.post(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}));
    assert_eq!(r.status, 404, "another token's session: {}", r.body);
    stolen.token = None;
    let r = stolen.post(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}));
    assert_eq!(r.status, 401, "no token on a known session: {}", r.body);

    // The audit line names the grant.
    let audit_line = |tool: &str| {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .rev()
            .find(|l| l.contains(&format!("tool={tool} ")))
            .map(String::from)
    };
    assert!(wait_until(WAIT, || audit_line("disk_usage").is_some()));
    let line = audit_line("disk_usage").unwrap();
    assert!(line.contains("caller=ci"), "{line}");
    assert!(line.contains(&format!("session={}", a.sid)), "{line}");
    let line = audit_line("uptime").expect("an audit line for uptime");
    assert!(line.contains("caller=ops"), "{line}");
    // Resources are not scoped; a command resource's run is audited with its caller too.
    let r = b.result("resources/read", json!({"uri": "cmd://hi"}));
    assert_eq!(r["contents"][0]["text"], "hi\n");
    let resource_line = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .find(|l| l.contains("resource=cmd://hi"))
            .map(String::from)
    };
    assert!(wait_until(WAIT, || resource_line().is_some()));
    let line = resource_line().unwrap();
    assert!(line.contains("caller=ops"), "{line}");

    // New grants: ci now sees journal only, ops is gone, a new token appears.
    let newcomer = "new-token-5555555555";
    std::fs::write(
        &cfg,
        token_config(&[
            ("ci", ci, &["journal"]),
            ("new", newcomer, &["uptime", "disk_free"]),
        ]),
    )
    .unwrap();
    srv.signal("HUP");
    assert!(
        wait_until(WAIT, || a.tool_names() == ["journal"]),
        "ci's new scope applies to its session: {:?}",
        a.tool_names()
    );
    let r = a.request("tools/call", json!({"name": "disk_usage", "arguments": {}}));
    assert!(r.get("error").is_some(), "no longer in scope: {r}");
    let r = a.result("tools/call", json!({"name": "journal", "arguments": {}}));
    assert_eq!(text(&r), "journal\n");
    let r = b.post(&json!({"jsonrpc":"2.0","id":50,"method":"tools/list","params":{}}));
    assert_eq!(r.status, 401, "a removed grant: {}", r.body);
    let (status, _) = status_with(&srv.addr, Some(&format!("Bearer {ops}")));
    assert_eq!(status, 401);
    let mut n = Mcp::with_token(&srv.addr, Some(newcomer));
    assert_eq!(n.tool_names(), ["disk_free", "uptime"]);
    n.result("tools/call", json!({"name": "uptime", "arguments": {}}));
    assert!(wait_until(WAIT, || audit_line("uptime")
        .is_some_and(|l| l.contains("caller=new"))));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_removed_grant_loses_the_stream_it_has_open() {
    let dir = scratch("revoked-stream");
    let (keep, gone) = ("keep-token-1111111111", "gone-token-2222222222");
    let cfg = write_config(
        &dir,
        &token_config(&[("keep", keep, &["*"]), ("gone", gone, &["uptime"])]),
    );
    let log = dir.join("server.log");
    let srv = Server::start_logging(&["--config", cfg.to_str().unwrap()], &log);
    let g = Mcp::with_token(&srv.addr, Some(gone));
    let mut stream = g.listen();
    std::fs::write(&cfg, token_config(&[("keep", keep, &["*"])])).unwrap();
    srv.signal("HUP");
    assert!(
        wait_until(WAIT, || std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("reloaded")),
        "reload logged"
    );
    let r = g.post(&json!({"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}));
    assert_eq!(r.status, 401, "the removed grant's requests: {}", r.body);
    // Its GET stream must not keep delivering the server's notifications (list_changed,
    // resources/updated of its subscriptions, log messages) to a token no longer accepted.
    assert!(
        stream.ended(WAIT),
        "the stream of a removed grant is still open after the reload"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// 2. and 3. Resources and subscriptions

struct Docs {
    dir: PathBuf,
    docs: PathBuf,
    motd: PathBuf,
    cfg: PathBuf,
}

fn docs(name: &str) -> Docs {
    let dir = scratch(name);
    let docs = dir.join("docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    std::fs::write(docs.join("index.md"), "# index\n").unwrap();
    std::fs::write(docs.join("sub/a.md"), "# nested a\n").unwrap();
    std::fs::write(docs.join("sub/notes.txt"), "plain notes\n").unwrap();
    std::fs::write(docs.join(".hidden.md"), "hidden secret\n").unwrap();
    std::fs::write(docs.join("excluded.log"), "excluded secret\n").unwrap();
    std::fs::write(dir.join("outside.md"), "outside secret\n").unwrap();
    std::os::unix::fs::symlink(dir.join("outside.md"), docs.join("escape.md")).unwrap();
    // Symlinks that stay inside: to a served file (served) and to a hidden one (not).
    std::os::unix::fs::symlink("sub/a.md", docs.join("inner.md")).unwrap();
    std::os::unix::fs::symlink(".hidden.md", docs.join("alias.md")).unwrap();
    std::fs::write(docs.join("sub/with space.md"), "spaced\n").unwrap();
    std::fs::write(docs.join("logo.png"), b"\x89PNG\r\n\x1a\n\xff\xfe").unwrap();
    let motd = dir.join("motd.txt");
    std::fs::write(&motd, "welcome\n").unwrap();
    let cfg = write_config(
        &dir,
        &format!(
            r#"
[[resource]]
uri = "file:///docs/{{path}}"
name = "docs"
description = "The docs"
dir = "{}"
include = ["*.md", "*.txt", "*.png"]

[[resource]]
uri = "host://motd"
name = "motd"
file = "{}"

[[resource]]
uri = "memo://greeting"
name = "greeting"
text = "hello from the file"

[[resource]]
uri = "cmd://hi"
name = "hi"
command = ["/bin/echo", "hi"]
"#,
            docs.display(),
            motd.display()
        ),
    );
    Docs {
        dir,
        docs,
        motd,
        cfg,
    }
}

fn all_resources(c: &mut Mcp) -> Vec<Value> {
    let mut out = Vec::new();
    let mut params = json!({});
    for _ in 0..100 {
        let r = c.result("resources/list", params);
        out.extend(r["resources"].as_array().unwrap().iter().cloned());
        match r["nextCursor"].as_str() {
            Some(cursor) => params = json!({ "cursor": cursor }),
            None => return out,
        }
    }
    panic!("resources/list never ended");
}

#[test]
fn resources_from_the_file_list_read_and_refuse_escapes() {
    let d = docs("resources");
    let srv = Server::start(&["--config", d.cfg.to_str().unwrap(), "--page-size", "2"]);
    let mut c = Mcp::new(&srv.addr);

    let listed = all_resources(&mut c);
    let mut uris: Vec<&str> = listed.iter().map(|r| r["uri"].as_str().unwrap()).collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "cmd://hi",
            "file:///docs/index.md",
            "file:///docs/inner.md",
            "file:///docs/logo.png",
            "file:///docs/sub/a.md",
            "file:///docs/sub/notes.txt",
            "file:///docs/sub/with%20space.md",
            "host://motd",
            "memo://greeting",
        ],
        "each served file once; no hidden file, symlink out or excluded file"
    );
    let nested = listed
        .iter()
        .find(|r| r["uri"] == "file:///docs/sub/a.md")
        .unwrap();
    assert_eq!(nested["size"], 11, "{nested}");
    assert_eq!(nested["mimeType"], "text/markdown", "{nested}");

    let read = |c: &mut Mcp, uri: &str| c.request("resources/read", json!({ "uri": uri }));
    let r = read(&mut c, "file:///docs/sub/a.md");
    let contents = &r["result"]["contents"][0];
    assert_eq!(contents["uri"], "file:///docs/sub/a.md", "{r}");
    assert_eq!(contents["text"], "# nested a\n", "{r}");
    assert_eq!(contents["mimeType"], "text/markdown", "{r}");
    let r = read(&mut c, "file:///docs/sub/notes.txt");
    assert_eq!(r["result"]["contents"][0]["mimeType"], "text/plain", "{r}");
    let r = read(&mut c, "file:///docs/sub/with%20space.md");
    assert_eq!(r["result"]["contents"][0]["text"], "spaced\n", "{r}");
    assert_eq!(
        r["result"]["contents"][0]["uri"], "file:///docs/sub/with%20space.md",
        "{r}"
    );
    let r = read(&mut c, "file:///docs/inner.md");
    assert_eq!(r["result"]["contents"][0]["text"], "# nested a\n", "{r}");
    let r = read(&mut c, "file:///docs/logo.png");
    let png = &r["result"]["contents"][0];
    assert_eq!(png["mimeType"], "image/png", "{r}");
    assert_eq!(
        png["blob"], "iVBORw0KGgr//g==",
        "binary files are blobs: {r}"
    );
    assert!(png.get("text").is_none(), "{r}");
    let r = read(&mut c, "host://motd");
    assert_eq!(r["result"]["contents"][0]["text"], "welcome\n", "{r}");
    let r = read(&mut c, "memo://greeting");
    assert_eq!(
        r["result"]["contents"][0]["text"], "hello from the file",
        "{r}"
    );
    let r = read(&mut c, "cmd://hi");
    assert_eq!(
        r["result"]["contents"][0],
        json!({"uri": "cmd://hi", "mimeType": "text/plain", "text": "hi\n"}),
        "{r}"
    );

    for escape in [
        "file:///docs/../outside.md",
        "file:///docs/sub/../../outside.md",
        "file:///docs/%2e%2e/outside.md",
        "file:///docs/%2E%2E%2Foutside.md",
        "file:///docs/sub/%2e%2e/%2e%2e/outside.md",
        "file:///docs/.hidden.md",
        "file:///docs/%2ehidden.md",
        "file:///docs/escape.md",
        "file:///docs/alias.md",
        "file:///docs/excluded.log",
        "file:///docs/sub",
        "file:///docs/missing.md",
        "file:///docs/",
    ] {
        let r = read(&mut c, escape);
        assert!(r.get("error").is_some(), "{escape} must be refused: {r}");
        let all = r.to_string();
        assert!(!all.contains("secret"), "{escape} leaked: {r}");
    }

    let r = c.result("resources/templates/list", json!({}));
    let templates = r["resourceTemplates"].as_array().unwrap();
    assert_eq!(templates.len(), 1, "{r}");
    assert_eq!(templates[0]["uriTemplate"], "file:///docs/{path}");
    assert_eq!(templates[0]["name"], "docs");
    assert_eq!(templates[0]["description"], "The docs");

    let complete = |c: &mut Mcp, typed: &str| -> Vec<String> {
        let r = c.result(
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "file:///docs/{path}"},
                   "argument": {"name": "path", "value": typed}}),
        );
        r["completion"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(complete(&mut c, "sub/a"), ["sub/a.md"]);
    assert_eq!(
        complete(&mut c, "sub/"),
        ["sub/a.md", "sub/notes.txt", "sub/with space.md"]
    );
    assert!(complete(&mut c, ".hid").is_empty());
    assert!(complete(&mut c, "esc").is_empty());
    assert!(complete(&mut c, "excl").is_empty());
    let _ = std::fs::remove_dir_all(&d.dir);
}

/// The next notification with `method` on `s` (others skipped), within `WAIT`.
fn next_notification(s: &mut Sse, method: &str, seen: &mut Vec<Value>) -> Option<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let ev = s.next_event(left)?;
        let n = ev.json();
        check_message(REV, &n, None);
        seen.push(n.clone());
        if n["method"] == method {
            return Some(n);
        }
    }
}

#[test]
fn subscribers_hear_of_changed_files_and_listeners_of_new_ones() {
    let d = docs("subscribe");
    let log = d.dir.join("server.log");
    let srv = Server::start_logging(&["--config", d.cfg.to_str().unwrap()], &log);
    let mut c = Mcp::new(&srv.addr);
    // A second session listens but subscribes to nothing.
    let other = Mcp::new(&srv.addr);
    let mut other_stream = other.listen();
    let mut stream = c.listen();
    assert_eq!(
        c.result("resources/subscribe", json!({"uri": "host://motd"})),
        json!({})
    );
    let r = c.request("resources/subscribe", json!({"uri": "host://nothing"}));
    assert!(r.get("error").is_some(), "no such resource: {r}");
    // (The watcher is armed before the server announces its address; the subscription is in
    // place once its answer arrived.)
    std::fs::write(&d.motd, "changed\n").unwrap();
    let mut seen = Vec::new();
    let n = next_notification(&mut stream, "notifications/resources/updated", &mut seen)
        .unwrap_or_else(|| panic!("no resources/updated within {WAIT:?}; saw {seen:?}"));
    assert_valid(REV, "ResourceUpdatedNotification", &n);
    assert_eq!(n["params"]["uri"], "host://motd", "{n}");
    let r = c.result("resources/read", json!({"uri": "host://motd"}));
    assert_eq!(r["contents"][0]["text"], "changed\n");

    // A file of the directory can be subscribed to as well.
    assert_eq!(
        c.result(
            "resources/subscribe",
            json!({"uri": "file:///docs/sub/a.md"})
        ),
        json!({})
    );
    std::fs::write(d.docs.join("sub/a.md"), "# edited\n").unwrap();
    let mut seen = Vec::new();
    let n = loop {
        let n = next_notification(&mut stream, "notifications/resources/updated", &mut seen)
            .unwrap_or_else(|| panic!("no update of sub/a.md within {WAIT:?}; saw {seen:?}"));
        if n["params"]["uri"] != "host://motd" {
            break n;
        }
    };
    assert_eq!(n["params"]["uri"], "file:///docs/sub/a.md", "{n}");

    std::fs::write(d.docs.join("sub/new.md"), "fresh\n").unwrap();
    let mut seen = Vec::new();
    let n = next_notification(
        &mut stream,
        "notifications/resources/list_changed",
        &mut seen,
    )
    .unwrap_or_else(|| panic!("no resources/list_changed within {WAIT:?}; saw {seen:?}"));
    assert_valid(REV, "ResourceListChangedNotification", &n);
    let uris: Vec<String> = all_resources(&mut c)
        .iter()
        .map(|r| r["uri"].as_str().unwrap().to_string())
        .collect();
    assert!(
        uris.contains(&"file:///docs/sub/new.md".to_string()),
        "{uris:?}"
    );
    // The session that subscribed to nothing heard the list change, and no update before it.
    let n = other_stream.next_json(WAIT);
    check_message(REV, &n, None);
    assert_eq!(
        n["method"], "notifications/resources/list_changed",
        "an unsubscribed session hears no resources/updated: {n}"
    );

    // SIGHUP re-reads the file: listeners hear list_changed, and subscriptions keep working
    // with the new watch (the log says "reloaded" once it is in place).
    srv.signal("HUP");
    let mut seen = Vec::new();
    next_notification(
        &mut stream,
        "notifications/resources/list_changed",
        &mut seen,
    )
    .unwrap_or_else(|| panic!("no list_changed after SIGHUP; saw {seen:?}"));
    assert!(
        wait_until(WAIT, || std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("reloaded")),
        "reload logged"
    );
    std::fs::write(&d.motd, "after reload\n").unwrap();
    let mut seen = Vec::new();
    let n = loop {
        let n = next_notification(&mut stream, "notifications/resources/updated", &mut seen)
            .unwrap_or_else(|| panic!("no update after the reload; saw {seen:?}"));
        if n["params"]["uri"] == "host://motd" {
            break n;
        }
    };
    assert_valid(REV, "ResourceUpdatedNotification", &n);
    let _ = std::fs::remove_dir_all(&d.dir);
}

// ---------------------------------------------------------------------------------------------
// 4. progress = "lines"

#[test]
fn progress_lines_become_progress_notifications_before_the_result() {
    let dir = scratch("progress");
    let cfg = write_config(
        &dir,
        r#"
[[tool]]
name = "count"
description = "Counts to three"
command = ["/usr/bin/seq", "1", "3"]
progress = "lines"
"#,
    );
    let srv = Server::start(&["--config", cfg.to_str().unwrap(), "--sse-responses"]);
    let mut c = Mcp::new(&srv.addr);
    let msgs = c.exchange(
        "tools/call",
        json!({"name": "count", "arguments": {}, "_meta": {"progressToken": "p-1"}}),
    );
    let (result, notes) = msgs.split_last().unwrap();
    assert_eq!(text(&result["result"]), "1\n2\n3\n", "{result}");
    let progress: Vec<&Value> = notes
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .collect();
    for p in &progress {
        assert_valid(REV, "ProgressNotification", p);
        assert_eq!(p["params"]["progressToken"], "p-1", "{p}");
    }
    let messages: Vec<&str> = progress
        .iter()
        .map(|p| p["params"]["message"].as_str().unwrap_or("<none>"))
        .collect();
    assert_eq!(messages, ["1", "2", "3"], "all messages: {msgs:?}");
    let values: Vec<f64> = progress
        .iter()
        .map(|p| p["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [1.0, 2.0, 3.0]);

    // Without a progress token: only the result.
    let msgs = c.exchange("tools/call", json!({"name": "count", "arguments": {}}));
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// 5. Prompts

#[test]
fn prompts_from_the_file_substitute_plainly_and_require_their_arguments() {
    let dir = scratch("prompts");
    let cfg = write_config(
        &dir,
        r#"
[[prompt]]
name = "review"
title = "Review"
description = "Review a change"
arguments = [
  { name = "diff", description = "the diff", required = true },
  { name = "focus", required = false },
]
messages = [
  { role = "user", text = "Review this change:\n{diff}\nFocus: {focus}." },
  { role = "assistant", text = "Looking at {diff} {unknown}" },
]

[[prompt]]
name = "hello"
messages = [{ role = "user", text = "hi" }]
"#,
    );
    let srv = Server::start(&["--config", cfg.to_str().unwrap()]);
    let mut c = Mcp::new(&srv.addr);
    let r = c.result("prompts/list", json!({}));
    let prompts = r["prompts"].as_array().unwrap();
    let names: Vec<&str> = prompts
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["review", "hello"]);
    assert_eq!(prompts[0]["description"], "Review a change");
    assert_eq!(prompts[0]["title"], "Review");
    assert_eq!(
        prompts[0]["arguments"],
        json!([
            {"name": "diff", "description": "the diff", "required": true},
            {"name": "focus", "required": false},
        ])
    );

    let r = c.result(
        "prompts/get",
        json!({"name": "review", "arguments": {"diff": "a {focus} b {diff}", "focus": "bugs"}}),
    );
    assert_eq!(r["description"], "Review a change");
    assert_eq!(
        r["messages"],
        json!([
            {"role": "user", "content": {"type": "text", "text": "Review this change:\na {focus} b {diff}\nFocus: bugs."}},
            {"role": "assistant", "content": {"type": "text", "text": "Looking at a {focus} b {diff} {unknown}"}},
        ]),
        "{r}"
    );
    // An optional argument left out is replaced by nothing.
    let r = c.result(
        "prompts/get",
        json!({"name": "review", "arguments": {"diff": "d"}}),
    );
    assert_eq!(
        r["messages"][0]["content"]["text"],
        "Review this change:\nd\nFocus: ."
    );
    let r = c.result("prompts/get", json!({"name": "hello"}));
    assert_eq!(r["messages"][0]["content"]["text"], "hi");

    for args in [json!({"focus": "x"}), json!({})] {
        let r = c.request("prompts/get", json!({"name": "review", "arguments": args}));
        assert_eq!(r["error"]["code"], -32602, "{args}: {r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains("diff"),
            "names the argument: {r}"
        );
    }
    let r = c.request("prompts/get", json!({"name": "review"}));
    assert_eq!(r["error"]["code"], -32602, "no arguments at all: {r}");
    let r = c.request("prompts/get", json!({"name": "nope", "arguments": {}}));
    assert!(r.get("error").is_some(), "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}
