//! The fixture server of the official MCP conformance suite (`scripts/conformance.sh`): every
//! tool, resource and prompt its server scenarios call, with their exact names and texts, built
//! only on the crate's public API, which is the proof that the API is complete. It is an example
//! rather than a profile of the binary, so the shipped binary carries none of it.
//!
//! Usage: conformance [--host HOST] [--port PORT] [--sse-responses] | conformance --stdio

use fastmcp_server::{
    ClientRequestError, CompletionRequest, Config, Content, Context, Elicitation, Error,
    InputRequest, LogLevel, Prompt, PromptMessage, Resource, ResourceContents, ResourceTemplate,
    Responder, ServerBuilder, Tool, ToolResult,
};
use serde_json::json;
use std::time::Duration;

/// A 1×1 transparent PNG.
const PNG: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A WAV file: 8 kHz, 8-bit mono, 8 samples of silence.
fn wav() -> Vec<u8> {
    let samples = [0x80u8; 8];
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&8u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    w.extend_from_slice(&samples);
    w
}

/// The content of an accepted elicitation with a hand-written schema.
type Form = serde_json::Map<String, serde_json::Value>;

fn no_args() -> serde_json::Value {
    json!({"type": "object", "properties": {}})
}

fn tools(b: ServerBuilder) -> ServerBuilder {
    b.tool(Tool::sync(
        "test_simple_text",
        "Returns a simple text response",
        no_args(),
        |_| {
            Ok(ToolResult::text(
                "This is a simple text response for testing.",
            ))
        },
    ))
    .tool(Tool::sync(
        "test_image_content",
        "Returns an image",
        no_args(),
        |_| Ok(ToolResult::content(vec![Content::image(PNG, "image/png")])),
    ))
    .tool(Tool::sync(
        "test_audio_content",
        "Returns audio",
        no_args(),
        |_| {
            Ok(ToolResult::content(vec![Content::audio(
                wav(),
                "audio/wav",
            )]))
        },
    ))
    .tool(Tool::sync(
        "test_embedded_resource",
        "Returns an embedded resource",
        no_args(),
        |_| {
            Ok(ToolResult::content(vec![Content::resource(
                ResourceContents::text(
                    "test://embedded-resource",
                    "text/plain",
                    "This is an embedded resource content.",
                ),
            )]))
        },
    ))
    .tool(Tool::sync(
        "test_multiple_content_types",
        "Returns text, an image and a resource",
        no_args(),
        |_| {
            Ok(ToolResult::content(vec![
                Content::text("Multiple content types test:"),
                Content::image(PNG, "image/png"),
                Content::resource(ResourceContents::text(
                    "test://mixed-content-resource",
                    "application/json",
                    r#"{"test":"data","value":123}"#,
                )),
            ]))
        },
    ))
    .tool(Tool::sync(
        "test_error_handling",
        "Always fails",
        no_args(),
        |_| {
            Err(Error::failed(
                "This tool intentionally returns an error for testing",
            ))
        },
    ))
    .tool(Tool::new(
        "test_tool_with_progress",
        "Reports progress 0, 50, 100 of 100",
        no_args(),
        |_, responder| {
            // On its own thread: the steps are spaced out, and no worker waits for them.
            std::thread::spawn(move || {
                let ctx = responder.context().clone();
                for step in [0.0, 50.0, 100.0] {
                    ctx.progress(step, Some(100.0), Some(&format!("step {step}")));
                    std::thread::sleep(Duration::from_millis(50));
                }
                responder.finish(ToolResult::text("Progress complete"));
            });
        },
    ))
    .tool(Tool::new(
        "test_tool_with_logging",
        "Logs three messages while it runs",
        no_args(),
        |_, responder| {
            std::thread::spawn(move || {
                let ctx: Context = responder.context().clone();
                for text in [
                    "Tool execution started",
                    "Tool processing data",
                    "Tool execution completed",
                ] {
                    ctx.log(LogLevel::Info, text);
                    std::thread::sleep(Duration::from_millis(50));
                }
                responder.finish(ToolResult::text("Logging complete"));
            });
        },
    ))
    .tool(Tool::new(
        "test_reconnection",
        "Ends its SSE stream early; the result comes after the client resumes",
        no_args(),
        |_, responder| {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                responder.context().close_stream();
                std::thread::sleep(Duration::from_millis(300));
                responder.finish(ToolResult::text("Reconnection test completed successfully"));
            });
        },
    ))
    .tool(Tool::sync(
        "json_schema_2020_12_tool",
        "Has a JSON Schema 2020-12 input schema",
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "$anchor": "addressDef",
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
                }
            },
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"},
                "email": {"type": "string"}
            },
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {"properties": {"contactMethod": {"const": "phone"}}},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": false
        }),
        |args| {
            Ok(ToolResult::text(format!(
                "Received: {}",
                serde_json::Value::Object(args.clone())
            )))
        },
    ))
}

