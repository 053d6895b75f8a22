//! Our own small HTTP/1.1 server on `std::net` and `httparse`: bounded request heads and bodies,
//! keep-alive, one thread per connection that also writes a response taking the connection over
//! (an event stream, see `Handover`), and an accept loop that survives every accept error. Plus
//! the helpers transports use on requests.
//!
//! Why not a library: tiny_http 0.12 (the first choice) read request heads without a limit,
//! stopped accepting for good after one `accept()` error, needed a second thread per stream and
//! a periodic loopback connection to recover lost wake-ups (README, "Why not tiny_http").

mod body;
mod conn;
mod fields;
mod handover;
mod head;
mod input;
pub mod listener;
mod request;
mod service;
mod target;

pub use conn::Limits;
pub(crate) use handover::Handover;
pub use listener::{Listener, StopHandle};
pub(crate) use request::Launch;
pub use request::{Method, Reply, Request};
pub use service::{ListenerStats, Service};
pub use target::query_param;

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
        let mt = item.split(';').next().unwrap_or("").trim_ascii();
        // Media types are ASCII-case-insensitive: compared as such, without a lowercased copy.
        // `type/*` covers every type starting with `type/`.
        let prefix = mt.strip_suffix('*').filter(|p| p.ends_with('/'));
        mt == "*/*"
            || types.iter().any(|t| {
                mt.eq_ignore_ascii_case(t)
                    || prefix.is_some_and(|p| {
                        t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p))
                    })
            })
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
            .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case("application/json")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors() {
        assert!(cors_headers(Some("http://a"), &[]).is_empty());
        let h = cors_headers(Some("http://a"), &["http://a".into()]);
        assert_eq!(h[0].1, "http://a");
        let h = cors_headers(Some("http://b"), &["*".into()]);
        assert_eq!(h[0].1, "*");
    }

    fn accepts(accept: Option<&str>, types: &[&str]) -> bool {
        let mut text = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        if let Some(a) = accept {
            text.push_str(&format!("Accept: {a}\r\n"));
        }
        text.push_str("\r\n");
        let limits = head::HeadLimits {
            max_bytes: 1024,
            max_url: 100,
            idle: std::time::Duration::from_secs(1),
            timeout: std::time::Duration::from_secs(1),
        };
        let h = head::parse(text.as_bytes(), &limits).unwrap();
        let req = Request {
            method: h.method,
            head: h.fields,
            body: Vec::new(),
            peer: None,
            answer: None,
        };
        accepts_any(&req, types)
    }

    #[test]
    fn accept_matching() {
        let json = &["application/json"][..];
        assert!(accepts(None, json));
        assert!(accepts(Some("application/json"), json));
        assert!(accepts(Some("Application/JSON; q=0.5"), json));
        assert!(accepts(Some("text/html, application/*"), json));
        assert!(accepts(Some("APPLICATION/*"), json));
        assert!(accepts(Some("*/*"), json));
        assert!(!accepts(Some("text/*"), json));
        assert!(!accepts(Some("application/jsonx"), json));
        assert!(!accepts(Some("text/event-stream"), json));
        assert!(!accepts(Some("application"), json));
        assert!(!accepts(Some("*"), json));
        assert!(accepts(
            Some("application/json, text/event-stream"),
            &["text/event-stream"]
        ));
    }
}
