//! Soak test for `scripts/soak.sh` (std threads, loopback only, bounded in time): many sessions
//! make random calls, cut their streams at random and resume them with `Last-Event-ID`. Checks
//! that every request got exactly one response, that no event arrived twice, and that progress
//! never went backwards. Prints one summary line; exits non-zero on any violation.
//!
//! Usage: soak ADDR SESSIONS SECS [SEED]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static RESPONSES: AtomicU64 = AtomicU64::new(0);
static RESUMES: AtomicU64 = AtomicU64::new(0);
static VIOLATIONS: AtomicU64 = AtomicU64::new(0);

/// xorshift64*: reproducible randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn violation(what: String) {
    VIOLATIONS.fetch_add(1, Ordering::Relaxed);
    eprintln!("VIOLATION {what}");
}

/// One HTTP response being read as an event stream (chunked) or a plain body.
struct Stream {
    r: BufReader<TcpStream>,
    w: TcpStream,
    buf: String,
}

impl Stream {
    fn open(
        addr: &str,
        head: &str,
        body: &str,
    ) -> std::io::Result<(u16, HashMap<String, String>, Stream)> {
        let w = TcpStream::connect(addr)?;
        w.set_read_timeout(Some(Duration::from_secs(10)))?;
        w.set_nodelay(true)?;
        let mut req = format!(
            "{head}Host: localhost\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        req.push_str(body);
        (&w).write_all(req.as_bytes())?;
        let mut r = BufReader::new(w.try_clone()?);
        let mut line = String::new();
        r.read_line(&mut line)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut headers = HashMap::new();
        loop {
            let mut l = String::new();
            if r.read_line(&mut l)? == 0 || l.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        Ok((
            status,
            headers,
            Stream {
                r,
                w,
                buf: String::new(),
            },
        ))
    }

    /// The next event with data: (id, data); None when the stream ends.
    fn next(&mut self) -> Option<(Option<String>, String)> {
        loop {
            if let Some(pos) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..pos + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for l in block.lines() {
                    if let Some(v) = l.strip_prefix("id: ") {
                        id = Some(v.to_string());
                    } else if let Some(v) = l.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                // A priming event has an id and no data: it counts (it is resumable).
                if !data.is_empty() || id.is_some() {
                    return Some((id, data));
                }
                continue;
            }
            let mut size = String::new();
            if self.r.read_line(&mut size).ok()? == 0 {
                return None;
            }
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 {
                return None;
            }
            let mut chunk = vec![0; n + 2];
            self.r.read_exact(&mut chunk).ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    }

    fn cut(self) {
        let _ = self.w.shutdown(std::net::Shutdown::Both);
    }
}

fn post(
    addr: &str,
    path: &str,
    extra: &str,
    body: &str,
) -> std::io::Result<(u16, HashMap<String, String>, String)> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\n{extra}"
    );
    let (status, headers, mut s) = Stream::open(addr, &head, body)?;
    let mut rest = String::new();
    let _ = s.r.read_to_string(&mut rest);
    Ok((status, headers, rest))
}

/// A seed session: one stream, answers arrive on it; it is cut at random and resumed.
fn seed(addr: &str, deadline: Instant, rng: &mut Rng) -> std::io::Result<()> {
    let open = |last: Option<&str>, sid: Option<&str>| {
        let path = sid.map_or("/notifications".to_string(), |s| {
            format!("/notifications?session_id={s}")
        });
        let extra = last
            .map(|l| format!("Last-Event-ID: {l}\r\n"))
            .unwrap_or_default();
        Stream::open(addr, &format!("GET {path} HTTP/1.1\r\n{extra}"), "")
    };
    let (_, _, mut stream) = open(None, None)?;
    let greeting = stream
        .next()
        .ok_or_else(|| std::io::Error::other("no greeting"))?
        .1;
    let sid = greeting
        .trim_start_matches("Connected to session ")
        .to_string();
    let mut seen_events: HashSet<String> = HashSet::new();
    let mut answered: HashMap<u64, u32> = HashMap::new();
    let mut last_id: Option<String> = None;
    let path = format!("/mcp?session_id={sid}");
    post(
        addr,
        &path,
        "",
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"soak","version":"1"}}}"#,
    )?;
    let mut want: Vec<u64> = vec![0];
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    let mut id = 0;
    while Instant::now() < deadline || !want.is_empty() {
        if want.is_empty() {
            id += 1;
            let body = if rng.chance(30) {
                format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"method":"sleep","params":{{"seconds":0.{}}}}}"#,
                    rng.next() % 4
                )
            } else {
                format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"method":"echo","params":{{"message":"m{id}"}}}}"#
                )
            };
            REQUESTS.fetch_add(1, Ordering::Relaxed);
            post(addr, &path, "", &body)?;
            want.push(id);
        }
        if rng.chance(15) {
            stream.cut();
            RESUMES.fetch_add(1, Ordering::Relaxed);
            let (status, _, s) = open(last_id.as_deref(), Some(&sid))?;
            if status != 200 {
                violation(format!("seed resume answered {status}"));
            }
            stream = s;
            stream.next(); // the greeting
        }
        let Some((eid, data)) = stream.next() else {
            violation(format!("seed stream of {sid} ended"));
            return Ok(());
        };
        if let Some(e) = &eid {
            if !seen_events.insert(e.clone()) {
                violation(format!("seed event {e} twice"));
            }
            last_id = Some(e.clone());
        }
        if data.is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
        if let Some(n) = v.get("id").and_then(|i| i.as_u64()) {
            *answered.entry(n).or_default() += 1;
            RESPONSES.fetch_add(1, Ordering::Relaxed);
            want.retain(|w| *w != n);
        }
    }
    for (n, count) in answered {
        if count != 1 {
            violation(format!("seed request {n} answered {count} times"));
        }
    }
    Ok(())
}

