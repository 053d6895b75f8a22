//! A response that takes over its connection: the connection thread hands it the socket and
//! becomes its writer until it ends, so a long-lived response (an event stream) costs no thread
//! of its own and the HTTP layer needs to know nothing of what is written.

use std::net::TcpStream;

/// A response that writes its own head and body on the connection's thread.
pub(crate) trait Handover: Send + 'static {
    /// Writes the whole response on `socket`, with HTTP/1.1 chunked framing when `chunked` (an
    /// HTTP/1.0 client gets the raw body, and the end of the response is the end of the
    /// connection). True when it ended cleanly and the connection may carry another request.
    fn run(self: Box<Self>, socket: &TcpStream, chunked: bool) -> bool;
}
