//! The binary's command line: each flag fills one field of the library's [`Config`]. It lives
//! with the binary, not in the library, because parsing flags is this program's business; a
//! library user sets the fields directly. `USAGE` and the README's flag table describe the same
//! flags and defaults.

use crate::gateway::{self, GatewayArgs};
use crate::oauth::OAuthFlags;
use fastmcp_server::Config;
use std::path::PathBuf;
use std::time::Duration;

/// The `--help` text.
pub(crate) const USAGE: &str = "\
fastmcp-server: a Model Context Protocol server over HTTP + Server-Sent Events

USAGE:
    fastmcp-server [OPTIONS]                 serve (HTTP)
    fastmcp-server --stdio [--config PATH]   serve one client on stdin/stdout (MCP stdio transport)
    fastmcp-server gateway [OPTIONS] [--config PATH] -- COMMAND [ARGS...]
                                             serve a stdio MCP server over HTTP, one child per session
    fastmcp-server check --config PATH       validate a config file, print what it serves
    fastmcp-server call --config PATH TOOL 'JSON-ARGS'   run one declared tool once, print the result

OPTIONS:
    --host HOST               address to bind (default localhost)
    --port PORT               port to bind, 0 for any free port (default 8085)
    --debug                   log every request and message
    --stdio                   serve MCP on stdin/stdout instead of HTTP (newline-delimited
                              JSON-RPC, one session, logs on stderr; ends when stdin does)
    --config PATH             serve the tools, resources, prompts and tokens declared in PATH
                              (TOML; README: Tools from a config file); SIGHUP re-reads it.
                              The demo tools echo/add/sleep are off unless it says demo_tools = true
    --workers N               request worker threads (default 4)
    --queue N                 requests waiting for a worker before 503 (default 1024)
    --keepalive-secs S        keepalive comment interval on SSE streams (default 30)
    --session-ttl-secs S      idle time before a session without streams is removed (default 1800)
    --max-body-bytes B        largest request body accepted, else 413 (default 4194304)
    --max-sessions N          live sessions before new ones get 503; when reached, the oldest
                              pending session is evicted first (default 10000)
    --pending-session-ttl-secs S  idle time before a pending session (never initialized, or
                              never used after initialize) is removed; also how long a session
                              may stay uninitialized with its stream open (default 60)
    --max-sessions-per-client N  live sessions per client address (TCP peer IP, IPv6 per /64);
                              over it the client's oldest pending session is evicted, else 503.
                              Behind a reverse proxy all clients share its address: raise it or
                              use 0 = no cap (default 1000)
    --max-streams N           open SSE streams before new ones get 503 (default 10000)
    --max-sleep-secs S        longest `sleep` a client may ask for (default 300)
    --outbox-limit N          messages kept per session while it has no stream (default 1024)
    --client-request-timeout-secs S  longest wait for the client to answer a sampling,
                              elicitation or roots request of a tool (default 60)
    --progress-interval-ms MS progress notifications of a parked call (sleep) (default 1000)
    --replay-events N         events kept per resumable SSE stream for Last-Event-ID (default 256)
    --session-buffer-bytes B  bytes of messages a session keeps (outbox and replay logs; oldest
                              evicted beyond, counted) (default 33554432)
    --buffer-bytes B          bytes of messages the whole server keeps (default 268435456)
    --page-size N             items per page of every list (tools, resources, prompts; default 100)
    --stream-queue N          messages queued per stream before its client counts as stuck (default 64)
    --seed-retry-ms MS        `retry:` of the seed stream (/notifications): how long a browser
                              waits to reconnect after it is cut (default 3000)
    --max-connections N       open connections before new ones get 503 (default: the open-file
                              limit less 64, at most 10000)
    --max-header-bytes B      largest request head, else 431 (default 16384)
    --max-url-bytes B         longest request target, else 414 (default 8192)
    --header-timeout-secs S   longest time a request head may take to arrive (default 10)
    --idle-timeout-secs S     close a kept-alive connection idle this long (default 60)
    --body-timeout-secs S     longest time a request body may take to arrive (default 30)
    --write-timeout-secs S    longest wait for a client to accept written bytes (default 30)
    --cors-origin ORIGIN      allow this browser origin (repeatable; `*` for any)
    --allowed-host HOST       accept this Host header too (repeatable; DNS-rebinding protection)
    --allowed-origin ORIGIN   accept this Origin too (repeatable)
    --auth-token-file PATH    require `Authorization: Bearer <token>` (token read from PATH)
    --sse-responses           answer Streamable HTTP requests with SSE streams, not JSON
    --shutdown-grace-secs S   on SIGTERM/SIGINT, time running requests get to finish (default 10)
    --public-health           serve /health and /metrics without the bearer token
    --cache-ttl-ms MS         ttlMs of server/discover and list results in revision 2026-07-28
                              (default 60000; 0 = revalidate every time)
    --input-state-ttl-secs S  how long an input-required result's requestState stays valid
                              (default 900)
    --state-key-file PATH     sign input-required requestState with the key in PATH (only its
                              owner may read it; at least 32 bytes), shared by every instance
                              behind one proxy (default: a random key per process)
    --instance-id ID          start every session id with `ID.` so a proxy routes sessions to
                              this instance (1-32 of A-Z a-z 0-9 _ -; README: Running more than one)
    --oauth-issuer URL        accept OAuth access tokens of this authorization server (repeatable;
                              https, or http on loopback); README: Authorization
    --oauth-resource URL      this server's canonical URI, required in a token's aud (default:
                              https://<first --allowed-host>/mcp, else http://<host>:<port>/mcp)
    --oauth-required-scope S  a scope every token needs (repeatable)
    --oauth-algorithms LIST   accepted JWS algorithms (default RS256,PS256,ES256,EdDSA; none and
                              HS* are refused)
    --oauth-leeway-secs N     clock skew allowed for exp and nbf (default 30)
    --oauth-fetch-timeout-secs S  longest metadata, JWKS or introspection fetch (default 5)
    --oauth-max-document-bytes B  largest metadata, JWKS or introspection answer (default 262144)
    --oauth-jwks-refresh-secs N   least time between key fetches for unknown key ids (default 30)
    --oauth-introspection-url URL  introspect opaque tokens there (RFC 7662), with
    --oauth-introspection-client-id ID and --oauth-introspection-secret-file PATH
    --reuse-port              set SO_REUSEPORT: several processes may bind the same port
    --no-socket-activation    bind --host/--port even when systemd passes a socket (LISTEN_FDS)
    -h, --help                print this help
    -V, --version             print the version

GATEWAY OPTIONS (after `gateway`; README: Gateway):
    --allow-tool GLOB         only tools matching a glob are listed and callable (repeatable)
    --deny-tool GLOB          tools matching a glob are hidden and refused (repeatable)
    --max-children N          child processes at once, one per session (default 100)
    --init-timeout-secs S     a child that has not answered initialize by then is killed (default 30)
    --env NAME[=VALUE]        pass the server's NAME (or set it) to the child; it gets only PATH
                              otherwise (repeatable)
    --gateway-shared          one child for every session (ids rewritten) instead of one each
    --restart-max N           restarts of the shared child within the window (default 5); past
                              them it stays down and /health answers 503
    --restart-window-secs S   the window --restart-max counts in (default 60)
    --stateless-children N    children serving revision 2026-07-28 stateless requests
                              (default 2; 0 refuses them)
";

/// What the command line asked for.
#[derive(Debug)]
pub(crate) enum Cli {
    /// Serve with this configuration (boxed: `Config` is large beside the other variants), the
    /// config file, if any, and the OAuth flags (merged with the file's `[auth.oauth]` once it
    /// is read).
    Run(Box<Config>, Option<PathBuf>, Box<OAuthFlags>),
    /// `--stdio`: serve on stdin/stdout with this configuration and config file.
    Stdio(Box<Config>, Option<PathBuf>),
    /// `gateway ... -- COMMAND`: serve a stdio MCP server over HTTP.
    Gateway(Box<Config>, Option<PathBuf>, GatewayArgs, Box<OAuthFlags>),
    /// `check --config PATH`.
    Check(PathBuf),
    /// `call --config PATH TOOL JSON`.
    Call {
        config: PathBuf,
        tool: String,
        args: String,
    },
    /// `--help` was given.
    Help,
    /// `--version` was given.
    Version,
}

fn positive<T: PartialOrd + Default + std::fmt::Display>(flag: &str, v: T) -> Result<T, String> {
    if v > T::default() {
        Ok(v)
    } else {
        Err(format!("{flag} must be greater than 0, got {v}"))
    }
}

fn secs(flag: &str, v: f64) -> Result<Duration, String> {
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("{flag} must be a positive number of seconds"))
    }
}

