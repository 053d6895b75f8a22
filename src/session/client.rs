//! What the handshake (or a stateless request's `_meta`) told us about the client, and what it
//! asked for since: its log level and its resource subscriptions. Handlers read these to decide
//! what the client can be sent.

use crate::logging::LogLevel;
use crate::protocol::Revision;
use serde::Deserialize as _;
use serde_json::Value;
use std::collections::HashSet;

/// What a stateless request (revision 2026-07-28) says about its client in `_meta`; named fields
/// so the two JSON values cannot be swapped unnoticed.
pub struct StatelessClient {
    pub client_info: Option<Value>,
    pub capabilities: Value,
    /// Log messages at or above this level go to the client; none without it.
    pub log_level: Option<LogLevel>,
}

#[derive(Default)]
pub(super) struct ClientFacts {
    initialized: bool,
    /// The client did something after its handshake (a request, or opening a stream). Until
    /// then the session is *pending*: it costs an attacker one POST, so it gets the short
    /// `--pending-session-ttl-secs` and is the first evicted when the table is full.
    used: bool,
    revision: Option<Revision>,
    client_info: Option<Value>,
    capabilities: Option<Value>,
    /// Set by `logging/setLevel`; until then [`crate::logging::DEFAULT_LEVEL`].
    log_level: Option<LogLevel>,
    /// No log messages at all (a stateless request that named no level).
    muted: bool,
    /// URIs of resources this client subscribed to.
    subscriptions: HashSet<String>,
}

impl ClientFacts {
    /// A stateless request has no handshake: its `_meta` stands for one.
    pub(super) fn stateless(client: StatelessClient) -> ClientFacts {
        ClientFacts {
            initialized: true,
            used: true,
            revision: Some(Revision::V2026_07_28),
            client_info: client.client_info,
            capabilities: Some(client.capabilities),
            log_level: client.log_level,
            muted: client.log_level.is_none(),
            subscriptions: HashSet::new(),
        }
    }

    pub(super) fn is_initialized(&self) -> bool {
        self.initialized
    }

    /// Never initialized, or initialized and never used since (see `used`).
    pub(super) fn is_pending(&self) -> bool {
        !self.initialized || !self.used
    }

    /// Something happened after the handshake: a request, or a stream opened. Before it
    /// (`initialize` itself, a seed stream opened first) nothing counts.
    pub(super) fn mark_used(&mut self) {
        if self.initialized {
            self.used = true;
        }
    }

    pub(super) fn revision(&self) -> Option<Revision> {
        self.revision
    }

    pub(super) fn mark_initialized(
        &mut self,
        rev: Revision,
        client_info: Option<Value>,
        capabilities: Option<Value>,
    ) {
        self.initialized = true;
        self.revision = Some(rev);
        self.client_info = client_info;
        self.capabilities = capabilities;
    }

    pub(super) fn client_info(&self) -> Option<Value> {
        self.client_info.clone()
    }

    pub(super) fn capabilities(&self) -> Option<Value> {
        self.capabilities.clone()
    }

    pub(super) fn log_enabled(&self, level: LogLevel) -> bool {
        !self.muted && level >= self.log_level.unwrap_or(crate::logging::DEFAULT_LEVEL)
    }

    /// An explicit level, not the default, is what says the client wants log messages.
    pub(super) fn wants_logs(&self) -> bool {
        self.log_level.is_some()
    }

    pub(super) fn set_log_level(&mut self, level: LogLevel) {
        self.log_level = Some(level);
    }

    pub(super) fn subscribe(&mut self, uri: &str) {
        self.subscriptions.insert(uri.to_string());
    }

    pub(super) fn unsubscribe(&mut self, uri: &str) {
        self.subscriptions.remove(uri);
    }

    pub(super) fn is_subscribed(&self, uri: &str) -> bool {
        self.subscriptions.contains(uri)
    }

    pub(super) fn client_name(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Named {
            name: String,
        }
        Named::deserialize(self.client_info.as_ref()?)
            .ok()
            .map(|n| n.name)
    }

    /// Whether the client declared `capability` (`"sampling"`, `"elicitation"`, `"roots"`, ...);
    /// a `null` declares nothing.
    pub(super) fn supports(&self, capability: &str) -> bool {
        let declared = self.capabilities.as_ref().and_then(Value::as_object);
        declared.is_some_and(|c| c.get(capability).is_some_and(|v| !v.is_null()))
    }
}
