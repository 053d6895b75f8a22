//! The server: binding, the MCP side of the HTTP layer (admission, queueing onto the worker
//! pool, routing to transports), periodic duties and graceful shutdown.

use crate::config::Config;
use crate::dispatch::{Core, Parts};
use crate::features::{Features, ServerHandle, write};
use crate::http::{self, Listener, Method, Reply, Request, Service, StopHandle};
use crate::jsonrpc::INVALID_REQUEST;
use crate::pool::Pool;
use crate::prompts::Prompt;
use crate::resources::{Resource, ResourceTemplate};
use crate::runtime::{Runtime, Settings};
use crate::session::Sessions;
use crate::sse::StreamBudget;
use crate::timer::Timer;
use crate::tools::{Tool, builtin};
use crate::transport::route;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::ops::DerefMut;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Builds a server: the binary uses it exactly as a library user would.
pub struct ServerBuilder {
    config: Config,
    features: Features,
    instructions: Option<String>,
}

impl ServerBuilder {
    /// A server with `config` and nothing registered yet.
    pub fn new(config: Config) -> ServerBuilder {
        ServerBuilder {
            config,
            features: Features::default(),
            instructions: None,
        }
    }

    /// Adds the built-in `echo`, `add` and `sleep` tools.
    pub fn builtin_tools(self) -> ServerBuilder {
        builtin::register(
            write(&self.features.tools).deref_mut(),
            self.config.max_sleep_secs,
        );
        self
    }

    /// Adds a tool (replacing one of the same name).
    pub fn tool(self, tool: Tool) -> ServerBuilder {
        write(&self.features.tools).register(tool);
        self
    }

    /// Adds a resource with a fixed URI.
    pub fn resource(self, resource: Resource) -> ServerBuilder {
        write(&self.features.resources).add(resource);
        self
    }

    /// Adds a family of resources named by a URI template.
    pub fn resource_template(self, template: ResourceTemplate) -> ServerBuilder {
        write(&self.features.resources).add_template(template);
        self
    }

    /// Adds a prompt (replacing one of the same name).
    pub fn prompt(self, prompt: Prompt) -> ServerBuilder {
        write(&self.features.prompts).add(prompt);
        self
    }

    /// Declares the tools capability even with no tool registered yet (they will be added at run
    /// time through a [`ServerHandle`]). Likewise [`ServerBuilder::declare_resources`] and
    /// [`ServerBuilder::declare_prompts`].
    pub fn declare_tools(mut self) -> ServerBuilder {
        self.features.declare_tools = true;
        self
    }

    /// Declares the resources capability with none registered yet.
    pub fn declare_resources(mut self) -> ServerBuilder {
        self.features.declare_resources = true;
        self
    }

