//! The one error type of handlers (tools, resources, templates, prompts, completers), and the one
//! place that decides what each kind of failure looks like on the wire.
//!
//! Handlers return `Result<_, Error>` so that `?` carries a failed client request, an I/O error or
//! a JSON error straight out of a handler. A tool's errors become `isError` results (the model
//! sees them and can correct itself, SEP-1303); every other handler's become JSON-RPC errors.

use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS};
use crate::protocol::Revision;
use serde_json::json;

/// Why a handler produced no result.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The arguments are wrong: -32602 with this text (a tool: an `isError` result).
    InvalidParams(String),
    /// What was asked for does not exist. For a resource: -32002 with `data.uri` (-32602 from
    /// revision 2026-07-28); for a prompt: -32602.
    NotFound,
    /// The handler failed: -32603 with this text (a tool: an `isError` result).
    Failed(String),
    /// A request to the client (sampling, elicitation, roots) brought no answer.
    Client(ClientRequestError),
    /// I/O failed (a file, a socket, a child process); reported like [`Error::Failed`].
    Io(std::io::Error),
    /// JSON could not be read or written; reported like [`Error::Failed`].
    Json(serde_json::Error),
}

impl Error {
    /// The arguments are wrong (-32602).
    pub fn invalid_params(message: impl Into<String>) -> Error {
        Error::InvalidParams(message.into())
    }

    /// The handler failed (-32603).
    pub fn failed(message: impl Into<String>) -> Error {
        Error::Failed(message.into())
    }

    /// The JSON-RPC error for a failure of a handler serving `subject`.
    pub(crate) fn to_rpc(&self, subject: Subject<'_>) -> ErrorObject {
        match (self, subject) {
            (Error::InvalidParams(m), _) => invalid_params(m),
            (Error::NotFound, Subject::Resource { uri, rev }) => resource_not_found(rev, uri),
            (Error::NotFound, Subject::Prompt(name)) => unknown_prompt(name),
            (Error::NotFound, _) => invalid_params("not found"),
            (e, Subject::Resource { uri, .. }) => {
                ErrorObject::new(INTERNAL_ERROR, format!("Reading {uri} failed: {e}"))
            }
            (e, _) => ErrorObject::new(INTERNAL_ERROR, format!("Internal error: {e}")),
        }
    }
}

/// What a failed handler was serving: it decides how "not found" and failures are spelled.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    Resource { uri: &'a str, rev: Revision },
    Prompt(&'a str),
    Completion,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidParams(m) | Error::Failed(m) => f.write_str(m),
            Error::NotFound => f.write_str("not found"),
            Error::Client(e) => e.fmt(f),
            Error::Io(e) => e.fmt(f),
            Error::Json(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Client(e) => Some(e),
            Error::Io(e) => Some(e),
            Error::Json(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ClientRequestError> for Error {
    fn from(e: ClientRequestError) -> Error {
        Error::Client(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Json(e)
    }
}

/// -32602 with the protocol's "Invalid params: " prefix.
pub(crate) fn invalid_params(why: impl std::fmt::Display) -> ErrorObject {
    ErrorObject::new(INVALID_PARAMS, format!("Invalid params: {why}"))
}

/// MCP's "resource not found" (2024-11-05 … 2025-11-25; 2026-07-28 uses -32602 with the same
/// `data.uri`).
pub const RESOURCE_NOT_FOUND: i64 = -32002;

/// "Resource not found" as revision `rev` spells it.
pub(crate) fn resource_not_found(rev: Revision, uri: &str) -> ErrorObject {
    ErrorObject {
        code: if rev.is_stateless() {
            INVALID_PARAMS
        } else {
            RESOURCE_NOT_FOUND
        },
        message: format!("Resource not found: {uri}"),
        data: Some(json!({ "uri": uri })),
    }
}

pub(crate) fn unknown_prompt(name: &str) -> ErrorObject {
    ErrorObject::new(INVALID_PARAMS, format!("Unknown prompt: {name}"))
}

/// A handler panicked: the client gets -32603, the server goes on.
pub(crate) fn panicked(what: &str) -> ErrorObject {
    ErrorObject::new(INTERNAL_ERROR, format!("Internal error: {what} failed"))
}

/// Why a request to the client (sampling, elicitation, roots) brought no result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientRequestError {
    /// The client did not declare this capability in `initialize`.
    NotSupported(&'static str),
    /// No answer within `--client-request-timeout-secs`.
    Timeout,
    /// The request being served was cancelled meanwhile.
    Cancelled,
    /// The session ended before the client answered.
    Closed,
    /// Revision 2026-07-28: the answer is not known yet. The request is answered with an
    /// `input_required` result whatever the handler returns, and runs again with the answer.
    InputRequired,
    /// The client's answer does not have the shape the request asked for (an elicitation whose
    /// content does not fit the requested type, say).
    InvalidAnswer(String),
    /// The client answered with a JSON-RPC error.
    Rejected {
        /// The error's code.
        code: i64,
        /// The error's message.
        message: String,
    },
}

impl std::fmt::Display for ClientRequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientRequestError::NotSupported(c) => {
                write!(f, "the client does not support {c}")
            }
            ClientRequestError::Timeout => f.write_str("the client did not answer in time"),
            ClientRequestError::Cancelled => f.write_str("the request was cancelled"),
            ClientRequestError::Closed => f.write_str("the session ended"),
            ClientRequestError::InputRequired => {
                f.write_str("input required: the client answers on the retried request")
            }
            ClientRequestError::InvalidAnswer(why) => {
                write!(f, "the client's answer is invalid: {why}")
            }
            ClientRequestError::Rejected { code, message } => {
                write!(f, "the client refused ({code}): {message}")
            }
        }
    }
}

impl std::error::Error for ClientRequestError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_one_code() {
        let r = |rev| Subject::Resource { uri: "x://a", rev };
        let v = Revision::V2025_11_25;
        assert_eq!(Error::NotFound.to_rpc(r(v)).code, RESOURCE_NOT_FOUND);
        assert_eq!(
            Error::NotFound.to_rpc(r(Revision::V2026_07_28)).code,
            INVALID_PARAMS
        );
        assert_eq!(
            Error::NotFound.to_rpc(Subject::Prompt("p")).code,
            INVALID_PARAMS
        );
        assert_eq!(
            Error::invalid_params("no")
                .to_rpc(Subject::Completion)
                .message,
            "Invalid params: no"
        );
        let io: Error = std::io::Error::other("disk").into();
        assert_eq!(io.to_rpc(r(v)).message, "Reading x://a failed: disk");
        let client: Error = ClientRequestError::Timeout.into();
        assert_eq!(client.to_rpc(Subject::Completion).code, INTERNAL_ERROR);
    }
}
