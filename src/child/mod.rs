//! Child processes run safely: the hygiene of starting one ([`ChildSpec`]: exact environment,
//! own process group, limits, no new privileges, death with the server, another user) apart from
//! running one to completion under a deadline and an output cap ([`Supervisor::run`]), so that
//! long-lived children (a stdio gateway) can reuse the first without the second.
//!
//! Nothing here knows MCP or the config file: callers build the argv and the environment.
//! Layers inside, lowest first: `user` (account lookup), `setup` (the `pre_exec`, the library's
//! one `unsafe`), `spec`, `stop` and `output`, `run` (one child on the calling thread),
//! `supervisor` (all children of a server).

mod output;
mod run;
mod setup;
mod spec;
mod stop;
mod supervisor;
mod user;

#[cfg(test)]
mod tests;

pub use run::{Exit, Outcome, RunOptions};
pub use spec::{ChildSpec, Limits};
pub use stop::Stop;
pub use supervisor::Supervisor;
