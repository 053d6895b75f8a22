//! JSON-RPC 2.0 as MCP uses it: parsing what clients send and the shapes of what we answer.
//!
//! Parsing is strict about the envelope (MCP forbids `null` and fractional ids) but never about
//! unknown members, because later protocol revisions add fields we must pass over silently.

mod envelope;

use envelope::{Envelope, Raw, Text};
use serde::Serialize;
use serde_json::{Map, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;

/// A request id, kept exactly as the client sent it: `"7"` and `7` are different ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(serde_json::Number),
    String(String),
}

impl RequestId {
    /// Only strings and integers are ids in MCP; anything else makes the message invalid.
    pub(crate) fn from_value(v: &Value) -> Option<RequestId> {
        match v {
            Value::String(s) => Some(RequestId::String(s.clone())),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(RequestId::Number(n.clone())),
            _ => None,
        }
    }

    /// As [`RequestId::from_value`], keeping a string id without copying it.
    fn from_owned(v: Value) -> Option<RequestId> {
        match v {
            Value::String(s) => Some(RequestId::String(s)),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(RequestId::Number(n)),
            _ => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for RequestId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RequestId, D::Error> {
        let v = Value::deserialize(d)?;
        RequestId::from_value(&v)
            .ok_or_else(|| serde::de::Error::custom("must be a string or an integer"))
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// The longest string id (as written in JSON) a request may carry: every answer echoes its id,
/// so a longer one would let a client make an error answer as large as it likes.
pub const ID_LIMIT: usize = 256;
/// How much of a client's value [`quote`] keeps: enough to recognise it, short enough that the
/// sentence around it survives the cut of a whole message (`error::MESSAGE_LIMIT`).
pub const QUOTE_LIMIT: usize = 128;

/// Client text inside an error message, cut to [`QUOTE_LIMIT`] bytes with a marker saying how
/// much is missing. `{}` writes it bare and `{:?}` quoted, both exactly like the plain string when
/// it is short enough.
pub fn quote(s: &str) -> Quoted<'_> {
    let keep = prefix_len(s, QUOTE_LIMIT, char::len_utf8);
    Quoted {
        kept: &s[..keep],
        cut: s.len() - keep,
    }
}

/// See [`quote`].
#[derive(Clone, Copy)]
pub struct Quoted<'a> {
    kept: &'a str,
    cut: usize,
}

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kept)?;
        cut_marker(f, self.cut)
    }
}

impl std::fmt::Debug for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kept)?;
        cut_marker(f, self.cut)
    }
}

/// The one spelling of "`n` bytes were cut here", so a reader learns it once.
pub(crate) fn cut_marker(f: &mut impl std::fmt::Write, n: usize) -> std::fmt::Result {
    match n {
        0 => Ok(()),
        n => write!(f, "…[{n} bytes cut]"),
    }
}

/// Bytes `c` takes inside a JSON string as serde_json writes it: limits on what we write must
/// count escapes, or 512 control characters would be 3 KiB.
pub(crate) fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The length of the longest prefix of `s` that costs at most `budget`: a char boundary.
pub(crate) fn prefix_len(s: &str, budget: usize, cost: impl Fn(char) -> usize) -> usize {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += cost(c);
        if used > budget {
            return i;
        }
    }
    s.len()
}

/// A JSON-RPC error object. Every path that writes one goes through its `Serialize` (in `error`),
/// which bounds what it carries; the fields keep what the server built.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorObject {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl ErrorObject {
    pub fn new(code: i64, message: impl Into<String>) -> ErrorObject {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }
}

/// A client request (has an id and expects exactly one response).
#[derive(Debug, Clone)]
pub struct Request {
    pub id: RequestId,
    pub method: String,
    pub params: Map<String, Value>,
}

/// A client notification: never answered, not even with an error.
#[derive(Debug, Clone)]
pub struct Notification {
    pub method: String,
    pub params: Map<String, Value>,
}

/// One message received from a client.
#[derive(Debug, Clone)]
pub enum Incoming {
    Request(Request),
    Notification(Notification),
    /// A response to a server-initiated request (sampling, elicitation, ...).
    Response {
        id: RequestId,
        /// The `result`, or the `error` object.
        outcome: Result<Value, Value>,
    },
}

/// Why a body could not be turned into messages; carries the id when one could be read so the
/// error can echo it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub id: Option<RequestId>,
    pub error: ErrorObject,
}

impl Rejection {
    fn new(id: Option<RequestId>, code: i64, message: impl Into<String>) -> Rejection {
        Rejection {
            id,
            error: ErrorObject::new(code, message),
        }
    }

    pub fn to_response(&self) -> Response {
        Response::error(self.id.clone(), self.error.clone())
    }
}

/// A POST body: one message or (2025-03-26 only) a batch of them.
#[derive(Debug, Clone)]
pub enum Body {
    Single(Incoming),
    Batch(Vec<Incoming>),
}

/// Parses a raw HTTP body into JSON-RPC messages.
pub fn parse_body(bytes: &[u8]) -> Result<Body, Rejection> {
    let raw = envelope::read(bytes)
        .map_err(|e| Rejection::new(None, PARSE_ERROR, format!("Parse error: {e}")))?;
    match raw {
        Raw::Batch(items) => {
            if items.is_empty() {
                return Err(Rejection::new(
                    None,
                    INVALID_REQUEST,
                    "Invalid Request: empty batch",
                ));
            }
            // MCP schemas cannot express one null-id error per bad element, so a batch with any
            // invalid element is rejected as a whole (the SDKs do the same).
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let message = item.map_or_else(|| Err(not_an_object()), validate);
                out.push(message.map_err(|mut r| {
                    r.error.message = format!("{} (in batch)", r.error.message);
                    r.id = None;
                    r
                })?);
            }
            Ok(Body::Batch(out))
        }
        Raw::Message(env) => validate(env).map(Body::Single),
        Raw::NotObject => Err(not_an_object()),
    }
}

