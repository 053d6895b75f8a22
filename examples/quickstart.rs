//! A complete small MCP server: a typed tool, a resource, a resource template and a prompt.
//! `cargo run --example quickstart`, then point an MCP client at the printed URL.
//! (The same code is the crate's front-page example, which the tests compile and run.)

use fastmcp_server::{Config, Content, JsonSchema, Prompt, PromptMessage, Resource};
use fastmcp_server::{ResourceContents, ResourceTemplate, ServerBuilder, Tool, ToolResult};
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct Greet {
    /// Who to greet
    name: String,
}

fn main() -> std::io::Result<()> {
    let server = ServerBuilder::new(Config::default())
        .tool(Tool::typed("greet", "Greets someone", |_ctx, a: Greet| {
            ToolResult::text(format!("Hello, {}!", a.name))
        }))
        .resource(Resource::text(
            "memo://today",
            "today",
            "text/plain",
            "Buy milk.",
        ))
        .resource_template(ResourceTemplate::new(
            "memo://{day}",
            "memo",
            |_ctx, uri, vars| {
                let text = format!("Nothing planned on {}.", vars["day"]);
                Ok(vec![ResourceContents::text(uri, "text/plain", text)])
            },
        ))
        .prompt(
            Prompt::new("plan", "Plans a day", |_ctx, args| {
                let text = format!("Plan my {} around the memo.", args["day"]);
                Ok(vec![PromptMessage::user(Content::text(text))])
            })
            .argument("day", "Which day", true),
        )
        .bind()?;
    println!("MCP server on http://{}/mcp", server.local_addr());
    server.run();
    Ok(())
}
