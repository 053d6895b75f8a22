//! The server: binding, the accept loop, routing requests to transports, periodic duties.

use crate::config::Config;
use crate::dispatch::Core;
use crate::http::{self, BodyError, Reply};
use crate::jsonrpc::{INVALID_REQUEST, PARSE_ERROR};
use crate::pool::Pool;
use crate::session::{Sessions, TransportKind};
use crate::sse::StreamBudget;
use crate::timer::Timer;
use crate::tools::{Tool, ToolRegistry, builtin};
use crate::transport::{Ctx, legacy, seed, streamable};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tiny_http::{Method, Request};

const NUDGE_PERIOD: Duration = Duration::from_millis(200);

/// Builds a server: the binary uses it exactly as a library user would.
pub struct ServerBuilder {
    config: Config,
    tools: ToolRegistry,
    instructions: Option<String>,
}

impl ServerBuilder {
    pub fn new(config: Config) -> ServerBuilder {
        ServerBuilder {
            config,
            tools: ToolRegistry::new(),
            instructions: None,
        }
    }

    /// Adds the built-in `echo`, `add` and `sleep` tools.
    pub fn builtin_tools(mut self) -> ServerBuilder {
        builtin::register(&mut self.tools, self.config.max_sleep_secs);
        self
    }

    pub fn tool(mut self, tool: Tool) -> ServerBuilder {
        self.tools.register(tool);
        self
    }

    /// Free text for the model, returned by `initialize`.
    pub fn instructions(mut self, text: impl Into<String>) -> ServerBuilder {
        self.instructions = Some(text.into());
        self
    }

    /// Binds the listening socket and starts the worker pool and timer.
    pub fn bind(self) -> std::io::Result<Server> {
        let c = &self.config;
        let addr = resolve(&c.host, c.port)?;
        let listener = listen(addr, c)?;
        let local = listener.local_addr()?;
        let http = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let core = Arc::new(Core {
            sessions: Sessions::new(c.max_sessions, c.outbox_limit),
            tools: self.tools,
            timer: Timer::start(1024)?,
            pool: Pool::start(c.workers, c.queue)?,
            streams: Arc::new(StreamBudget::new(c.max_streams)),
            instructions: self.instructions,
            guard: crate::security::Guard::new(&self.config),
            shutting_down: Arc::new(AtomicBool::new(false)),
            started: Instant::now(),
            config: self.config,
        });
        Ok(Server {
            core,
            http,
            local,
            uploads: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        })
    }
}

/// The address to bind. IP literals and `localhost` never touch the system resolver: a static
/// glibc binary can only resolve other names when the host's NSS libraries match its glibc.
fn resolve(host: &str, port: u16) -> std::io::Result<SocketAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    (host, port).to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::other(format!(
            "{host} resolves to no address (a static build resolves names through the host's NSS libraries; pass an IP address)"
        ))
    })
}

/// Creates the listening socket. Options set here are inherited by every accepted connection on
/// Linux, which is the only way to reach sockets that tiny_http accepts internally:
/// `TCP_NODELAY` (no Nagle delay between an event and the next), a send timeout (a client that
/// stops reading cannot block a writer forever) and TCP keepalive (vanished peers are noticed).
fn listen(addr: SocketAddr, c: &Config) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, TcpKeepalive, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    sock.set_nodelay(true)?;
    sock.set_write_timeout(Some(c.write_timeout))?;
    sock.set_keepalive(true)?;
    sock.set_tcp_keepalive(
        &TcpKeepalive::new()
            .with_time(Duration::from_secs(60))
            .with_interval(Duration::from_secs(10))
            .with_retries(5),
    )?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    Ok(sock.into())
}

