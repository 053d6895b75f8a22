//! The HTTP layer under hostile and unusual clients, over raw sockets against the real binary:
//! header bombs, slowloris, idle floods, connection and descriptor exhaustion, request smuggling,
//! keep-alive (including SSE answers), pipelining, `Expect: 100-continue`, HTTP/1.0, HEAD.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

/// A keep-alive client that reads responses off one connection.
struct Client {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
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

    fn post(&mut self, path: &str, extra: &str, body: &str) {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.send(req.as_bytes());
    }

    /// The next response (status, headers, body by Content-Length or chunks); None if the
    /// connection ended first.
    fn read(&mut self, head_only: bool) -> Option<Answer> {
        let mut line = String::new();
        if self.r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut l = String::new();
            if self.r.read_line(&mut l).ok()? == 0 {
                return None;
            }
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':')?;
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let mut a = Answer {
            status,
            headers,
            body: Vec::new(),
        };
        if head_only || status == 100 || status == 204 {
            return Some(a);
        }
        if a.header("Transfer-Encoding") == Some("chunked") {
            loop {
                let mut size = String::new();
                self.r.read_line(&mut size).ok()?;
                let n = usize::from_str_radix(size.trim(), 16).ok()?;
                let mut chunk = vec![0; n + 2];
                self.r.read_exact(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                a.body.extend_from_slice(&chunk[..n]);
            }
        } else if let Some(n) = a.header("Content-Length").and_then(|v| v.parse().ok()) {
            a.body = vec![0; n];
            self.r.read_exact(&mut a.body).ok()?;
        } else {
            self.r.read_to_end(&mut a.body).ok()?;
        }
        Some(a)
    }

    /// True when the server closed the connection (EOF or reset) within `within`.
    fn closed_within(&mut self, within: Duration) -> bool {
        self.w.set_read_timeout(Some(within)).unwrap();
        let mut buf = [0u8; 1024];
        loop {
            match self.r.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                }
            }
        }
    }
}

fn metric(addr: &str, name: &str) -> u64 {
    let text = request(addr, "GET", "/metrics", &[], "").body;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("metric {name} missing"))
}

fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

#[test]
fn endless_header_line_is_cut_at_the_limit_without_growing_memory() {
    let srv = Server::start(&[]);
    let before = srv.anon_kib();
    let mut c = Client::connect(&srv.addr);
    c.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Bomb: ");
    let mut w = c.w.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let bomber = std::thread::spawn(move || {
        let block = vec![b'a'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 64 * 1024 * 1024 {
            if w.write_all(&block).is_err() {
                break;
            }
            sent += block.len();
        }
        sent
    });
    let a = c.read(false).expect("an answer before the connection ends");
    assert_eq!(a.status, 431, "{}", a.text());
    assert!(a.text().contains("--max-header-bytes"), "{}", a.text());
    let sent = bomber.join().unwrap();
    assert!(
        sent < 16 * 1024 * 1024,
        "the server stopped reading early ({sent} bytes sent)"
    );
    let grown = srv.anon_kib().saturating_sub(before);
    assert!(grown < 1024, "RSS grew by {grown} KiB");
    assert_eq!(request(&srv.addr, "GET", "/health", &[], "").status, 200);
}

#[test]
fn too_many_fields_and_long_targets() {
    let srv = Server::start(&["--max-url-bytes", "100"]);
    let mut c = Client::connect(&srv.addr);
    let mut req = String::from("GET /health HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..70 {
        req.push_str(&format!("X-{i}: v\r\n"));
    }
    req.push_str("\r\n");
    c.send(req.as_bytes());
    assert_eq!(c.read(false).unwrap().status, 431);
    assert!(c.closed_within(Duration::from_secs(3)));

    let mut c = Client::connect(&srv.addr);
    c.send(
        format!(
            "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "a".repeat(200)
        )
        .as_bytes(),
    );
    let a = c.read(false).unwrap();
    assert_eq!(a.status, 414);
    assert!(a.text().contains("--max-url-bytes"));

    // A target that never ends is cut as soon as it is longer than the limit.
    let mut c = Client::connect(&srv.addr);
    c.send(format!("GET /{}", "b".repeat(1000)).as_bytes());
    assert_eq!(c.read(false).unwrap().status, 414);

    let mut c = Client::connect(&srv.addr);
    c.send(b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n");
    assert_eq!(c.read(false).unwrap().status, 505);
    let mut c = Client::connect(&srv.addr);
    c.send(b"GET / HTTP/1.1\r\n\r\n");
    let a = c.read(false).unwrap();
    assert_eq!(a.status, 400, "HTTP/1.1 without Host");
    let mut c = Client::connect(&srv.addr);
    c.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
    assert_eq!(c.read(false).unwrap().status, 400, "TLS to a plain port");
    assert!(metric(&srv.addr, "fastmcp_bad_requests_total") >= 6);
}

#[test]
fn slowloris_heads_are_cut_while_normal_calls_are_served() {
    let srv = Server::start(&["--header-timeout-secs", "1"]);
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(&srv.addr).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
                .unwrap();
            s
        })
        .collect();
    let start = Instant::now();
    // Trickle a header byte every 100 ms; the head never completes.
    let mut times = Vec::new();
    while start.elapsed() < Duration::from_millis(600) {
        for s in &mut slow {
            let _ = s.write_all(b"X");
        }
        let t = Instant::now();
        let r = request(&srv.addr, "GET", "/health", &[], "");
        times.push(t.elapsed());
        assert_eq!(r.status, 200);
        std::thread::sleep(Duration::from_millis(100));
    }
    times.sort();
    assert!(
        times[times.len() - 1] < Duration::from_millis(500),
        "normal calls stay fast: {times:?}"
    );
    for s in slow.iter_mut() {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut line = String::new();
        let _ = BufReader::new(&*s).read_line(&mut line);
        assert!(
            line.is_empty() || line.contains(" 408 "),
            "cut with 408 or closed: {line:?}"
        );
    }
    let cut_after = start.elapsed();
    assert!(cut_after < Duration::from_secs(4), "{cut_after:?}");
    assert!(metric(&srv.addr, "fastmcp_header_timeouts_total") >= 50);
}

