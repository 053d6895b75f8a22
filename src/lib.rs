#![warn(missing_docs)]
//! fastmcp-server: a small Model Context Protocol server over HTTP and Server-Sent Events,
//! built on blocking std threads and its own small HTTP/1.1 layer (`http`).
//!
//! A complete server — a typed tool, a resource, a resource template and a prompt — served on
//! Streamable HTTP, the legacy HTTP+SSE transport and the seed transport at once (this example
//! is also `examples/quickstart.rs`; as a doctest it binds a free port, starts and stops):
//!
//! ```
//! use fastmcp_server::{Config, Content, JsonSchema, Prompt, PromptMessage, Resource};
//! use fastmcp_server::{ResourceContents, ResourceTemplate, ServerBuilder, Tool, ToolResult};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Greet {
//!     /// Who to greet
//!     name: String,
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let config = Config::default(); // localhost:8085
//! #   let config = Config { port: 0, ..config }; // the doctest takes any free port
//!     let server = ServerBuilder::new(config)
//!         .tool(Tool::typed("greet", "Greets someone", |_ctx, a: Greet| {
//!             ToolResult::text(format!("Hello, {}!", a.name))
//!         }))
//!         .resource(Resource::text("memo://today", "today", "text/plain", "Buy milk."))
//!         .resource_template(ResourceTemplate::new("memo://{day}", "memo", |_ctx, uri, vars| {
//!             let text = format!("Nothing planned on {}.", vars["day"]);
//!             Ok(vec![ResourceContents::text(uri, "text/plain", text)])
//!         }))
//!         .prompt(
//!             Prompt::new("plan", "Plans a day", |_ctx, args| {
//!                 let text = format!("Plan my {} around the memo.", args["day"]);
//!                 Ok(vec![PromptMessage::user(Content::text(text))])
//!             })
//!             .argument("day", "Which day", true),
//!         )
//!         .bind()?;
//!     println!("MCP server on http://{}/mcp", server.local_addr());
//! #   server.stop_handle().stop();
//!     server.run();
//!     Ok(())
//! }
//! ```
//!
//! Every handler gets a [`Context`]: the client's revision, info and capabilities, and the ways
//! to talk back while the request runs ([`Context::log`], [`Context::progress`]). Tools that
//! answer later or from another thread use [`Tool::new`] and its [`Responder`]. A running server
//! changes what it offers through a [`ServerHandle`]. A typed tool's argument type derives
//! `JsonSchema` from the `schemars` crate (add `schemars = "1"` and `serde` to your dependencies).

mod cancellation;
mod completion;
pub mod config;
mod content;
mod context;
mod dispatch;
pub mod http;
mod jsonrpc;
mod logging;
mod metrics;
mod mrtr;
mod ops;
mod pagination;
mod pool;
mod prompts;
mod protocol;
mod replay;
mod resources;
mod security;
pub mod server;
mod session;
mod sse;
mod stateless;
mod subscriptions;
mod timer;
mod tools;
mod transport;

pub use config::Config;
pub use content::{Annotations, Content, ResourceContents, Role};
pub use context::{ClientRequestError, Context};
pub use logging::LogLevel;
pub use mrtr::InputRequest;
pub use prompts::{Prompt, PromptArgument, PromptMessage};
pub use protocol::Revision;
pub use resources::{Resource, ResourceError, ResourceTemplate};
pub use schemars::JsonSchema;
pub use server::{Server, ServerBuilder, ServerHandle};
pub use tools::schema_of;
pub use tools::{Responder, Tool, ToolAnnotations, ToolRegistry, ToolResult};
