//! Reading one request head: bounded in size (`--max-header-bytes`, `--max-url-bytes`) and in time
//! (`--header-timeout-secs` from its first byte), parsed by httparse.
//!
//! A head is only parsed once the buffer holds an empty line, so a client trickling one byte at a
//! time costs a scan of each byte once, not a re-parse of the whole head per byte.

use super::fields::Fields;
use super::input::{Input, ReadError};
use super::request::Method;
use std::time::{Duration, Instant};

/// More headers than this is an answer of 431; real clients send fewer than 20.
pub(crate) const MAX_HEADERS: usize = 64;

pub(crate) struct Head {
    pub method: Method,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub fields: Fields,
}

impl Head {
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.values(name)
    }

    /// Whether a comma-separated header (`Connection`, `Expect`) carries `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.values(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
    }

    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when asked to keep it.
    pub fn keep_alive(&self) -> bool {
        if self.minor == 0 {
            self.has_token("Connection", "keep-alive")
        } else {
            !self.has_token("Connection", "close")
        }
    }
}

/// Why no head was read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// The connection closed (or failed) between requests: the normal end of keep-alive.
    Closed,
    /// Nothing arrived within the idle timeout.
    Idle,
    /// A head was started but not finished within the header timeout (slowloris).
    Timeout,
    /// 431: the head is larger than `--max-header-bytes` or has too many fields.
    TooLarge,
    /// 414: the request target is longer than `--max-url-bytes`.
    UriTooLong,
    /// 505: not HTTP/1.x.
    Version,
    /// 400, with the reason.
    Bad(&'static str),
}

pub(crate) struct HeadLimits {
    pub max_bytes: usize,
    pub max_url: usize,
    pub idle: Duration,
    pub timeout: Duration,
}

/// Index just past the empty line that ends a head, searching from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            match buf.get(i + 1..) {
                Some([b'\n', ..]) => return Some(i + 2),
                Some([b'\r', b'\n', ..]) => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

pub(crate) fn read_head(input: &mut Input, l: &HeadLimits) -> Result<Head, HeadError> {
    let idle_deadline = Instant::now() + l.idle;
    let mut head_deadline: Option<Instant> = None;
    let mut scanned: usize = 0;
    loop {
        // Empty lines before a request line are allowed (RFC 9112 §2.2); some clients send a CRLF
        // after a body.
        let skip = input
            .buffered()
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if skip > 0 {
            input.consume(skip);
            scanned = 0;
        }
        let buf = input.buffered();
        if let Some(end) = head_end(buf, scanned.saturating_sub(2)) {
            let head = parse(&buf[..end], l)?;
            input.consume(end);
            return Ok(head);
        }
        scanned = buf.len();
        if !buf.contains(&b'\n') && buf.len() > l.max_url.saturating_add(32) {
            return Err(HeadError::UriTooLong);
        }
        if buf.len() >= l.max_bytes {
            return Err(HeadError::TooLarge);
        }
        let deadline = if buf.is_empty() {
            idle_deadline
        } else {
            *head_deadline.get_or_insert_with(|| Instant::now() + l.timeout)
        };
        let empty = buf.is_empty();
        match input.fill(deadline, l.max_bytes) {
            Ok(_) => {}
            Err(ReadError::Timeout) if empty && head_deadline.is_none() => {
                return Err(HeadError::Idle);
            }
            Err(ReadError::Timeout) => return Err(HeadError::Timeout),
            Err(ReadError::Full) => return Err(HeadError::TooLarge),
            Err(ReadError::Closed) => return Err(HeadError::Closed),
        }
    }
}