pub struct Server {
    core: Arc<Core>,
    http: tiny_http::Server,
    local: SocketAddr,
    /// Requests whose (large or chunked) body is still arriving, each on its own thread.
    uploads: Arc<AtomicUsize>,
    /// Set (by a signal handler, or [`Server::stop_flag`]'s user) to begin a graceful shutdown.
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// The flag that starts a graceful shutdown when set; hand it to a signal handler.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Serves until a graceful shutdown (see [`Server::stop_flag`]) has completed.
    pub fn run(self) {
        self.start_duties();
        let mut shutdown: Option<std::thread::JoinHandle<()>> = None;
        loop {
            match self.http.recv_timeout(Duration::from_millis(100)) {
                Ok(Some(req)) if shutdown.is_some() => refuse_during_shutdown(req),
                Ok(Some(req)) => self.accept(req),
                Ok(None) => {}
                Err(e) => {
                    log::error!("accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            if shutdown.is_none() && self.stop.load(Ordering::Acquire) {
                let core = self.core.clone();
                shutdown = Some(std::thread::spawn(move || graceful_shutdown(&core)));
            }
            if shutdown.as_ref().is_some_and(|h| h.is_finished()) {
                log::info!("shutdown complete");
                return;
            }
        }
    }

    fn start_duties(&self) {
        self.start_nudger();
        let core = self.core.clone();
        self.core.timer.every(self.core.config.keepalive, move || {
            for s in core.sessions.all() {
                s.keepalive();
            }
            true
        });
        let core = self.core.clone();
        let ttl = self.core.config.session_ttl;
        let period = (ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        self.core.timer.every(period, move || {
            core.sessions.expire(ttl);
            true
        });
    }

    /// Works around a lost wakeup in tiny_http 0.12's connection thread pool: when several
    /// connections arrive at once while a thread is idle, a connection can be queued with no
    /// thread woken for it, and wait until some other connection closes, which under keep-alive
    /// and SSE may be never. A pool thread that finishes a connection takes the next queued one,
    /// so a short-lived connection to ourselves every 200 ms frees any stalled connection within
    /// that time. (Seen as `initialize` requests left unread in the socket under a burst of
    /// 200 new clients; the benchmark's `sleeps` run reproduces it.)
    fn start_nudger(&self) {
        let mut target = self.local;
        if target.ip().is_unspecified() {
            target.set_ip(match target {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let stop = self.core.shutting_down.clone();
        let spawned = std::thread::Builder::new()
            .name("nudger".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    std::thread::sleep(NUDGE_PERIOD);
                    drop(std::net::TcpStream::connect_timeout(&target, NUDGE_PERIOD));
                }
            });
        if let Err(e) = spawned {
            log::warn!("could not start the connection nudger: {e}");
        }
    }

    /// Hands a request to a worker without ever blocking the accept loop. A POST whose body is
    /// not already in memory goes to its own upload thread instead, so a slow sender can only
    /// hold that thread, never a worker.
    fn accept(&self, req: Request) {
        let core = self.core.clone();
        let slow_body = *req.method() == Method::Post
            && req.body_length().is_none_or(|n| n > http::PREREAD_LIMIT)
            && req
                .body_length()
                .is_none_or(|n| n <= core.config.max_body_bytes);
        if slow_body {
            let uploads = self.uploads.clone();
            if uploads.fetch_add(1, Ordering::AcqRel) < core.config.max_uploads {
                let u2 = uploads.clone();
                let spawned = std::thread::Builder::new()
                    .name("upload".into())
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        // As on the workers, a panicking handler must not leak its upload slot.
                        let done = std::panic::AssertUnwindSafe(|| handle(&core, req));
                        if std::panic::catch_unwind(done).is_err() {
                            log::error!("a request handler panicked on an upload thread");
                        }
                        u2.fetch_sub(1, Ordering::AcqRel);
                    });
                if let Err(e) = spawned {
                    uploads.fetch_sub(1, Ordering::AcqRel);
                    log::error!("could not start an upload thread: {e}");
                }
                return;
            }
            uploads.fetch_sub(1, Ordering::AcqRel);
            return busy(req, "Too many uploads in progress (--max-uploads)");
        }
        // The request waits in a slot so that, if the queue refuses the job, it can still be
        // answered with 503 from here.
        let slot = Arc::new(std::sync::Mutex::new(Some(req)));
        let job_slot = slot.clone();
        let job = Box::new(move || {
            let taken = job_slot.lock().map(|mut s| s.take()).unwrap_or(None);
            if let Some(req) = taken {
                handle(&core, req);
            }
        });
        if self.core.pool.try_submit(job).is_err() {
            let taken = slot.lock().map(|mut s| s.take()).unwrap_or(None);
            if let Some(req) = taken {
                log::warn!("worker queue full; request refused with 503");
                busy(
                    req,
                    "Server busy: all workers are occupied (--workers, --queue); retry later",
                );
            }
        }
    }
}

/// Lets running work finish within `--shutdown-grace-secs`, answers what cannot finish with an
/// error, ends every stream with a final `shutdown` event, and returns.
fn graceful_shutdown(core: &Arc<Core>) {
    let grace = core.config.shutdown_grace;
    let deadline = Instant::now() + grace;
    log::info!(
        "shutting down: {} request(s) running, {} stream(s) open, grace {:?}",
        core.sessions.active_requests(),
        core.streams.open(),
        grace
    );
    core.shutting_down.store(true, Ordering::Release);
    // Deferred answers due after the grace period are dropped; their responders answer at once
    // with a "shutting down" error. A margin leaves time to write everything before the deadline.
    let margin = (grace / 5).min(Duration::from_secs(1));
    core.timer.drop_after(deadline - margin);
    while core.sessions.active_requests() > 0 && Instant::now() + margin < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    for s in core.sessions.all() {
        s.close_streams_with(crate::sse::Frame::Event {
            name: Some("shutdown"),
            data: "server shutting down".into(),
        });
    }
    while core.streams.open() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    core.timer.stop();
}

fn refuse_during_shutdown(req: Request) {
    Reply::rpc_error(503, None, INVALID_REQUEST, "Server shutting down")
        .header("Connection", "close")
        .header("Retry-After", "5")
        .send(req);
}

fn busy(req: Request, why: &str) {
    Reply::rpc_error(503, None, INVALID_REQUEST, why)
        .header("Retry-After", "1")
        .send(req);
}

/// Routes one request to its transport.
fn handle(core: &Arc<Core>, req: Request) {
    let path = http::path(req.url()).to_string();
    log::debug!("{} {}", req.method(), req.url());
    let ctx = Ctx {
        cors: http::cors_headers(http::header(&req, "Origin"), &core.config.cors_origins),
    };
    let is_preflight = *req.method() == Method::Options;
    let ops = matches!(path.as_str(), "/health" | "/metrics");
    let auth = !(is_preflight || ops && core.config.public_health);
    let Some(req) = core.guard.check(req, &ctx.cors, auth) else {
        return;
    };
    if is_preflight {
        return http::preflight(ctx.cors).send(req);
    }
    let method = req.method().clone();
    match (path.as_str(), method) {
        ("/notifications", Method::Get) => seed::open_stream(core, req, &ctx),
        ("/notifications", _) => method_not_allowed(req, "GET, OPTIONS", &ctx),
        ("/mcp", Method::Post) => {
            let Some((req, body)) = read_body(core, req, &ctx) else {
                return;
            };
            let sid = session_id(&req);
            match sid.as_deref().and_then(|id| core.sessions.get(id)) {
                Some(s) if s.kind == TransportKind::Seed => seed::post(core, req, s, &body, &ctx),
                // `?session_id=` is the seed's spelling (Streamable HTTP uses the header): an
                // unknown id there is a 404 whatever else is wrong with the request.
                None if http::query_param(req.url(), "session_id").is_some() => Reply::rpc_error(
                    404,
                    None,
                    INVALID_REQUEST,
                    &format!(
                        "Unknown session: {} (expired or never existed)",
                        sid.unwrap_or_default()
                    ),
                )
                .headers(&ctx.cors)
                .send(req),
                _ => streamable::post(core, req, &body, sid, &ctx),
            }
        }
        ("/mcp", Method::Get) => {
            let sid = session_id(&req);
            streamable::open_stream(core, req, sid, &ctx)
        }
        ("/mcp", Method::Delete) => {
            let sid = session_id(&req);
            streamable::delete(core, req, sid, &ctx)
        }
        ("/mcp", _) => method_not_allowed(req, "GET, POST, DELETE, OPTIONS", &ctx),
        ("/sse", Method::Get) => legacy::open_stream(core, req, &ctx),
        ("/sse", _) => method_not_allowed(req, "GET, OPTIONS", &ctx),
        ("/messages", Method::Post) => {
            if let Some((req, body)) = read_body(core, req, &ctx) {
                legacy::post(core, req, &body, &ctx);
            }
        }
        ("/messages", _) => method_not_allowed(req, "POST, OPTIONS", &ctx),
        ("/health", Method::Get) => health(core).headers(&ctx.cors).send(req),
        ("/metrics", Method::Get) => Reply::new(200)
            .header("Content-Type", "text/plain; version=0.0.4")
            .body(metrics_text(core).into_bytes())
            .send(req),
        ("/health" | "/metrics", _) => method_not_allowed(req, "GET", &ctx),
        _ => Reply::rpc_error(
            404,
            None,
            INVALID_REQUEST,
            &format!("Not found: {path} (endpoints: /mcp, /notifications, /sse, /messages)"),
        )
        .headers(&ctx.cors)
        .send(req),
    }
}

/// Reads a POST body within the limits, answering 413/408/400 itself when it cannot.
fn read_body(core: &Core, mut req: Request, ctx: &Ctx) -> Option<(Request, Vec<u8>)> {
    match http::read_body(
        &mut req,
        core.config.max_body_bytes,
        core.config.body_timeout,
    ) {
        Ok(b) => Some((req, b)),
        Err(BodyError::TooLarge) => {
            http::reject_too_large(req, core.config.max_body_bytes, &ctx.cors);
            None
        }
        Err(BodyError::Timeout) => {
            Reply::rpc_error(
                408,
                None,
                INVALID_REQUEST,
                "Request body arrived too slowly (--body-timeout-secs)",
            )
            .header("Connection", "close")
            .headers(&ctx.cors)
            .send(req);
            None
        }
        Err(BodyError::Io(e)) => {
            log::debug!("could not read a request body: {e}");
            Reply::rpc_error(400, None, PARSE_ERROR, "Could not read the request body")
                .header("Connection", "close")
                .headers(&ctx.cors)
                .send(req);
            None
        }
    }
}

fn health(core: &Core) -> Reply {
    let down = core.shutting_down.load(Ordering::Acquire);
    let body = serde_json::json!({
        "status": if down { "shutting_down" } else { "ok" },
        "uptime_secs": core.started.elapsed().as_secs(),
        "sessions": core.sessions.len(),
        "streams": core.streams.open(),
    });
    Reply::json(if down { 503 } else { 200 }, body.to_string())
}

fn metrics_text(core: &Core) -> String {
    let created = core.sessions.created.load(Ordering::Relaxed) as u64;
    let expired = core.sessions.expired.load(Ordering::Relaxed) as u64;
    crate::metrics::METRICS.render(&[
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
            "fastmcp_requests_running",
            "JSON-RPC requests in progress.",
            core.sessions.active_requests() as u64,
        ),
        (
            "fastmcp_uptime_seconds",
            "Seconds since start.",
            core.started.elapsed().as_secs(),
        ),
    ])
}

/// The session id of a request: `Mcp-Session-Id` header, else the `session_id` query parameter.
pub fn session_id(req: &Request) -> Option<String> {
    http::header(req, "Mcp-Session-Id")
        .map(str::to_owned)
        .or_else(|| http::query_param(req.url(), "session_id"))
        .filter(|s| !s.is_empty())
}

fn method_not_allowed(req: Request, allow: &str, ctx: &Ctx) {
    Reply::rpc_error(405, None, INVALID_REQUEST, "Method not allowed")
        .header("Allow", allow)
        .headers(&ctx.cors)
        .send(req);
}
