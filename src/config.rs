//! Server settings. Every limit the server enforces lives here, so each one is configurable and
//! documented in one place; the binary's command line (`src/bin/fastmcp-server/cli.rs`) is only
//! one way to fill them in, and a library user sets the fields directly.

use crate::oauth::settings::OAuthSettings;
use std::time::Duration;

/// Every setting of a server; [`Config::default`] is the binary's defaults, and each field is a command-line flag.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind (`--host`); IP literals and `localhost` never touch the resolver.
    pub host: String,
    /// Port to bind (`--port`); 0 picks a free one.
    pub port: u16,
    /// Log every request and message (`--debug`).
    pub debug: bool,
    /// Threads that run request handlers (`--workers`).
    pub workers: usize,
    /// Requests waiting for a worker before new ones get 503.
    pub queue: usize,
    /// Interval of `: keepalive` comments on every SSE stream.
    pub keepalive: Duration,
    /// A session with no open stream and no running request is removed after this idle time.
    pub session_ttl: Duration,
    /// Largest request body; larger gets 413 before any of it is read.
    pub max_body_bytes: usize,
    /// Live sessions before new ones get 503, once no pending session is left to evict (see
    /// `pending_session_ttl`).
    pub max_sessions: usize,
    /// A *pending* session (never initialized, or initialized and never used since: no request,
    /// no stream opened) is removed after this idle time instead of `session_ttl`, and is the
    /// first evicted when a cap is reached. Such a session costs an attacker one POST, so a flood
    /// of them must neither fill the table for long nor keep anyone out. A session that never
    /// initialized is also ended this long after it opened even with its stream open.
    pub pending_session_ttl: Duration,
    /// Live sessions per client address (the TCP peer's IP; IPv6 per /64); 0 = no cap. Over it,
    /// that client's own oldest pending session is evicted, else 503. Behind a reverse proxy
    /// every client has the proxy's address: raise it or set 0 there (no forwarded header is
    /// trusted).
    pub max_sessions_per_client: usize,
    /// Open SSE streams before new ones get 503.
    pub max_streams: usize,
    /// Longest `sleep` a client may ask for.
    pub max_sleep_secs: f64,
    /// Messages kept per session while it has no open stream (oldest dropped beyond).
    pub outbox_limit: usize,
    /// Longest wait for the client's answer to a request of ours (sampling, elicitation, roots).
    pub client_request_timeout: Duration,
    /// How often a parked call (`sleep`) whose client asked for progress reports it.
    pub progress_interval: Duration,
    /// Events kept per resumable stream for `Last-Event-ID`.
    pub replay_events: usize,
    /// Bytes of messages one session keeps (its outbox, its general channel's replay log and its
    /// POST streams' logs together); the oldest are evicted beyond, and counted.
    pub session_buffer_bytes: usize,
    /// Bytes of messages the whole server keeps across sessions; a session over it makes room from
    /// its own oldest, and a message that still does not fit is not kept (counted).
    pub buffer_bytes: usize,
    /// Items per page of `tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`.
    pub page_size: usize,
    /// Frames a stream may have queued before its client counts as stuck.
    pub stream_queue: usize,
    /// The `retry:` a seed stream (`/notifications`) sends: how long a browser's `EventSource`
    /// waits before it reconnects (with `Last-Event-ID`) after the stream is cut.
    pub seed_retry_ms: u64,
    /// Connection threads kept ready for new connections, never retired (`--spare-threads`).
    pub spare_threads: usize,
    /// Open connections (each one thread) before new ones get 503; `None` derives it from the
    /// open-file limit (see `http::listener::default_max_connections`).
    pub max_connections: Option<usize>,
    /// Largest request head; larger → 431.
    pub max_header_bytes: usize,
    /// Longest request target; longer → 414.
    pub max_url_bytes: usize,
    /// A request head must arrive within this time of its first byte (slowloris).
    pub header_timeout: Duration,
    /// A kept-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// A request body must arrive completely within this time.
    pub body_timeout: Duration,
    /// A write to a client that does not complete in this time fails (stuck clients).
    pub write_timeout: Duration,
    /// Browser origins allowed by CORS (`*` for any); they are allowed by the Origin check too.
    pub cors_origins: Vec<String>,
    /// Extra `Host` names accepted besides the bound address and loopback names.
    pub allowed_hosts: Vec<String>,
    /// Extra browser origins accepted (besides loopback origins and `--cors-origin`).
    pub allowed_origins: Vec<String>,
    /// When set, every request must carry `Authorization: Bearer <token>`; this token sees every
    /// tool (its caller is named `auth-token-file`).
    pub auth_token: Option<String>,
    /// Scoped bearer tokens (`[[auth.token]]`), each limited to the tools its globs match. Any
    /// token configured, here or in `auth_token`, means every request needs one. A running
    /// server replaces them through `Server::access`.
    pub tokens: Vec<TokenGrant>,
    /// Answer every Streamable HTTP request with an SSE stream instead of JSON.
    pub sse_responses: bool,
    /// On SIGTERM/SIGINT, how long running requests may take to finish.
    pub shutdown_grace: Duration,
    /// Serve `/health` and `/metrics` without the bearer token.
    pub public_health: bool,
    /// `ttlMs` of cacheable stateless results (discovery and the lists; revision 2026-07-28).
    pub cache_ttl_ms: u64,
    /// How long the `requestState` of an input-required result stays valid.
    pub input_state_ttl: Duration,
    /// The key that signs input-required `requestState` (`--state-key-file`); `None` draws a
    /// random one per process. Instances behind one proxy share it, so that a retry succeeds on
    /// whichever instance it lands on.
    pub state_key: Option<crate::state_key::StateKey>,
    /// Every session id this server mints starts with `<id>.` (`--instance-id`), so a proxy in
    /// front of several instances routes a session's requests by that prefix to the instance
    /// that holds it (see [`check_instance_id`] for what an id may be).
    pub instance_id: Option<String>,
    /// Set `SO_REUSEPORT` on the listening socket (`--reuse-port`): several processes on one
    /// host bind the same port and the kernel spreads new connections across them.
    pub reuse_port: bool,
    /// Serve on the listening socket systemd passes (`LISTEN_FDS`/`LISTEN_PID`, descriptor 3;
    /// a `.socket` unit) instead of binding `host`:`port`, when one was passed to this process.
    pub socket_activation: bool,
    /// OAuth 2.1 resource server (`--oauth-issuer` and the other `--oauth-*` flags, or the
    /// config file's `[auth.oauth]`): `None` (no issuer) leaves authorization to the static
    /// tokens alone.
    pub oauth: Option<OAuthSettings>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            host: "localhost".into(),
            port: 8085,
            debug: false,
            workers: 4,
            queue: 1024,
            keepalive: Duration::from_secs(30),
            session_ttl: Duration::from_secs(1800),
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 10_000,
            pending_session_ttl: Duration::from_secs(60),
            max_sessions_per_client: 1000,
            max_streams: 10_000,
            max_sleep_secs: 300.0,
            outbox_limit: 1024,
            page_size: 100,
            replay_events: 256,
            session_buffer_bytes: crate::metrics::DEFAULT_SESSION_BUFFER_BYTES,
            buffer_bytes: crate::metrics::DEFAULT_BUFFER_BYTES,
            client_request_timeout: Duration::from_secs(60),
            progress_interval: Duration::from_millis(1000),
            stream_queue: 64,
            seed_retry_ms: 3000,
            spare_threads: 8,
            max_connections: None,
            max_header_bytes: 16 * 1024,
            max_url_bytes: 8 * 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            auth_token: None,
            tokens: Vec::new(),
            sse_responses: false,
            shutdown_grace: Duration::from_secs(10),
            public_health: false,
            cache_ttl_ms: 60_000,
            input_state_ttl: Duration::from_secs(900),
            state_key: None,
            instance_id: None,
            reuse_port: false,
            socket_activation: true,
            oauth: None,
        }
    }
}