    /// Declares the prompts capability with none registered yet.
    pub fn declare_prompts(mut self) -> ServerBuilder {
        self.features.declare_prompts = true;
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
        let socket = listen(addr)?;
        let local = socket.local_addr()?;
        let fd_limit = http::listener::raise_fd_limit();
        let max_connections = c
            .max_connections
            .unwrap_or_else(|| http::listener::default_max_connections(fd_limit));
        log::info!(
            "open-file limit {}; at most {max_connections} connections (--max-connections)",
            fd_limit.map_or("unknown".to_string(), |n| n.to_string())
        );
        if let Some(fds) = fd_limit.filter(|&n| max_connections as u64 + 32 > n) {
            log::warn!(
                "--max-connections {max_connections} is close to the open-file limit {fds}: new clients may get 503 before it is reached"
            );
        }
        let refusal = Reply::rpc_error(
            503,
            None,
            INVALID_REQUEST,
            "Too many connections (--max-connections, or the open-file limit); retry later",
        )
        .header("Retry-After", "1");
        let listener = Listener::new(socket, c.limits(), max_connections, refusal);
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let runtime = Runtime::new(
            Timer::start(1024)?,
            Pool::start(c.workers, c.queue)?,
            metrics.clone(),
            crate::mrtr::StateKey::random(),
            Settings {
                client_request_timeout: c.client_request_timeout,
                progress_interval: c.progress_interval,
                cache_ttl_ms: c.cache_ttl_ms,
                input_state_ttl: c.input_state_ttl,
            },
        );
        let core = Core::new(Parts {
            sessions: Sessions::new(c.max_sessions, c.outbox_limit).with_replay(c.replay_events),
            features: self.features,
            runtime: Arc::new(runtime),
            streams: Arc::new(StreamBudget::new(c.max_streams, metrics)),
            instructions: self.instructions,
            guard: crate::security::Guard::new(&self.config),
            http: listener.stats(),
            config: self.config,
        });
        Ok(Server {
            core,
            listener,
            local,
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

/// Creates the listening socket (per-connection options are set on each accepted socket).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    Ok(sock.into())
}

/// A bound server: call [`Server::run`] to serve.
pub struct Server {
    core: Arc<Core>,
    listener: Listener,
    local: SocketAddr,
}

impl Server {
    /// The bound address (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Changes what the server offers while it runs, announcing each change to clients.
    pub fn handle(&self) -> ServerHandle {
        self.core.server.clone()
    }

    /// Starts a graceful shutdown when its `stop` is called (from a signal handler's thread, or
    /// by a library user).
    pub fn stop_handle(&self) -> StopHandle {
        self.listener.stop_handle()
    }

    /// Serves until stopped (see [`Server::stop_handle`]), then shuts down gracefully and
    /// returns.
    pub fn run(self) {
        self.start_duties();
        let service: Arc<dyn Service> = Arc::new(Mcp {
            core: self.core.clone(),
        });
        self.listener.run(service);
        graceful_shutdown(&self.core);
        log::info!("shutdown complete");
    }

    fn start_duties(&self) {
        let core = self.core.clone();
        let timer = &self.core.runtime.timer;
        timer.every(self.core.config.keepalive, move || {
            for s in core.sessions.all() {
                s.keepalive();
            }
            core.subscriptions.keepalive();
            true
        });
        let core = self.core.clone();
        let ttl = self.core.config.session_ttl;
        let period = (ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        timer.every(period, move || {
            core.sessions.expire(ttl);
            true
        });
    }
}

/// The MCP server as the HTTP layer sees it.
struct Mcp {
    core: Arc<Core>,
}

impl Service for Mcp {
    fn admit(&self, req: &Request) -> Result<(), Reply> {
        let core = &self.core;
        if core.runtime.shutting_down() || core.http.stopping() {
            return Err(
                Reply::rpc_error(503, None, INVALID_REQUEST, "Server shutting down")
                    .header("Connection", "close")
                    .header("Retry-After", "5"),
            );
        }
        let cors = http::cors_headers(req.header("Origin"), &core.config.cors_origins);
        let path = req.path();
        let is_preflight = req.method() == Method::Options;
        let ops = matches!(path, "/health" | "/metrics");
        let auth = !(is_preflight || ops && core.config.public_health);
        core.guard
            .check(req, &cors, auth)
            .map_err(|r| r.header("Connection", "close"))
    }

    /// Queues the request for a worker without ever blocking its connection thread. A POST
    /// that carries no request (the client's answers to requests of ours, and notifications
    /// such as cancellations) is handled right here instead: it only hands values on, and a
    /// worker may be the very one waiting for it, so queueing it behind busy workers could
    /// deadlock them.
    fn dispatch(&self, req: Request) -> Result<(), Reply> {
        if req.method() == Method::Post && !carries_request(req.body()) {
            route(&self.core, req);
            return Ok(());
        }
        let cors = http::cors_headers(req.header("Origin"), &self.core.config.cors_origins);
        let core = self.core.clone();
        let job = Box::new(move || route(&core, req));
        if self.core.runtime.pool.try_submit(job).is_err() {
            log::warn!("worker queue full; request refused with 503");
            return Err(Reply::rpc_error(
                503,
                None,
                INVALID_REQUEST,
                "Server busy: all workers are occupied (--workers, --queue); retry later",
            )
            .header("Retry-After", "1")
            .headers(&cors));
        }
        Ok(())
    }

    fn error(&self, req: Option<&Request>, status: u16, message: &str) -> Reply {
        let origin = req.and_then(|r| r.header("Origin"));
        Reply::rpc_error(status, None, INVALID_REQUEST, message)
            .headers(&http::cors_headers(origin, &self.core.config.cors_origins))
    }

    fn answered(&self, path: &str, method: Method, status: u16) {
        self.core.runtime.metrics.http(path, method, status);
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
    core.runtime.begin_shutdown();
    // Deferred answers due after the grace period are dropped; their responders answer at once
    // with a "shutting down" error. A margin leaves time to write everything before the deadline.
    let margin = (grace / 5).min(Duration::from_secs(1));
    core.runtime.timer.drop_after(deadline - margin);
    while core.sessions.active_requests() > 0 && Instant::now() + margin < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let last = crate::sse::Frame::Event {
        name: Some("shutdown"),
        data: "server shutting down".into(),
    };
    for s in core.sessions.all() {
        s.close_streams_with(last.clone());
    }
    core.subscriptions.close_all(last);
    while core.streams.open() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    core.runtime.timer.stop();
}

/// Whether a JSON-RPC body may hold a request (an `"id"` with a `"method"`). A cheap byte scan:
/// anything it is unsure of goes to the workers as usual.
fn carries_request(body: &[u8]) -> bool {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    has(b"\"method\"") && has(b"\"id\"")
}
