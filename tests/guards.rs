//! Tests that guard the guards: each pins a limit or rule of the code that keeps hostile clients
//! out (`src/security.rs`, `src/http/head.rs`, `src/http/body.rs`) at its exact edge, so that
//! `scripts/mutants.sh` finds no change to that code that every test would let through. Raw
//! sockets against the real binary, as in `tests/http.rs`.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

/// The head of a JSON POST to /mcp, without its framing header.
const POST: &str = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json\r\n";

struct Client {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: &str) -> Client {
        let w = TcpStream::connect(addr).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        w.set_nodelay(true).unwrap();
        let r = BufReader::new(w.try_clone().unwrap());
        Client { w, r }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).expect("send");
    }

    /// The status of the next response, its body read by Content-Length (every answer here has
    /// one); None if the connection ended first.
    fn status(&mut self) -> Option<u16> {
        let mut line = String::new();
        if self.r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut length = 0usize;
        loop {
            let mut l = String::new();
            if self.r.read_line(&mut l).ok()? == 0 {
                return None;
            }
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("Content-Length")
            {
                length = v.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; length];
        self.r.read_exact(&mut body).ok()?;
        Some(status)
    }

    /// True when nothing arrives within `quiet` (the server is still waiting for more).
    fn silent_for(&mut self, quiet: Duration) -> bool {
        self.w.set_read_timeout(Some(quiet)).unwrap();
        let mut b = [0u8; 1];
        let silent = matches!(
            self.r.read(&mut b),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
        );
        self.w
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        silent
    }
}

/// One request on a fresh connection; the answer's status.
fn status_of(addr: &str, bytes: &[u8]) -> Option<u16> {
    let mut c = Client::connect(addr);
    c.send(bytes);
    c.status()
}

/// `initialize`, padded with trailing whitespace to exactly `len` bytes.
fn init_of(len: usize) -> String {
    assert!(len >= INIT.len());
    format!("{INIT}{}", " ".repeat(len - INIT.len()))
}

