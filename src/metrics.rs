//! Counters for `/metrics` (Prometheus text format).
//!
//! Each server instance has its own (two servers in one process report apart); the layers that
//! count reach them through the runtime, the stream budget or the session registry. Label values
//! come from closed sets (endpoint names, known methods, registered tools) so a client cannot grow
//! them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    http: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    rpc: Mutex<BTreeMap<&'static str, u64>>,
    /// By tool, then outcome: a call's count is found without copying the tool's name.
    tools: Mutex<BTreeMap<String, BTreeMap<&'static str, u64>>>,
    pub events_sent: AtomicU64,
    /// Messages no client will receive: evicted from an outbox or a POST stream's log before
    /// they were handed to a stream, kept nowhere because they did not fit, or redelivered to a
    /// stream with no room.
    pub events_dropped: AtomicU64,
    /// Events evicted from a replay log (general channel or POST stream), delivered or not: a
    /// resume after them is a gap.
    pub events_evicted: AtomicU64,
    pub events_replayed: AtomicU64,
    /// The bytes of messages kept for clients (outboxes, replay logs) and their budgets. Here
    /// because every session already holds its server's counters: the budget reaches each one
    /// without another handle threaded through session creation.
    pub buffers: Buffers,
    /// Requests cancelled by their client (`notifications/cancelled`).
    pub cancelled: AtomicU64,
    /// Streams resumed with `Last-Event-ID`.
    pub streams_resumed: AtomicU64,
    /// Resumptions that found nothing to resume (unknown or evicted ids).
    pub resume_gaps: AtomicU64,
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_us: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Counters at zero: each server instance has its own.
    pub const fn new() -> Metrics {
        Metrics {
            http: Mutex::new(BTreeMap::new()),
            rpc: Mutex::new(BTreeMap::new()),
            tools: Mutex::new(BTreeMap::new()),
            events_sent: AtomicU64::new(0),
            events_dropped: AtomicU64::new(0),
            events_evicted: AtomicU64::new(0),
            events_replayed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            streams_resumed: AtomicU64::new(0),
            resume_gaps: AtomicU64::new(0),
            latency: [ZERO; BUCKETS.len() + 1],
            latency_sum_us: AtomicU64::new(0),
            buffers: Buffers::new(DEFAULT_SESSION_BUFFER_BYTES, DEFAULT_BUFFER_BYTES),
        }
    }

    /// The byte budgets of kept messages: `session` per session (`--session-buffer-bytes`),
    /// `process` for the whole server (`--buffer-bytes`).
    pub fn with_buffer_limits(mut self, session: usize, process: usize) -> Metrics {
        self.buffers = Buffers::new(session, process);
        self
    }
}

/// Default of `--session-buffer-bytes`: room for one burst of large answers (200 of 150 KB) that
/// a client cut off mid-burst can still resume.
pub const DEFAULT_SESSION_BUFFER_BYTES: usize = 32 * 1024 * 1024;
/// Default of `--buffer-bytes`.
pub const DEFAULT_BUFFER_BYTES: usize = 256 * 1024 * 1024;

/// The bytes of messages one server keeps for its clients (every session's outbox and replay
/// logs) against the process-wide budget, and the per-session budget each session is held to.
/// Only the whole-server count lives here; each session counts its own share
/// (`replay::SessionBuffers`).
pub struct Buffers {
    used: AtomicUsize,
    session_limit: usize,
    process_limit: usize,
}

impl Buffers {
    pub const fn new(session_limit: usize, process_limit: usize) -> Buffers {
        Buffers {
            used: AtomicUsize::new(0),
            session_limit,
            process_limit,
        }
    }

    /// Bytes kept now, across sessions (the `fastmcp_buffered_bytes` gauge).
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn session_limit(&self) -> usize {
        self.session_limit
    }

    /// Whether a message of `bytes` could ever be kept (it fits both budgets when they are empty).
    pub fn could_fit(&self, bytes: usize) -> bool {
        bytes <= self.session_limit && bytes <= self.process_limit
    }

    /// Takes `bytes` from the process-wide budget; false (and nothing taken) if they do not fit.
    pub fn try_reserve(&self, bytes: usize) -> bool {
        let before = self.used.fetch_add(bytes, Ordering::AcqRel);
        if before.saturating_add(bytes) > self.process_limit {
            self.used.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        true
    }

    pub fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// The endpoint label: one of the served paths, or "other" (so unknown paths cannot add labels).
pub fn endpoint_of(path: &str) -> &'static str {
    const PATHS: [&str; 6] = [
        "/mcp",
        "/notifications",
        "/sse",
        "/messages",
        "/health",
        "/metrics",
    ];
    PATHS.into_iter().find(|p| *p == path).unwrap_or("other")
}

fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 19] = [
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "list_tools",
        "echo",
        "add",
        "sleep",
        "notifications/initialized",
        "notifications/cancelled",
    ];
    KNOWN.into_iter().find(|k| *k == method).unwrap_or("other")
}