/// A Streamable HTTP session: calls answered as SSE with progress, cut at random mid-stream and
/// resumed with GET + Last-Event-ID.
fn streamable(addr: &str, deadline: Instant, rng: &mut Rng) -> std::io::Result<()> {
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"soak","version":"1"}}}"#;
    let (_, headers, _) = post(addr, "/mcp", "", init)?;
    let sid = headers.get("mcp-session-id").cloned().unwrap_or_default();
    let session = format!("Mcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-11-25\r\n");
    let mut id = 0u64;
    while Instant::now() < deadline {
        id += 1;
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"sleep","arguments":{{"seconds":0.{}}},"_meta":{{"progressToken":{id}}}}}}}"#,
            2 + rng.next() % 5
        );
        let head = format!(
            "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{session}"
        );
        let (status, _, mut stream) = Stream::open(addr, &head, &body)?;
        if status != 200 {
            violation(format!("tools/call answered {status}"));
            continue;
        }
        let (mut last, mut progress, mut answers) = (None::<String>, -1.0f64, 0);
        let mut seen: HashSet<String> = HashSet::new();
        // After 1 to 3 events: a client that saw no event id has nothing to resume from.
        let mut cut_after = if rng.chance(40) {
            Some(1 + rng.next() % 3)
        } else {
            None
        };
        let mut events = 0;
        loop {
            if cut_after == Some(events) {
                cut_after = None;
                stream.cut();
                RESUMES.fetch_add(1, Ordering::Relaxed);
                let Some(l) = &last else {
                    violation("no event id to resume from".into());
                    break;
                };
                let head = format!(
                    "GET /mcp HTTP/1.1\r\nAccept: text/event-stream\r\nLast-Event-ID: {l}\r\n{session}"
                );
                let (status, _, s) = Stream::open(addr, &head, "")?;
                if status != 200 {
                    violation(format!("resume answered {status}"));
                    break;
                }
                stream = s;
            }
            let Some((eid, data)) = stream.next() else {
                break;
            };
            events += 1;
            if let Some(e) = &eid {
                if !seen.insert(e.clone()) {
                    violation(format!("event {e} twice"));
                }
                last = Some(e.clone());
            }
            if data.is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            if let Some(p) = v.pointer("/params/progress").and_then(|p| p.as_f64()) {
                if p <= progress {
                    violation(format!("progress {p} after {progress}"));
                }
                progress = p;
            } else if v.get("id").is_some() {
                answers += 1;
                RESPONSES.fetch_add(1, Ordering::Relaxed);
            }
        }
        if answers != 1 {
            violation(format!("request {id} of {sid} answered {answers} times"));
        }
    }
    Ok(())
}

fn seed_session(addr: &str, deadline: Instant, rng: &mut Rng) -> std::io::Result<()> {
    seed(addr, deadline, rng)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8085".into());
    let sessions: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(42);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..sessions)
        .map(|i| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(seed.wrapping_mul(2654435761).wrapping_add(i + 1) | 1);
                let r = if i % 2 == 0 {
                    seed_session(&addr, deadline, &mut rng)
                } else {
                    streamable(&addr, deadline, &mut rng)
                };
                if let Err(e) = r {
                    violation(format!("session {i}: {e}"));
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let (req, resp, res, v) = (
        REQUESTS.load(Ordering::Relaxed),
        RESPONSES.load(Ordering::Relaxed),
        RESUMES.load(Ordering::Relaxed),
        VIOLATIONS.load(Ordering::Relaxed),
    );
    println!(
        "soak sessions={sessions} secs={secs} requests={req} responses={resp} resumes={res} violations={v}"
    );
    std::process::exit(if v == 0 && req == resp { 0 } else { 1 });
}
