//! The seed transport in a real browser: headless Chromium (Debian's `chromium`, driven by
//! `chromedriver` over loopback with plain WebDriver HTTP) runs `examples/browser.html` from an
//! origin the server allows by `--cors-origin`, through a TCP proxy this test controls:
//!
//! - every answer arrives on the page's `EventSource`;
//! - the proxy cuts the stream and refuses connections while answers are produced; the browser
//!   reconnects by itself (after the server's `retry:`), sending only `Last-Event-ID`, and gets
//!   those answers exactly once, in the same session;
//! - a page from an origin that is not allowed cannot get a tool executed in that session by any
//!   request a page can make (a `text/plain` POST, a form, `fetch` in `no-cors` mode,
//!   `sendBeacon`, a CORS `fetch`, XHR).
//!
//! Chromium and chromedriver are installed (as root, with apt-get) when missing; where that is
//! impossible the test says so and passes without running, unless `FASTMCP_BROWSER_REQUIRED` is
//! set (`scripts/test.sh` sets it).

mod common;

use common::Server;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether Chromium and chromedriver are here, installing them when root can.
fn have_chromium() -> bool {
    let present =
        || std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if present() {
        return true;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        eprintln!("installing chromium and chromium-driver with apt-get…");
        let _ = Command::new("sh")
            .args([
                "-c",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    if present() {
        return true;
    }
    if std::env::var_os("FASTMCP_BROWSER_REQUIRED").is_some() {
        panic!("chromium and chromedriver are needed (Debian packages chromium, chromium-driver)");
    }
    eprintln!("SKIPPED: no chromium/chromedriver (Debian packages chromium, chromium-driver)");
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves `pages` (path → HTML) on a loopback port: an origin of its own.
fn serve_pages(pages: Vec<(&'static str, String)>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let pages = Arc::new(pages);
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            let pages = pages.clone();
            thread::spawn(move || {
                let mut s = s;
                let head = read_head(&mut s);
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .split('?')
                    .next()
                    .unwrap_or("/")
                    .to_string();
                let (status, body) = match pages.iter().find(|(p, _)| *p == path) {
                    Some((_, b)) => ("200 OK", b.clone()),
                    None => ("404 Not Found", String::new()),
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

/// Reads a request head (up to the blank line, or what came before the peer stopped).
fn read_head(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
    let _ = s.set_read_timeout(None);
    String::from_utf8_lossy(&buf).into_owned()
}

/// A TCP proxy in front of the server: it can cut every connection, and refuse new ones while
/// `down`. It notes the `Last-Event-ID` of every stream request it forwards.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    last_ids: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = Proxy {
            port: l.local_addr().unwrap().port(),
            down: Arc::default(),
            conns: Arc::default(),
            last_ids: Arc::default(),
        };
        let (down, conns, last_ids) = (p.down.clone(), p.conns.clone(), p.last_ids.clone());
        thread::spawn(move || {
            for client in l.incoming().flatten() {
                if down.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let (upstream, conns, last_ids) =
                    (upstream.clone(), conns.clone(), last_ids.clone());
                thread::spawn(move || {
                    let mut client = client;
                    let head = read_head(&mut client);
                    if head.starts_with("GET /notifications") {
                        let id = head.lines().find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("Last-Event-ID")
                                .then(|| v.trim().to_string())
                        });
                        last_ids.lock().unwrap().push(id.unwrap_or_default());
                    }
                    let Ok(mut server) = TcpStream::connect(&upstream) else {
                        return;
                    };
                    if server.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    {
                        let mut c = conns.lock().unwrap();
                        c.push(client.try_clone().unwrap());
                        c.push(server.try_clone().unwrap());
                    }
                    let (mut c2, mut s2) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let up = thread::spawn(move || {
                        let _ = std::io::copy(&mut c2, &mut s2);
                        let _ = s2.shutdown(Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(Shutdown::Both);
                    let _ = up.join();
                });
            }
        });
        p
    }

    /// Cuts every connection now, both ways.
    fn cut(&self) {
        for s in self.conns.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// chromedriver and one headless Chromium session, both ended on drop.
struct Browser {
    driver: Child,
    addr: String,
    session: String,
    profile: std::path::PathBuf,
}

impl Browser {
    fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            thread::sleep(Duration::from_millis(50));
        }
        let profile =
            std::env::temp_dir().join(format!("fastmcp-browser-{}-{port}", std::process::id()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display())],
            }
        }}});
        let mut b = Browser {
            driver,
            addr,
            session: String::new(),
            profile,
        };
        let v = b.cmd("POST", "/session", caps);
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        b
    }

    /// One WebDriver command; its `value`.
    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let path = if path.starts_with("/session/") || path == "/session" {
            path.to_string()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let body = if method == "POST" {
            body.to_string()
        } else {
            String::new()
        };
        let r = common::request(
            &self.addr,
            method,
            &path,
            &[("Content-Type", "application/json"), ("Host", "localhost")],
            &body,
        );
        let v: Value = serde_json::from_str(&r.body)
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}: {}", r.body));
        assert_eq!(r.status, 200, "WebDriver {path}: {v}");
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the current page; what it returns.
    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    /// Waits until `script` returns something truthy; that value.
    fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.js(script);
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; page state: {}",
                self.js("return JSON.stringify({sid: mcp.sid, state: mcp.state, greetings: mcp.greetings, received: mcp.received, posts: mcp.posts})")
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = common::request(
                &self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[("Host", "localhost")],
                "",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// How many of the page's received messages answer request `id`.
fn answers(b: &Browser, id: &Value) -> usize {
    b.js(&format!(
        "return mcp.received.filter(m => m.id === {id} && (m.result !== undefined || m.error !== undefined)).length"
    ))
    .as_u64()
    .unwrap() as usize
}

/// The page that must not get in: it knows the session id and tries every request a page can
/// make to run `add` in it.
const EVIL: &str = r#"<!doctype html><html><body><iframe name="sink"></iframe><script>
'use strict';
const q = new URLSearchParams(location.search);
const url = q.get('server') + '/mcp?session_id=' + q.get('sid');
const call = (id) => JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call',
  params: {name: 'add', arguments: {a: 1, b: 2}}});
window.outcomes = {};
const note = (k) => (v) => { window.outcomes[k] = String(v && v.status !== undefined ? v.status : v); };
const tries = [
  fetch(url, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: call('evil-plain')})
    .then(r => 'opaque ' + r.type, e => 'error ' + e).then(note('no-cors text/plain')),
  fetch(url, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'application/json'}, body: call('evil-nocors-json')})
    .then(r => 'opaque ' + r.type, e => 'error ' + e).then(note('no-cors application/json')),
  fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: call('evil-cors')})
    .then(r => r.status, e => 'error ' + e).then(note('cors fetch')),
  new Promise((res) => {
    const x = new XMLHttpRequest();
    x.open('POST', url);
    x.setRequestHeader('Content-Type', 'application/json');
    x.onload = () => res(x.status); x.onerror = () => res('error');
    x.send(call('evil-xhr'));
  }).then(note('xhr')),
  new Promise((res) => {
    try { res(navigator.sendBeacon(url, new Blob([call('evil-beacon-plain')], {type: 'text/plain'}))); }
    catch (e) { res('threw ' + e); }
  }).then(note('beacon text/plain')),
  new Promise((res) => {
    try { res(navigator.sendBeacon(url, new Blob([call('evil-beacon-json')], {type: 'application/json'}))); }
    catch (e) { res('threw ' + e); }
  }).then(note('beacon application/json')),
  new Promise((res) => {
    // enctype text/plain: the body is `name=value`, here exactly a JSON-RPC request.
    const f = document.createElement('form');
    f.method = 'POST'; f.action = url; f.enctype = 'text/plain'; f.target = 'sink';
    const i = document.createElement('input');
    const body = call('evil-form');
    i.name = body.slice(0, -1) + ',"pad":"'; i.value = '"}';
    f.appendChild(i); document.body.appendChild(f); f.submit();
    setTimeout(() => res('submitted'), 1000);
  }).then(note('form text/plain')),
  new Promise((res) => {
    const f = document.createElement('form');
    f.method = 'POST'; f.action = url; f.target = 'sink';
    const i = document.createElement('input');
    i.name = 'json'; i.value = call('evil-form-urlencoded');
    f.appendChild(i); document.body.appendChild(f); f.submit();
    setTimeout(() => res('submitted'), 1000);
  }).then(note('form urlencoded')),
];
Promise.all(tries).then(() => { window.done = true; });
</script></body></html>"#;

