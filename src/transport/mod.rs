//! The three HTTP transports, each a thin layer that turns HTTP exchanges into calls on the shared
//! core and picks the [`Route`](crate::session::Route) its answers take.

pub mod legacy;
pub mod seed;
pub mod streamable;

/// Per-request facts every transport needs.
pub struct Ctx {
    /// CORS headers to add to every answer of this request.
    pub cors: Vec<(String, String)>,
}
