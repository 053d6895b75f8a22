//! Server-Sent Event streams.
//!
//! A stream is written by its connection's own thread (see `http::conn`): the handler that opens
//! it gets a [`StreamHandle`] to queue frames on, and the connection thread drains the bounded
//! queue, writing every event as one HTTP chunk in a single `write`, so an event reaches the
//! client the moment it is produced (and Nagle never splits an event). One watcher thread
//! (`sse::watch`) waits in `epoll` on the sockets of all open streams, so a client that closes or
//! resets its connection ends its stream at once, even when the stream has nothing to write.

mod budget;
mod direct;
mod frame;
mod handle;
mod watch;
mod writer;

pub use budget::StreamBudget;
pub use frame::{Frame, Msg};
pub use handle::{OpenError, Push, StreamHandle, Tail, detached, open};
pub use watch::PeerWatch;
pub use writer::{OnEnd, Refill, StreamSpec};