#[test]
fn a_browser_resumes_by_itself_and_other_origins_cannot_call_tools() {
    if !have_chromium() {
        return;
    }
    let started = Instant::now();
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/browser.html"
    ))
    .expect("examples/browser.html");
    let good_port = serve_pages(vec![("/browser.html", page)]);
    let evil_port = serve_pages(vec![("/evil.html", EVIL.to_string())]);
    let good_origin = format!("http://127.0.0.1:{good_port}");
    let log = std::env::temp_dir().join(format!("fastmcp-browser-{}.log", std::process::id()));
    let server = Server::start_logging(
        &[
            "--cors-origin",
            &good_origin,
            "--seed-retry-ms",
            "500",
            "--debug",
        ],
        &log,
    );
    let proxy = Proxy::start(server.addr.clone());
    let via = format!("http://127.0.0.1:{}", proxy.port);
    let b = Browser::start();

    // 1. The page connects, learns its session, initializes; every answer arrives.
    b.goto(&format!("{good_origin}/browser.html?server={via}"));
    let sid = b.wait_for(
        "the session and initialize",
        Duration::from_secs(20),
        "return mcp.initialized && mcp.sid",
    );
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(b.js(&format!(
            "mcp.tool('add', {{a: {i}, b: 100}}); return mcp.nextId - 1"
        )));
    }
    ids.push(b.js("mcp.tool('echo', {message: 'hi'}); return mcp.nextId - 1"));
    for id in &ids {
        b.wait_for(
            "an answer",
            Duration::from_secs(10),
            &format!("return mcp.received.some(m => m.id === {id} && m.result)"),
        );
    }
    let add0 = b.js(&format!(
        "return mcp.received.find(m => m.id === {}).result",
        ids[0]
    ));
    assert_eq!(add0["content"][0]["text"], "100", "{add0}");

    // 2. Calls that answer in 3-4 s; the proxy cuts the stream as soon as they are accepted and
    //    lets nothing through until they have all answered: the answers are produced while the
    //    page has no stream. (3 s leaves room for a slow browser between the first call and
    //    the cut: an answer before the cut would reach the page on the old stream.)
    let slow: Vec<Value> = (0..5)
        .map(|i| {
            b.js(&format!(
                "mcp.tool('sleep', {{seconds: {}}}); return mcp.nextId - 1",
                3.0 + 0.2 * i as f64
            ))
        })
        .collect();
    b.wait_for(
        "the slow calls accepted",
        Duration::from_secs(10),
        &format!(
            "return mcp.posts.filter(p => p.status === 202).length >= {}",
            2 + ids.len() + slow.len()
        ),
    );
    let cut_at = Instant::now();
    proxy.down.store(true, Ordering::SeqCst);
    proxy.cut();
    b.wait_for(
        "the page to see the cut",
        Duration::from_secs(5),
        "return mcp.state === 'connecting'",
    );
    thread::sleep(Duration::from_millis(4500).saturating_sub(cut_at.elapsed()));
    for id in &slow {
        assert_eq!(
            answers(&b, id),
            0,
            "answer {id} arrived while the proxy was down"
        );
    }
    assert_eq!(b.js("return mcp.state"), "connecting");
    proxy.down.store(false, Ordering::SeqCst);

    // 3. The browser reconnects by itself (Last-Event-ID only) and gets them, each once.
    for id in &slow {
        b.wait_for(
            "an answer produced while cut",
            Duration::from_secs(10),
            &format!("return mcp.received.some(m => m.id === {id} && m.result)"),
        );
    }
    thread::sleep(Duration::from_millis(700));
    for id in ids.iter().chain(&slow) {
        assert_eq!(answers(&b, id), 1, "answer {id} not exactly once");
    }
    let dupes = b.js(
        "const seen = new Set(); return mcp.received.filter(m => m.id !== undefined).filter(m => seen.has(m.id) || !seen.add(m.id)).length",
    );
    assert_eq!(dupes, 0);
    assert_eq!(b.js("return mcp.sid"), sid, "the same session");
    let greetings = b.js("return mcp.greetings");
    let greetings: Vec<&str> = greetings
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert_eq!(
        greetings
            .iter()
            .filter(|g| g.starts_with("Connected"))
            .count(),
        1,
        "{greetings:?}"
    );
    assert!(
        greetings.iter().any(|g| g.starts_with("Resumed session")),
        "{greetings:?}"
    );
    let sid = sid.as_str().unwrap().to_string();
    let sent = proxy.last_ids.lock().unwrap().clone();
    assert!(
        sent.iter()
            .any(|id| id.starts_with(&format!("{sid}.")) && id.len() > sid.len() + 20),
        "the browser's reconnect carried the seed event id: {sent:?}"
    );
    // It still works after the resume.
    let after = b.js("mcp.tool('echo', {message: 'again'}); return mcp.nextId - 1");
    b.wait_for(
        "an answer after the resume",
        Duration::from_secs(10),
        &format!("return mcp.received.some(m => m.id === {after} && m.result)"),
    );

    // 4. A page on another loopback origin, knowing the session id, tries everything.
    let good_window = b.cmd("GET", "/window", Value::Null);
    let evil = b.cmd("POST", "/window/new", json!({"type": "tab"}));
    b.cmd("POST", "/window", json!({"handle": evil["handle"]}));
    b.goto(&format!(
        "http://127.0.0.1:{evil_port}/evil.html?server={via}&sid={sid}"
    ));
    b.wait_for(
        "the evil page",
        Duration::from_secs(15),
        "return window.done",
    );
    let outcomes = b.js("return window.outcomes");
    // Direct to the server too, not only through the proxy.
    b.goto(&format!(
        "http://127.0.0.1:{evil_port}/evil.html?server=http://{}&sid={sid}",
        server.addr
    ));
    b.wait_for(
        "the evil page",
        Duration::from_secs(15),
        "return window.done",
    );
    b.cmd("POST", "/window", json!({"handle": good_window}));
    thread::sleep(Duration::from_millis(1500));
    let evil_seen = b.js("return mcp.received.filter(m => String(m.id).startsWith('evil'))");
    assert_eq!(
        evil_seen,
        json!([]),
        "a tool ran for another origin ({outcomes})"
    );
    // The page is still connected and still served.
    let last = b.js("mcp.tool('add', {a: 2, b: 3}); return mcp.nextId - 1");
    b.wait_for(
        "an answer after the attempts",
        Duration::from_secs(10),
        &format!("return mcp.received.some(m => m.id === {last} && m.result)"),
    );
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let opened = log_text.matches("opened (Seed)").count();
    assert_eq!(opened, 1, "one seed session in all:\n{log_text}");
    eprintln!(
        "browser test: ok in {:.1}s; evil outcomes {outcomes}; Last-Event-IDs seen {sent:?}",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&log);
    drop(b);
    drop(server);
}

