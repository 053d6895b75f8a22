//! The operator's endpoints, `/health` and `/metrics`: what a supervisor or a scraper reads
//! about a running server. Apart from the transports because they speak no MCP.

use crate::dispatch::Core;
use crate::http::{ListenerStats, Reply};
use std::sync::atomic::Ordering;

/// `ok`, or 503 with why not: shutting down, or accepting connections is failing (out of file
/// descriptors, say), which a supervisor cannot see from the process being alive.
pub fn health(core: &Core) -> Reply {
    let down = core.runtime.shutting_down();
    let up = core.upstream.as_ref().map(|u| u.stats());
    let oauth = core.guard.oauth();
    let degraded = core
        .http
        .degraded()
        .or_else(|| {
            up.filter(|s| s.down)
                .map(|_| "the MCP server behind this gateway is down".to_string())
        })
        .or_else(|| {
            oauth.filter(|o| !o.has_keys()).map(|_| {
                "no OAuth issuer's signing keys could be fetched (yet); JWT access tokens are refused".to_string()
            })
        });
    let status = match (&degraded, down) {
        (_, true) => "shutting_down",
        (Some(_), false) => "degraded",
        (None, false) => "ok",
    };
    let mut body = serde_json::json!({
        "status": status,
        "uptime_secs": core.started.elapsed().as_secs(),
        "sessions": core.sessions.len(),
        "streams": core.streams.open(),
        "listeners": core.subscriptions.listeners(),
        "connections": core.http.open.load(Ordering::Relaxed),
        "buffered_bytes": core.runtime.metrics.buffers.used(),
    });
    if let Some(s) = up {
        body["children"] = serde_json::json!({
            "running": s.running,
            "started": s.started,
            "ended": s.ended,
            "died": s.died,
            "init_timeouts": s.init_timeouts,
            "down": s.down,
        });
    }
    if let Some(o) = oauth {
        body["oauth"] = oauth_health(o);
    }
    if let Some(reason) = degraded.filter(|_| !down) {
        body["reason"] = reason.into();
    }
    Reply::json(if status == "ok" { 200 } else { 503 }, body.to_string())
}

/// Each issuer's keys and last fetch (times in seconds since the epoch).
fn oauth_health(o: &crate::oauth::OAuth) -> serde_json::Value {
    let issuers: Vec<serde_json::Value> = o
        .status()
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "issuer": s.issuer,
                "keys": s.keys,
                "last_fetch": match s.last_fetch_ok {
                    None => "never",
                    Some(true) => "ok",
                    Some(false) => "error",
                },
                "last_fetch_at": s.last_fetch_at,
                "last_ok_at": s.last_ok_at,
                "last_error": s.last_error,
                "fetches_ok": s.fetches_ok,
                "fetches_failed": s.fetches_failed,
            })
        })
        .collect();
    serde_json::json!({
        "resource": o.resource(),
        "issuers": issuers,
        "introspection": o.introspection_url(),
    })
}

/// The labelled OAuth counters, in the exposition format.
fn oauth_metrics(o: &crate::oauth::OAuth) -> String {
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let mut out = String::from(
        "# HELP fastmcp_oauth_refusals_total Requests refused for their OAuth token, by reason.\n# TYPE fastmcp_oauth_refusals_total counter\n",
    );
    for (reason, n) in o.refusal_counts() {
        out.push_str(&format!(
            "fastmcp_oauth_refusals_total{{reason=\"{reason}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP fastmcp_oauth_fetches_total Fetches of issuer metadata and keys (and introspections), by outcome.\n# TYPE fastmcp_oauth_fetches_total counter\n");
    for (issuer, ok, failed) in o.fetch_counts() {
        for (result, n) in [("ok", ok), ("error", failed)] {
            out.push_str(&format!(
                "fastmcp_oauth_fetches_total{{issuer=\"{}\",result=\"{result}\"}} {n}\n",
                esc(&issuer)
            ));
        }
    }
    out
}

fn metrics_text(core: &Core) -> String {
    let up = core
        .upstream
        .as_ref()
        .map(|u| u.stats())
        .unwrap_or_default();
    let created = core.sessions.created.load(Ordering::Relaxed) as u64;
    let expired = core.sessions.expired.load(Ordering::Relaxed) as u64;
    let h: &ListenerStats = &core.http;
    let counter = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    core.runtime.metrics.render(
        &[
            (
                "fastmcp_connections_open",
                "Open HTTP connections (each one thread).",
                h.open.load(Ordering::Relaxed) as u64,
            ),
            (
                "fastmcp_sessions_open",
                "Live sessions.",
                core.sessions.len() as u64,
            ),
            (
                "fastmcp_sessions_created",
                "Sessions created since start.",
                created,
            ),
            (
                "fastmcp_sessions_expired",
                "Sessions removed for idleness since start.",
                expired,
            ),
            (
                "fastmcp_streams_open",
                "Open SSE streams.",
                core.streams.open() as u64,
            ),
            (
                "fastmcp_buffered_bytes",
                "Bytes of messages kept for clients (outboxes and replay logs), against --buffer-bytes.",
                core.runtime.metrics.buffers.used() as u64,
            ),
            (
                "fastmcp_requests_running",
                "JSON-RPC requests in progress.",
                core.sessions.active_requests() as u64,
            ),
            (
                "fastmcp_timer_tasks",
                "Tasks waiting on the timer: periodic duties, parked calls, progress reports.",
                core.runtime.timer.pending() as u64,
            ),
            (
                "fastmcp_gateway_children_running",
                "Child processes of the gateway running now (one per session).",
                up.running as u64,
            ),
            (
                "fastmcp_uptime_seconds",
                "Seconds since start.",
                core.started.elapsed().as_secs(),
            ),
        ],
        &[
            (
                "fastmcp_sessions_evicted_total",
                "Pending sessions (never used) ended to admit new ones at --max-sessions or --max-sessions-per-client.",
                core.sessions.evicted.load(Ordering::Relaxed) as u64,
            ),
            (
                "fastmcp_gateway_children_started_total",
                "Child processes the gateway started.",
                up.started,
            ),
            (
                "fastmcp_gateway_children_died_total",
                "Gateway children that exited on their own while their session was live.",
                up.died,
            ),
            (
                "fastmcp_gateway_init_timeouts_total",
                "Gateway children killed for not answering initialize within --init-timeout-secs.",
                up.init_timeouts,
            ),
            (
                "fastmcp_connections_accepted_total",
                "Connections accepted since start.",
                counter(&h.accepted),
            ),
            (
                "fastmcp_connections_refused_total",
                "Connections answered 503 at once: --max-connections open, or no descriptor left.",
                counter(&h.refused),
            ),
            (
                "fastmcp_accept_errors_total",
                "Failed accept() calls since start.",
                counter(&h.accept_errors),
            ),
            (
                "fastmcp_connections_idle_closed_total",
                "Connections closed after --idle-timeout-secs without a request.",
                counter(&h.idle_closed),
            ),
            (
                "fastmcp_header_timeouts_total",
                "Connections cut for a request head slower than --header-timeout-secs.",
                counter(&h.header_timeouts),
            ),
            (
                "fastmcp_bad_requests_total",
                "Requests refused as malformed or over a limit (400, 414, 431, 505, smuggling).",
                counter(&h.bad_requests),
            ),
        ],
    )
}

/// The Prometheus text exposition (format 0.0.4).
pub fn metrics(core: &Core) -> Reply {
    Reply::new(200)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body({
            let mut text = metrics_text(core);
            if let Some(o) = core.guard.oauth() {
                text.push_str(&oauth_metrics(o));
            }
            text.into_bytes()
        })
}
