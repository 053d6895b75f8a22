//! The MCP server features of the library, used as a library user would: typed and structured
//! tools, rich content per revision, resources and templates, subscriptions, prompts, completion,
//! logging, pagination, capabilities and list changes. Every message is validated against the
//! official schema of the session's revision.

mod common;
use common::schema::check_message;
use common::*;
use fastmcp_server::{
    Annotations, CompletionRequest, Config, Content, Error, JsonSchema, LogLevel, Prompt,
    PromptMessage, Resource, ResourceContents, ResourceTemplate, Role, ServerBuilder, ServerHandle,
    Tool, ToolResult,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    /// First addend
    a: f64,
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: f64,
}

#[derive(Deserialize, JsonSchema)]
/// No arguments (only ever deserialised).
#[allow(dead_code)]
struct Empty {}

#[derive(Deserialize, JsonSchema)]
struct GreetArgs {
    name: String,
    times: Option<u32>,
}

fn builder(config: Config) -> ServerBuilder {
    ServerBuilder::new(config)
        .tool(
            Tool::typed("greet", "Greets someone", |_ctx, a: GreetArgs| {
                Ok(ToolResult::text(
                    format!("Hello, {}!", a.name).repeat(a.times.unwrap_or(1) as usize),
                ))
            })
            .title("Greeter"),
        )
        .tool(Tool::structured(
            "sum",
            "Adds two numbers",
            |_ctx, a: AddArgs| Ok(Sum { sum: a.a + a.b }),
        ))
        .tool(Tool::sync(
            "media",
            "Audio and a resource link",
            json!({"type":"object"}),
            |_| {
                Ok(ToolResult::content(vec![
                    Content::audio(vec![1, 2, 3], "audio/wav"),
                    Content::resource_link("test://doc", "doc"),
                    Content::text("annotated").with_annotations(Annotations {
                        audience: vec![Role::User],
                        priority: Some(0.9),
                        last_modified: Some("2025-01-01T00:00:00Z".into()),
                    }),
                ]))
            },
        ))
        .tool(Tool::new(
            "chatty",
            "Logs at every level",
            json!({"type":"object"}),
            |_, r| {
                let ctx = r.context().clone();
                for level in LogLevel::ALL {
                    ctx.log(level, json!({"level": level.as_str()}));
                }
                r.finish(ToolResult::text("done"))
            },
        ))
        .resource(
            Resource::text("test://doc", "doc", "text/plain", "The doc.").description("A document"),
        )
        .resource(Resource::blob(
            "test://bin",
            "bin",
            "application/octet-stream",
            vec![0, 255],
        ))
        .resource(Resource::new("test://broken", "broken", |_| {
            panic!("resource handler bug")
        }))
        .resource_template(
            ResourceTemplate::new(
                "test://users/{id}/profile",
                "profile",
                |_, uri, vars| match vars.get("id").map(String::as_str) {
                    Some("404") => Err(Error::NotFound),
                    Some(id) => Ok(vec![ResourceContents::text(
                        uri,
                        "application/json",
                        json!({"id": id}).to_string(),
                    )]),
                    None => Err(Error::failed("no id")),
                },
            )
            .complete(|_, req: &CompletionRequest| {
                assert_eq!(req.argument, "id");
                Ok(["1", "12", "2"]
                    .iter()
                    .filter(|v| v.starts_with(req.value.as_str()))
                    .map(|v| v.to_string())
                    .collect())
            }),
        )
        .prompt(
            Prompt::new("review", "Reviews code", |_, args| {
                Ok(vec![
                    PromptMessage::user(Content::text(format!(
                        "Review this {}:",
                        args.require("language")?
                    ))),
                    PromptMessage::assistant(Content::image(
                        vec![0x89, b'P', b'N', b'G'],
                        "image/png",
                    )),
                ])
            })
            .argument("language", "Programming language", true)
            .argument("style", "Review style", false)
            .complete(|_, req: &CompletionRequest| {
                let pool: &[&str] = if req.argument == "language" {
                    &["rust", "ruby", "python"]
                } else {
                    &["strict", "kind"]
                };
                let mut v: Vec<String> = pool
                    .iter()
                    .filter(|x| x.starts_with(req.value.as_str()))
                    .map(|x| x.to_string())
                    .collect();
                if req.context.contains_key("language") {
                    v.push("with-context".into());
                }
                Ok(v)
            }),
        )
        .prompt(Prompt::new(
            "plain",
            "No arguments, no completer",
            |_, _| Ok(vec![PromptMessage::user(Content::text("plain"))]),
        ))
}