#[test]
fn idle_connections_are_closed_and_threads_and_fds_return() {
    // No spare threads: every connection starts one, which makes the count exact.
    let srv = Server::start(&["--idle-timeout-secs", "1", "--spare-threads", "0"]);
    std::thread::sleep(Duration::from_millis(200));
    let (threads0, fds0) = (srv.threads(), srv.fds());
    let mut idle: Vec<Client> = (0..300).map(|_| Client::connect(&srv.addr)).collect();
    // A kept-alive connection that was used once counts as idle too.
    idle[0].send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(idle[0].read(false).unwrap().status, 200);
    assert!(
        wait_until(Duration::from_secs(5), || srv.threads() >= threads0 + 300),
        "one thread per connection: {} threads",
        srv.threads()
    );
    for c in &mut idle {
        assert!(
            c.closed_within(Duration::from_secs(5)),
            "closed by the server"
        );
    }
    assert!(
        wait_until(Duration::from_secs(5), || srv.threads() <= threads0
            && srv.fds() <= fds0),
        "back to baseline: threads {} (was {threads0}), fds {} (was {fds0})",
        srv.threads(),
        srv.fds()
    );
    assert!(metric(&srv.addr, "fastmcp_connections_idle_closed_total") >= 300);
}

/// Spare connection threads start with the server and serve the first connections; after a burst
/// the threads beyond them retire, and the spares stay (asleep: they wait with no timeout).
#[test]
fn spare_threads_are_ready_and_kept() {
    let base = Server::start(&["--spare-threads", "0"]);
    let srv = Server::start(&["--spare-threads", "5"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(srv.threads(), base.threads() + 5, "five spares waiting");
    let mut held: Vec<Client> = (0..20).map(|_| Client::connect(&srv.addr)).collect();
    for c in &mut held {
        c.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assert_eq!(c.read(false).unwrap().status, 200);
    }
    // All 20 open at once: the five spares and fifteen new threads.
    assert!(srv.threads() >= base.threads() + 20, "{}", srv.threads());
    drop(held);
    // Idle connection threads retire after 2 s; the five spares do not.
    assert!(
        wait_until(Duration::from_secs(6), || srv.threads()
            <= base.threads() + 5),
        "{} threads",
        srv.threads()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(srv.threads(), base.threads() + 5);
    let w0 = srv.wakeups();
    std::thread::sleep(Duration::from_secs(3));
    assert!(srv.wakeups() - w0 <= 2, "spares wait without waking");
}

#[test]
fn keep_alive_carries_json_and_sse_answers_on_one_connection() {
    for flags in [&[][..], &["--sse-responses"][..]] {
        let srv = Server::start(flags);
        let mut c = Client::connect(&srv.addr);
        c.post("/mcp", "", INIT);
        let a = c.read(false).unwrap();
        assert_eq!(a.status, 200, "{}", a.text());
        assert!(a.header("Connection").is_none(), "kept alive");
        let sid = a.header("Mcp-Session-Id").unwrap().to_string();
        let extra = format!("Mcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-06-18\r\n");
        c.post(
            "/mcp",
            &extra,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        );
        assert_eq!(c.read(false).unwrap().status, 202);
        for i in 0..5 {
            c.post(
                "/mcp",
                &extra,
                &format!(
                    r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"m{i}"}}}}}}"#
                ),
            );
            let a = c.read(false).unwrap();
            assert_eq!(a.status, 200);
            assert!(a.text().contains(&format!("\"m{i}\"")), "{}", a.text());
            if flags.is_empty() {
                assert_eq!(a.header("Content-Type"), Some("application/json"));
            } else {
                assert_eq!(a.header("Content-Type"), Some("text/event-stream"));
                assert_eq!(a.header("Transfer-Encoding"), Some("chunked"));
            }
        }
        assert_eq!(metric(&srv.addr, "fastmcp_connections_accepted_total"), 2);
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let srv = Server::start(&[]);
    let mut c = Client::connect(&srv.addr);
    c.send(
        b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n\r\nPOST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{oops",
    );
    assert_eq!(c.read(false).unwrap().status, 200);
    assert_eq!(c.read(false).unwrap().status, 404);
    let a = c.read(false).unwrap();
    assert_eq!(a.status, 400);
    assert!(a.text().contains("-32700"), "{}", a.text());
}

