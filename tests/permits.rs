//! Handlers run on their connection's thread under one of `--workers` permits: what that must
//! keep of the worker pool it replaced (a bound on running handlers, a client that stops reading
//! holds no permit), and what it must not lose (a 202 before the work, a stream's early messages
//! while its handler still runs).

mod common;
use common::*;
use fastmcp_server::{Config, Context, ServerBuilder, Tool, ToolResult};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);
const REV: &str = "2025-06-18";
const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct NoArgs {}

fn config(workers: usize) -> Config {
    Config {
        host: "127.0.0.1".into(),
        port: 0,
        workers,
        ..Config::default()
    }
}

fn serve(builder: ServerBuilder) -> String {
    let server = builder.bind().expect("bind");
    let addr = server.local_addr().to_string();
    std::thread::spawn(move || server.run());
    addr
}

/// A Streamable HTTP session; its id.
fn session(addr: &str) -> String {
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion": REV, "capabilities": {}, "clientInfo": {"name":"t","version":"1"}}});
    let r = post_json(addr, "/mcp", &[ACCEPT], &init.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    r.header("Mcp-Session-Id").expect("session id").to_string()
}

fn call(id: u64, tool: &str) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{}}})
        .to_string()
}

fn metric(addr: &str, name: &str) -> u64 {
    let r = request(addr, "GET", "/metrics", &[], "");
    r.body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {}", r.body))
}

/// At most `--workers` handlers run at once; the rest wait their turn and are all answered.
#[test]
fn workers_bound_the_handlers_running_at_once() {
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n, m) = (now.clone(), most.clone());
    let tool = Tool::typed("busy", "Works for 300 ms", move |_: &Context, _: NoArgs| {
        let running = n.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(running, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        n.fetch_sub(1, Ordering::SeqCst);
        Ok(ToolResult::text("done"))
    });
    let addr = serve(ServerBuilder::new(config(2)).tool(tool));
    let sid = session(&addr);
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let (addr, sid) = (addr.clone(), sid.clone());
            std::thread::spawn(move || {
                let h = [
                    ACCEPT,
                    ("Mcp-Session-Id", &sid),
                    ("MCP-Protocol-Version", REV),
                ];
                let r = post_json(&addr, "/mcp", &h, &call(i, "busy"));
                assert_eq!(r.status, 200, "{}", r.body);
                assert_eq!(r.json()["result"]["content"][0]["text"], "done");
            })
        })
        .collect();
    for c in calls {
        c.join().expect("every call answered");
    }
    assert_eq!(most.load(Ordering::SeqCst), 2, "--workers 2");
}