fn local() -> Config {
    Config {
        host: "127.0.0.1".into(),
        port: 0,
        ..Config::default()
    }
}

fn serve(b: ServerBuilder) -> (String, ServerHandle) {
    let server = b.bind().expect("bind");
    let addr = server.local_addr().to_string();
    let handle = server.handle();
    std::thread::spawn(move || server.run());
    (addr, handle)
}

/// A Streamable HTTP session; answers may come as JSON or as an SSE stream.
struct Client {
    addr: String,
    sid: String,
    rev: String,
    next_id: u64,
    init: Value,
}

impl Client {
    fn new(addr: &str, rev: &str) -> Client {
        let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":rev,"capabilities":{},"clientInfo":{"name":"features","version":"1"}}});
        let r = post_json(addr, "/mcp", &[ACCEPT], &body.to_string());
        assert_eq!(r.status, 200, "{}", r.body);
        let init = r.json();
        check_message(rev, &init, Some("initialize"));
        let c = Client {
            addr: addr.to_string(),
            sid: r.header("Mcp-Session-Id").unwrap().to_string(),
            rev: rev.to_string(),
            next_id: 1,
            init,
        };
        let r = c.post(&json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        assert_eq!(r.status, 202);
        c
    }

    fn post(&self, body: &Value) -> Resp {
        post_json(
            &self.addr,
            "/mcp",
            &[
                ACCEPT,
                ("Mcp-Session-Id", &self.sid),
                ("MCP-Protocol-Version", &self.rev),
            ],
            &body.to_string(),
        )
    }

    /// The messages before the response (SSE answers only), and the response; all validated.
    fn exchange(&mut self, method: &str, params: Value) -> (Vec<Value>, Value) {
        let id = self.next_id;
        self.next_id += 1;
        let r = self.post(&json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}));
        assert_eq!(r.status, 200, "{method}: {}", r.body);
        let mut msgs: Vec<Value> = if r.header("Content-Type") == Some("text/event-stream") {
            r.body
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|d| serde_json::from_str(d).expect("JSON event"))
                .collect()
        } else {
            vec![r.json()]
        };
        let response = msgs.pop().expect("a response");
        assert_eq!(response["id"], id, "the response comes last");
        for m in &msgs {
            check_message(&self.rev, m, None);
        }
        check_message(&self.rev, &response, Some(method));
        (msgs, response)
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.exchange(method, params).1
    }
}

#[test]
fn typed_tools_check_their_arguments() {
    let (addr, _) = serve(builder(local()));
    let mut c = Client::new(&addr, "2025-06-18");
    let tools = c.call("tools/list", json!({}))["result"]["tools"].clone();
    let greet = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "greet")
        .unwrap();
    assert_eq!(greet["title"], "Greeter");
    assert_eq!(greet["inputSchema"]["type"], "object");
    assert_eq!(greet["inputSchema"]["properties"]["name"]["type"], "string");
    assert_eq!(greet["inputSchema"]["required"], json!(["name"]));
    let ok = c.call(
        "tools/call",
        json!({"name":"greet","arguments":{"name":"Ada","times":2}}),
    );
    assert_eq!(ok["result"]["content"][0]["text"], "Hello, Ada!Hello, Ada!");
    for (args, field) in [
        (json!({}), "\"name\""),
        (json!({"name": 5}), "\"name\""),
        (json!({"name":"x","times":"many"}), "\"times\""),
    ] {
        let r = c.call("tools/call", json!({"name":"greet","arguments":args}));
        assert_eq!(r["result"]["isError"], true, "{r}");
        let text = r["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(field), "{args} -> {text}");
    }
    let r = c.call("tools/call", json!({"name":"nope"}));
    assert_eq!(r["error"]["code"], -32602);
}

