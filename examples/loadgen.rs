//! Load generator for `scripts/bench.sh` (std threads only). Every answer is verified: a wrong or
//! missing answer counts as an error, never as throughput.
//!
//! Modes:
//!   loadgen streamable ADDR CONNS SECS   tools/call echo over Streamable HTTP (JSON), keep-alive
//!   loadgen stateless ADDR CONNS SECS    the same as stateless 2026-07-28 requests (`_meta`,
//!                                        mirrored headers, no session)
//!   loadgen seed ADDR CONNS SECS         tools/call echo over the seed transport (202 + SSE);
//!                                        latency measured until the answer's SSE event is read
//!   loadgen bare ADDR CONNS SECS         the same POST against the bare tiny_http server
//!                                        (streamable also reads SSE answers: --sse-responses)
//!   loadgen burst ADDR N [any]           N fresh connections at once, each sends initialize;
//!                                        latency from connect to the answer (`any`: any 200)
//!   loadgen bomb ADDR                    one endless header line; bytes sent until cut, status
//!   loadgen slowloris ADDR N CALLS       N heads trickled a byte at a time while CALLS normal
//!                                        requests run; their p99 and when the N were cut
//!   loadgen idle ADDR N                  N connections that send nothing; time until all closed
//!   loadgen flood ADDR N                 N connections held for 2 s, then closed; how many got
//!                                        503, then the time until a new client is served
//!   loadgen sleeps ADDR N                N concurrent `sleep 1` calls; wall time until all answered
//!   loadgen hold ADDR N SECS             open N seed SSE streams, hold them SECS seconds
//!   loadgen coldstart BIN RUNS           start BIN (pinned to CPU 0 with taskset), time to the
//!                                        first answered initialize

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type R<T> = Result<T, String>;
/// Status, headers and body of a response.
type Answer = (u16, Vec<(String, String)>, String);

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(addr: &str) -> R<Conn> {
        let s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let w = s.try_clone().map_err(|e| e.to_string())?;
        Ok(Conn {
            r: BufReader::with_capacity(64 * 1024, s),
            w,
        })
    }

    fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> R<()> {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(k);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.w
            .write_all(req.as_bytes())
            .map_err(|e| format!("write: {e}"))
    }

    /// Reads a response, its body by Content-Length or chunks: (status, headers, body).
    fn response(&mut self) -> R<Answer> {
        let (status, headers) = self.head()?;
        if header(&headers, "Transfer-Encoding") == Some("chunked") {
            let mut body = String::new();
            loop {
                let c = self.chunk()?;
                if c.is_empty() {
                    return Ok((status, headers, body));
                }
                body.push_str(&c);
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.r
            .read_exact(&mut body)
            .map_err(|e| format!("body: {e}"))?;
        Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
    }

    fn head(&mut self) -> R<(u16, Vec<(String, String)>)> {
        let mut line = String::new();
        self.r
            .read_line(&mut line)
            .map_err(|e| format!("status: {e}"))?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(format!("bad status {line:?}"))?;
        let mut headers = Vec::new();
        loop {
            let mut l = String::new();
            self.r
                .read_line(&mut l)
                .map_err(|e| format!("header: {e}"))?;
            let l = l.trim_end();
            if l.is_empty() {
                return Ok((status, headers));
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
    }

    /// The next SSE chunk's text (chunked framing).
    fn chunk(&mut self) -> R<String> {
        let mut line = String::new();
        self.r
            .read_line(&mut line)
            .map_err(|e| format!("chunk: {e}"))?;
        let n = usize::from_str_radix(line.trim(), 16)
            .map_err(|_| format!("bad chunk size {line:?}"))?;
        let mut buf = vec![0; n + 2];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| format!("chunk body: {e}"))?;
        buf.truncate(n);
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Reads SSE chunks until one whose data contains `needle`.
    fn event_with(&mut self, needle: &str) -> R<String> {
        loop {
            let c = self.chunk()?;
            if c.contains(needle) {
                return Ok(c);
            }
        }
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

const JSON: (&str, &str) = ("Content-Type", "application/json");
const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");
const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"loadgen","version":"1"}}}"#;

fn echo_body(id: u64, msg: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{msg}"}}}}}}"#
    )
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    lat_us: Vec<u32>,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, r: R<()>, t0: Instant) {
        match r {
            Ok(()) => {
                self.ok += 1;
                self.lat_us
                    .push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }
}

fn streamable_worker(addr: &str, conn_no: usize, deadline: Instant) -> R<Tally> {
    let mut c = Conn::open(addr)?;
    c.send("POST", "/mcp", &[JSON, ACCEPT], INIT)?;
    let (status, headers, _) = c.response()?;
    if status != 200 {
        return Err(format!("initialize: {status}"));
    }
    let sid = header(&headers, "Mcp-Session-Id")
        .ok_or("no session id")?
        .to_string();
    let hs = [
        JSON,
        ACCEPT,
        ("Mcp-Session-Id", sid.as_str()),
        ("MCP-Protocol-Version", "2025-06-18"),
    ];
    c.send(
        "POST",
        "/mcp",
        &hs,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )?;
    c.response()?;
    echo_loop(c, addr, &hs, deadline, &format!("c{conn_no}"), echo_body)
}

/// Calls `echo` on `c` until `deadline`, each call with its own message that must come back
/// (`body` builds the request from the id and the message); a failed call reconnects.
fn echo_loop(
    mut c: Conn,
    addr: &str,
    hs: &[(&str, &str)],
    deadline: Instant,
    tag: &str,
    body: fn(u64, &str) -> String,
) -> R<Tally> {
    let mut t = Tally::default();
    let mut id = 0u64;
    while Instant::now() < deadline {
        id += 1;
        let msg = format!("{tag}-{id}");
        let t0 = Instant::now();
        let r = (|| {
            c.send("POST", "/mcp", hs, &body(id, &msg))?;
            let (status, _, body) = c.response()?;
            let want = format!(r#""text":"{msg}""#);
            if status == 200 && body.contains(&want) && body.contains(&format!(r#""id":{id},"#)) {
                Ok(())
            } else {
                Err(format!("wrong answer {status}: {body}"))
            }
        })();
        let failed = r.is_err();
        t.record(r, t0);
        if failed {
            c = Conn::open(addr)?;
        }
    }
    Ok(t)
}

/// Revision 2026-07-28: no handshake; every call carries `_meta` and the mirrored headers.
fn stateless_worker(addr: &str, conn_no: usize, deadline: Instant) -> R<Tally> {
    let hs = [
        JSON,
        ACCEPT,
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "echo"),
    ];
    let body = |id: u64, msg: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{msg}"}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
        )
    };
    echo_loop(
        Conn::open(addr)?,
        addr,
        &hs,
        deadline,
        &format!("m{conn_no}"),
        body,
    )
}

fn seed_worker(addr: &str, conn_no: usize, deadline: Instant) -> R<Tally> {
    let mut stream = Conn::open(addr)?;
    stream.send("GET", "/notifications", &[], "")?;
    let (status, _) = stream.head()?;
    if status != 200 {
        return Err(format!("stream: {status}"));
    }
    let greeting = stream.event_with("Connected to session")?;
    let sid = greeting
        .split("Connected to session ")
        .nth(1)
        .ok_or("no session")?
        .trim()
        .to_string();
    let path = format!("/mcp?session_id={sid}");
    let mut post = Conn::open(addr)?;
    post.send("POST", &path, &[JSON], INIT)?;
    post.response()?;
    stream.event_with(r#""id":0,"#)?;
    let mut t = Tally::default();
    let mut id = 0u64;
    while Instant::now() < deadline {
        id += 1;
        let msg = format!("s{conn_no}-{id}");
        let t0 = Instant::now();
        let r = (|| {
            post.send("POST", &path, &[JSON], &echo_body(id, &msg))?;
            let (status, _, _) = post.response()?;
            if status != 202 {
                return Err(format!("POST answered {status}"));
            }
            let ev = stream.event_with(&format!(r#""id":{id},"#))?;
            if ev.contains(&format!(r#""text":"{msg}""#)) {
                Ok(())
            } else {
                Err(format!("wrong event {ev}"))
            }
        })();
        let failed = r.is_err();
        t.record(r, t0);
        if failed {
            return Ok(t);
        }
    }
    Ok(t)
}

fn bare_worker(addr: &str, _conn_no: usize, deadline: Instant) -> R<Tally> {
    let mut c = Conn::open(addr)?;
    let mut t = Tally::default();
    let mut id = 0u64;
    while Instant::now() < deadline {
        id += 1;
        let t0 = Instant::now();
        let r = (|| {
            c.send("POST", "/mcp", &[JSON, ACCEPT], &echo_body(id, "bench"))?;
            let (status, _, body) = c.response()?;
            if status == 200 && body.contains(r#""text":"bench""#) {
                Ok(())
            } else {
                Err(format!("wrong answer {status}"))
            }
        })();
        t.record(r, t0);
    }
    Ok(t)
}

fn load(mode: &str, addr: &str, conns: usize, secs: f64) {
    let worker: fn(&str, usize, Instant) -> R<Tally> = match mode {
        "streamable" => streamable_worker,
        "stateless" => stateless_worker,
        "seed" => seed_worker,
        _ => bare_worker,
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..conns)
        .map(|i| {
            let addr = addr.to_string();
            std::thread::spawn(move || worker(&addr, i, deadline))
        })
        .collect();
    let mut all = Tally::default();
    for h in handles {
        match h.join() {
            Ok(Ok(t)) => {
                all.ok += t.ok;
                all.errors += t.errors;
                all.lat_us.extend(t.lat_us);
                if all.first_error.is_none() {
                    all.first_error = t.first_error;
                }
            }
            Ok(Err(e)) => {
                all.errors += 1;
                all.first_error.get_or_insert(e);
            }
            Err(_) => all.errors += 1,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.lat_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.lat_us.is_empty() {
            return f64::NAN;
        }
        let i = ((all.lat_us.len() as f64 * p).ceil() as usize).clamp(1, all.lat_us.len()) - 1;
        all.lat_us[i] as f64 / 1000.0
    };
    println!(
        "{mode} conns={conns} ok={} errors={} rps={:.0} p50_ms={:.3} p99_ms={:.3}{}",
        all.ok,
        all.errors,
        all.ok as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        all.first_error
            .map(|e| format!(" first_error={e:?}"))
            .unwrap_or_default()
    );
}

/// First-request latency of `n` clients that connect at the same moment.
fn burst(addr: &str, n: usize, any_body: bool) {
    let go = std::sync::Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (addr, go) = (addr.to_string(), go.clone());
            std::thread::spawn(move || -> R<f64> {
                go.wait();
                let t0 = Instant::now();
                let mut c = Conn::open(&addr)?;
                c.send("POST", "/mcp", &[JSON, ACCEPT], INIT)?;
                let (status, _, body) = c.response()?;
                if status != 200 || !(any_body || body.contains(r#""protocolVersion""#)) {
                    return Err(format!("initialize answered {status}"));
                }
                Ok(t0.elapsed().as_secs_f64() * 1000.0)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut errors = 0;
    for h in handles {
        match h.join() {
            Ok(Ok(ms)) => times.push(ms),
            _ => errors += 1,
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| -> f64 {
        if times.is_empty() {
            return f64::NAN;
        }
        times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1]
    };
    println!(
        "burst n={n} ok={} errors={errors} p50_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        times.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}

/// One endless header line.
fn bomb(addr: &str) {
    let Ok(mut c) = Conn::open(addr) else {
        return println!("bomb error=connect");
    };
    let _ =
        c.w.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Bomb: ");
    let mut w = match c.w.try_clone() {
        Ok(w) => w,
        Err(e) => return println!("bomb error={e}"),
    };
    let _ = w.set_write_timeout(Some(Duration::from_secs(5)));
    let writer = std::thread::spawn(move || {
        let block = vec![b'a'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 300 * 1024 * 1024 && w.write_all(&block).is_ok() {
            sent += block.len();
        }
        sent
    });
    let status = c.head().map(|(s, _)| s).unwrap_or(0);
    let sent = writer.join().unwrap_or(0);
    println!(
        "bomb status={status} sent_mib={:.1}",
        sent as f64 / 1048576.0
    );
}

/// `n` request heads that never finish, while `calls` normal requests are timed.
fn slowloris(addr: &str, n: usize, calls: usize) {
    let mut slow: Vec<TcpStream> = (0..n)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    for s in &mut slow {
        let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n");
    }
    let start = Instant::now();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let trickle = std::thread::spawn(move || {
        let mut cut = vec![None; slow.len()];
        while stop_rx.try_recv().is_err() && cut.iter().any(Option::is_none) {
            for (i, s) in slow.iter_mut().enumerate() {
                if cut[i].is_none() && s.write_all(b"X").is_err() {
                    cut[i] = Some(start.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        cut
    });
    let mut lat = Vec::new();
    let mut errors = 0;
    for i in 0..calls {
        let t0 = Instant::now();
        let ok = (|| -> R<()> {
            let mut c = Conn::open(addr)?;
            c.send("POST", "/mcp", &[JSON, ACCEPT], INIT)?;
            match c.response()? {
                (200, _, _) => Ok(()),
                (s, _, _) => Err(format!("{s}")),
            }
        })();
        if ok.is_ok() {
            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        } else {
            errors += 1;
        }
        if i + 1 < calls {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let cut = trickle.join().unwrap_or_default();
    let _ = stop_tx.send(());
    lat.sort_by(|a, b| a.total_cmp(b));
    let p99 = lat
        .get(((lat.len() as f64 * 0.99).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN);
    let all_cut = cut.iter().all(Option::is_some);
    let last = cut
        .iter()
        .flatten()
        .max()
        .map(|d| d.as_secs_f64())
        .unwrap_or(f64::NAN);
    println!(
        "slowloris n={n} cut={} last_cut_s={last:.1} calls_ok={} errors={errors} p99_ms={p99:.2} all_cut={all_cut}",
        cut.iter().flatten().count(),
        lat.len()
    );
}

/// `n` connections that send nothing, until the server closes them.
fn idle(addr: &str, n: usize) {
    let start = Instant::now();
    let conns: Vec<TcpStream> = (0..n)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    println!("holding {} idle", conns.len());
    let mut closed = 0;
    let mut last = 0.0;
    for mut s in conns {
        let _ = s.set_read_timeout(Some(Duration::from_secs(300)));
        let mut b = [0u8; 64];
        if matches!(s.read(&mut b), Ok(0) | Err(_)) {
            closed += 1;
            last = start.elapsed().as_secs_f64();
        }
    }
    println!("idle n={n} closed={closed} all_closed_after_s={last:.1}");
}

/// `n` connections held 2 s (each sends one request), then closed; then a fresh client.
fn flood(addr: &str, n: usize) {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let addr = addr.to_string();
            std::thread::spawn(move || -> u16 {
                let Ok(mut c) = Conn::open(&addr) else {
                    return 0;
                };
                if c.send("GET", "/health", &[], "").is_err() {
                    return 0;
                }
                let status = c.response().map(|(s, _, _)| s).unwrap_or(0);
                std::thread::sleep(Duration::from_secs(2));
                status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap_or(0)).collect();
    let count = |s: u16| statuses.iter().filter(|&&x| x == s).count();
    let t0 = Instant::now();
    let mut served = None;
    while t0.elapsed() < Duration::from_secs(10) {
        let ok = Conn::open(addr).and_then(|mut c| {
            c.send("GET", "/health", &[], "")?;
            c.response()
        });
        if matches!(ok, Ok((200, _, _))) {
            served = Some(t0.elapsed().as_secs_f64() * 1000.0);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "flood n={n} ok200={} refused503={} other={} next_served_ms={}",
        count(200),
        count(503),
        n - count(200) - count(503),
        served.map_or("never".into(), |ms| format!("{ms:.1}"))
    );
}

fn sleeps(addr: &str, n: usize) {
    // Sessions are created first; the clock starts when every client is ready to call.
    let ready = std::sync::Arc::new(std::sync::Barrier::new(n + 1));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let addr = addr.to_string();
            let ready = ready.clone();
            std::thread::spawn(move || -> R<()> {
                let setup = (|| -> R<(Conn, String)> {
                    let mut c = Conn::open(&addr)?;
                    c.send("POST", "/mcp", &[JSON, ACCEPT], INIT)?;
                    let (_, headers, _) = c.response()?;
                    let sid = header(&headers, "Mcp-Session-Id").ok_or("no session")?.to_string();
                    Ok((c, sid))
                })();
                ready.wait();
                let (mut c, sid) = setup?;
                let body = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"sleep","arguments":{{"seconds":1}}}}}}"#);
                c.send("POST", "/mcp", &[JSON, ACCEPT, ("Mcp-Session-Id", &sid)], &body)?;
                let (status, _, body) = c.response()?;
                if status == 200 && body.contains("Slept for 1 seconds") { Ok(()) } else { Err(body) }
            })
        })
        .collect();
    ready.wait();
    let start = Instant::now();
    let results: Vec<R<()>> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or(Err("panic".into())))
        .collect();
    let wall = start.elapsed().as_secs_f64();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let first = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .map(|e| format!(" first_error={e:?}"))
        .unwrap_or_default();
    println!(
        "sleeps n={n} ok={ok} errors={} wall_s={wall:.3}{first}",
        n - ok
    );
}

fn hold(addr: &str, n: usize, secs: f64) {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        match Conn::open(addr).and_then(|mut c| {
            c.send("GET", "/notifications", &[], "")?;
            c.head()?;
            c.event_with("Connected to session")?;
            Ok(c)
        }) {
            Ok(c) => held.push(c),
            Err(e) => {
                println!("hold: failed after {} streams: {e}", held.len());
                break;
            }
        }
    }
    println!("holding {} streams", held.len());
    std::thread::sleep(Duration::from_secs_f64(secs));
}

fn coldstart(bin: &str, runs: usize) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
            l.local_addr().expect("addr").port()
        };
        let addr = format!("127.0.0.1:{port}");
        let t0 = Instant::now();
        // On the server's CPU, as in the other runs; the loader polls from its own CPU.
        let mut child = Command::new("taskset")
            .args([
                "-c",
                "0",
                bin,
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let answered = loop {
            if t0.elapsed() > Duration::from_secs(5) {
                break false;
            }
            let Ok(mut c) = Conn::open(&addr) else {
                std::thread::sleep(Duration::from_micros(50));
                continue;
            };
            if c.send("POST", "/mcp", &[JSON, ACCEPT], INIT).is_ok()
                && let Ok((200, _, body)) = c.response()
            {
                break body.contains("protocolVersion");
            }
        };
        let took = t0.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        if answered {
            times.push(took.as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let med = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "coldstart runs={runs} ok={} median_ms={med:.2} min_ms={:.2}",
        times.len(),
        times.first().copied().unwrap_or(f64::NAN)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let num = |i: usize, d: f64| args.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(d);
    match arg(0).as_str() {
        m @ ("streamable" | "stateless" | "seed" | "bare") => {
            load(m, &arg(1), num(2, 16.0) as usize, num(3, 5.0))
        }
        "sleeps" => sleeps(&arg(1), num(2, 200.0) as usize),
        // `burst ADDR N any` accepts any 200 body: for the bare reference server.
        "burst" => burst(&arg(1), num(2, 200.0) as usize, arg(3) == "any"),
        "bomb" => bomb(&arg(1)),
        "slowloris" => slowloris(&arg(1), num(2, 500.0) as usize, num(3, 50.0) as usize),
        "idle" => idle(&arg(1), num(2, 2000.0) as usize),
        "flood" => flood(&arg(1), num(2, 300.0) as usize),
        "hold" => hold(&arg(1), num(2, 1000.0) as usize, num(3, 5.0)),
        "coldstart" => coldstart(&arg(1), num(2, 20.0) as usize),
        _ => {
            eprintln!("usage: see the doc comment at the top of examples/loadgen.rs");
            std::process::exit(2);
        }
    }
}