/// Tools that ask the client for input. Each runs on its own thread: it waits for the client's
/// answer, and no worker should wait with it.
fn asking_tools(b: ServerBuilder) -> ServerBuilder {
    let elicited = |label: &str, r: Result<Elicitation<Form>, ClientRequestError>| match r {
        Ok(answer) => {
            let v = answer_json(answer);
            ToolResult::text(format!(
                "{label}: action={}, content={}",
                v["action"].as_str().unwrap_or(""),
                v.get("content").cloned().unwrap_or(json!({}))
            ))
        }
        Err(e) => ToolResult::error(format!("Elicitation failed: {e}")),
    };
    b.tool(Tool::new(
        "test_sampling",
        "Asks the client's model to answer a prompt",
        json!({"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}),
        on_thread(|ctx, args| {
            let prompt = args.get("prompt").and_then(|p| p.as_str()).unwrap_or("");
            let params = json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
                "maxTokens": 100
            });
            match ctx.sample(params) {
                Ok(r) => ToolResult::text(format!(
                    "LLM response: {}",
                    r["content"]["text"].as_str().unwrap_or("")
                )),
                Err(e) => ToolResult::error(format!("Sampling failed: {e}")),
            }
        }),
    ))
    .tool(Tool::new(
        "test_elicitation",
        "Asks the user for a username and email",
        json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}),
        on_thread(move |ctx, args| {
            let message = args.get("message").and_then(|p| p.as_str()).unwrap_or("");
            let schema = json!({
                "type": "object",
                "properties": {
                    "username": {"type": "string", "description": "User's response"},
                    "email": {"type": "string", "description": "User's email address"}
                },
                "required": ["username", "email"]
            });
            elicited("User response", ctx.elicit_with_schema(message, schema))
        }),
    ))
    .tool(Tool::new(
        "test_elicitation_sep1034_defaults",
        "Asks for input with a default for every field",
        no_args(),
        on_thread(move |ctx, _| {
            let schema = json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "User name", "default": "John Doe"},
                    "age": {"type": "integer", "description": "User age", "default": 30},
                    "score": {"type": "number", "description": "User score", "default": 95.5},
                    "status": {"type": "string", "description": "User status",
                               "enum": ["active", "inactive", "pending"], "default": "active"},
                    "verified": {"type": "boolean", "description": "Verification status", "default": true}
                }
            });
            elicited("Elicitation completed", ctx.elicit_with_schema("Please review and update the form fields with defaults", schema))
        }),
    ))
    .tool(Tool::new(
        "test_elicitation_sep1330_enums",
        "Asks for input with every enum form",
        no_args(),
        on_thread(move |ctx, _| {
            let schema = json!({
                "type": "object",
                "properties": {
                    "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                    "titledSingle": {"type": "string", "oneOf": [
                        {"const": "value1", "title": "First Option"},
                        {"const": "value2", "title": "Second Option"},
                        {"const": "value3", "title": "Third Option"}
                    ]},
                    "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                                   "enumNames": ["Option One", "Option Two", "Option Three"]},
                    "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                    "titledMulti": {"type": "array", "items": {"anyOf": [
                        {"const": "value1", "title": "First Choice"},
                        {"const": "value2", "title": "Second Choice"},
                        {"const": "value3", "title": "Third Choice"}
                    ]}}
                }
            });
            elicited("Elicitation completed", ctx.elicit_with_schema("Please select options from the enum fields", schema))
        }),
    ))
}