#[test]
fn structured_output_and_content_are_shaped_per_revision() {
    let (addr, _) = serve(builder(local()));
    let mut new = Client::new(&addr, "2025-06-18");
    let tools = new.call("tools/list", json!({}))["result"]["tools"].clone();
    let sum = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sum")
        .unwrap()
        .clone();
    assert_eq!(sum["outputSchema"]["properties"]["sum"]["type"], "number");
    let r = new.call(
        "tools/call",
        json!({"name":"sum","arguments":{"a":1,"b":2.5}}),
    );
    assert_eq!(r["result"]["structuredContent"], json!({"sum": 3.5}));
    assert_eq!(r["result"]["content"][0]["text"], "{\"sum\":3.5}");
    let r = new.call("tools/call", json!({"name":"media"}));
    let blocks = r["result"]["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "audio");
    assert_eq!(blocks[0]["data"], "AQID");
    assert_eq!(blocks[1]["type"], "resource_link");
    assert_eq!(
        blocks[2]["annotations"]["lastModified"],
        "2025-01-01T00:00:00Z"
    );

    let mut mid = Client::new(&addr, "2025-03-26");
    let tools = mid.call("tools/list", json!({}))["result"]["tools"].clone();
    let sum = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sum")
        .unwrap()
        .clone();
    assert!(
        sum.get("outputSchema").is_none() && sum.get("title").is_none(),
        "{sum}"
    );
    let r = mid.call(
        "tools/call",
        json!({"name":"sum","arguments":{"a":1,"b":2}}),
    );
    assert!(r["result"].get("structuredContent").is_none());
    let r = mid.call("tools/call", json!({"name":"media"}));
    let blocks = r["result"]["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "audio");
    assert_eq!(
        blocks[1]["type"], "text",
        "no resource_link before 2025-06-18"
    );
    assert!(blocks[2]["annotations"].get("lastModified").is_none());

    let mut old = Client::new(&addr, "2024-11-05");
    let r = old.call("tools/call", json!({"name":"media"}));
    let blocks = r["result"]["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "text", "no audio before 2025-03-26");
    assert!(blocks[0]["text"].as_str().unwrap().contains("audio/wav"));
}

#[test]
fn resources_templates_and_errors() {
    let (addr, _) = serve(builder(local()));
    let mut c = Client::new(&addr, "2025-06-18");
    let list = c.call("resources/list", json!({}));
    let uris: Vec<&str> = list["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, ["test://doc", "test://bin", "test://broken"]);
    assert_eq!(list["result"]["resources"][0]["description"], "A document");
    let t = c.call("resources/templates/list", json!({}));
    assert_eq!(
        t["result"]["resourceTemplates"][0]["uriTemplate"],
        "test://users/{id}/profile"
    );
    let r = c.call("resources/read", json!({"uri":"test://doc"}));
    assert_eq!(
        r["result"]["contents"][0],
        json!({"uri":"test://doc","mimeType":"text/plain","text":"The doc."})
    );
    let r = c.call("resources/read", json!({"uri":"test://bin"}));
    assert_eq!(r["result"]["contents"][0]["blob"], "AP8=");
    let r = c.call("resources/read", json!({"uri":"test://users/42/profile"}));
    assert_eq!(r["result"]["contents"][0]["text"], "{\"id\":\"42\"}");
    assert_eq!(r["result"]["contents"][0]["uri"], "test://users/42/profile");
    for missing in [
        "test://nothing",
        "test://users/42/photo",
        "test://users//profile",
        "test://users/404/profile",
    ] {
        let r = c.call("resources/read", json!({"uri": missing}));
        assert_eq!(r["error"]["code"], -32002, "{missing}: {r}");
        assert_eq!(r["error"]["data"]["uri"], missing);
    }
    let r = c.call("resources/read", json!({}));
    assert_eq!(r["error"]["code"], -32602);
    let r = c.call("resources/read", json!({"uri":"test://broken"}));
    assert_eq!(r["error"]["code"], -32603, "a panicking handler: {r}");
    let r = c.call("resources/read", json!({"uri":"test://doc"}));
    assert!(r["result"].is_object(), "still serving after a panic");
}

#[test]
fn subscriptions_and_list_changes_reach_the_right_sessions() {
    let (addr, handle) = serve(builder(local()));
    let mut a = Client::new(&addr, "2025-06-18");
    let b = Client::new(&addr, "2025-06-18");
    let stream = |c: &Client| {
        let s = Sse::open(
            &c.addr,
            "/mcp",
            &[
                ("Accept", "text/event-stream"),
                ("Mcp-Session-Id", &c.sid),
                ("MCP-Protocol-Version", &c.rev),
            ],
        );
        assert_eq!(s.status, 200);
        s
    };
    let (mut sa, mut sb) = (stream(&a), stream(&b));
    assert_eq!(
        a.call("resources/subscribe", json!({"uri":"test://doc"}))["result"],
        json!({})
    );
    let r = a.call("resources/subscribe", json!({"uri":"test://missing"}));
    assert_eq!(r["error"]["code"], -32002);
    std::thread::sleep(Duration::from_millis(100));
    handle.resource_updated("test://doc");
    let n = sa.next_json(T);
    check_message("2025-06-18", &n, None);
    assert_eq!(
        n,
        json!({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"test://doc"}})
    );
    handle.add_tool(Tool::sync(
        "late",
        "Added at run time",
        json!({"type":"object"}),
        |_| Ok(ToolResult::text("late")),
    ));
    for s in [&mut sa, &mut sb] {
        let n = s.next_json(T);
        check_message("2025-06-18", &n, None);
        assert_eq!(
            n["method"], "notifications/tools/list_changed",
            "b never got the resource update first"
        );
    }
    let names = a.call("tools/list", json!({}))["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(names.contains(&"late".to_string()));
    assert_eq!(
        a.call("resources/unsubscribe", json!({"uri":"test://doc"}))["result"],
        json!({})
    );
    handle.resource_updated("test://doc");
    assert!(handle.remove_prompt("plain"));
    let n = sa.next_json(T);
    assert_eq!(
        n["method"], "notifications/prompts/list_changed",
        "no update after unsubscribing"
    );
    drop(b);
}

#[test]
fn prompts_with_arguments_and_completion() {
    let (addr, _) = serve(builder(local()));
    let mut c = Client::new(&addr, "2025-06-18");
    let list = c.call("prompts/list", json!({}));
    let review = &list["result"]["prompts"][0];
    assert_eq!(review["name"], "review");
    assert_eq!(
        review["arguments"][0],
        json!({"name":"language","description":"Programming language","required":true})
    );
    let r = c.call(
        "prompts/get",
        json!({"name":"review","arguments":{"language":"rust"}}),
    );
    let msgs = r["result"]["messages"].as_array().unwrap();
    assert_eq!(
        msgs[0],
        json!({"role":"user","content":{"type":"text","text":"Review this rust:"}})
    );
    assert_eq!(msgs[1]["role"], "assistant");
    assert_eq!(msgs[1]["content"]["type"], "image");
    let r = c.call("prompts/get", json!({"name":"review"}));
    assert_eq!(r["error"]["code"], -32602);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"language\""),
        "{r}"
    );
    let r = c.call(
        "prompts/get",
        json!({"name":"review","arguments":{"language":7}}),
    );
    assert_eq!(r["error"]["code"], -32602);
    let r = c.call("prompts/get", json!({"name":"nope"}));
    assert_eq!(r["error"]["code"], -32602);

    let r = c.call("completion/complete", json!({"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"language","value":"r"}}));
    assert_eq!(
        r["result"]["completion"],
        json!({"values":["rust","ruby"],"total":2,"hasMore":false})
    );
    let r = c.call("completion/complete", json!({"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"style","value":""},"context":{"arguments":{"language":"rust"}}}));
    assert_eq!(
        r["result"]["completion"]["values"],
        json!(["strict", "kind", "with-context"])
    );
    let r = c.call("completion/complete", json!({"ref":{"type":"ref/resource","uri":"test://users/{id}/profile"},"argument":{"name":"id","value":"1"}}));
    assert_eq!(r["result"]["completion"]["values"], json!(["1", "12"]));
    let r = c.call(
        "completion/complete",
        json!({"ref":{"type":"ref/prompt","name":"plain"},"argument":{"name":"x","value":""}}),
    );
    assert_eq!(
        r["result"]["completion"],
        json!({"values":[],"total":0,"hasMore":false})
    );
    let r = c.call(
        "completion/complete",
        json!({"ref":{"type":"ref/prompt","name":"nope"},"argument":{"name":"x","value":""}}),
    );
    assert_eq!(r["error"]["code"], -32602);
    let r = c.call(
        "completion/complete",
        json!({"ref":{"type":"ref/other"},"argument":{"name":"x","value":""}}),
    );
    assert_eq!(r["error"]["code"], -32602);
}

#[test]
fn logging_levels_reach_the_client_on_the_request_stream() {
    let (addr, _) = serve(builder(local()));
    let mut c = Client::new(&addr, "2025-06-18");
    let r = c.call("logging/setLevel", json!({"level":"loud"}));
    assert_eq!(r["error"]["code"], -32602);
    assert_eq!(
        c.call("logging/setLevel", json!({"level":"error"}))["result"],
        json!({})
    );
    let (notes, resp) = c.exchange("tools/call", json!({"name":"chatty"}));
    assert_eq!(resp["result"]["content"][0]["text"], "done");
    let levels: Vec<&str> = notes
        .iter()
        .map(|n| {
            assert_eq!(n["method"], "notifications/message");
            n["params"]["level"].as_str().unwrap()
        })
        .collect();
    assert_eq!(levels, ["error", "critical", "alert", "emergency"]);
    assert_eq!(notes[0]["params"]["data"], json!({"level":"error"}));
}

#[test]
fn capabilities_follow_what_is_registered() {
    let (addr, _) = serve(builder(local()));
    let c = Client::new(&addr, "2025-06-18");
    let caps = &c.init["result"]["capabilities"];
    assert_eq!(caps["tools"], json!({"listChanged": true}));
    assert_eq!(
        caps["resources"],
        json!({"subscribe": true, "listChanged": true})
    );
    assert_eq!(caps["prompts"], json!({"listChanged": true}));
    assert_eq!(caps["logging"], json!({}));
    assert_eq!(caps["completions"], json!({}));
    let old = Client::new(&addr, "2024-11-05");
    assert!(
        old.init["result"]["capabilities"]
            .get("completions")
            .is_none()
    );

    let (addr, _) = serve(ServerBuilder::new(local()).builtin_tools());
    let c = Client::new(&addr, "2025-06-18");
    let caps = c.init["result"]["capabilities"].as_object().unwrap();
    let mut keys: Vec<&str> = caps.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["completions", "logging", "tools"]);
    let (addr, _) = serve(ServerBuilder::new(local()).declare_resources());
    let c = Client::new(&addr, "2025-06-18");
    assert!(c.init["result"]["capabilities"].get("resources").is_some());
    assert!(c.init["result"]["capabilities"].get("tools").is_none());
}

#[test]
fn every_list_is_paginated() {
    let mut config = local();
    config.page_size = 2;
    let (addr, _) = serve(builder(config));
    let mut c = Client::new(&addr, "2025-06-18");
    for (method, key, total) in [
        ("tools/list", "tools", 4),
        ("resources/list", "resources", 3),
        ("prompts/list", "prompts", 2),
        ("resources/templates/list", "resourceTemplates", 1),
    ] {
        let mut seen = 0;
        let mut params = json!({});
        loop {
            let r = c.call(method, params.clone());
            seen += r["result"][key].as_array().unwrap().len();
            match r["result"].get("nextCursor") {
                Some(Value::String(cur)) => params = json!({"cursor": cur}),
                None => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seen, total, "{method}");
        let r = c.call(method, json!({"cursor":"not-a-cursor"}));
        assert_eq!(r["error"]["code"], -32602, "{method}");
    }
}

#[test]
fn features_over_the_seed_transport() {
    let (addr, _) = serve(builder(local()));
    let (mut sse, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut sse, &sid);
    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"test://doc"}}"#,
    );
    let v = sse.next_json(T);
    check_message("2025-03-26", &v, Some("resources/read"));
    assert_eq!(v["result"]["contents"][0]["text"], "The doc.");
    seed_post(
        &addr,
        &sid,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chatty"}}"#,
    );
    // The default level is info: seven messages, then the result.
    let mut levels = Vec::new();
    loop {
        let v = sse.next_json(T);
        check_message("2025-03-26", &v, None);
        if v.get("id").is_some() {
            break;
        }
        levels.push(v["params"]["level"].as_str().unwrap().to_string());
    }
    assert_eq!(levels.len(), 7);
    assert_eq!(levels[0], "info");
}