pub(super) fn parse(bytes: &[u8], l: &HeadLimits) -> Result<Head, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HeadError::Bad("incomplete request head")),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        // Also the HTTP/2 prior-knowledge preface (`PRI * HTTP/2.0`): httparse reports its
        // version, so it is answered 505 (pinned by a test), not 400.
        Err(httparse::Error::Version) => return Err(HeadError::Version),
        Err(_) => return Err(HeadError::Bad("malformed request head")),
    }
    let target = req.path.unwrap_or("");
    if target.len() > l.max_url {
        return Err(HeadError::UriTooLong);
    }
    let head = Head {
        method: Method::parse(req.method.unwrap_or("")),
        minor: req.version.unwrap_or(1),
        fields: Fields::parsed(bytes, target, req.headers),
    };
    // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host.
    let hosts = head.values("Host").count();
    if hosts > 1 || (hosts == 0 && head.minor == 1) {
        return Err(HeadError::Bad(
            "an HTTP/1.1 request needs exactly one Host header",
        ));
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> HeadLimits {
        HeadLimits {
            max_bytes: 1024,
            max_url: 100,
            idle: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn finds_the_end_of_a_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: a\r\n", 0), None);
    }

    #[test]
    fn parses_and_checks() {
        let h = parse(
            b"POST /mcp?x=1 HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, close\r\n\r\n",
            &limits(),
        )
        .unwrap();
        assert_eq!(h.method, Method::Post);
        assert_eq!(h.fields.target(), "/mcp?x=1");
        assert_eq!(
            h.fields.iter().collect::<Vec<_>>(),
            [("Host", "a"), ("Connection", "Keep-Alive, close")]
        );
        assert!(!h.keep_alive());
        // A value that is not UTF-8 keeps its place, its bad byte replaced; the others are intact.
        let h = parse(
            b"GET /a HTTP/1.1\r\nHost: a\r\nX-Name:  caf\xe9 \r\nAccept: */*\r\n\r\n",
            &limits(),
        )
        .unwrap();
        assert_eq!(h.fields.target(), "/a");
        assert_eq!(
            h.fields.iter().collect::<Vec<_>>(),
            [("Host", "a"), ("X-Name", "caf\u{fffd}"), ("Accept", "*/*")]
        );
        // UTF-8 in a value is kept as it is, trimmed of the white space around it.
        let h = parse(
            "GET /a HTTP/1.1\r\nHost: a\r\nX-Name: \t café ü \t\r\nX-Empty: \r\n\r\n".as_bytes(),
            &limits(),
        )
        .unwrap();
        assert_eq!(
            h.fields.iter().collect::<Vec<_>>(),
            [("Host", "a"), ("X-Name", "café ü"), ("X-Empty", "")]
        );
        let h = parse(b"GET / HTTP/1.0\r\n\r\n", &limits()).unwrap();
        assert!(!h.keep_alive());
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\n\r\n", &limits()),
            Err(HeadError::Bad(_))
        ));
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &limits()),
            Err(HeadError::Bad(_))
        ));
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(200));
        assert_eq!(
            parse(long.as_bytes(), &limits()).err(),
            Some(HeadError::UriTooLong)
        );
        assert_eq!(
            parse(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", &limits()).err(),
            Some(HeadError::Version)
        );
        // The HTTP/2 prior-knowledge preface is answered 505, not 400.
        assert_eq!(
            parse(b"PRI * HTTP/2.0\r\n\r\n", &limits()).err(),
            Some(HeadError::Version)
        );
        assert_eq!(
            parse(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", &limits()).err(),
            Some(HeadError::Version)
        );
        // A target of exactly `max_url` bytes is accepted; one more is 414.
        let exact = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(99));
        assert!(parse(exact.as_bytes(), &limits()).is_ok());
        let over = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(100));
        assert_eq!(
            parse(over.as_bytes(), &limits()).err(),
            Some(HeadError::UriTooLong)
        );
        let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        for i in 0..MAX_HEADERS {
            many.push_str(&format!("X-{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(
            parse(many.as_bytes(), &limits()).err(),
            Some(HeadError::TooLarge)
        );
        assert!(matches!(
            parse(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", &limits()),
            Err(HeadError::Bad(_))
        ));
    }
}
