//! The fixture server of the official MCP conformance suite (`scripts/conformance.sh`): every
//! tool, resource and prompt its server scenarios call, with their exact names and texts, built
//! only on the crate's public API, which is the proof that the API is complete. It is an example
//! rather than a profile of the binary, so the shipped binary carries none of it.
//!
//! Usage: conformance [the server's flags, e.g. --port 0]

use fastmcp_server::config::{Cli, USAGE, parse_args};
use fastmcp_server::{
    Content, Context, LogLevel, Prompt, PromptMessage, Resource, ResourceContents, ResourceError,
    ResourceTemplate, Responder, ServerBuilder, Tool, ToolResult,
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

fn no_args() -> serde_json::Value {
    json!({"type": "object", "properties": {}})
}

fn tools(b: ServerBuilder) -> ServerBuilder {
    b.tool(Tool::sync(
        "test_simple_text",
        "Returns a simple text response",
        no_args(),
        |_| ToolResult::text("This is a simple text response for testing."),
    ))
    .tool(Tool::sync(
        "test_image_content",
        "Returns an image",
        no_args(),
        |_| ToolResult::content(vec![Content::image(PNG, "image/png")]),
    ))
    .tool(Tool::sync(
        "test_audio_content",
        "Returns audio",
        no_args(),
        |_| ToolResult::content(vec![Content::audio(wav(), "audio/wav")]),
    ))
    .tool(Tool::sync(
        "test_embedded_resource",
        "Returns an embedded resource",
        no_args(),
        |_| {
            ToolResult::content(vec![Content::resource(ResourceContents::text(
                "test://embedded-resource",
                "text/plain",
                "This is an embedded resource content.",
            ))])
        },
    ))
    .tool(Tool::sync(
        "test_multiple_content_types",
        "Returns text, an image and a resource",
        no_args(),
        |_| {
            ToolResult::content(vec![
                Content::text("Multiple content types test:"),
                Content::image(PNG, "image/png"),
                Content::resource(ResourceContents::text(
                    "test://mixed-content-resource",
                    "application/json",
                    r#"{"test":"data","value":123}"#,
                )),
            ])
        },
    ))
    .tool(Tool::sync(
        "test_error_handling",
        "Always fails",
        no_args(),
        |_| ToolResult::error("This tool intentionally returns an error for testing"),
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
            ToolResult::text(format!(
                "Received: {}",
                serde_json::Value::Object(args.clone())
            ))
        },
    ))
}

/// Tools that ask the client for input. Each runs on its own thread: it waits for the client's
/// answer, and no worker should wait with it.
fn asking_tools(b: ServerBuilder) -> ServerBuilder {
    fn on_thread(
        f: impl Fn(&Context, &serde_json::Map<String, serde_json::Value>) -> ToolResult
        + Send
        + Sync
        + 'static,
    ) -> impl Fn(&serde_json::Map<String, serde_json::Value>, Responder) + Send + Sync + 'static
    {
        let f = std::sync::Arc::new(f);
        move |args, responder| {
            let (f, args) = (f.clone(), args.clone());
            std::thread::spawn(move || {
                let result = f(responder.context(), &args);
                responder.finish(result);
            });
        }
    }
    let elicited =
        |label: &str, r: Result<serde_json::Value, fastmcp_server::ClientRequestError>| match r {
            Ok(v) => ToolResult::text(format!(
                "{label}: action={}, content={}",
                v["action"].as_str().unwrap_or(""),
                v.get("content").cloned().unwrap_or(json!({}))
            )),
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
            elicited("User response", ctx.elicit(message, schema))
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
            elicited("Elicitation completed", ctx.elicit("Please review and update the form fields with defaults", schema))
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
            elicited("Elicitation completed", ctx.elicit("Please select options from the enum fields", schema))
        }),
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
                let id = vars.get("id").ok_or(ResourceError::NotFound)?;
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
        .complete(|_, _, prefix, _| {
            ["1", "2", "123"]
                .iter()
                .filter(|v| v.starts_with(prefix))
                .map(|v| v.to_string())
                .collect()
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
                let get = |k: &str| args.get(k).cloned().unwrap_or_default();
                Ok(vec![PromptMessage::user(Content::text(format!(
                    "Prompt with arguments: arg1='{}', arg2='{}'",
                    get("arg1"),
                    get("arg2")
                )))])
            },
        )
        .argument("arg1", "First test argument", true)
        .argument("arg2", "Second test argument", true)
        .complete(|_, _, prefix, _| {
            ["paris", "park", "test", "testValue1"]
                .iter()
                .filter(|v| v.starts_with(prefix))
                .map(|v| v.to_string())
                .collect()
        }),
    )
    .prompt(
        Prompt::new(
            "test_prompt_with_embedded_resource",
            "A prompt that embeds a resource",
            |_, args| {
                let uri = args.get("resourceUri").cloned().unwrap_or_default();
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

fn main() {
    let config = match parse_args(std::env::args_os().skip(1).collect()) {
        Ok(Cli::Run(c)) => *c,
        Ok(_) => return print!("{USAGE}"),
        Err(e) => {
            eprintln!("conformance: {e}");
            std::process::exit(2);
        }
    };
    let builder = prompts(resources(asking_tools(tools(ServerBuilder::new(config)))));
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