/// One scoped bearer token: a name for logs and handlers, the SHA-256 digest of the token (the
/// server never holds the token itself, so a leaked config file or memory dump does not leak it),
/// and the globs of the tools it may see and call.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenGrant {
    /// Who this token is, as handlers (`Context::caller`) and logs see it.
    pub name: String,
    /// SHA-256 of the token's bytes (as sent after `Bearer `).
    pub sha256: [u8; 32],
    /// Globs (`glob::Pattern` syntax) of the tool names this token may list and call.
    pub tools: Vec<String>,
}

impl TokenGrant {
    /// A grant from the digest's hex (64 hex digits, either case) and tool globs, checked so that
    /// a mistake is reported when the file is read, not when a client is refused.
    pub fn new(
        name: impl Into<String>,
        sha256_hex: &str,
        tools: Vec<String>,
    ) -> Result<TokenGrant, String> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err("a token's name must not be empty".into());
        }
        let sha256 = parse_digest(sha256_hex.trim()).ok_or_else(|| {
            format!(
                "token {name:?}: sha256 must be 64 hex digits (the SHA-256 of the token, e.g. `printf %s TOKEN | sha256sum`)"
            )
        })?;
        if let Some((glob, e)) = tools
            .iter()
            .find_map(|g| glob::Pattern::new(g).err().map(|e| (g, e)))
        {
            return Err(format!(
                "token {name:?}: tool glob {glob:?} is invalid: {e}"
            ));
        }
        Ok(TokenGrant {
            name,
            sha256,
            tools,
        })
    }
}

