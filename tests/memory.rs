//! Memory comes back: after bursts of large bodies (answered, and malformed), the server's RSS
//! returns to within 16 MiB of what it was before, within 10 s, rounds do not ratchet, and the
//! connection threads the burst started are gone again. Before
//! the binary fixed glibc's mmap threshold (src/bin/fastmcp-server/alloc.rs) the first burst of
//! 64 bodies left it 256 MiB up and the second 328 MiB.

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

/// Waits up to 10 s for RSS to come within 16 MiB of `base`; the RSS it settled at.
fn settles(pid: u32, base: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = rss_mib(pid);
        if now <= base + 16 || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn rss_returns_after_bursts_of_large_bodies() {
    let srv = Server::start(&[]);
    let init = post_json(
        &srv.addr,
        "/mcp",
        &[("Accept", "application/json, text/event-stream")],
        &json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",
            "capabilities":{},"clientInfo":{"name":"memory","version":"1"}}})
        .to_string(),
    );
    let sid = init
        .header("Mcp-Session-Id")
        .unwrap_or_default()
        .to_string();
    assert!(!sid.is_empty(), "{}", init.body);
    let message = "x".repeat(3900 * 1024);
    let good = json!({"jsonrpc":"2.0","id":2,"method":"tools/call",
        "params":{"name":"echo","arguments":{"message": message}}})
    .to_string();
    // Unterminated: a parse error after the whole body was read.
    let bad = good[..good.len() - 10].to_string();
    std::thread::sleep(Duration::from_millis(300));
    let base = rss_mib(srv.pid());
    let threads0 = srv.threads();
    for (round, (body, status)) in [(&good, 200), (&bad, 400), (&good, 200)]
        .into_iter()
        .enumerate()
    {
        let burst: Vec<_> = (0..24)
            .map(|_| {
                let (addr, sid, body) = (srv.addr.clone(), sid.clone(), body.clone());
                std::thread::spawn(move || {
                    let headers = [
                        ("Accept", "application/json, text/event-stream"),
                        ("Mcp-Session-Id", sid.as_str()),
                        ("MCP-Protocol-Version", "2025-06-18"),
                    ];
                    post_json(&addr, "/mcp", &headers, &body).status
                })
            })
            .collect();
        for t in burst {
            assert_eq!(t.join().unwrap_or(0), status, "round {round}");
        }
        let settled = settles(srv.pid(), base);
        assert!(
            settled <= base + 16,
            "round {round}: RSS {settled} MiB, {base} MiB before the bursts"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while srv.threads() > threads0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            srv.threads() <= threads0,
            "round {round}: {} threads, {threads0} before the bursts",
            srv.threads()
        );
    }
}
