//! The fixture server of the official MCP conformance suite (`scripts/conformance.sh`): every
//! tool, resource and prompt its server scenarios call, with their exact names and texts, built
//! only on the crate's public API, which is the proof that the API is complete. It is an example
//! rather than a profile of the binary, so the shipped binary carries none of it.
//!
//! Usage: conformance [the server's flags, e.g. --port 0]

use fastmcp_server::config::{Cli, USAGE, parse_args};
use fastmcp_server::{
    Content, Context, LogLevel, Prompt, PromptMessage, Resource, ResourceContents, ResourceError,
    ResourceTemplate, ServerBuilder, Tool, ToolResult,
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
    let builder = prompts(resources(tools(ServerBuilder::new(config))));
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
