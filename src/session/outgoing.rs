//! A message on its way to a client. Its own file because both ends of the send path name it:
//! the [`Exchange`](super::Exchange) trait takes one, and the send path routes one.

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

    /// The successful response to request `id`, already serialised.
    pub fn answer_json(id: &RequestId, json: String) -> Outgoing {
        Outgoing {
            json: json.into(),
            answers: Some(id.clone()),
            error: None,
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