/// Runs a tool body on its own thread: in a session revision its questions to the client block
/// until answered (in 2026-07-28 they return at once, answered or not).
fn on_thread(
    f: impl Fn(&Context, &serde_json::Map<String, serde_json::Value>) -> ToolResult
    + Send
    + Sync
    + 'static,
) -> impl Fn(&serde_json::Map<String, serde_json::Value>, Responder) + Send + Sync + 'static {
    let f = std::sync::Arc::new(f);
    move |args, responder| {
        let (f, args) = (f.clone(), args.clone());
        std::thread::spawn(move || {
            let result = f(responder.context(), &args);
            responder.finish(result);
        });
    }
}

/// An elicitation answer as JSON, as the client sent it: `{"action": ..., "content": ...}`.
fn answer_json(answer: Elicitation<Form>) -> serde_json::Value {
    match answer {
        Elicitation::Accept(content) => json!({"action": "accept", "content": content}),
        Elicitation::Decline => json!({"action": "decline"}),
        Elicitation::Cancel => json!({"action": "cancel"}),
    }
}

fn ask_name(message: &str) -> InputRequest {
    InputRequest::elicitation(
        message,
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
    )
}

fn failed(e: ClientRequestError) -> ToolResult {
    ToolResult::error(format!("Could not ask the client: {e}"))
}