/// 64 hex digits as 32 bytes.
fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks(2)) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// Longest `--instance-id`: it is repeated in every session id and event id.
pub const MAX_INSTANCE_ID: usize = 32;

/// An instance id is 1 to `MAX_INSTANCE_ID` (32) of `[A-Za-z0-9_-]`: no `.` (it ends the prefix),
/// nothing a header, a query string or an nginx `map` regex would need to escape.
pub fn check_instance_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_INSTANCE_ID {
        return Err(format!(
            "--instance-id must be 1 to {MAX_INSTANCE_ID} characters, got {}",
            id.len()
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "--instance-id may hold only A-Z a-z 0-9 _ -, got {c:?}"
        ));
    }
    Ok(())
}

impl Config {
    /// The canonical resource URI tokens must be issued for: `--oauth-resource`, else
    /// `https://<first --allowed-host>/mcp`, else `http://<host>:<port>/mcp`.
    pub fn oauth_resource(&self) -> Option<String> {
        let o = self.oauth.as_ref()?;
        if let Some(r) = &o.resource {
            return Some(r.clone());
        }
        if let Some(h) = self.allowed_hosts.first() {
            return Some(format!("https://{h}/mcp"));
        }
        Some(format!("http://{}:{}/mcp", self.host_in_url(), self.port))
    }

    /// `--host` as a URL or a `Host` header spells it: an IPv6 literal (`2001:db8::5`, or the
    /// address of a socket systemd passed) goes in brackets, or its last group would read as a port.
    pub fn host_in_url(&self) -> String {
        let host = self.host.trim();
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        }
    }

    /// The HTTP layer takes its own small limits struct, so that it stays independent of the
    /// MCP server's settings.
    pub(crate) fn limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            max_header_bytes: self.max_header_bytes,
            max_url_bytes: self.max_url_bytes,
            header_timeout: self.header_timeout,
            idle_timeout: self.idle_timeout,
            body_timeout: self.body_timeout,
            max_body_bytes: self.max_body_bytes,
            write_timeout: self.write_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_grants_are_checked() {
        let hex = "00ff".repeat(16);
        let g = TokenGrant::new("ci", &hex.to_uppercase(), vec!["disk_*".into()]).unwrap();
        assert_eq!(g.sha256[0..2], [0x00, 0xff]);
        assert_eq!(g.sha256[31], 0xff);
        assert!(
            TokenGrant::new("ci", &hex[1..], vec![]).is_err(),
            "63 digits"
        );
        assert!(TokenGrant::new("ci", &format!("{}g", &hex[1..]), vec![]).is_err());
        assert!(TokenGrant::new("ci", &format!("{hex}00"), vec![]).is_err());
        let bad = TokenGrant::new("ci", &hex, vec!["a[".into()]).unwrap_err();
        assert!(bad.contains("a["), "{bad}");
        assert!(TokenGrant::new(" ", &hex, vec![]).is_err());
    }

    #[test]
    fn instance_ids_are_checked() {
        for ok in ["a", "node-1", "A_9", &"x".repeat(MAX_INSTANCE_ID)] {
            assert!(check_instance_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a.b",
            "a b",
            "é",
            "a/b",
            "a%2e",
            &"x".repeat(MAX_INSTANCE_ID + 1),
        ] {
            let e = check_instance_id(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