#[test]
fn request_smuggling_is_refused() {
    let srv = Server::start(&[]);
    let cases: [(&str, u16); 6] = [
        (
            "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        ("Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
        ("Content-Length: 4, 5\r\n\r\nabcde", 400),
        ("Content-Length: -1\r\n\r\n", 400),
        ("Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        (
            "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            400,
        ),
    ];
    for (rest, status) in cases {
        let mut c = Client::connect(&srv.addr);
        c.send(
            format!(
                "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{rest}"
            )
            .as_bytes(),
        );
        let a = c.read(false).unwrap();
        assert_eq!(a.status, status, "{rest:?}: {}", a.text());
        assert_eq!(a.header("Connection"), Some("close"), "{rest:?}");
        assert!(c.closed_within(Duration::from_secs(3)), "{rest:?}");
    }
    // Chunk data longer than its declared size.
    let mut c = Client::connect(&srv.addr);
    c.send(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n");
    assert_eq!(c.read(false).unwrap().status, 400);
}

#[test]
fn chunked_bodies_are_read_within_the_limit() {
    let srv = Server::start(&["--max-body-bytes", "1000"]);
    let mut c = Client::connect(&srv.addr);
    let (a, b) = INIT.split_at(40);
    c.send(format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\nX-Trailer: t\r\n\r\n", a.len(), b.len()).as_bytes());
    let r = c.read(false).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("Mcp-Session-Id").is_some());
    // Still usable afterwards.
    c.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(c.read(false).unwrap().status, 200);
    // Chunks adding up to more than the limit.
    let mut c = Client::connect(&srv.addr);
    let piece = "x".repeat(600);
    c.send(format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n{piece}\r\n258\r\n{piece}\r\n0\r\n\r\n").as_bytes());
    let r = c.read(false).unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
}

#[test]
fn expect_100_continue() {
    let srv = Server::start(&["--max-body-bytes", "1000"]);
    let mut c = Client::connect(&srv.addr);
    c.send(format!("POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n", INIT.len()).as_bytes());
    assert_eq!(c.read(false).unwrap().status, 100);
    c.send(INIT.as_bytes());
    assert_eq!(c.read(false).unwrap().status, 200);
    // Too large: refused at once, without the interim answer.
    let mut c = Client::connect(&srv.addr);
    c.send(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    assert_eq!(c.read(false).unwrap().status, 413);
}

#[test]
fn http_1_0_clients() {
    let srv = Server::start(&[]);
    let mut c = Client::connect(&srv.addr);
    c.send(b"GET /health HTTP/1.0\r\n\r\n");
    let a = c.read(false).unwrap();
    assert_eq!(a.status, 200);
    assert!(c.closed_within(Duration::from_secs(3)), "closed after one");
    let mut c = Client::connect(&srv.addr);
    c.send(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let a = c.read(false).unwrap();
    assert_eq!(a.header("Connection"), Some("keep-alive"));
    c.send(b"GET /health HTTP/1.0\r\n\r\n");
    assert_eq!(c.read(false).unwrap().status, 200, "a second request");
    // An event stream to an HTTP/1.0 client: raw events, no chunk framing.
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /notifications HTTP/1.0\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut text = String::new();
    while !text.contains("\n\n") || !text.contains("data:") {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap() == 0 {
            break;
        }
        text.push_str(&l.replace('\r', ""));
    }
    assert!(!text.contains("Transfer-Encoding"), "{text}");
    assert!(text.contains("\ndata: Connected to session "), "{text}");
}

#[test]
fn head_requests_get_no_body() {
    let srv = Server::start(&[]);
    let mut c = Client::connect(&srv.addr);
    c.send(b"HEAD /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let a = c.read(true).unwrap();
    assert_eq!(a.status, 405);
    assert!(a.header("Content-Length").is_some());
    c.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let a = c.read(false).unwrap();
    assert_eq!(a.status, 200, "no stray body bytes before the next answer");
}

#[test]
fn max_connections_refuses_extra_clients_without_a_thread() {
    let srv = Server::start(&["--max-connections", "100", "--spare-threads", "0"]);
    std::thread::sleep(Duration::from_millis(200));
    let threads0 = srv.threads();
    let held: Vec<Client> = (0..100).map(|_| Client::connect(&srv.addr)).collect();
    assert!(wait_until(Duration::from_secs(5), || srv.threads() >= threads0 + 100));
    let mut refused = 0;
    for _ in 0..200 {
        let mut c = Client::connect(&srv.addr);
        c.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
        if let Some(a) = c.read(false) {
            assert_eq!(a.status, 503, "{}", a.text());
            assert!(a.header("Retry-After").is_some());
            assert!(a.text().contains("--max-connections"));
            refused += 1;
        }
    }
    assert!(refused >= 190, "{refused} of 200 got 503");
    assert!(
        srv.threads() <= threads0 + 100,
        "no thread for a refused connection: {}",
        srv.threads()
    );
    drop(held);
    assert!(
        wait_until(Duration::from_secs(5), || request(
            &srv.addr,
            "GET",
            "/health",
            &[],
            ""
        )
        .status
            == 200),
        "healthy once the clients leave"
    );
    assert!(metric(&srv.addr, "fastmcp_connections_refused_total") >= 190);
}

#[test]
fn out_of_file_descriptors_the_server_keeps_accepting() {
    let srv = Server::start_with_fd_limit(128, &["--max-connections", "1000"]);
    let mut monitor = Client::connect(&srv.addr);
    monitor.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(monitor.read(false).unwrap().status, 200);
    let flood: Vec<Client> = (0..250).map(|_| Client::connect(&srv.addr)).collect();
    // The descriptors ran out on the way; those clients were answered 503 and closed rather
    // than left hanging.
    assert!(
        wait_until(Duration::from_secs(10), || metric_over(&mut monitor)
            .is_some_and(|(_, refused)| refused > 0)),
        "refusals counted"
    );
    monitor.send(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let h = monitor.read(false).unwrap();
    assert_eq!(h.status, 503, "degraded while accept() fails: {}", h.text());
    assert!(h.text().contains("\"degraded\""), "{}", h.text());
    assert!(h.text().contains("accept"), "{}", h.text());
    drop(flood);
    // After the flood, new clients are served again within a second.
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let r = request(&srv.addr, "GET", "/health", &[], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(metric(&srv.addr, "fastmcp_accept_errors_total") > 0);
}

/// (accept errors, refused) as the metrics report them, over an existing connection.
fn metric_over(c: &mut Client) -> Option<(u64, u64)> {
    c.send(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let text = c.read(false)?.text();
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
    };
    Some((
        get("fastmcp_accept_errors_total")?,
        get("fastmcp_connections_refused_total")?,
    ))
}

/// No polling: with no client at all, the process sleeps. (tiny_http days: 26 wake-ups a second
/// from a 100 ms poll and a 200 ms loopback nudge.)
#[test]
fn an_idle_server_does_not_wake_up() {
    let srv = Server::start(&[]);
    std::thread::sleep(Duration::from_millis(500));
    let before = srv.wakeups();
    std::thread::sleep(Duration::from_secs(3));
    let woke = srv.wakeups() - before;
    assert!(woke <= 3, "{woke} wake-ups in 3 s idle");
}