/// Fixtures of the revision 2026-07-28 scenarios: multi round-trip tools (each written once, and
/// working in session revisions too, where the questions are requests to the client), list
/// changes for `subscriptions/listen`, logging opt-in, and an `x-mcp-header` argument.
fn stateless_tools(b: ServerBuilder) -> ServerBuilder {
    b.tool(Tool::new(
        "test_input_required_result_elicitation",
        "Asks the user's name, then greets them",
        no_args(),
        on_thread(|ctx, _| match ctx.ask_client(&[("user_name", ask_name("What is your name?"))]) {
            Ok(a) => ToolResult::text(format!(
                "Hello, {}!",
                a["user_name"]["content"]["name"].as_str().unwrap_or("stranger")
            )),
            Err(e) => failed(e),
        }),
    ))
    .tool(Tool::new(
        "test_input_required_result_sampling",
        "Asks the client's model a question",
        no_args(),
        on_thread(|ctx, _| {
            let q = InputRequest::sampling(json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": "What is the capital of France?"}}],
                "maxTokens": 100
            }));
            match ctx.ask_client(&[("capital_question", q)]) {
                Ok(a) => ToolResult::text(format!(
                    "The model says: {}",
                    a["capital_question"]["content"]["text"].as_str().unwrap_or("")
                )),
                Err(e) => failed(e),
            }
        }),
    ))
    .tool(Tool::new(
        "test_input_required_result_list_roots",
        "Lists the client's roots",
        no_args(),
        on_thread(|ctx, _| match ctx.ask_client(&[("client_roots", InputRequest::roots())]) {
            Ok(a) => ToolResult::text(format!("Client roots: {}", a["client_roots"]["roots"])),
            Err(e) => failed(e),
        }),
    ))
    .tool(Tool::new(
        "test_input_required_result_request_state",
        "Asks for a confirmation; the answer travels in the signed request state",
        no_args(),
        on_thread(|ctx, _| {
            let q = InputRequest::elicitation(
                "Please confirm",
                json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}),
            );
            match ctx.ask_client(&[("confirm", q)]) {
                Ok(a) => ToolResult::text(format!("state-ok: confirmed={}", a["confirm"]["content"]["ok"])),
                Err(e) => failed(e),
            }
        }),
    ))
    .tool(Tool::new(
        "test_input_required_result_multiple_inputs",
        "Asks for a name, a greeting and the roots at once",
        no_args(),
        on_thread(|ctx, _| {
            let greeting = InputRequest::sampling(json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": "Generate a greeting"}}],
                "maxTokens": 50
            }));
            let questions = [
                ("user_name", ask_name("What is your name?")),
                ("greeting", greeting),
                ("client_roots", InputRequest::roots()),
            ];
            match ctx.ask_client(&questions) {
                Ok(a) => ToolResult::text(format!(
                    "{} {} (roots: {})",
                    a["greeting"]["content"]["text"].as_str().unwrap_or("Hello"),
                    a["user_name"]["content"]["name"].as_str().unwrap_or(""),
                    a["client_roots"]["roots"]
                )),
                Err(e) => failed(e),
            }
        }),
    ))
    .tool(Tool::new(
        "test_input_required_result_multi_round",
        "Asks two questions, one after the other",
        no_args(),
        on_thread(|ctx, _| {
            let name = match ctx.ask_client(&[("step1", ask_name("Step 1: What is your name?"))]) {
                Ok(a) => a["step1"]["content"]["name"].as_str().unwrap_or("").to_string(),
                Err(e) => return failed(e),
            };
            let color = InputRequest::elicitation(
                "Step 2: What is your favorite color?",
                json!({"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]}),
            );
            match ctx.ask_client(&[("step2", color)]) {
                Ok(a) => ToolResult::text(format!(
                    "{name} likes {}",
                    a["step2"]["content"]["color"].as_str().unwrap_or("")
                )),
                Err(e) => failed(e),
            }
        }),
    ))
    .tool(Tool::new(
        "test_input_required_result_tampered_state",
        "Asks a question; its request state is signed, so a changed state is refused",
        no_args(),
        on_thread(|ctx, _| match ctx.ask_client(&[("user_name", ask_name("What is your name?"))]) {
            Ok(_) => ToolResult::text("state verified"),
            Err(e) => failed(e),
        }),
    ))
    .tool(Tool::new(
        "test_input_required_result_capabilities",
        "Asks only what the client can answer",
        no_args(),
        on_thread(|ctx, _| {
            let mut questions = Vec::new();
            if ctx.client_supports("elicitation") {
                questions.push(("user_name", ask_name("What is your name?")));
            }
            if ctx.client_supports("sampling") {
                questions.push((
                    "greeting",
                    InputRequest::sampling(json!({
                        "messages": [{"role": "user", "content": {"type": "text", "text": "Generate a greeting"}}],
                        "maxTokens": 50
                    })),
                ));
            }
            if ctx.client_supports("roots") {
                questions.push(("client_roots", InputRequest::roots()));
            }
            match ctx.ask_client(&questions) {
                Ok(a) => ToolResult::text(format!("answered: {}", a.len())),
                Err(e) => failed(e),
            }
        }),
    ))
    .tool(Tool::new(
        "test_missing_capability",
        "Needs sampling whether or not the client declared it",
        no_args(),
        on_thread(|ctx, _| {
            let params = json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
                "maxTokens": 10
            });
            match ctx.sample(params) {
                Ok(_) => ToolResult::text("sampled"),
                Err(e) => failed(e),
            }
        }),
    ))
    .tool(Tool::new(
        "test_streaming_elicitation",
        "Reports progress, then asks the user something",
        no_args(),
        on_thread(|ctx, _| {
            ctx.progress(0.0, Some(1.0), Some("asking"));
            let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
            match ctx.elicit_with_schema("Continue?", schema) {
                Ok(a) => ToolResult::text(format!("answer: {}", answer_json(a))),
                Err(e) => failed(e),
            }
        }),
    ))
    .tool(Tool::new(
        "test_logging_tool",
        "Logs three messages",
        no_args(),
        on_thread(|ctx, _| {
            for m in ["Tool execution started", "Tool processing data", "Tool execution completed"] {
                ctx.log(LogLevel::Info, m);
            }
            ToolResult::text("logged")
        }),
    ))
    .tool(Tool::new(
        "test_trigger_tool_change",
        "Adds or removes the tool test_dynamic_tool",
        no_args(),
        on_thread(|ctx, _| {
            let server = ctx.server();
            if !server.remove_tool("test_dynamic_tool") {
                server.add_tool(Tool::sync("test_dynamic_tool", "Comes and goes", no_args(), |_| {
                    Ok(ToolResult::text("here"))
                }));
            }
            ToolResult::text("tool list changed")
        }),
    ))
    .tool(Tool::new(
        "test_trigger_prompt_change",
        "Adds or removes the prompt test_dynamic_prompt",
        no_args(),
        on_thread(|ctx, _| {
            let server = ctx.server();
            if !server.remove_prompt("test_dynamic_prompt") {
                server.add_prompt(Prompt::new("test_dynamic_prompt", "Comes and goes", |_, _| {
                    Ok(vec![PromptMessage::user(Content::text("here"))])
                }));
            }
            ToolResult::text("prompt list changed")
        }),
    ))
    .tool(Tool::sync(
        "test_header_param",
        "Echoes a region that clients mirror into the Mcp-Param-Region header",
        json!({"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}, "required": ["region"]}),
        |args| {
            Ok(ToolResult::text(format!(
                "Region: {}",
                args.get("region").and_then(|r| r.as_str()).unwrap_or("")
            )))
        },
    ))
    .prompt(Prompt::new(
        "test_input_required_result_prompt",
        "A prompt that asks the user for context first",
        |ctx, _| {
            let q = InputRequest::elicitation(
                "What context should the prompt use?",
                json!({"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}),
            );
            match ctx.ask_client(&[("user_context", q)]) {
                Ok(a) => Ok(vec![PromptMessage::user(Content::text(format!(
                    "Use this context: {}",
                    a["user_context"]["content"]["context"].as_str().unwrap_or("")
                )))]),
                Err(e) => Err(Error::invalid_params(format!("Could not ask the client: {e}"))),
            }
        },
    ))
}

fn resources(b: ServerBuilder) -> ServerBuilder {
    b.resource(
        Resource::text(
            "test://static-text",
            "static-text",
            "text/plain",
            "This is the content of the static text resource.",
        )
        .description("A static text resource"),
    )
    .resource(
        Resource::blob(
            "test://static-binary",
            "static-binary",
            "image/png",
            PNG.to_vec(),
        )
        .description("A static binary resource (a PNG)"),
    )
    .resource(
        Resource::text(
            "test://watched-resource",
            "watched-resource",
            "text/plain",
            "This resource can be subscribed to.",
        )
        .description("A resource to subscribe to"),
    )
    .resource_template(
        ResourceTemplate::new(
            "test://template/{id}/data",
            "template-data",
            |_, uri, vars| {
                let id = vars.get("id").ok_or(Error::NotFound)?;
                Ok(vec![ResourceContents::text(
                    uri,
                    "application/json",
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")})
                        .to_string(),
                )])
            },
        )
        .description("Data by id")
        .mime_type("application/json")
        .complete(|_, req: &CompletionRequest| {
            Ok(["1", "2", "123"]
                .iter()
                .filter(|v| v.starts_with(req.value.as_str()))
                .map(|v| v.to_string())
                .collect())
        }),
    )
}

fn prompts(b: ServerBuilder) -> ServerBuilder {
    b.prompt(Prompt::new(
        "test_simple_prompt",
        "A prompt without arguments",
        |_, _| {
            Ok(vec![PromptMessage::user(Content::text(
                "This is a simple prompt for testing.",
            ))])
        },
    ))
    .prompt(
        Prompt::new(
            "test_prompt_with_arguments",
            "A prompt with two arguments",
            |_, args| {
                let get = |k: &str| args.get(k).unwrap_or_default();
                Ok(vec![PromptMessage::user(Content::text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    get("arg1"),
                    get("arg2")
                )))])
            },
        )
        .argument("arg1", "First test argument", true)
        .argument("arg2", "Second test argument", true)
        .complete(|_, req: &CompletionRequest| {
            Ok(["paris", "park", "test", "testValue1"]
                .iter()
                .filter(|v| v.starts_with(req.value.as_str()))
                .map(|v| v.to_string())
                .collect())
        }),
    )
    .prompt(
        Prompt::new(
            "test_prompt_with_embedded_resource",
            "A prompt that embeds a resource",
            |_, args| {
                let uri = args.get("resourceUri").unwrap_or_default();
                Ok(vec![
                    PromptMessage::user(Content::resource(ResourceContents::text(
                        uri,
                        "text/plain",
                        "Embedded resource content for testing.",
                    ))),
                    PromptMessage::user(Content::text(
                        "Please process the embedded resource above.",
                    )),
                ])
            },
        )
        .argument("resourceUri", "URI of the resource to embed", true),
    )
    .prompt(Prompt::new(
        "test_prompt_with_image",
        "A prompt with an image",
        |_, _| {
            Ok(vec![
                PromptMessage::user(Content::image(PNG, "image/png")),
                PromptMessage::user(Content::text("Please analyze the image above.")),
            ])
        },
    ))
}

/// Only the flags the scripts start the fixture server with (`scripts/conformance.sh`,
/// `scripts/test.sh`); everything else keeps the library's defaults. It parses its own flags
/// because the binary's command line is the binary's, not part of the library.
const USAGE: &str = "\
conformance: the MCP conformance suite's fixture server

USAGE:
    conformance [OPTIONS]

OPTIONS:
    --host HOST        address to bind (default localhost)
    --port PORT        port to bind, 0 for any free port (default 8085)
    --sse-responses    answer Streamable HTTP requests with SSE streams, not JSON
    --stdio            serve one client on stdin/stdout instead (MCP stdio transport)
    --instance-id ID   start session ids with `ID.` (scripts/scale-test.sh, behind nginx)
    --state-key-file PATH  the requestState key shared by the instances behind one proxy
    --allowed-host HOST    accept this Host header too (repeatable)
    --max-sessions-per-client N  live sessions per client address (0 = no cap)
    -h, --help         print this help
";

/// `None` when `--help` was asked for. Errors are one line, ready to print.
fn parse_args() -> Result<Option<(Config, bool)>, String> {
    let mut a = pico_args::Arguments::from_env();
    if a.contains(["-h", "--help"]) {
        return Ok(None);
    }
    let e = |e: pico_args::Error| e.to_string();
    let d = Config::default();
    let mut config = Config {
        host: a.opt_value_from_str("--host").map_err(e)?.unwrap_or(d.host),
        port: a.opt_value_from_str("--port").map_err(e)?.unwrap_or(d.port),
        sse_responses: a.contains("--sse-responses"),
        instance_id: a.opt_value_from_str("--instance-id").map_err(e)?,
        allowed_hosts: a.values_from_str("--allowed-host").map_err(e)?,
        ..Config::default()
    };
    let stdio = a.contains("--stdio");
    if let Some(path) = a
        .opt_value_from_str::<_, std::path::PathBuf>("--state-key-file")
        .map_err(e)?
    {
        config.state_key = Some(fastmcp_server::StateKey::from_file(&path)?);
    }
    if let Some(n) = a
        .opt_value_from_str("--max-sessions-per-client")
        .map_err(e)?
    {
        config.max_sessions_per_client = n;
    }
    if let Some(first) = a.finish().first() {
        return Err(format!(
            "unknown argument '{}' (see --help)",
            first.to_string_lossy()
        ));
    }
    Ok(Some((config, stdio)))
}

fn main() {
    let (config, stdio) = match parse_args() {
        Ok(Some(c)) => c,
        Ok(None) => return print!("{USAGE}"),
        Err(e) => {
            eprintln!("conformance: {e}");
            std::process::exit(2);
        }
    };
    let builder = prompts(resources(stateless_tools(asking_tools(tools(
        ServerBuilder::new(config),
    )))));
    if stdio {
        // Nothing but MCP messages on stdout: no banner.
        if let Err(e) = builder.serve_stdio() {
            eprintln!("conformance: {e}");
            std::process::exit(1);
        }
        return;
    }
    let server = match builder.bind() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "conformance fixtures listening on http://{}",
        server.local_addr()
    );
    server.run();
}
