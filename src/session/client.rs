//! What the handshake (or a stateless request's `_meta`) told us about the client, and what it
//! asked for since: its log level and its resource subscriptions. Handlers read these to decide
//! what the client can be sent.

use super::Session;
use crate::logging::LogLevel;
use crate::protocol::Revision;
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
            revision: Some(Revision::V2026_07_28),
            client_info: client.client_info,
            capabilities: Some(client.capabilities),
            log_level: client.log_level,
            muted: client.log_level.is_none(),
            subscriptions: HashSet::new(),
        }
    }

    fn log_enabled(&self, level: LogLevel) -> bool {
        !self.muted && level >= self.log_level.unwrap_or(crate::logging::DEFAULT_LEVEL)
    }

    fn client_name(&self) -> Option<String> {
        self.client_info
            .as_ref()
            .and_then(|c| c.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned)
    }
}

impl Session {
    pub fn is_initialized(&self) -> bool {
        self.state().client.initialized
    }

    pub fn revision(&self) -> Option<Revision> {
        self.state().client.revision
    }

    pub fn mark_initialized(
        &self,
        rev: Revision,
        client_info: Option<Value>,
        capabilities: Option<Value>,
    ) {
        let c = &mut self.state().client;
        c.initialized = true;
        c.revision = Some(rev);
        c.client_info = client_info;
        c.capabilities = capabilities;
    }

    pub fn client_info(&self) -> Option<Value> {
        self.state().client.client_info.clone()
    }

    pub fn client_capabilities(&self) -> Option<Value> {
        self.state().client.capabilities.clone()
    }

    /// Whether a log message at `level` goes to this client.
    pub fn log_enabled(&self, level: LogLevel) -> bool {
        self.state().client.log_enabled(level)
    }

    /// Whether the client asked for log messages (`logging/setLevel`); its tool calls are then
    /// answered as SSE streams on Streamable HTTP, so the messages have a way to it.
    pub fn wants_logs(&self) -> bool {
        self.state().client.log_level.is_some()
    }

    pub fn set_log_level(&self, level: LogLevel) {
        self.state().client.log_level = Some(level);
    }

    pub fn subscribe(&self, uri: &str) {
        self.state().client.subscriptions.insert(uri.to_string());
    }

    pub fn unsubscribe(&self, uri: &str) {
        self.state().client.subscriptions.remove(uri);
    }

    pub fn is_subscribed(&self, uri: &str) -> bool {
        self.state().client.subscriptions.contains(uri)
    }

    pub fn client_name(&self) -> Option<String> {
        self.state().client.client_name()
    }
}
