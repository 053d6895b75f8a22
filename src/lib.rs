//! fastmcp-server: a small Model Context Protocol server over HTTP and Server-Sent Events,
//! built on blocking std threads and its own small HTTP/1.1 layer (`http`).
//!
//! ```no_run
//! use fastmcp_server::{Config, ServerBuilder, Tool, ToolResult};
//! use serde_json::json;
//!
//! let server = ServerBuilder::new(Config::default())
//!     .builtin_tools()
//!     .tool(Tool::sync("shout", "Upper-cases text", json!({"type": "object"}), |args| {
//!         let text = args.get("text").and_then(|t| t.as_str()).unwrap_or("");
//!         ToolResult::value(json!(text.to_uppercase()))
//!     }))
//!     .bind()
//!     .expect("bind");
//! server.run();
//! ```

pub mod config;
pub mod dispatch;
pub mod http;
pub mod jsonrpc;
pub mod metrics;
pub mod pool;
pub mod protocol;
pub mod security;
pub mod server;
pub mod session;
pub mod sse;
pub mod timer;
pub mod tools;
pub mod transport;

pub use config::Config;
pub use protocol::{Content, ToolResult};
pub use server::{Server, ServerBuilder};
pub use tools::{Responder, Tool, ToolRegistry};
