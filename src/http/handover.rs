//! A response that takes over its connection: the connection thread hands it the socket and
//! becomes its writer until it ends, so a long-lived response (an event stream) costs no thread
//! of its own and the HTTP layer needs to know nothing of what is written.

use std::net::TcpStream;
use std::sync::Arc;

/// A response that writes its own head and body on the connection's thread.
pub(crate) trait Handover: Send + 'static {
    /// Writes the whole response on `socket`, with HTTP/1.1 chunked framing when `chunked` (an
    /// HTTP/1.0 client gets the raw body, and the end of the response is the end of the
    /// connection). True when it ended cleanly and the connection may carry another request.
    /// Shared, so that what the response writes may also be written from other threads while
    /// its writer waits (see `sse::direct`).
    fn run(self: Box<Self>, socket: &Arc<TcpStream>, chunked: bool) -> bool;
}
