//! The gateway: any stdio MCP server behind this server's HTTP transports, one child process per
//! MCP session.
//!
//! A session's child starts at the client's `initialize` (forwarded; the child's answer is the
//! session's answer) and is killed with its whole process group when the session ends, whatever
//! ends it (DELETE, expiry, eviction, a legacy stream gone, shutdown): the session's `on_end`
//! hook, not a poll. Children never share anything, so no answer or notification of one client
//! can reach another. Parts: `child` (the process and its threads), `route` (which exchange a
//! child's line belongs to), `link` (one session and its child), `filter` (`--allow-tool`,
//! `--deny-tool`), `wire` (lines both ways), `stats`. A child many requesters share (`--gateway-shared`, and
//! the pool serving revision 2026-07-28's stateless requests) is a `hub` (ids rewritten: `ids`)
//! in a `slot` (started, restarted); `shared` and `pool` are what each mode does with it.

mod asks;
mod bridge;
mod child;
mod filter;
mod hub;
mod ids;
mod link;
mod parked;
mod pool;
mod route;
mod shared;
mod slot;
mod stats;
mod wire;

pub use filter::ToolFilter;

use crate::child::ChildSpec;
use crate::dispatch::{Core, NOT_INITIALIZED, Upstream, UpstreamStats};
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_REQUEST, Incoming, Response, quote};
use crate::session::{Outgoing, Route, Session, TransportKind};
use hub::{HubCtx, Mode};
use link::{Link, fail};
use pool::Pool;
use shared::Shared;
use slot::{RestartPolicy, Slot, SlotSpec};
use stats::Stats;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

/// What the gateway runs and how.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The stdio MCP server: argv (absolute program path), environment, limits, user.
    pub command: ChildSpec,
    /// Which of its tools clients see and may call.
    pub tools: ToolFilter,
    /// Children running at once (one per session); an `initialize` beyond is refused.
    pub max_children: usize,
    /// How long a child may take to answer `initialize` before it is killed.
    pub init_timeout: Duration,
    /// Longest line read from a child (a longer one is skipped and logged).
    pub max_line_bytes: usize,
    /// One child for every session (`--gateway-shared`) instead of one per session.
    pub shared: bool,
    /// Children initialized once that serve stateless (2026-07-28) requests; 0 refuses them.
    pub stateless_children: usize,
    /// Restarts of the shared child allowed within `restart_window`; past them it stays down.
    pub restart_max: u32,
    /// The window `restart_max` counts restarts in.
    pub restart_window: Duration,
}

impl GatewayConfig {
    /// Defaults for `command`: nothing filtered, 100 children, 30 s to initialize, 4 MiB lines,
    /// a child per session, 2 stateless children, 5 restarts a minute.
    pub fn new(command: ChildSpec) -> GatewayConfig {
        GatewayConfig {
            command,
            tools: ToolFilter::default(),
            max_children: 100,
            init_timeout: Duration::from_secs(30),
            max_line_bytes: 4 * 1024 * 1024,
            shared: false,
            stateless_children: 2,
            restart_max: 5,
            restart_window: Duration::from_secs(60),
        }
    }
}

/// The gateway behind a server's core (see [`crate::ServerBuilder::gateway`]).
pub struct Gateway {
    config: GatewayConfig,
    filter: Arc<ToolFilter>,
    links: Arc<Mutex<HashMap<String, Arc<Link>>>>,
    stats: Arc<Stats>,
    /// The core, once a message came (hubs need it outside of requests).
    core: Arc<OnceLock<Weak<Core>>>,
    pool: Pool,
    shared: Option<Shared>,
}

type Links = Arc<Mutex<HashMap<String, Arc<Link>>>>;

fn lock(links: &Links) -> MutexGuard<'_, HashMap<String, Arc<Link>>> {
    links.lock().unwrap_or_else(|p| p.into_inner())
}

impl Gateway {
    /// With `config.shared`, the shared child starts now.
    pub fn new(config: GatewayConfig) -> Gateway {
        let filter = Arc::new(config.tools.clone());
        let stats: Arc<Stats> = Arc::default();
        let ctx = HubCtx {
            core: Arc::default(),
            filter: filter.clone(),
        };
        let slot = |mode| {
            Slot::new(SlotSpec {
                command: config.command.clone(),
                max_line_bytes: config.max_line_bytes,
                init_timeout: config.init_timeout,
                policy: RestartPolicy {
                    max: config.restart_max,
                    window: config.restart_window,
                },
                mode,
                ctx: ctx.clone(),
                stats: stats.clone(),
            })
        };
        let slots = (0..config.stateless_children)
            .map(|_| slot(Mode::Pool))
            .collect();
        let pool = Pool::new(slots, config.init_timeout, ctx.clone());
        let shared = config.shared.then(|| {
            let s = slot(Mode::Shared);
            s.start();
            Shared::new(s, config.init_timeout)
        });
        Gateway {
            filter,
            config,
            links: Arc::default(),
            stats,
            core: ctx.core,
            pool,
            shared,
        }
    }

