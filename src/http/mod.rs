//! Our own small HTTP/1.1 server on `std::net` and `httparse`: bounded request heads and bodies,
//! keep-alive, one thread per connection that also writes that connection's SSE stream, and an
//! accept loop that survives every accept error. Plus the helpers transports use on requests.
//!
//! Why not a library: tiny_http 0.12 (the first choice) read request heads without a limit,
//! stopped accepting for good after one `accept()` error, needed a second thread per stream and
//! a periodic loopback connection to recover lost wake-ups (README, "Why not tiny_http").

mod body;
mod conn;
mod head;
mod input;
pub mod listener;
mod request;

pub use conn::Limits;
pub use listener::{Listener, ListenerStats, Service, StopHandle};
pub use request::{Method, Reply, Request, reason};

/// The path of a request target, without query or fragment.
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
    let Some(accept) = req.header("Accept") else {
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
    match req.header("Content-Type") {
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
