//! The handle every handler receives (tools, resources, prompts, completions): who is asking
//! (revision, client info and capabilities), and the ways to talk back to that client while the
//! request runs (log messages, progress). Later features (cancellation, server-to-client
//! requests) are added here as methods, so handler signatures never change.

use crate::dispatch::Core;
use crate::jsonrpc::{OutNotification, RequestId};
use crate::logging::{LogLevel, LogMessage};
use crate::protocol::Revision;
use crate::server::ServerHandle;
use crate::session::{Outgoing, Route, Session};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The handle every handler gets (see the module docs): cheap to clone, and may be moved to another thread with the work.
#[derive(Clone)]
pub struct Context {
    core: Arc<Core>,
    session: Arc<Session>,
    route: Route,
    request_id: Option<RequestId>,
    progress_token: Option<Value>,
    /// Last progress sent, as f64 bits, so progress only ever increases.
    last_progress: Arc<AtomicU64>,
}

impl Context {
    pub(crate) fn new(
        core: Arc<Core>,
        session: Arc<Session>,
        route: Route,
        request_id: Option<RequestId>,
        params: &Map<String, Value>,
    ) -> Context {
        let progress_token = params
            .get("_meta")
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();
        Context {
            core,
            session,
            route,
            request_id,
            progress_token,
            last_progress: Arc::new(AtomicU64::new(f64::NEG_INFINITY.to_bits())),
        }
    }

    /// The protocol revision negotiated with this client.
    pub fn revision(&self) -> Revision {
        self.session.revision().unwrap_or(Revision::LATEST)
    }

    /// The session's id (`Mcp-Session-Id` on Streamable HTTP).
    pub fn session_id(&self) -> &str {
        &self.session.id
    }

    /// The id of the request being handled.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    /// `clientInfo` from `initialize` (`name`, `version`, ...).
    pub fn client_info(&self) -> Option<Value> {
        self.session.client_info()
    }

    /// `capabilities` the client declared in `initialize`.
    pub fn client_capabilities(&self) -> Option<Value> {
        self.session.client_capabilities()
    }

    /// Whether the client declared a capability (`"sampling"`, `"elicitation"`, `"roots"`, ...).
    pub fn client_supports(&self, capability: &str) -> bool {
        self.client_capabilities()
            .is_some_and(|c| c.get(capability).is_some_and(|v| !v.is_null()))
    }

    /// Sends a log message (`notifications/message`) to the client if `level` is at or above
    /// the level the client set (`info` until it sets one). On Streamable HTTP it travels on the
    /// request's own SSE stream.
    pub fn log(&self, level: LogLevel, data: impl Into<Value>) {
        self.log_as(level, None, data)
    }

    /// As [`Context::log`], naming the logger.
    pub fn log_as(&self, level: LogLevel, logger: Option<&str>, data: impl Into<Value>) {
        if level < self.session.log_level() {
            return;
        }
        let params = LogMessage {
            level,
            logger,
            data: data.into(),
        };
        self.notify(
            "notifications/message",
            serde_json::to_value(params).unwrap_or_default(),
        );
    }

    /// Reports progress if the client asked for it (`_meta.progressToken`); otherwise does
    /// nothing. Progress that does not increase is not sent (the protocol requires it to).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        let last = f64::from_bits(self.last_progress.load(Ordering::Acquire));
        if !progress.is_finite() || progress <= last {
            return;
        }
        self.last_progress
            .store(progress.to_bits(), Ordering::Release);
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(t) = total {
            params["total"] = json!(t);
        }
        if let (Some(m), true) = (message, self.revision() >= Revision::V2025_03_26) {
            params["message"] = json!(m);
        }
        self.notify("notifications/progress", params);
    }

    /// The running server, to change what it offers or announce a changed resource from inside
    /// a handler (`ctx.server().resource_updated(uri)`).
    pub fn server(&self) -> ServerHandle {
        ServerHandle::new(self.core.clone())
    }

    /// Whether the client asked for progress on this request.
    pub fn wants_progress(&self) -> bool {
        self.progress_token.is_some()
    }

    /// Sends a notification related to this request, by the one send path.
    fn notify(&self, method: &str, params: Value) {
        let n = OutNotification {
            jsonrpc: "2.0",
            method: method.to_string(),
            params: Some(params),
        };
        let Ok(json) = serde_json::to_string(&n) else {
            return;
        };
        self.session.send(
            &self.route,
            Outgoing {
                json: json.into(),
                answers: None,
            },
        );
    }

    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }
}