// What the browser test relies on, checked without a browser.

const T: Duration = Duration::from_secs(5);

/// The `id:` of the seed stream's `retry:` event, and that `retry:` is sent.
fn stream_position(sse: &mut common::Sse) -> String {
    let ev = sse.next_raw(T).expect("the id/retry event");
    assert!(ev.data.is_empty(), "{ev:?}");
    ev.id.expect("an id")
}

#[test]
fn a_bare_reconnect_with_a_seed_event_id_resumes_that_session_once() {
    let log = std::env::temp_dir().join(format!("fastmcp-bare-{}.log", std::process::id()));
    let srv = Server::start_logging(&["--seed-retry-ms", "1234"], &log);
    let mut raw = common::Sse::open(&srv.addr, "/notifications", &[]);
    let greeting = raw.next_raw(T).unwrap();
    let sid = greeting
        .data
        .strip_prefix("Connected to session ")
        .unwrap()
        .to_string();
    let first = stream_position(&mut raw);
    assert!(first.starts_with(&format!("{sid}.")), "{first}");
    common::seed_initialize(&srv.addr, &mut raw, &sid);
    // The answer to initialize carries the id a browser would send back.
    raw.disconnect();
    for i in 1..=3 {
        common::seed_post(
            &srv.addr,
            &sid,
            &json!({"jsonrpc":"2.0","id":i,"method":"ping"}).to_string(),
        );
    }
    // Resume after the initialize answer (event 1): the three pings follow, once.
    let prefix = &first[..first.len() - first.rsplit('.').next().unwrap().len()];
    let last = format!("{prefix}0-1");
    let mut back = common::Sse::open(&srv.addr, "/notifications", &[("Last-Event-ID", &last)]);
    assert_eq!(back.status, 200);
    assert_eq!(back.header("Mcp-Session-Id"), Some(sid.as_str()));
    let hello = back.next_event(T).unwrap();
    assert_eq!(hello.data, format!("Resumed session {sid}"));
    // Three workers answer the pings: in any order, each once.
    let mut ids: Vec<u64> = (0..3)
        .map(|_| back.next_json(T)["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    assert!(
        back.next_event(Duration::from_millis(300)).is_none(),
        "nothing twice"
    );

    // The session id alone, or a wrong secret, is a new session, and the log names the id.
    let forged = format!("{sid}.{}.0-1", "0".repeat(32));
    let mut other = common::Sse::open(&srv.addr, "/notifications", &[("Last-Event-ID", &forged)]);
    let hello = other.next_event(T).unwrap();
    assert!(hello.data.starts_with("Connected to session "), "{hello:?}");
    assert!(!hello.data.ends_with(&sid));
    thread::sleep(Duration::from_millis(200));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains(&format!("cannot resume after event \"{sid}.<secret>.0-1\"")),
        "{text}"
    );
    assert!(!text.contains(&last), "the secret is never logged");
    let _ = std::fs::remove_file(&log);
}