fn not_an_object() -> Rejection {
    Rejection::new(
        None,
        INVALID_REQUEST,
        "Invalid Request: a JSON-RPC message must be a JSON object",
    )
}

/// Validates one JSON value as a JSON-RPC 2.0 message (bodies are read by [`parse_body`] without
/// a `Value`; this is the same rules for a message already parsed).
#[cfg(test)]
pub(crate) fn parse_message(value: Value) -> Result<Incoming, Rejection> {
    let Value::Object(mut obj) = value else {
        return Err(not_an_object());
    };
    validate(Envelope {
        id: obj.remove("id"),
        version_ok: matches!(obj.get("jsonrpc"), Some(Value::String(v)) if v == "2.0"),
        method: obj.remove("method").map(|m| match m {
            Value::String(s) => Text::Str(s),
            _ => Text::NotStr,
        }),
        params: obj.remove("params"),
        result: obj.remove("result"),
        error: obj.remove("error"),
    })
}

/// The one set of envelope rules, whether the message came as bytes or as a `Value`.
fn validate(env: Envelope) -> Result<Incoming, Rejection> {
    let id = match env.id {
        None => None,
        Some(v) => match RequestId::from_owned(v) {
            Some(RequestId::String(s)) if s.chars().map(json_len).sum::<usize>() > ID_LIMIT => {
                return Err(Rejection::new(
                    None,
                    INVALID_REQUEST,
                    format!("Invalid Request: \"id\" is longer than {ID_LIMIT} bytes"),
                ));
            }
            Some(id) => Some(id),
            None => {
                return Err(Rejection::new(
                    None,
                    INVALID_REQUEST,
                    "Invalid Request: \"id\" must be a string or an integer (never null)",
                ));
            }
        },
    };
    if !env.version_ok {
        return Err(Rejection::new(
            id,
            INVALID_REQUEST,
            "Invalid Request: \"jsonrpc\" must be exactly \"2.0\"",
        ));
    }
    let method = match env.method {
        Some(Text::Str(m)) => m,
        Some(Text::NotStr) => {
            return Err(Rejection::new(
                id,
                INVALID_REQUEST,
                "Invalid Request: \"method\" must be a string",
            ));
        }
        // No method: it can only be a response to a request of ours.
        None => {
            return match (id, env.result, env.error) {
                (Some(id), Some(result), None) => Ok(Incoming::Response {
                    id,
                    outcome: Ok(result),
                }),
                (Some(id), None, Some(error)) => Ok(Incoming::Response {
                    id,
                    outcome: Err(error),
                }),
                (id, _, _) => Err(Rejection::new(
                    id,
                    INVALID_REQUEST,
                    "Invalid Request: missing \"method\"",
                )),
            };
        }
    };
    let params = match env.params {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p,
        Some(_) => {
            return Err(Rejection::new(
                id,
                INVALID_PARAMS,
                "Invalid params: \"params\" must be an object",
            ));
        }
    };
    Ok(match id {
        Some(id) => Incoming::Request(Request { id, method, params }),
        None => Incoming::Notification(Notification { method, params }),
    })
}

/// A response we send. `id` is omitted (never `null`) when the request's id could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

impl Response {
    pub fn result(id: RequestId, result: Value) -> Response {
        Response {
            jsonrpc: "2.0",
            id: Some(id),
            result: Some(result),
            error: None,
        }
    }

    pub fn error(id: Option<RequestId>, error: ErrorObject) -> Response {
        Response {
            jsonrpc: "2.0",
            id,
            result: None,
            error: Some(error),
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain data into a String cannot fail; fall back to a fixed error if the
        // impossible happens rather than panicking on a client path.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error: serialisation failed"}}"#
                .to_string()
        })
    }
}

/// A success response whose result is serialised straight from its own type (a tool's result
/// from its blocks), not from a `Value` built for the purpose: the same JSON as
/// `Response::result(id, value).to_json()` for the value that type would have built.
pub(crate) fn result_json(id: &RequestId, result: impl Serialize) -> String {
    #[derive(Serialize)]
    struct Answer<'a, R> {
        jsonrpc: &'static str,
        id: &'a RequestId,
        result: R,
    }
    let answer = Answer {
        jsonrpc: "2.0",
        id,
        result,
    };
    serde_json::to_string(&answer).unwrap_or_else(|_| {
        r#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error: serialisation failed"}}"#
            .to_string()
    })
}

/// The body of an HTTP refusal that is not an answer to any request (admission, overload,
/// shutdown): a JSON-RPC error without an id (omitted, never `null`).
pub fn refusal(code: i64, message: &str) -> String {
    Response::error(None, ErrorObject::new(code, message)).to_json()
}

/// A request we send to the client (sampling, elicitation, roots).
#[derive(Debug, Clone, Serialize)]
pub struct OutRequest<'a> {
    pub jsonrpc: &'static str,
    pub id: &'a RequestId,
    pub method: &'a str,
    pub params: &'a Value,
}

/// A notification we send to the client (progress, logs, list changes).
#[derive(Debug, Clone, Serialize)]
pub struct OutNotification {
    pub jsonrpc: &'static str,
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

#[cfg(test)]
mod tests;
