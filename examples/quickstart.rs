//! A complete small MCP server: a typed tool, a tool that asks the user through a typed
//! elicitation, a resource and a typed prompt.
//! `cargo run --example quickstart`, then point an MCP client at the printed URL.
//! (The same code is the crate's front-page example, which the tests compile and run.)

use fastmcp_server::{Config, Content, Elicitation, JsonSchema, Prompt, PromptMessage};
use fastmcp_server::{Resource, ServerBuilder, Tool, ToolResult, schemars};
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct Greet {
    /// Who to greet
    name: String,
}

/// The form the user fills in before a greeting goes out.
#[derive(Deserialize, JsonSchema)]
struct Confirm {
    /// Send it now?
    now: bool,
}

#[derive(Deserialize, JsonSchema)]
struct Plan {
    /// Which day
    day: String,
    /// How the day should feel (optional)
    mood: Option<String>,
}

fn main() -> std::io::Result<()> {
    let config = Config::default(); // localhost:8085
    let server = ServerBuilder::new(config)
        .tool(Tool::typed("greet", "Greets someone", |_ctx, a: Greet| {
            Ok(ToolResult::text(format!("Hello, {}!", a.name)))
        }))
        .tool(Tool::typed(
            "send",
            "Greets after asking the user",
            |ctx, a: Greet| {
                let question = format!("Send a greeting to {}?", a.name);
                Ok(match ctx.elicit::<Confirm>(&question)? {
                    Elicitation::Accept(Confirm { now: true }) => ToolResult::text("Sent."),
                    _ => ToolResult::text("Not sent."),
                })
            },
        ))
        .resource(Resource::text(
            "memo://today",
            "today",
            "text/plain",
            "Buy milk.",
        ))
        .prompt(
            Prompt::typed("plan", "Plans a day", |_ctx, a: Plan| {
                let mood = a.mood.as_deref().unwrap_or("calm");
                let text = format!("Plan a {mood} {} around the memo.", a.day);
                Ok(vec![PromptMessage::user(Content::text(text))])
            })
            .complete(|_ctx, req| {
                let days = ["today", "tomorrow"].into_iter();
                Ok(days
                    .filter(|d| d.starts_with(&req.value))
                    .map(String::from)
                    .collect())
            }),
        )
        .bind()?;
    println!("MCP server on http://{}/mcp", server.local_addr());
    server.run();
    Ok(())
}
