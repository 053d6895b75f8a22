//! Request bodies: how long one is (RFC 9112 §6.3, strictly, so that no front proxy and this
//! server can disagree about where a request ends), and reading it within `--max-body-bytes` and
//! `--body-timeout-secs`.

use super::head::Head;
use super::input::{Input, ReadError};
use std::time::Instant;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    None,
    Length(u64),
    Chunked,
}

/// A request whose length cannot be trusted: answered with this status and the connection closed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub u16, pub &'static str);

/// Decides how the body is delimited. Ambiguity is refused rather than guessed at: both
/// `Content-Length` and `Transfer-Encoding`, differing or malformed lengths, codings other than a
/// lone `chunked`.
pub(crate) fn framing(head: &Head) -> Result<Framing, Refusal> {
    // Iterators, not collected lists: this runs on every request.
    let codings = || {
        head.values("Transfer-Encoding")
            .flat_map(|v| v.split(','))
            .map(str::trim_ascii)
            .filter(|c| !c.is_empty())
    };
    let has_te = head.values("Transfer-Encoding").next().is_some();
    let mut lengths = head
        .values("Content-Length")
        .flat_map(|v| v.split(','))
        .map(str::trim_ascii);
    let first = lengths.next();
    if has_te {
        if first.is_some() {
            return Err(Refusal(
                400,
                "both Content-Length and Transfer-Encoding are present",
            ));
        }
        if head.minor == 0 {
            return Err(Refusal(
                400,
                "Transfer-Encoding is not defined for HTTP/1.0",
            ));
        }
        let last = codings().last();
        return match (codings().count(), last) {
            (1, Some(c)) if c.eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
            (_, Some(last)) if last.eq_ignore_ascii_case("chunked") => Err(Refusal(
                501,
                "only the chunked transfer coding is supported",
            )),
            _ => Err(Refusal(400, "the final transfer coding must be chunked")),
        };
    }
    let Some(first) = first else {
        return Ok(Framing::None);
    };
    if lengths.any(|l| l != first) {
        return Err(Refusal(400, "conflicting Content-Length values"));
    }
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal(400, "Content-Length is not a number"));
    }
    // Longer than u64: certainly over any body limit.
    Ok(Framing::Length(first.parse().unwrap_or(u64::MAX)))
}

#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge,
    Timeout,
    Bad(&'static str),
    Closed,
}

impl From<ReadError> for BodyError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Timeout => BodyError::Timeout,
            ReadError::Closed => BodyError::Closed,
            ReadError::Full => BodyError::Bad("a chunk line is too long"),
        }
    }
}

/// Longest chunk-size line (size, extensions, CRLF) and trailer section accepted.
const MAX_CHUNK_LINE: usize = 1024;
const MAX_TRAILERS: usize = 8 * 1024;

pub(crate) fn read(
    input: &mut Input,
    framing: &Framing,
    max: usize,
    deadline: Instant,
) -> Result<Vec<u8>, BodyError> {
    match framing {
        Framing::None => Ok(Vec::new()),
        Framing::Length(n) if *n > max as u64 => Err(BodyError::TooLarge),
        Framing::Length(n) => {
            // `n <= max` here, so it fits a usize; refuse rather than truncate if it ever did not.
            let n = usize::try_from(*n).map_err(|_| BodyError::TooLarge)?;
            let mut out = Vec::with_capacity(n);
            input.take_exact(&mut out, n, deadline)?;
            Ok(out)
        }
        Framing::Chunked => chunked(input, max, deadline),
    }
}

