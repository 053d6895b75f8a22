//! A template that lists its resources and whose last variable spans `/` (what a directory
//! served from a config file is made of), used through the library's public API and checked
//! on the wire against the official schema.

mod common;
use common::schema::check_message;
use common::*;
use fastmcp_server::{Config, Resource, ResourceContents, ResourceTemplate, ServerBuilder};
use serde_json::{Value, json};

const REV: &str = "2025-06-18";
const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

struct Client {
    addr: String,
    sid: String,
    next_id: u64,
}

impl Client {
    fn new(addr: &str) -> Client {
        let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":REV,"capabilities":{},"clientInfo":{"name":"t","version":"1"}}});
        let r = post_json(addr, "/mcp", &[ACCEPT], &body.to_string());
        assert_eq!(r.status, 200, "{}", r.body);
        let sid = r.header("Mcp-Session-Id").unwrap().to_string();
        let c = Client {
            addr: addr.to_string(),
            sid,
            next_id: 1,
        };
        c.post(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        c
    }

    fn post(&self, body: &Value) -> Resp {
        let headers = [
            ACCEPT,
            ("Mcp-Session-Id", self.sid.as_str()),
            ("MCP-Protocol-Version", REV),
        ];
        post_json(&self.addr, "/mcp", &headers, &body.to_string())
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let r = self.post(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        assert_eq!(r.status, 200, "{method}: {}", r.body);
        let last = if r.header("Content-Type") == Some("text/event-stream") {
            let mut data = r.body.lines().filter_map(|l| l.strip_prefix("data: "));
            serde_json::from_str(data.next_back().expect("an event")).expect("JSON")
        } else {
            r.json()
        };
        check_message(REV, &last, Some(method));
        last
    }
}

fn serve() -> String {
    let config = Config {
        host: "127.0.0.1".into(),
        port: 0,
        page_size: 2,
        ..Config::default()
    };
    let files = ["a.md", "sub/b.md", "sub/deep/c.md"];
    let docs = ResourceTemplate::new("file:///docs/{path}", "docs", |_, uri, vars| {
        Ok(vec![ResourceContents::text(
            uri,
            "text/plain",
            &vars["path"],
        )])
    })
    .path_tail()
    .list_with(move || {
        let entry = |p: &&str| Resource::entry(format!("file:///docs/{p}"), *p).size(3);
        files.iter().map(entry).collect()
    });
    let server = ServerBuilder::new(config)
        .resource(Resource::text("memo://m", "m", "text/plain", "memo"))
        .resource_template(docs)
        .bind()
        .expect("bind");
    let addr = server.local_addr().to_string();
    std::thread::spawn(move || server.run());
    addr
}

#[test]
fn listed_entries_page_after_static_resources_and_read_through_the_template() {
    let addr = serve();
    let mut c = Client::new(&addr);
    let mut uris = Vec::new();
    let mut params = json!({});
    loop {
        let r = c.call("resources/list", params);
        for res in r["result"]["resources"].as_array().unwrap() {
            uris.push(res["uri"].as_str().unwrap().to_string());
        }
        match r["result"]["nextCursor"].as_str() {
            Some(cursor) => params = json!({ "cursor": cursor }),
            None => break,
        }
    }
    let want = [
        "memo://m",
        "file:///docs/a.md",
        "file:///docs/sub/b.md",
        "file:///docs/sub/deep/c.md",
    ];
    assert_eq!(uris, want);
    for (uri, path) in [
        ("file:///docs/sub/deep/c.md", "sub/deep/c.md"),
        ("file:///docs/sub%2Fb.md", "sub/b.md"),
    ] {
        let r = c.call("resources/read", json!({ "uri": uri }));
        assert_eq!(r["result"]["contents"][0]["text"], path, "{r}");
    }
    let r = c.call("resources/templates/list", json!({}));
    assert_eq!(
        r["result"]["resourceTemplates"][0]["uriTemplate"],
        "file:///docs/{path}"
    );
}
