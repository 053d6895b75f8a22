//! The server: building and binding it (`builder`), the MCP side of the HTTP layer (`service`:
//! admission, queueing onto the worker pool, routing to transports), and its life until a
//! graceful shutdown (`lifecycle`), the same on stdin/stdout (`stdio`), and the handle that replaces its scoped tokens (`access`).

mod access;
mod activation;
mod builder;
mod lifecycle;
mod service;
mod stdio;

pub use access::AccessHandle;
pub use builder::ServerBuilder;
pub use lifecycle::Server;
pub use stdio::{End as StdioEnd, StdioServer, StdioStop};