#[test]
fn token_guesses_differing_in_several_bytes_are_refused() {
    let dir = std::env::temp_dir().join(format!("fastmcp-guards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "ab\n").unwrap();
    let srv = Server::start(&["--auth-token-file", file.to_str().unwrap()]);
    let get = |auth: &str| request(&srv.addr, "GET", "/health", &[("Authorization", auth)], "");
    assert_eq!(get("Bearer ab").status, 200);
    // Same length, every byte present, two bytes differ: differences must not cancel out.
    for wrong in [
        "Bearer ba",
        "Bearer aa",
        "Bearer bb",
        "Bearer a",
        "Bearer abc",
    ] {
        assert_eq!(get(wrong).status, 401, "{wrong}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chunk_sizes_past_fifteen_hex_digits_are_400_with_memory_flat() {
    let srv = Server::start(&["--max-body-bytes", "1000"]);
    // `ffffffffffffffff` after a 1-byte chunk: added to the running total it would wrap past the
    // limit; it is refused as malformed before any of its data is buffered.
    let before = srv.anon_kib();
    let mut c = Client::connect(&srv.addr);
    c.send(
        format!("{POST}Transfer-Encoding: chunked\r\n\r\n1\r\n{{\r\nffffffffffffffff\r\n")
            .as_bytes(),
    );
    let mut w = c.w.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let flood = std::thread::spawn(move || {
        let block = vec![b'x'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 64 * 1024 * 1024 {
            if w.write_all(&block).is_err() {
                break;
            }
            sent += block.len();
        }
        sent
    });
    assert_eq!(c.status(), Some(400));
    let sent = flood.join().unwrap();
    assert!(
        sent < 16 * 1024 * 1024,
        "the server kept reading ({sent} bytes sent)"
    );
    let grown = srv.anon_kib().saturating_sub(before);
    assert!(grown < 1024, "RSS grew by {grown} KiB");

    // Sixteen digits are refused even when their value is small; fifteen are read.
    for size in ["0000000000000001", "ffffffffffffffff", "10000000000000000"] {
        let req =
            format!("{POST}Transfer-Encoding: chunked\r\n\r\n1\r\n{{\r\n{size}\r\n}}\r\n0\r\n\r\n");
        assert_eq!(status_of(&srv.addr, req.as_bytes()), Some(400), "{size}");
    }
    let (a, b) = INIT.split_at(40);
    let req = format!(
        "{POST}Transfer-Encoding: chunked\r\n\r\n{:015x}\r\n{a}\r\n{:015X}\r\n{b}\r\n000000000000000\r\n\r\n",
        a.len(),
        b.len()
    );
    assert_eq!(status_of(&srv.addr, req.as_bytes()), Some(200));
    assert_eq!(request(&srv.addr, "GET", "/health", &[], "").status, 200);
}

/// A chunked `initialize` followed by trailer lines of the given lengths (each with its CRLF).
fn with_trailers(lines: &[usize]) -> Vec<u8> {
    let mut req = format!(
        "{POST}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{INIT}\r\n0\r\n",
        INIT.len()
    );
    for (i, &len) in lines.iter().enumerate() {
        let name = if len >= 12 {
            format!("X-T{i}: ")
        } else {
            "X:".to_string()
        };
        req.push_str(&name);
        req.push_str(&"t".repeat(len - name.len() - 2));
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.into_bytes()
}

#[test]
fn trailer_section_is_capped_at_8_kib() {
    let srv = Server::start(&["--max-body-bytes", "1000"]);
    // Exactly 8 KiB of trailer fields (eight 1 KiB lines) is accepted.
    assert_eq!(status_of(&srv.addr, &with_trailers(&[1024; 8])), Some(200));
    // One byte more is refused.
    let mut over = vec![1024; 7];
    over.extend([1021, 4]);
    assert_eq!(status_of(&srv.addr, &with_trailers(&over)), Some(400));
    // Far more (many short lines) too, without reading to the end.
    assert_eq!(status_of(&srv.addr, &with_trailers(&[100; 200])), Some(400));
}

#[test]
fn bodies_of_exactly_the_limit_are_read_and_one_byte_more_is_413() {
    let srv = Server::start(&["--max-body-bytes", "1000"]);
    for (len, want) in [(1000, 200), (1001, 413)] {
        let body = init_of(len);
        let req = format!("{POST}Content-Length: {len}\r\n\r\n{body}");
        assert_eq!(
            status_of(&srv.addr, req.as_bytes()),
            Some(want),
            "Content-Length {len}"
        );
        let (a, b) = body.split_at(600);
        let req = format!(
            "{POST}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        );
        assert_eq!(
            status_of(&srv.addr, req.as_bytes()),
            Some(want),
            "chunked {len}"
        );
    }
}

#[test]
fn targets_of_exactly_the_limit_are_served_and_one_byte_more_is_414() {
    let srv = Server::start(&["--max-url-bytes", "100"]);
    let target = |len: usize| format!("/health?q={}", "a".repeat(len - "/health?q=".len()));
    let get = |t: &str| format!("GET {t} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(
        status_of(&srv.addr, get(&target(100)).as_bytes()),
        Some(200)
    );
    assert_eq!(
        status_of(&srv.addr, get(&target(101)).as_bytes()),
        Some(414)
    );

    // A request line with no end yet is cut once the buffer holds more than the limit plus 32
    // bytes (room for the method and version), not before.
    let mut c = Client::connect(&srv.addr);
    let line = format!("GET {}", target(128));
    assert_eq!(line.len(), 132);
    c.send(line.as_bytes());
    assert!(c.silent_for(Duration::from_millis(700)), "cut too early");
    c.send(b"a");
    assert_eq!(c.status(), Some(414));
}

#[test]
fn http2_preface_is_505() {
    let srv = Server::start(&[]);
    assert_eq!(
        status_of(&srv.addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        Some(505)
    );
}

#[test]
fn blank_lines_before_a_request_are_skipped() {
    let srv = Server::start(&[]);
    // RFC 9112 §2.2: empty lines before the request line are ignored, CRLF or bare LF.
    for lead in ["\r\n", "\r\n\r\n", "\n\n\n", "\r\n\n\r\n\r\n"] {
        let req = format!("{lead}GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assert_eq!(status_of(&srv.addr, req.as_bytes()), Some(200), "{lead:?}");
    }
    // Some clients send a CRLF after a body: the next request on the connection is still read.
    let mut c = Client::connect(&srv.addr);
    c.send(format!("{POST}Content-Length: {}\r\n\r\n{INIT}\r\n\r\n", INIT.len()).as_bytes());
    assert_eq!(c.status(), Some(200));
    c.send(b"\r\n\r\nGET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(c.status(), Some(200));
}

#[test]
fn foreign_hosts_and_origins_are_403() {
    let srv = Server::start(&["--allowed-host", "mcp.example.com"]);
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    let get = |h: &[(&str, &str)]| request(&srv.addr, "GET", "/health", h, "").status;
    let r = request(
        &srv.addr,
        "GET",
        "/health",
        &[("Host", "evil.example.com")],
        "",
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Host not allowed"), "{}", r.body);
    let r = request(
        &srv.addr,
        "GET",
        "/health",
        &[("Origin", "http://evil.example.com")],
        "",
    );
    assert_eq!(r.status, 403, "a foreign Origin alone");
    assert!(r.body.contains("Origin not allowed"), "{}", r.body);
    assert_eq!(get(&[("Origin", "null")]), 403);
    assert_eq!(get(&[("Host", "localhost.evil.com")]), 403);
    let local = format!("localhost:{port}");
    let origin = format!("http://localhost:{port}");
    assert_eq!(get(&[("Host", &local), ("Origin", &origin)]), 200);
    assert_eq!(get(&[("Host", "mcp.example.com:443")]), 200);
    assert_eq!(
        get(&[("Host", "[::1]:1"), ("Origin", "https://127.0.0.1")]),
        200
    );
}

#[test]
fn the_token_is_asked_for_everywhere_but_preflights() {
    let dir = std::env::temp_dir().join(format!("fastmcp-guards-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "s3cr3t\n").unwrap();
    let srv = Server::start(&["--auth-token-file", file.to_str().unwrap()]);
    let r = request(&srv.addr, "GET", "/health", &[], "");
    assert_eq!(r.status, 401);
    assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    for (auth, want) in [
        ("Bearer s3cr3t", 200),
        ("bearer s3cr3t", 200),
        ("Bearer  s3cr3t ", 200),
        ("Basic s3cr3t", 401),
        ("s3cr3t", 401),
        ("Bearer ", 401),
    ] {
        let r = request(&srv.addr, "GET", "/health", &[("Authorization", auth)], "");
        assert_eq!(r.status, want, "{auth:?}");
    }
    assert_eq!(request(&srv.addr, "OPTIONS", "/mcp", &[], "").status, 204);
    // A foreign Host is refused before the token is looked at.
    let r = request(
        &srv.addr,
        "GET",
        "/health",
        &[
            ("Host", "evil.example.com"),
            ("Authorization", "Bearer s3cr3t"),
        ],
        "",
    );
    assert_eq!(r.status, 403);
    let _ = std::fs::remove_dir_all(&dir);
}
