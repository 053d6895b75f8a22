//! The three HTTP transports, each a thin layer that turns HTTP exchanges into calls on the shared
//! core and picks the [`Route`](crate::session::Route) its answers take. Handlers return an
//! `Outcome`; only the router writes refusals and immediate answers.

mod exchange;
mod general;
mod incoming;
mod legacy;
mod refusal;
mod router;
mod seed;
mod stateless;
pub mod stdio;
mod streamable;

pub use router::route;
