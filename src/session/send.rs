//! The one send path: whatever the transport, a message for a client goes through
//! [`Session::send`], and its [`Route`] alone decides whether it answers one HTTP exchange or
//! travels on the session's general channel.

use super::{Exchange, Session};
use crate::jsonrpc::RequestId;
use std::sync::Arc;

/// A message on its way to a client, serialised once and shared by every stream it goes to.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub json: Arc<str>,
    /// Set when the message is the response to this request id.
    pub answers: Option<RequestId>,
    /// The error code when the message is an error response (an exchange may map it to an HTTP
    /// status).
    pub error: Option<i64>,
}

impl Outgoing {
    /// The response to request `id`.
    pub fn answer(id: &RequestId, response: &crate::jsonrpc::Response) -> Outgoing {
        Outgoing {
            json: response.to_json().into(),
            answers: Some(id.clone()),
            error: response.error.as_ref().map(|e| e.code),
        }
    }

    /// A notification or a request of ours.
    pub fn message(json: Arc<str>) -> Outgoing {
        Outgoing {
            json,
            answers: None,
            error: None,
        }
    }
}

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

    /// The one send path.
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
