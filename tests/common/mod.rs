//! Test support: starts the real binary on a free port and talks raw HTTP/1.1 to it over
//! `std::net::TcpStream`, so tests see exactly the bytes a client sees.
#![allow(dead_code)]

pub mod declared;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every test server listens on a free loopback port.
const LOCAL: [&str; 4] = ["--host", "127.0.0.1", "--port", "0"];

/// The server binary, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Server::spawn(args, Stdio::null())
    }

    /// Starts the server with its log (stderr) written to `log`.
    pub fn start_logging(args: &[&str], log: &std::path::Path) -> Server {
        Server::spawn(
            args,
            Stdio::from(std::fs::File::create(log).expect("log file")),
        )
    }

    /// Starts the server with its open-file limit (soft and hard) set to `nofile`.
    pub fn start_with_fd_limit(nofile: u64, args: &[&str]) -> Server {
        let limit = format!("--nofile={nofile}:{nofile}");
        let mut all = vec![limit.as_str(), "--", env!("CARGO_BIN_EXE_fastmcp-server")];
        all.extend_from_slice(&LOCAL);
        all.extend_from_slice(args);
        Server::spawn_cmd("prlimit", &all, Stdio::null())
    }

    /// Starts `fastmcp-server gateway` (the subcommand comes first) with `args`, which end
    /// with `-- COMMAND...`; its log goes to `log` when given.
    pub fn start_gateway(args: &[&str], log: Option<&std::path::Path>) -> Server {
        let mut all = vec!["gateway"];
        all.extend_from_slice(&LOCAL);
        all.extend_from_slice(args);
        let stderr = log.map_or_else(Stdio::null, |p| {
            Stdio::from(std::fs::File::create(p).expect("log file"))
        });
        Server::spawn_cmd(env!("CARGO_BIN_EXE_fastmcp-server"), &all, stderr)
    }

    /// The pids of the server's child processes (over all its threads), from `/proc`.
    pub fn children(&self) -> Vec<u32> {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) else {
            return Vec::new();
        };
        let mut pids: Vec<u32> = tasks
            .filter_map(|t| t.ok())
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|s| {
                s.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect::<Vec<u32>>()
            })
            .collect();
        pids.sort_unstable();
        pids
    }

    fn spawn(args: &[&str], stderr: Stdio) -> Server {
        let mut all = LOCAL.to_vec();
        all.extend_from_slice(args);
        Server::spawn_cmd(env!("CARGO_BIN_EXE_fastmcp-server"), &all, stderr)
    }

    fn spawn_cmd(program: &str, args: &[&str], stderr: Stdio) -> Server {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("a line").expect("readable");
        let addr = first
            .split("http://")
            .nth(1)
            .expect("listening line names the address")
            .trim()
            .to_string();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (TERM, INT, ...).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Waits for the process to exit; its exit code, or None on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Threads of the server process.
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Open file descriptors of the server process.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Anonymous resident memory in KiB: what buffering costs, without the binary's code pages,
    /// which the first requests of a kind map in (tens of KiB at a time, by the kernel's
    /// fault-around) and which are not what a memory bound is about.
    pub fn anon_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("RssAnon")
    }

    /// Voluntary context switches of all the server's threads so far (each is a wake-up).
    pub fn wakeups(&self) -> u64 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) else {
            return 0;
        };
        tasks
            .filter_map(|t| t.ok())
            .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
            .filter_map(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
            .sum()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn write_request(
    s: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("Host")) {
        req.push_str("Host: localhost\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
}

fn read_head(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).expect("header");
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    (status, headers)
}

/// One complete request/response on a fresh connection.
pub fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut s = connect(addr);
    write_request(&mut s, method, path, headers, body.as_bytes());
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r);
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if find("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut d = Dechunker { r };
        while let Some(c) = d.next_chunk() {
            body.extend(c);
        }
    } else if let Some(n) = find("Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        r.read_exact(&mut body).expect("body");
    } else {
        let _ = r.read_to_end(&mut body);
    }
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub fn post_json(addr: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    request(addr, "POST", path, &h, body)
}

struct Dechunker {
    r: BufReader<TcpStream>,
}

