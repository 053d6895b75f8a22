//! The one send path: whatever the transport, a message for a client goes through
//! [`Session::send`], and its [`Route`] alone decides whether it answers one HTTP exchange or
//! travels on the session's general channel.

use super::exchange::Exchange;
use super::outgoing::Outgoing;
use super::state::Session;
use crate::jsonrpc::RequestId;
use std::sync::Arc;

/// Where a message should go.
#[derive(Clone)]
pub enum Route {
    /// The session's general streams, or its outbox while none is open.
    Session,
    /// One HTTP exchange.
    Exchange(Arc<dyn Exchange>),
}

impl Session {
    /// Says a request was cancelled on the route its answer would take.
    pub fn send_cancelled(&self, route: &Route, id: &RequestId) {
        if let Route::Exchange(x) = route {
            x.cancelled(id);
        }
    }

    /// The one send path; a message for the general channel takes the session's lock once, which
    /// is what orders it against attaches and replays.
    pub fn send(&self, route: &Route, msg: Outgoing) {
        match route {
            // An answer to an exchange whose client is gone is dropped: responses must never be
            // diverted to the session's general stream.
            Route::Exchange(x) => {
                if !x.deliver(&msg) {
                    log::debug!("session {}: exchange gone; message dropped", self.id);
                }
            }
            Route::Session => self.state().general.send(&self.id, msg.json),
        }
    }
}
