//! The one error type of handlers (tools, resources, templates, prompts, completers), and the one
//! place that decides what each kind of failure looks like on the wire.
//!
//! Handlers return `Result<_, Error>` so that `?` carries a failed client request, an I/O error or
//! a JSON error straight out of a handler. A tool's errors become `isError` results (the model
//! sees them and can correct itself, SEP-1303); every other handler's become JSON-RPC errors.

use crate::jsonrpc::{
    ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, cut_marker, json_len, prefix_len, quote,
};
use crate::protocol::Revision;
use serde::Serialize;
use serde_json::{Value, json};
use std::borrow::Cow;

/// An error answer is written with its message and its `data` cut to these many bytes (as written
/// in JSON, escapes counted), and every string in `data` to [`DATA_STRING_LIMIT`]; with ids
/// bounded by `jsonrpc::ID_LIMIT`, no error answer exceeds 2 KiB whatever a client sent. Applied
/// where every error object is written (its `Serialize`), so no call site, and none of serde's
/// messages quoting a value, can forget it.
pub const MESSAGE_LIMIT: usize = 512;
/// See [`MESSAGE_LIMIT`].
pub const DATA_STRING_LIMIT: usize = 256;
/// See [`MESSAGE_LIMIT`]: `data` still longer once its strings are cut is replaced by a string
/// saying how long it was.
pub const DATA_LIMIT: usize = 768;
/// A cut message keeps its end: it is usually the hint on what to do next.
const MESSAGE_TAIL: usize = 96;
/// Room for the marker of `jsonrpc::cut_marker` with any `usize`.
const MARKER_ROOM: usize = 40;

impl Serialize for ErrorObject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut o = s.serialize_struct("ErrorObject", 2 + usize::from(self.data.is_some()))?;
        o.serialize_field("code", &self.code)?;
        o.serialize_field("message", &cut(&self.message, MESSAGE_LIMIT, MESSAGE_TAIL))?;
        match &self.data {
            Some(data) => o.serialize_field("data", &bounded_data(data))?,
            None => o.skip_field("data")?,
        }
        o.end()
    }
}

/// `s` in at most `limit` bytes as written in JSON: its start and at most `tail` bytes of its end
/// around a marker saying how many bytes were cut. Borrowed, hence unchanged, when it fits.
fn cut(s: &str, limit: usize, tail: usize) -> Cow<'_, str> {
    if s.chars().map(json_len).sum::<usize>() <= limit {
        return Cow::Borrowed(s);
    }
    let room = limit.saturating_sub(MARKER_ROOM);
    let tail = tail.min(room);
    let (mut tail_start, mut tail_used) = (s.len(), 0);
    for (i, c) in s.char_indices().rev() {
        if tail_used + json_len(c) > tail {
            break;
        }
        tail_used += json_len(c);
        tail_start = i;
    }
    let head = prefix_len(&s[..tail_start], room - tail_used, json_len);
    let mut out = String::with_capacity(limit);
    out.push_str(&s[..head]);
    // Writing into a String cannot fail.
    let _ = cut_marker(&mut out, tail_start - head);
    out.push_str(&s[tail_start..]);
    Cow::Owned(out)
}

/// `data` with every string cut to [`DATA_STRING_LIMIT`], or a string saying how long it was if
/// it still exceeds [`DATA_LIMIT`]. Borrowed, hence unchanged, when nothing needed cutting.
fn bounded_data(data: &Value) -> Cow<'_, Value> {
    fn fits(v: &Value) -> bool {
        match v {
            Value::String(s) => matches!(cut(s, DATA_STRING_LIMIT, 0), Cow::Borrowed(_)),
            Value::Array(a) => a.iter().all(fits),
            Value::Object(o) => o.values().all(fits),
            _ => true,
        }
    }
    fn cut_all(v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Cow::Owned(c) = cut(s, DATA_STRING_LIMIT, 0) {
                    *s = c;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(cut_all),
            Value::Object(o) => o.values_mut().for_each(cut_all),
            _ => {}
        }
    }
    let data = if fits(data) {
        Cow::Borrowed(data)
    } else {
        let mut v = data.clone();
        cut_all(&mut v);
        Cow::Owned(v)
    };
    match written_len(&data) {
        n if n <= DATA_LIMIT => data,
        n => Cow::Owned(Value::String(format!("…[{n} bytes of data cut]"))),
    }
}

/// How many bytes `v` takes as JSON, without building the text.
fn written_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    // Writing a Value cannot fail; if it did, "too long" is the safe reading.
    match serde_json::to_writer(&mut n, v) {
        Ok(()) => n.0,
        Err(_) => usize::MAX,
    }
}

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
            (e, Subject::Resource { uri, .. }) => ErrorObject::new(
                INTERNAL_ERROR,
                format!("Reading {} failed: {e}", quote(uri)),
            ),
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
        message: format!("Resource not found: {}", quote(uri)),
        data: Some(json!({ "uri": uri })),
    }
}

pub(crate) fn unknown_prompt(name: &str) -> ErrorObject {
    ErrorObject::new(INVALID_PARAMS, format!("Unknown prompt: {}", quote(name)))
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

    fn written(e: &ErrorObject) -> String {
        serde_json::to_string(e).unwrap()
    }

    #[test]
    fn short_errors_are_written_unchanged() {
        let e = resource_not_found(Revision::V2025_11_25, "x://a");
        assert_eq!(
            written(&e),
            r#"{"code":-32002,"message":"Resource not found: x://a","data":{"uri":"x://a"}}"#
        );
        assert!(matches!(cut("abc", 3, 0), Cow::Borrowed("abc")));
        assert_eq!(
            written(&ErrorObject::new(-1, "m")),
            r#"{"code":-1,"message":"m"}"#
        );
    }

    #[test]
    fn cuts_count_escapes_and_keep_char_boundaries() {
        for unit in ["a", "é", "€", "😀", "\"", "\u{1}"] {
            let s = format!("start {} end", unit.repeat(5000));
            let c = cut(&s, MESSAGE_LIMIT, MESSAGE_TAIL);
            let json = serde_json::to_string(&*c).unwrap();
            assert!(json.len() - 2 <= MESSAGE_LIMIT, "{unit:?}: {}", json.len());
            assert!(c.starts_with("start ") && c.ends_with(" end"), "{c}");
            let n: usize = c
                .split("…[")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap();
            let marker = format!("…[{n} bytes cut]");
            assert_eq!(c.len() - marker.len() + n, s.len(), "{unit:?}");
        }
    }

    #[test]
    fn no_error_is_longer_than_its_bounds() {
        let huge = "u".repeat(3_000_000);
        let e = resource_not_found(Revision::V2025_11_25, &huge);
        let w = written(&e);
        assert!(w.len() < 1024, "{}", w.len());
        let v: Value = serde_json::from_str(&w).unwrap();
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .ends_with("…[2999872 bytes cut]")
        );
        assert!(v["data"]["uri"].as_str().unwrap().ends_with(" bytes cut]"));
        let mut e = ErrorObject::new(-32602, format!("Invalid params: {huge}"));
        e.data = Some(json!({"many": vec![&huge[..200]; 100]}));
        let w = written(&e);
        assert!(w.len() <= 64 + MESSAGE_LIMIT + DATA_LIMIT, "{}", w.len());
        assert!(w.contains("bytes of data cut"), "{w}");
    }
}
