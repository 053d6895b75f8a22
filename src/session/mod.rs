//! Sessions and the one path by which every message reaches a client.
//!
//! Whatever the transport, a message for a client goes through [`Session::send`]. A session's
//! *general* streams (the seed's `/notifications`, the legacy `/sse`, the Streamable HTTP GET
//! stream) receive messages that are not tied to one HTTP exchange; while none is open they wait
//! in a bounded outbox and are delivered, in order, when a stream attaches. Messages that answer a
//! particular HTTP exchange (Streamable HTTP POSTs) go to that exchange instead.
//!
//! A session's state is split by job, one file each: what we know of the client (`client`), the
//! general channel (`general`), exchanges' streams (`exchange`), the client's running requests
//! (`requests`), our requests to the client (`client_requests`). The parts know nothing of the
//! session; `state` holds the session and its one lock over all parts, `api` and `send` its
//! operations on them, and `registry` who exists. Imports run one way, from the session down to
//! its parts: a part can be read and tested alone. This file only names what is public.

mod api;
mod client;
mod client_requests;
mod exchange;
mod general;
mod outgoing;
mod registry;
mod requests;
mod send;
mod state;

pub use client::StatelessClient;
pub use exchange::Exchange;
pub use general::GENERAL_STREAM;
pub use outgoing::Outgoing;
pub use registry::Sessions;
pub use send::Route;
pub use state::{Session, TransportKind};