impl Metrics {
    pub fn http(&self, path: &str, method: crate::http::Method, status: u16) {
        let m = method.as_str();
        let mut h = self.http.lock().unwrap_or_else(|p| p.into_inner());
        *h.entry((endpoint_of(path), m, status)).or_default() += 1;
    }

    pub fn rpc(&self, method: &str) {
        let mut r = self.rpc.lock().unwrap_or_else(|p| p.into_inner());
        *r.entry(method_label(method)).or_default() += 1;
    }

    /// `name` must be a registered tool's name (a closed set).
    pub fn tool(&self, name: &str, outcome: &'static str) {
        let mut t = self.tools.lock().unwrap_or_else(|p| p.into_inner());
        let outcomes = match t.get_mut(name) {
            Some(o) => o,
            None => t.entry(name.to_string()).or_default(),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }

    pub fn latency(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.latency[i].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(
            d.as_micros().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    /// The Prometheus exposition text; `gauges` and `counters` are (name, help, value), read at
    /// scrape time from the parts of the server that own them.
    pub fn render(&self, gauges: &[(&str, &str, u64)], counters: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP fastmcp_http_responses_total HTTP responses by endpoint, method and status.\n# TYPE fastmcp_http_responses_total counter"
        );
        for ((t, m, s), v) in self.http.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "fastmcp_http_responses_total{{endpoint=\"{t}\",method=\"{m}\",status=\"{s}\"}} {v}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP fastmcp_jsonrpc_requests_total JSON-RPC requests by method.\n# TYPE fastmcp_jsonrpc_requests_total counter"
        );
        for (m, v) in self.rpc.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "fastmcp_jsonrpc_requests_total{{method=\"{m}\"}} {v}");
        }
        let _ = writeln!(
            out,
            "# HELP fastmcp_tool_calls_total Tool calls by tool and outcome.\n# TYPE fastmcp_tool_calls_total counter"
        );
        for (n, outcomes) in self.tools.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            for (o, v) in outcomes {
                let _ = writeln!(
                    out,
                    "fastmcp_tool_calls_total{{tool=\"{n}\",outcome=\"{o}\"}} {v}"
                );
            }
        }
        for (name, help, c) in [
            (
                "fastmcp_events_sent_total",
                "SSE message events written.",
                &self.events_sent,
            ),
            (
                "fastmcp_events_dropped_total",
                "Messages no client will receive: evicted before any stream took them (--outbox-limit, --replay-events of a POST stream, --session-buffer-bytes, --buffer-bytes), too large to keep, or redelivered to a full stream.",
                &self.events_dropped,
            ),
            (
                "fastmcp_events_evicted_total",
                "Events evicted from replay logs (--replay-events or a byte budget), delivered or not: a resume after them is a gap.",
                &self.events_evicted,
            ),
            (
                "fastmcp_events_replayed_total",
                "Messages redelivered after a stream died.",
                &self.events_replayed,
            ),
            (
                "fastmcp_streams_resumed_total",
                "SSE streams resumed with Last-Event-ID.",
                &self.streams_resumed,
            ),
            (
                "fastmcp_resume_gaps_total",
                "Last-Event-ID that could not be resumed (unknown, or events evicted).",
                &self.resume_gaps,
            ),
            (
                "fastmcp_requests_cancelled_total",
                "Requests cancelled by their client (notifications/cancelled).",
                &self.cancelled,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP fastmcp_request_duration_seconds Time from receiving a JSON-RPC request to its answer.\n# TYPE fastmcp_request_duration_seconds histogram"
        );
        let mut cum = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cum += self.latency[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "fastmcp_request_duration_seconds_bucket{{le=\"{b}\"}} {cum}"
            );
        }
        cum += self.latency[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "fastmcp_request_duration_seconds_bucket{{le=\"+Inf\"}} {cum}"
        );
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "fastmcp_request_duration_seconds_sum {sum}\nfastmcp_request_duration_seconds_count {cum}"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_count_by_tool_then_outcome() {
        let m = Metrics::new();
        for (tool, outcome) in [
            ("echo", "ok"),
            ("add", "error"),
            ("echo", "ok"),
            ("add", "ok"),
        ] {
            m.tool(tool, outcome);
        }
        let text = m.render(&[], &[]);
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("fastmcp_tool_calls_total{"))
            .collect();
        assert_eq!(
            lines,
            [
                "fastmcp_tool_calls_total{tool=\"add\",outcome=\"error\"} 1",
                "fastmcp_tool_calls_total{tool=\"add\",outcome=\"ok\"} 1",
                "fastmcp_tool_calls_total{tool=\"echo\",outcome=\"ok\"} 2",
            ]
        );
    }
}