/// The permit is given back before the answer is written: a client that sends requests and
/// never reads their answers holds its own connection thread, not the only permit.
#[test]
fn a_client_that_stops_reading_holds_no_permit() {
    let big = "x".repeat(256 * 1024);
    let tool = Tool::typed("big", "A 256 KiB answer", move |_: &Context, _: NoArgs| {
        Ok(ToolResult::text(big.clone()))
    });
    let addr = serve(ServerBuilder::new(config(1)).builtin_tools().tool(tool));
    let sid = session(&addr);
    // 64 answers of 256 KiB (16 MiB) pipelined on one connection that is not read.
    let mut stuck = TcpStream::connect(&addr).unwrap();
    let mut out = Vec::new();
    for i in 0..64 {
        let body = call(i, "big");
        write!(
            out,
            "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: {sid}\r\nMCP-Protocol-Version: {REV}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    }
    stuck.write_all(&out).unwrap();
    // Its connection thread ends up blocked writing an answer nobody reads. Until the client's
    // socket buffers are full it goes on handling the next requests, each briefly holding the
    // permit, so one reading of 0 proves nothing: it must stay 0 (every reading for 600 ms).
    let deadline = Instant::now() + T;
    let mut zero_since: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if metric(&addr, "fastmcp_handlers_running") == 0 {
            if now - *zero_since.get_or_insert(now) >= Duration::from_millis(600) {
                break;
            }
        } else {
            zero_since = None;
        }
        assert!(
            now < deadline,
            "a handler kept its permit while its answer was stuck"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The one permit is free: another client is served at once.
    let h = [
        ACCEPT,
        ("Mcp-Session-Id", sid.as_str()),
        ("MCP-Protocol-Version", REV),
    ];
    let start = Instant::now();
    let r = post_json(&addr, "/mcp", &h, &call(100, "echo"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // And the stuck client, once it reads, gets every answer.
    stuck.set_read_timeout(Some(T)).unwrap();
    let mut r = BufReader::new(stuck);
    for i in 0..64 {
        let mut len = None;
        loop {
            let mut line = String::new();
            assert!(r.read_line(&mut line).unwrap() > 0, "answer {i} cut short");
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; len.expect("Content-Length")];
        r.read_exact(&mut body).unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["id"], i);
        assert_eq!(
            v["result"]["content"][0]["text"].as_str().map(str::len),
            Some(256 * 1024)
        );
    }
}

/// A handler that reports progress and then works on: its stream (answered on the POST) carries
/// the progress while the handler still runs, not only once it returns.
#[test]
fn a_stream_carries_progress_while_its_handler_runs() {
    let tool = Tool::typed(
        "slow",
        "Reports, then works 1.5 s",
        |ctx: &Context, _: NoArgs| {
            ctx.progress(1.0, Some(2.0), Some("half way"));
            std::thread::sleep(Duration::from_millis(1500));
            Ok(ToolResult::text("finished"))
        },
    );
    let addr = serve(ServerBuilder::new(config(1)).tool(tool));
    let sid = session(&addr);
    let body = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{
        "name":"slow","arguments":{},"_meta":{"progressToken":"p"}}});
    let start = Instant::now();
    let h = [
        ("Content-Type", "application/json"),
        ACCEPT,
        ("Mcp-Session-Id", sid.as_str()),
        ("MCP-Protocol-Version", REV),
    ];
    let mut sse = Sse::open_with(&addr, "POST", "/mcp", &h, &body.to_string());
    assert_eq!(sse.status, 200);
    let first = sse.next_json(T);
    let progress_at = start.elapsed();
    assert_eq!(first["method"], "notifications/progress", "{first}");
    assert_eq!(first["params"]["message"], "half way");
    let last = sse.next_json(T);
    let result_at = start.elapsed();
    assert_eq!(last["result"]["content"][0]["text"], "finished", "{last}");
    assert!(
        progress_at < Duration::from_millis(1000),
        "progress arrived after {progress_at:?}, with the result"
    );
    assert!(result_at >= Duration::from_millis(1500), "{result_at:?}");
    // The connection carries on after a stream written by a thread of its own.
    let r = post_json(&addr, "/mcp", &h[1..], &call(8, "slow"));
    assert_eq!(r.status, 200);
}

/// The seed transport's 202 goes out before the work it accepted: the client learns its POST
/// arrived at once, and the answer follows on the stream.
#[test]
fn a_202_is_written_before_the_work_it_accepted() {
    let tool = Tool::typed("slow", "Works 1.5 s", |_: &Context, _: NoArgs| {
        std::thread::sleep(Duration::from_millis(1500));
        Ok(ToolResult::text("finished"))
    });
    let addr = serve(ServerBuilder::new(config(1)).tool(tool));
    let (mut sse, sid) = seed_session(&addr);
    seed_initialize(&addr, &mut sse, &sid);
    let start = Instant::now();
    let r = post_json(
        &addr,
        &format!("/mcp?session_id={sid}"),
        &[],
        &call(3, "slow"),
    );
    let accepted_at = start.elapsed();
    assert_eq!(r.status, 202);
    assert!(
        accepted_at < Duration::from_millis(1000),
        "202 after {accepted_at:?}"
    );
    let v = sse.next_json(T);
    assert_eq!(v["result"]["content"][0]["text"], "finished", "{v}");
    assert!(start.elapsed() >= Duration::from_millis(1500));
}