#[test]
fn the_seed_stream_sends_retry() {
    let srv = Server::start(&["--seed-retry-ms", "1234"]);
    let mut s = TcpStream::connect(&srv.addr).unwrap();
    s.write_all(b"GET /notifications HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    let mut got = String::new();
    let mut b = [0u8; 4096];
    while !got.contains("retry:") {
        let n = s.read(&mut b).expect("the stream");
        assert!(n > 0, "{got}");
        got.push_str(&String::from_utf8_lossy(&b[..n]));
    }
    assert!(got.contains("retry: 1234\n"), "{got}");
}

#[test]
fn posts_must_be_json_on_every_transport() {
    let srv = Server::start(&[]);
    let (_sse, sid) = common::seed_session(&srv.addr);
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let h: Vec<(&str, &str)> = ct.map(|c| ("Content-Type", c)).into_iter().collect();
        let seed = common::request(
            &srv.addr,
            "POST",
            &format!("/mcp?session_id={sid}"),
            &h,
            ping,
        );
        assert_eq!(seed.status, 415, "seed, {ct:?}: {}", seed.body);
        let mut h2 = h.clone();
        h2.push(("Accept", "application/json, text/event-stream"));
        let streamable = common::request(&srv.addr, "POST", "/mcp", &h2, ping);
        assert_eq!(streamable.status, 415, "streamable, {ct:?}");
    }
}

