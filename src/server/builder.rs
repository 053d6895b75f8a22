//! Building a server: what it offers, then binding its socket and starting its threads.

use super::lifecycle::Server;
use crate::config::Config;
use crate::dispatch::{Core, Parts};
use crate::features::{Features, write};
use crate::http::{self, Listener, Reply};
use crate::jsonrpc::{INVALID_REQUEST, refusal};
use crate::pool::Pool;
use crate::prompts::Prompt;
use crate::resources::{Resource, ResourceTemplate};
use crate::runtime::{Runtime, Settings};
use crate::session::Sessions;
use crate::sse::{PeerWatch, StreamBudget};
use crate::timer::Timer;
use crate::tools::{Tool, builtin};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::ops::DerefMut;
use std::sync::Arc;

/// Builds a server: the binary uses it exactly as a library user would.
pub struct ServerBuilder {
    config: Config,
    features: Features,
    instructions: Option<String>,
    upstream: Option<Arc<dyn crate::dispatch::Upstream>>,
}

impl ServerBuilder {
    /// A server with `config` and nothing registered yet.
    pub fn new(config: Config) -> ServerBuilder {
        ServerBuilder {
            config,
            features: Features::default(),
            instructions: None,
            upstream: None,
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

    /// Adds everything in `offer` (what a config file declares, say), replacing items of the same
    /// names; a running server replaces it with [`ServerHandle::replace`](crate::ServerHandle::replace).
    pub fn offer(self, offer: crate::features::Offer) -> ServerBuilder {
        offer.add_to(&self.features);
        self
    }

    /// Adds a prompt (replacing one of the same name).
    pub fn prompt(self, prompt: Prompt) -> ServerBuilder {
        write(&self.features.prompts).add(prompt);
        self
    }

    /// Declares the tools capability even with no tool registered yet (they will be added at run
    /// time through a [`ServerHandle`](crate::ServerHandle)). Likewise [`ServerBuilder::declare_resources`] and
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

    /// Makes the server a gateway: every session's messages go to its own child, a stdio MCP
    /// server started from `config` at the session's `initialize`, instead of the handlers
    /// registered here (README: Gateway).
    pub fn gateway(mut self, config: crate::gateway::GatewayConfig) -> ServerBuilder {
        self.upstream = Some(Arc::new(crate::gateway::Gateway::new(config)));
        self
    }

    /// Binds the listening socket and starts the worker pool, the timer and the peer watcher.
    pub fn bind(mut self) -> std::io::Result<Server> {
        if let Some(id) = &self.config.instance_id {
            crate::config::check_instance_id(id).map_err(std::io::Error::other)?;
        }
        let inherited = if self.config.socket_activation {
            super::activation::inherited()?
        } else {
            None
        };
        let shared = inherited.is_some();
        let socket = match inherited {
            Some(socket) => socket,
            None => listen(
                resolve(&self.config.host, self.config.port)?,
                self.config.reuse_port,
            )?,
        };
        let local = socket.local_addr()?;
        // The OAuth resource URI derived from the bound address names the port actually bound.
        self.config.port = local.port();
        if shared {
            log::info!(
                "serving on the socket systemd passed (LISTEN_FDS), {local}; --host and --port are not used"
            );
            // The Host check accepts the address actually bound, as it does for --host.
            self.config.host = local.ip().to_string();
        }
        let c = &self.config;
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
        let refusal = Reply::json(
            503,
            refusal(
                INVALID_REQUEST,
                "Too many connections (--max-connections, or the open-file limit); retry later",
            ),
        )
        .header("Retry-After", "1");
        let listener = Listener::new(socket, c.limits(), max_connections, refusal);
        let listener = if shared { listener.shared() } else { listener };
        let core = self.core(listener.stats(), Some(PeerWatch::start()?))?;
        Ok(Server {
            core,
            listener,
            local,
        })
    }

    /// The core every transport serves from: worker pool, timer, sessions, what is offered.
    /// `watch` notices HTTP clients gone from idle streams (stdio has none).
    pub(super) fn core(
        self,
        http: Arc<crate::http::ListenerStats>,
        watch: Option<PeerWatch>,
    ) -> std::io::Result<Arc<Core>> {
        let c = &self.config;
        let metrics = Arc::new(
            crate::metrics::Metrics::new()
                .with_buffer_limits(c.session_buffer_bytes, c.buffer_bytes),
        );
        let runtime = Runtime::new(
            Timer::start(1024)?,
            Pool::start(c.workers, c.queue)?,
            metrics.clone(),
            c.state_key
                .clone()
                .unwrap_or_else(crate::state_key::StateKey::random),
            Settings {
                client_request_timeout: c.client_request_timeout,
                progress_interval: c.progress_interval,
                cache_ttl_ms: c.cache_ttl_ms,
                input_state_ttl: c.input_state_ttl,
            },
        );
        let mut streams = StreamBudget::new(c.max_streams, metrics.clone());
        if let Some(watch) = watch {
            streams = streams.watching(watch);
        }
        Ok(Core::new(Parts {
            sessions: Sessions::new(c.max_sessions, c.outbox_limit)
                .with_replay(c.replay_events)
                .with_metrics(metrics.clone())
                .with_flood_limits(c.pending_session_ttl, c.max_sessions_per_client)
                .with_instance_id(c.instance_id.as_deref()),
            features: self.features,
            runtime: Arc::new(runtime),
            streams: Arc::new(streams),
            instructions: self.instructions,
            guard: crate::security::Guard::new(&self.config).map_err(std::io::Error::other)?,
            http,
            upstream: self.upstream,
            config: self.config,
        }))
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
/// `reuse_port` (`SO_REUSEPORT`) lets several processes bind the same port; the kernel then
/// spreads new connections across them.
fn listen(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    if reuse_port {
        sock.set_reuse_port(true)?;
    }
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    Ok(sock.into())
}
