//! Helpers of the config-file tests (`tests/declared_*.rs`): scratch directories, config files
//! only their owner can write, and a Streamable HTTP session whose every answer is checked
//! against the official schema.

use super::schema::{assert_valid, check_message};
use super::{Sse, post_json};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
pub const REV: &str = "2025-11-25";
/// Generous bound for anything the server should do "at once".
pub const WAIT: Duration = Duration::from_secs(5);

/// A fresh directory for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fastmcp-declared-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("tools.toml");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// The schema definition of the result of `method`, for the methods this file uses.
pub fn result_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "initialize" => "InitializeResult",
        "tools/list" => "ListToolsResult",
        "tools/call" => "CallToolResult",
        "resources/list" => "ListResourcesResult",
        "resources/read" => "ReadResourceResult",
        "resources/templates/list" => "ListResourceTemplatesResult",
        "resources/subscribe" => "EmptyResult",
        "prompts/list" => "ListPromptsResult",
        "prompts/get" => "GetPromptResult",
        "completion/complete" => "CompleteResult",
        _ => return None,
    })
}

/// Validates one answer to `method` against the schema: envelope, and result or error.
pub fn check(msg: &Value, method: &str) {
    check_message(REV, msg, Some(method));
    if let (Some(result), Some(def)) = (msg.get("result"), result_def(method)) {
        assert_valid(REV, def, result);
    }
}

/// The JSON-RPC messages of an SSE body, in order.
pub fn sse_messages(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            // An event without data (the priming event of a resumable stream) carries no message.
            let data = data.join("\n");
            (!data.is_empty()).then(|| {
                serde_json::from_str(&data)
                    .unwrap_or_else(|e| panic!("event not JSON ({e}): {block:?}"))
            })
        })
        .collect()
}

/// A Streamable HTTP session (2025-11-25), optionally with a bearer token.
pub struct Mcp {
    pub addr: String,
    pub sid: String,
    pub token: Option<String>,
    pub next: u64,
}

impl Mcp {
    pub fn new(addr: &str) -> Mcp {
        Mcp::with_token(addr, None)
    }

    pub fn with_token(addr: &str, token: Option<&str>) -> Mcp {
        let mut m = Mcp {
            addr: addr.into(),
            sid: String::new(),
            token: token.map(String::from),
            next: 1,
        };
        let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":REV,"capabilities":{},"clientInfo":{"name":"declared-features","version":"1"}}});
        let r = m.post(&body);
        assert_eq!(r.status, 200, "{}", r.body);
        m.sid = r
            .header("Mcp-Session-Id")
            .expect("a session id")
            .to_string();
        let init = Mcp::messages(&r).pop().expect("an answer");
        check(&init, "initialize");
        let r = m.post(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        assert_eq!(r.status, 202, "{}", r.body);
        m
    }

    pub fn post(&self, body: &Value) -> super::Resp {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![ACCEPT, ("MCP-Protocol-Version", REV)];
        if !self.sid.is_empty() {
            headers.push(("Mcp-Session-Id", &self.sid));
        }
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        post_json(&self.addr, "/mcp", &headers, &body.to_string())
    }

    /// The messages of an answer, whether it is JSON or an SSE stream.
    pub fn messages(r: &super::Resp) -> Vec<Value> {
        if r.header("Content-Type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            sse_messages(&r.body)
        } else {
            vec![r.json()]
        }
    }

    /// Every message the answer to one request carried (notifications first, the response last),
    /// each checked against the schema.
    pub fn exchange(&mut self, method: &str, params: Value) -> Vec<Value> {
        self.next += 1;
        let id = self.next;
        let r = self.post(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        assert_eq!(r.status, 200, "{method}: {}", r.body);
        let msgs = Mcp::messages(&r);
        let (last, before) = msgs.split_last().expect("an answer");
        for n in before {
            check_message(REV, n, None);
        }
        check(last, method);
        assert_eq!(last["id"], id, "{last}");
        msgs
    }

    /// The response to one request (result or error), checked against the schema.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.exchange(method, params).pop().unwrap()
    }

    pub fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        r.get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{method}: no result: {r}"))
    }

    /// Every tool `tools/list` shows, over all its pages.
    pub fn tool_names(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut params = json!({});
        for _ in 0..100 {
            let r = self.result("tools/list", params);
            let page = r["tools"].as_array().unwrap();
            out.extend(page.iter().map(|t| t["name"].as_str().unwrap().to_string()));
            match r["nextCursor"].as_str() {
                Some(cursor) => params = json!({ "cursor": cursor }),
                None => return out,
            }
        }
        panic!("tools/list never ended");
    }

    /// `tools/call`: the result object.
    pub fn call(&mut self, tool: &str, args: Value) -> Value {
        self.result("tools/call", json!({"name": tool, "arguments": args}))
    }

    /// The session's general SSE stream (GET /mcp).
    pub fn listen(&self) -> Sse {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("Accept", "text/event-stream"),
            ("Mcp-Session-Id", self.sid.as_str()),
            ("MCP-Protocol-Version", REV),
        ];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let s = Sse::open(&self.addr, "/mcp", &headers);
        assert_eq!(s.status, 200, "the GET stream opens");
        s
    }
}

pub fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn is_error(result: &Value) -> bool {
    result["isError"] == json!(true)
}
