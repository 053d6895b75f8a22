//! A bound server's life: serving until stopped, its periodic duties (keepalives, session
//! expiry), and a graceful shutdown.

use super::access::AccessHandle;
use super::service::Mcp;
use crate::dispatch::Core;
use crate::features::ServerHandle;
use crate::http::{Listener, Service, StopHandle};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A bound server: call [`Server::run`] to serve.
pub struct Server {
    pub(super) core: Arc<Core>,
    pub(super) listener: Listener,
    pub(super) local: SocketAddr,
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

    /// Replaces the scoped bearer tokens while the server runs (a SIGHUP reload).
    pub fn access(&self) -> AccessHandle {
        AccessHandle {
            core: self.core.clone(),
        }
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
        // Often enough for the shorter of the two TTLs (pending sessions expire first).
        let shortest = ttl.min(self.core.config.pending_session_ttl);
        let period = (shortest / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        timer.every(period, move || {
            core.sessions.expire(ttl);
            true
        });
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
    // A gateway's children go now: what they had not answered is answered with an error.
    if let Some(upstream) = &core.upstream {
        upstream.shutdown();
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
    core.streams.stop_watching();
}