impl Dechunker {
    /// The next chunk's bytes, or None at the end of the body, a timeout or a closed socket.
    fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let mut line = String::new();
        match self.r.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let size = usize::from_str_radix(line.trim(), 16).ok()?;
        if size == 0 {
            return None;
        }
        let mut buf = vec![0; size + 2];
        self.r.read_exact(&mut buf).ok()?;
        buf.truncate(size);
        Some(buf)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
    /// Comment lines (without the leading colon), for keepalive checks.
    pub comments: Vec<String>,
}

impl Event {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data not JSON ({e}): {:?}", self.data))
    }
}

/// An open SSE response being read event by event.
pub struct Sse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    d: Dechunker,
    buf: String,
    /// Raw write side, to drop the connection on purpose.
    sock: TcpStream,
}

impl Sse {
    pub fn open(addr: &str, path: &str, headers: &[(&str, &str)]) -> Sse {
        Sse::open_with(addr, "GET", path, headers, "")
    }

    pub fn open_with(
        addr: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Sse {
        let mut s = connect(addr);
        write_request(&mut s, method, path, headers, body.as_bytes());
        let sock = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let (status, headers) = read_head(&mut r);
        Sse {
            status,
            headers,
            d: Dechunker { r },
            buf: String::new(),
            sock,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_timeout(&self, t: Duration) {
        self.sock.set_read_timeout(Some(t)).unwrap();
    }

    /// The next event or comment block, waiting at most `timeout`.
    pub fn next_raw(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(pos) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..pos + 2).collect();
                let mut ev = Event::default();
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(c) = line.strip_prefix(':') {
                        ev.comments.push(c.trim().to_string());
                    } else if let Some((k, v)) = line.split_once(':') {
                        let v = v.strip_prefix(' ').unwrap_or(v);
                        match k {
                            "event" => ev.event = Some(v.to_string()),
                            "id" => ev.id = Some(v.to_string()),
                            "data" => data.push(v.to_string()),
                            _ => {}
                        }
                    } else if line == "data" {
                        data.push(String::new());
                    }
                }
                ev.data = data.join("\n");
                return Some(ev);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.set_timeout(left.max(Duration::from_millis(1)));
            let chunk = self.d.next_chunk()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event that carries data (keepalive comments skipped).
    pub fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let ev = self.next_raw(left)?;
            if !ev.data.is_empty() || ev.event.is_some() {
                return Some(ev);
            }
        }
    }

    /// The next JSON-RPC message on the stream.
    pub fn next_json(&mut self, timeout: Duration) -> Value {
        let ev = self
            .next_event(timeout)
            .expect("an event before the timeout");
        ev.json()
    }

    /// True once the server has ended the response (terminating chunk or closed socket).
    pub fn ended(&mut self, timeout: Duration) -> bool {
        self.set_timeout(timeout);
        loop {
            let mut line = String::new();
            match self.d.r.read_line(&mut line) {
                Ok(0) => return true,
                Ok(_) if line.trim() == "0" => return true,
                Ok(_) => {
                    // Skip a chunk's payload line-by-line; only the terminator matters here.
                }
                Err(_) => return false,
            }
        }
    }

    /// Drops the connection as a vanished client would.
    pub fn disconnect(self) {
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }
}

/// Opens a seed session: the stream and its session id (from the greeting event).
pub fn seed_session(addr: &str) -> (Sse, String) {
    let mut sse = Sse::open(addr, "/notifications", &[]);
    assert_eq!(sse.status, 200);
    let ev = sse.next_event(Duration::from_secs(5)).expect("greeting");
    let id = ev
        .data
        .strip_prefix("Connected to session ")
        .unwrap_or_else(|| panic!("unexpected greeting {:?}", ev.data))
        .to_string();
    (sse, id)
}

/// POSTs one JSON-RPC message to a seed session; asserts 202.
pub fn seed_post(addr: &str, sid: &str, body: &str) {
    let r = post_json(addr, &format!("/mcp?session_id={sid}"), &[], body);
    assert_eq!(r.status, 202, "{}", r.body);
}

pub fn seed_initialize(addr: &str, sse: &mut Sse, sid: &str) -> Value {
    seed_post(
        addr,
        sid,
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
    );
    let v = sse.next_json(Duration::from_secs(5));
    assert_eq!(v["id"], 0);
    v
}

pub const T: Duration = Duration::from_secs(5);

pub mod schema;
