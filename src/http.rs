//! HTTP plumbing on top of tiny_http: headers, query strings, request bodies, plain responses.

use crate::jsonrpc::{ErrorObject, RequestId, Response as RpcResponse};
use std::time::{Duration, Instant};
use tiny_http::{Header, Request, Response};

/// tiny_http drains an unread request body when the request is dropped, allocating a buffer the
/// size of what is left. For a declared length beyond this we must not let that happen (a huge
/// `Content-Length` would abort the process), so such a connection is abandoned instead.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Bodies up to this size were already read by tiny_http's connection thread; larger or chunked
/// bodies are read on demand and may be slow.
pub const PREREAD_LIMIT: usize = 1024;

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().trim())
}

pub fn path(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or("")
}

/// The value of `key` in the query string, percent-decoded.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A complete (non-streaming) HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json(status: u16, body: String) -> Reply {
        Reply::new(status)
            .header("Content-Type", "application/json")
            .body(body.into_bytes())
    }

    /// An HTTP error whose body is a JSON-RPC error (id omitted when unknown, never `null`).
    pub fn rpc_error(status: u16, id: Option<RequestId>, code: i64, message: &str) -> Reply {
        let r = RpcResponse::error(id, ErrorObject::new(code, message));
        Reply::json(status, r.to_json())
    }

    pub fn header(mut self, k: impl Into<String>, v: impl Into<String>) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn headers(mut self, hs: &[(String, String)]) -> Reply {
        self.headers.extend_from_slice(hs);
        self
    }

    pub fn body(mut self, b: Vec<u8>) -> Reply {
        self.body = b;
        self
    }

    pub fn send(self, req: Request) {
        crate::metrics::METRICS.http(path(req.url()), req.method(), self.status);
        let mut resp = Response::from_data(self.body).with_status_code(self.status);
        for (k, v) in &self.headers {
            // Header values we build are ASCII; a value that is not (impossible today) is
            // skipped rather than aborting the answer.
            if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                resp.add_header(h);
            }
        }
        if let Err(e) = req.respond(resp) {
            log::debug!("could not write response: {e}");
        }
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Timeout,
    Io(std::io::Error),
}

/// Reads the whole body, refusing more than `max` bytes without reading them, and giving up when
/// the client takes longer than `timeout` overall.
pub fn read_body(req: &mut Request, max: usize, timeout: Duration) -> Result<Vec<u8>, BodyError> {
    if req.body_length().is_some_and(|n| n > max) {
        return Err(BodyError::TooLarge);
    }
    let start = Instant::now();
    let cap = req.body_length().unwrap_or(0).min(max);
    let mut out = Vec::with_capacity(cap);
    let mut buf = [0u8; 16 * 1024];
    let reader = req.as_reader();
    loop {
        let n = reader.read(&mut buf).map_err(BodyError::Io)?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > max {
            return Err(BodyError::TooLarge);
        }
        out.extend_from_slice(&buf[..n]);
        if start.elapsed() > timeout {
            return Err(BodyError::Timeout);
        }
    }
}

/// Answers 413 without reading the body.
pub fn reject_too_large(req: Request, max: usize, cors: &[(String, String)]) {
    let msg = format!("Request body too large: the limit is {max} bytes (--max-body-bytes)");
    if req.body_length().is_some_and(|n| n > DRAIN_LIMIT) {
        // Dropping this request would make tiny_http allocate and drain the declared length.
        // Answer through `upgrade`, which hands us the connection, and abandon it: the client
        // is told to close, and nothing is ever read from it again.
        log::warn!(
            "abandoning a connection that declared a {} byte body",
            req.body_length().unwrap_or(0)
        );
        let body = crate::jsonrpc::Response::error(
            None,
            ErrorObject::new(crate::jsonrpc::INVALID_REQUEST, msg),
        )
        .to_json();
        let mut resp = Response::from_data(body.into_bytes()).with_status_code(413);
        for (k, v) in cors
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("Content-Type", "application/json")])
        {
            if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                resp.add_header(h);
            }
        }
        let stream = req.upgrade("close", resp);
        std::mem::forget(stream);
        return;
    }
    Reply::rpc_error(413, None, crate::jsonrpc::INVALID_REQUEST, &msg)
        .header("Connection", "close")
        .headers(cors)
        .send(req);
}

/// The CORS answer for a request from `origin`, per `--cors-origin`.
pub fn cors_headers(origin: Option<&str>, allowed: &[String]) -> Vec<(String, String)> {
    let Some(origin) = origin else {
        return Vec::new();
    };
    let allow = if allowed.iter().any(|a| a == "*") {
        "*".to_string()
    } else if allowed.iter().any(|a| a == origin) {
        origin.to_string()
    } else {
        return Vec::new();
    };
    vec![
        ("Access-Control-Allow-Origin".into(), allow),
        (
            "Access-Control-Expose-Headers".into(),
            "Mcp-Session-Id".into(),
        ),
        ("Vary".into(), "Origin".into()),
    ]
}

/// Answer to an `OPTIONS` preflight.
pub fn preflight(cors: Vec<(String, String)>) -> Reply {
    Reply::new(204).headers(&cors).headers(&[
        (
            "Access-Control-Allow-Methods".into(),
            "GET, POST, DELETE, OPTIONS".into(),
        ),
        (
            "Access-Control-Allow-Headers".into(),
            "Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Authorization"
                .into(),
        ),
        ("Access-Control-Max-Age".into(), "86400".into()),
    ])
}

/// Whether the request's `Accept` admits any of `types`. A missing header, `*/*` and `type/*`
/// wildcards admit everything they cover: widely used clients send loose Accept headers.
pub fn accepts_any(req: &Request, types: &[&str]) -> bool {
    let Some(accept) = header(req, "Accept") else {
        return true;
    };
    accept.split(',').any(|item| {
        let mt = item
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        mt == "*/*"
            || types
                .iter()
                .any(|t| mt == *t || (mt.ends_with("/*") && t.starts_with(&mt[..mt.len() - 1])))
    })
}

/// Whether the body is declared as JSON (`application/json`, parameters allowed). `missing_ok`
/// decides for requests without a `Content-Type`.
pub fn is_json_body(req: &Request, missing_ok: bool) -> bool {
    match header(req, "Content-Type") {
        None => missing_ok,
        Some(ct) => ct
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query() {
        assert_eq!(
            query_param("/mcp?a=1&session_id=ab%2Dc&x", "session_id").as_deref(),
            Some("ab-c")
        );
        assert_eq!(
            query_param("/mcp?session_id=%zz", "session_id").as_deref(),
            Some("%zz")
        );
        assert_eq!(
            query_param("/mcp?session_id=%4", "session_id").as_deref(),
            Some("%4")
        );
        assert_eq!(query_param("/mcp", "session_id"), None);
        assert_eq!(path("/mcp?x=1"), "/mcp");
    }

    #[test]
    fn cors() {
        assert!(cors_headers(Some("http://a"), &[]).is_empty());
        let h = cors_headers(Some("http://a"), &["http://a".into()]);
        assert_eq!(h[0].1, "http://a");
        let h = cors_headers(Some("http://b"), &["*".into()]);
        assert_eq!(h[0].1, "*");
    }
}