/// Parses the arguments after the program name. Errors are one line, ready to print.
pub(crate) fn parse_args(args: Vec<std::ffi::OsString>) -> Result<Cli, String> {
    let (args, command) = gateway::split_command(args);
    let mut a = pico_args::Arguments::from_vec(args);
    if a.contains(["-h", "--help"]) {
        return Ok(Cli::Help);
    }
    if a.contains(["-V", "--version"]) {
        return Ok(Cli::Version);
    }
    let e = |e: pico_args::Error| e.to_string();
    let subcommand = a.subcommand().map_err(e)?;
    let config: Option<PathBuf> = a.opt_value_from_str("--config").map_err(e)?;
    match subcommand.as_deref() {
        Some("check") => return offline(a, config).map(|(c, _)| Cli::Check(c)),
        Some("call") => {
            let (config, rest) = offline(a, config)?;
            return match <[String; 2]>::try_from(rest) {
                Ok([tool, args]) => Ok(Cli::Call { config, tool, args }),
                Err(_) => Err("usage: fastmcp-server call --config PATH TOOL 'JSON-ARGS'".into()),
            };
        }
        Some("gateway") => {}
        Some(other) => {
            return Err(format!("unknown argument '{other}' (see --help)"));
        }
        None => {}
    }
    let gateway = match subcommand.as_deref() {
        Some("gateway") => Some(gateway::parse(&mut a, command)?),
        _ if command.is_some() => {
            return Err("`-- COMMAND` only follows `gateway` (see --help)".into());
        }
        _ => None,
    };
    let d = Config::default();
    let mut c = Config {
        host: a.opt_value_from_str("--host").map_err(e)?.unwrap_or(d.host),
        port: a.opt_value_from_str("--port").map_err(e)?.unwrap_or(d.port),
        debug: a.contains("--debug"),
        ..Config::default()
    };
    let stdio = a.contains("--stdio");
    if let Some(v) = a.opt_value_from_str("--workers").map_err(e)? {
        c.workers = positive("--workers", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--queue").map_err(e)? {
        c.queue = positive("--queue", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--keepalive-secs").map_err(e)? {
        c.keepalive = secs("--keepalive-secs", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--session-ttl-secs").map_err(e)? {
        c.session_ttl = secs("--session-ttl-secs", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--max-body-bytes").map_err(e)? {
        c.max_body_bytes = positive("--max-body-bytes", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--max-sessions").map_err(e)? {
        c.max_sessions = positive("--max-sessions", v)?;
    }
    if let Some(v) = a
        .opt_value_from_str("--pending-session-ttl-secs")
        .map_err(e)?
    {
        c.pending_session_ttl = secs("--pending-session-ttl-secs", v)?;
    }
    if let Some(v) = a
        .opt_value_from_str("--max-sessions-per-client")
        .map_err(e)?
    {
        c.max_sessions_per_client = v;
    }
    if let Some(v) = a.opt_value_from_str("--max-streams").map_err(e)? {
        c.max_streams = positive("--max-streams", v)?;
    }
    if let Some(v) = a
        .opt_value_from_str::<_, f64>("--max-sleep-secs")
        .map_err(e)?
    {
        if !(v.is_finite() && v >= 0.0) {
            return Err("--max-sleep-secs must be a non-negative number".into());
        }
        c.max_sleep_secs = v;
    }
    if let Some(v) = a.opt_value_from_str("--outbox-limit").map_err(e)? {
        c.outbox_limit = positive("--outbox-limit", v)?;
    }
    if let Some(v) = a
        .opt_value_from_str("--client-request-timeout-secs")
        .map_err(e)?
    {
        c.client_request_timeout = secs("--client-request-timeout-secs", v)?;
    }
    if let Some(v) = a
        .opt_value_from_str::<_, u64>("--progress-interval-ms")
        .map_err(e)?
    {
        c.progress_interval = Duration::from_millis(positive("--progress-interval-ms", v)?);
    }
    if let Some(v) = a.opt_value_from_str("--replay-events").map_err(e)? {
        c.replay_events = positive("--replay-events", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--session-buffer-bytes").map_err(e)? {
        c.session_buffer_bytes = positive("--session-buffer-bytes", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--buffer-bytes").map_err(e)? {
        c.buffer_bytes = positive("--buffer-bytes", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--page-size").map_err(e)? {
        c.page_size = positive("--page-size", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--stream-queue").map_err(e)? {
        c.stream_queue = positive("--stream-queue", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--seed-retry-ms").map_err(e)? {
        c.seed_retry_ms = positive("--seed-retry-ms", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--max-connections").map_err(e)? {
        c.max_connections = Some(positive("--max-connections", v)?);
    }
    if let Some(v) = a.opt_value_from_str("--max-header-bytes").map_err(e)? {
        c.max_header_bytes = positive("--max-header-bytes", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--max-url-bytes").map_err(e)? {
        c.max_url_bytes = positive("--max-url-bytes", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--header-timeout-secs").map_err(e)? {
        c.header_timeout = secs("--header-timeout-secs", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--idle-timeout-secs").map_err(e)? {
        c.idle_timeout = secs("--idle-timeout-secs", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--body-timeout-secs").map_err(e)? {
        c.body_timeout = secs("--body-timeout-secs", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--write-timeout-secs").map_err(e)? {
        c.write_timeout = secs("--write-timeout-secs", v)?;
    }
    c.cors_origins = a.values_from_str("--cors-origin").map_err(e)?;
    c.allowed_hosts = a.values_from_str("--allowed-host").map_err(e)?;
    c.allowed_origins = a.values_from_str("--allowed-origin").map_err(e)?;
    c.sse_responses = a.contains("--sse-responses");
    c.public_health = a.contains("--public-health");
    if let Some(v) = a.opt_value_from_str("--shutdown-grace-secs").map_err(e)? {
        c.shutdown_grace = secs("--shutdown-grace-secs", v)?;
    }
    if let Some(v) = a.opt_value_from_str("--cache-ttl-ms").map_err(e)? {
        c.cache_ttl_ms = v;
    }
    if let Some(v) = a.opt_value_from_str("--input-state-ttl-secs").map_err(e)? {
        c.input_state_ttl = secs("--input-state-ttl-secs", v)?;
    }
    if let Some(path) = a
        .opt_value_from_str::<_, String>("--auth-token-file")
        .map_err(e)?
    {
        let token = std::fs::read_to_string(&path)
            .map_err(|err| format!("--auth-token-file {path}: {err}"))?;
        let token = token.trim();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(format!(
                "--auth-token-file {path}: the token must be one non-empty word"
            ));
        }
        c.auth_token = Some(token.to_string());
    }
    if let Some(path) = a
        .opt_value_from_str::<_, PathBuf>("--state-key-file")
        .map_err(e)?
    {
        let key = fastmcp_server::StateKey::from_file(&path)
            .map_err(|why| format!("--state-key-file {why}"))?;
        c.state_key = Some(key);
    }
    if let Some(id) = a
        .opt_value_from_str::<_, String>("--instance-id")
        .map_err(e)?
    {
        fastmcp_server::check_instance_id(&id)?;
        c.instance_id = Some(id);
    }
    let oauth = Box::new(crate::oauth::parse(&mut a)?);
    c.reuse_port = a.contains("--reuse-port");
    c.socket_activation = !a.contains("--no-socket-activation");
    let rest = a.finish();
    if let Some(first) = rest.first() {
        return Err(format!(
            "unknown argument '{}' (see --help)",
            first.to_string_lossy()
        ));
    }
    match (stdio, gateway) {
        (true, Some(_)) => return Err("--stdio and gateway do not go together".into()),
        (true, None) if !oauth.spec.issuers.is_empty() => {
            return Err(
                "--oauth-issuer does not apply to --stdio (no HTTP, no bearer tokens)".into(),
            );
        }
        (true, None) => return Ok(Cli::Stdio(Box::new(c), config)),
        (false, Some(g)) => return Ok(Cli::Gateway(Box::new(c), config, g, oauth)),
        (false, None) => {}
    }
    Ok(Cli::Run(Box::new(c), config, oauth))
}

/// The rest of `check` and `call`: `--config` is required, no server flag applies.
fn offline(
    a: pico_args::Arguments,
    config: Option<PathBuf>,
) -> Result<(PathBuf, Vec<String>), String> {
    let config = config.ok_or("--config PATH is required")?;
    let rest = a
        .finish()
        .into_iter()
        .map(|s| {
            s.into_string()
                .map_err(|_| "arguments must be UTF-8".to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(flag) = rest.iter().find(|r| r.starts_with("--")) {
        return Err(format!("unknown argument '{flag}' (see --help)"));
    }
    Ok((config, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Cli, String> {
        parse_args(s.split_whitespace().map(Into::into).collect())
    }

    #[test]
    fn defaults_and_flags() {
        let Ok(Cli::Run(c, _, _)) = parse("") else {
            panic!()
        };
        assert_eq!((c.host.as_str(), c.port, c.workers), ("localhost", 8085, 4));
        let Ok(Cli::Run(c, _, _)) =
            parse("--port 9 --debug --workers 2 --cors-origin a --cors-origin *")
        else {
            panic!()
        };
        assert_eq!((c.port, c.debug, c.workers), (9, true, 2));
        assert_eq!(c.cors_origins, vec!["a", "*"]);
        assert_eq!(
            (c.pending_session_ttl, c.max_sessions_per_client),
            (Duration::from_secs(60), 1000)
        );
        let Ok(Cli::Run(c, _, _)) =
            parse("--pending-session-ttl-secs 2.5 --max-sessions-per-client 0")
        else {
            panic!()
        };
        assert_eq!(
            (c.pending_session_ttl, c.max_sessions_per_client),
            (Duration::from_millis(2500), 0)
        );
    }

    #[test]
    fn multi_instance_flags() {
        let Ok(Cli::Run(c, _, _)) = parse("--instance-id node-2 --reuse-port") else {
            panic!()
        };
        assert_eq!(c.instance_id.as_deref(), Some("node-2"));
        assert!(c.reuse_port && c.socket_activation && c.state_key.is_none());
        let Ok(Cli::Run(c, _, _)) = parse("--no-socket-activation") else {
            panic!()
        };
        assert!(!c.socket_activation && !c.reuse_port && c.instance_id.is_none());
    }

    #[test]
    fn subcommands_and_config() {
        let Ok(Cli::Run(_, Some(p), _)) = parse("--config /etc/t.toml --port 1") else {
            panic!()
        };
        assert_eq!(p, PathBuf::from("/etc/t.toml"));
        let Ok(Cli::Check(p)) = parse("check --config t.toml") else {
            panic!()
        };
        assert_eq!(p, PathBuf::from("t.toml"));
        let Ok(Cli::Call { config, tool, args }) = parse("call --config t.toml up {}") else {
            panic!()
        };
        assert_eq!(
            (config, tool.as_str(), args.as_str()),
            ("t.toml".into(), "up", "{}")
        );
        for bad in [
            "check",
            "call --config t.toml up",
            "check --config t --port 1",
            "frobnicate",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn bad_input_is_one_line() {
        for bad in [
            "--bogus",
            "--port x",
            "--port 70000",
            "--workers 0",
            "--keepalive-secs -1",
            "--max-sleep-secs nan",
            "--pending-session-ttl-secs 0",
            "--max-sessions-per-client -1",
            "--session-buffer-bytes 0",
            "--buffer-bytes -1",
            "--instance-id a.b",
            "--instance-id ",
            "--state-key-file /nonexistent/key",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
