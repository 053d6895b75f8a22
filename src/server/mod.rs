//! The server: building and binding it (`builder`), the MCP side of the HTTP layer (`service`:
//! admission, queueing onto the worker pool, routing to transports), and its life until a
//! graceful shutdown (`lifecycle`).

mod builder;
mod lifecycle;
mod service;

pub use builder::ServerBuilder;
pub use lifecycle::Server;
