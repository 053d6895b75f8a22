#![warn(missing_docs)]
//! fastmcp-server: a small Model Context Protocol server over HTTP and Server-Sent Events,
//! built on blocking std threads and its own small HTTP/1.1 layer.
//!
//! A complete server — a typed tool, a tool that asks the user (a typed elicitation), a resource
//! and a typed prompt — served on Streamable HTTP, the legacy HTTP+SSE transport and the seed
//! transport at once (this example is also `examples/quickstart.rs`; as a doctest it binds a free
//! port, starts and stops):
//!
//! ```
//! use fastmcp_server::{Config, Content, Elicitation, JsonSchema, Prompt, PromptMessage};
//! use fastmcp_server::{Resource, ServerBuilder, Tool, ToolResult, schemars};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Greet {
//!     /// Who to greet
//!     name: String,
//! }
//!
//! /// The form the user fills in before a greeting goes out.
//! #[derive(Deserialize, JsonSchema)]
//! struct Confirm {
//!     /// Send it now?
//!     now: bool,
//! }
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Plan {
//!     /// Which day
//!     day: String,
//!     /// How the day should feel (optional)
//!     mood: Option<String>,
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let config = Config::default(); // localhost:8085
//! #   let config = Config { port: 0, ..config }; // the doctest takes any free port
//!     let server = ServerBuilder::new(config)
//!         .tool(Tool::typed("greet", "Greets someone", |_ctx, a: Greet| {
//!             Ok(ToolResult::text(format!("Hello, {}!", a.name)))
//!         }))
//!         .tool(Tool::typed("send", "Greets after asking the user", |ctx, a: Greet| {
//!             let question = format!("Send a greeting to {}?", a.name);
//!             Ok(match ctx.elicit::<Confirm>(&question)? {
//!                 Elicitation::Accept(Confirm { now: true }) => ToolResult::text("Sent."),
//!                 _ => ToolResult::text("Not sent."),
//!             })
//!         }))
//!         .resource(Resource::text("memo://today", "today", "text/plain", "Buy milk."))
//!         .prompt(
//!             Prompt::typed("plan", "Plans a day", |_ctx, a: Plan| {
//!                 let mood = a.mood.as_deref().unwrap_or("calm");
//!                 let text = format!("Plan a {mood} {} around the memo.", a.day);
//!                 Ok(vec![PromptMessage::user(Content::text(text))])
//!             })
//!             .complete(|_ctx, req| {
//!                 let days = ["today", "tomorrow"].into_iter();
//!                 Ok(days
//!                     .filter(|d| d.starts_with(&req.value))
//!                     .map(String::from)
//!                     .collect())
//!             }),
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
//! to talk back while the request runs ([`Context::log`], [`Context::progress`],
//! [`Context::elicit`]). Handlers return [`Error`] on failure, so `?` works on everything they
//! call. Tools that answer later or from another thread use [`Tool::deferred`] and its
//! [`Responder`]. A running server changes what it offers through a [`ServerHandle`].
//!
//! Argument types derive [`JsonSchema`]; with `use fastmcp_server::schemars;` in scope the derive
//! needs no `schemars` dependency of your own (only `fastmcp-server` and `serde`).

mod access;
mod cancellation;
mod child;
mod completion;
mod config;
mod content;
mod context;
mod decimal;
mod declared;
mod dispatch;
mod error;
mod features;
mod gateway;
mod http;
mod jsonrpc;
mod logging;
mod metrics;
mod mrtr;
mod ndjson;
mod oauth;
mod ops;
mod pagination;
mod params;
mod permits;
mod pool;
mod prompts;
mod protocol;
mod replay;
mod resources;
mod runtime;
mod schema;
mod security;
mod server;
mod session;
mod sse;
mod state_key;
mod stateless;
mod subscriptions;
mod timer;
mod tools;
mod transport;
mod trusted_file;

pub use child::{ChildSpec, Exit, Limits, Outcome, RunOptions, Stop, Supervisor};
pub use completion::CompletionRequest;
pub use config::{Config, TokenGrant, check_instance_id};
pub use content::{Annotations, Content, ResourceContents, Role};
pub use context::{Context, Elicitation};
pub use declared::watch::FileWatch;
pub use declared::{Catalog, GatewaySpec, LoadError, OAuthSpec};
pub use error::{ClientRequestError, Error};
pub use features::{Offer, ServerHandle};
pub use gateway::{GatewayConfig, ToolFilter};
pub use http::StopHandle;
pub use logging::LogLevel;
pub use mrtr::InputRequest;
pub use oauth::settings::{
    DEFAULT_OAUTH_ALGORITHMS, Introspection, OAuthSettings, read_secret_file,
};
pub use prompts::{Prompt, PromptArgument, PromptArguments, PromptMessage};
pub use protocol::Revision;
pub use resources::{Resource, ResourceTemplate};
pub use schema::schema_of;
/// The schema derive's crate: `use fastmcp_server::schemars;` lets `#[derive(JsonSchema)]` work
/// without a `schemars` dependency of your own.
pub use schemars;
pub use schemars::JsonSchema;
pub use server::{AccessHandle, Server, ServerBuilder, StdioEnd, StdioServer, StdioStop};
pub use state_key::StateKey;
pub use tools::builtin;
pub use tools::{Responder, Tool, ToolAnnotations, ToolRegistry, ToolResult};