    /// The client's `initialize` on a session without a child: starts one and forwards it.
    fn start(
        &self,
        core: &Arc<Core>,
        session: &Arc<Session>,
        req: crate::jsonrpc::Request,
        route: &Route,
    ) {
        let refuse = |message: String| {
            fail(
                session,
                route,
                &req.id,
                ErrorObject::new(INTERNAL_ERROR, message),
            );
            core.sessions.remove(&session.id);
        };
        if self.stats.running() >= self.config.max_children {
            return refuse(format!(
                "The gateway runs {} MCP server processes already (--max-children); retry later",
                self.config.max_children
            ));
        }
        let link = Arc::new(Link::new(
            core,
            session,
            self.filter.clone(),
            self.stats.clone(),
        ));
        let (on_line, on_exit) = (Arc::downgrade(&link), link.clone());
        let (links, sid) = (self.links.clone(), session.id.clone());
        self.stats.started();
        let started = child::Child::start(
            &self.config.command,
            self.config.max_line_bytes,
            move |line| {
                if let Some(l) = on_line.upgrade() {
                    l.on_child_line(&line)
                }
            },
            move |killed| {
                on_exit.stats.ended();
                lock(&links).remove(&sid);
                on_exit.child_exited(killed);
            },
        );
        let child = match started {
            Ok(c) => c,
            Err(e) => {
                self.stats.not_started();
                log::error!(
                    "session {}: cannot start the gateway's child: {e}",
                    session.id
                );
                return refuse(format!("The gateway cannot start its MCP server: {e}"));
            }
        };
        log::info!(
            "session {}: gateway child {} started",
            session.id,
            child.pid()
        );
        let _ = link.child.set(child.clone());
        lock(&self.links).insert(session.id.clone(), link.clone());
        let (links, sid) = (self.links.clone(), session.id.clone());
        session.on_end(move || {
            lock(&links).remove(&sid);
            child.kill();
        });
        let weak = Arc::downgrade(&link);
        let timeout = self.config.init_timeout;
        core.runtime.timer.schedule(timeout, move || {
            if let Some(l) = weak.upgrade().filter(|l| !l.is_initialized()) {
                l.init_timed_out(timeout);
            }
        });
        link.initialize(session, req, route);
    }
}

impl Upstream for Gateway {
    fn forward(&self, core: &Arc<Core>, session: &Arc<Session>, msg: Incoming, route: &Route) {
        let _ = self.core.set(Arc::downgrade(core));
        if session.kind == TransportKind::Stateless {
            if let Incoming::Request(r) = msg {
                self.pool.serve(session, r, route);
            }
            return;
        }
        if let Some(shared) = &self.shared {
            return shared.forward(core, session, msg, route);
        }
        let link = lock(&self.links).get(&session.id).cloned();
        match (link, msg) {
            (Some(_), Incoming::Request(r)) if r.method == "initialize" => fail(
                session,
                route,
                &r.id,
                ErrorObject::new(
                    INVALID_REQUEST,
                    "Invalid Request: session already initialized",
                ),
            ),
            (Some(link), msg) => link.forward(session, msg, route),
            (None, Incoming::Request(r)) if r.method == "initialize" => {
                self.start(core, session, r, route)
            }
            (None, Incoming::Request(r)) if r.method == "ping" => {
                let response = Response::result(r.id.clone(), serde_json::json!({}));
                session.send(route, Outgoing::answer(&r.id, &response));
                session.end_request(&r.id);
            }
            (None, Incoming::Request(r)) => {
                let e = ErrorObject::new(
                    NOT_INITIALIZED,
                    format!(
                        "Session not initialized: send \"initialize\" before \"{}\"",
                        quote(&r.method)
                    ),
                );
                fail(session, route, &r.id, e)
            }
            (None, _) => log::debug!(
                "session {}: a message before initialize ignored (no child yet)",
                session.id
            ),
        }
    }

    fn tool_schema(&self, name: &str) -> Option<serde_json::Value> {
        // A hidden tool is no tool: its headers are not checked (the call is refused anyway).
        self.filter
            .allows(name)
            .then(|| self.pool.tool_schema(name))?
    }

    fn stats(&self) -> UpstreamStats {
        let mut s = self.stats.snapshot();
        s.down = self.shared.as_ref().is_some_and(|sh| !sh.slot.is_up());
        s
    }

    fn shutdown(&self) {
        self.pool.stop();
        if let Some(sh) = &self.shared {
            sh.slot.stop();
        }
        let links: Vec<Arc<Link>> = lock(&self.links).values().cloned().collect();
        for l in links {
            if let Some(c) = l.child.get() {
                c.kill();
            }
        }
    }
}