fn chunked(input: &mut Input, max: usize, deadline: Instant) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    loop {
        let n = input.line(deadline, MAX_CHUNK_LINE)?;
        let line = &input.buffered()[..n];
        let size_part = line.split(|&b| b == b';').next().unwrap_or(b"");
        let size_text = std::str::from_utf8(size_part)
            .map_err(|_| BodyError::Bad("bad chunk size"))?
            .trim_end_matches(['\r', '\n'])
            .trim_end_matches([' ', '\t']);
        // At most 15 hex digits (< 2^60): a size that could not be added to the running total is
        // malformed (400), whatever the limit. The total itself is also added with `checked_add`,
        // so no build profile can wrap it past `--max-body-bytes`.
        if size_text.is_empty()
            || size_text.len() > 15
            || !size_text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(BodyError::Bad("bad chunk size"));
        }
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| BodyError::Bad("bad chunk size"))?;
        input.consume(n);
        if size == 0 {
            // Trailer fields up to the empty line; read and ignored.
            let mut seen: usize = 0;
            loop {
                let n = input.line(deadline, MAX_CHUNK_LINE)?;
                let empty = matches!(&input.buffered()[..n], b"\r\n" | b"\n");
                input.consume(n);
                seen = seen
                    .checked_add(n)
                    .ok_or(BodyError::Bad("trailer section too large"))?;
                if empty {
                    return Ok(out);
                }
                if seen > MAX_TRAILERS {
                    return Err(BodyError::Bad("trailer section too large"));
                }
            }
        }
        // Checked: a total that does not fit a usize is over any limit, never a small number.
        if out.len().checked_add(size).is_none_or(|total| total > max) {
            return Err(BodyError::TooLarge);
        }
        input.take_exact(&mut out, size, deadline)?;
        let n = input.line(deadline, 2)?;
        let ok = matches!(&input.buffered()[..n], b"\r\n" | b"\n");
        input.consume(n);
        if !ok {
            return Err(BodyError::Bad("chunk data longer than its size"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::Method;

    fn head(headers: &[(&str, &str)], minor: u8) -> Head {
        Head {
            method: Method::Post,
            minor,
            fields: super::super::fields::Fields::from_parts(
                "/",
                headers.iter().map(|&(k, v)| (k, v.into())),
            ),
        }
    }

    /// A loopback connection whose client side has sent `bytes` (and stays open).
    fn input_with(bytes: &[u8]) -> (Input, std::net::TcpStream) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.write_all(bytes).unwrap();
        let (server, _) = listener.accept().unwrap();
        (Input::new(server), client)
    }

    #[test]
    fn read_refuses_a_length_over_the_limit_by_itself() {
        // The connection loop checks Content-Length first, but the reader must not rely on it:
        // a length over the limit is refused before a byte is awaited or memory reserved.
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        for n in [1001, u64::MAX] {
            let (mut input, _client) = input_with(b"");
            assert!(matches!(
                read(&mut input, &Framing::Length(n), 1000, deadline),
                Err(BodyError::TooLarge)
            ));
        }
        let (mut input, _client) = input_with(&[b'x'; 1000]);
        assert_eq!(
            read(&mut input, &Framing::Length(1000), 1000, deadline)
                .map(|b| b.len())
                .ok(),
            Some(1000)
        );
    }

    #[test]
    fn framing_rules() {
        assert_eq!(framing(&head(&[], 1)), Ok(Framing::None));
        assert_eq!(
            framing(&head(&[("Content-Length", "12")], 1)),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            framing(&head(
                &[("Content-Length", "12"), ("content-length", "12")],
                1
            )),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            framing(&head(&[("Content-Length", "99999999999999999999999")], 1)),
            Ok(Framing::Length(u64::MAX))
        );
        assert_eq!(
            framing(&head(&[("Transfer-Encoding", "Chunked")], 1)),
            Ok(Framing::Chunked)
        );
        for bad in [
            vec![("Content-Length", "12"), ("Content-Length", "13")],
            vec![("Content-Length", "12, 13")],
            vec![("Content-Length", "-1")],
            vec![("Content-Length", "+5")],
            vec![("Content-Length", "0x10")],
            vec![("Content-Length", "")],
            vec![("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
            vec![("Transfer-Encoding", "chunked, gzip")],
            vec![("Transfer-Encoding", "identity")],
        ] {
            assert_eq!(
                framing(&head(&bad, 1)).map_err(|r| r.0),
                Err(400),
                "{bad:?}"
            );
        }
        assert_eq!(
            framing(&head(&[("Transfer-Encoding", "gzip, chunked")], 1)).map_err(|r| r.0),
            Err(501)
        );
        assert_eq!(
            framing(&head(&[("Transfer-Encoding", "chunked")], 0)).map_err(|r| r.0),
            Err(400)
        );
    }
}