#[test]
fn with_cors_origins_other_loopback_origins_are_refused() {
    let srv = Server::start(&["--cors-origin", "http://127.0.0.1:3000"]);
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    let own = format!("http://127.0.0.1:{port}");
    let host = format!("127.0.0.1:{port}");
    for (origin, want) in [
        ("http://127.0.0.1:3000", 200),
        ("http://127.0.0.1:3001", 403),
        ("http://localhost:3000", 403),
        (own.as_str(), 200),
    ] {
        let r = common::request(
            &srv.addr,
            "GET",
            "/health",
            &[("Origin", origin), ("Host", host.as_str())],
            "",
        );
        assert_eq!(r.status, want, "{origin}");
        let pre = common::request(
            &srv.addr,
            "OPTIONS",
            "/mcp",
            &[
                ("Origin", origin),
                ("Host", host.as_str()),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
            "",
        );
        assert_eq!(pre.status == 403, want == 403, "preflight from {origin}");
    }
    // Without --cors-origin, loopback origins pass as before (DNS-rebinding rules unchanged).
    let open = Server::start(&[]);
    let r = common::request(
        &open.addr,
        "GET",
        "/health",
        &[("Origin", "http://127.0.0.1:3001")],
        "",
    );
    assert_eq!(r.status, 200);
}
