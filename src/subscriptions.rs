//! `subscriptions/listen` (revision 2026-07-28): the stateless replacement of a session's
//! standalone stream. A client opens one per set of changes it wants to hear of (list changes,
//! updates of given resources); the answer is an SSE stream that stays open, starts with
//! `notifications/subscriptions/acknowledged`, and carries only the notifications asked for, each
//! naming the subscription (the listen request's id).
//!
//! Stateless requests have no session to keep their streams alive, so this registry also holds
//! their progress/log streams: every stream here gets keepalives and is closed at shutdown.

use crate::features::Change;
use crate::jsonrpc::{OutNotification, RequestId};
use crate::protocol::ServerCapabilities;
use crate::sse::{Frame, Msg, Push, StreamHandle};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex, MutexGuard};

/// What a listen request asked for (the schema's `SubscriptionFilter`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filter {
    #[serde(
        rename = "toolsListChanged",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub tools: bool,
    #[serde(
        rename = "promptsListChanged",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub prompts: bool,
    #[serde(
        rename = "resourcesListChanged",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub resources: bool,
    #[serde(
        rename = "resourceSubscriptions",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub uris: Vec<String>,
}

/// Most resources one listen stream may watch.
const MAX_URIS: usize = 1024;

/// `subscriptions/listen` params.
#[derive(Deserialize)]
struct ListenParams {
    notifications: FilterWire,
}

/// The filter as sent: a `null` flag or list means "not asked for".
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterWire {
    #[serde(default)]
    tools_list_changed: Option<bool>,
    #[serde(default)]
    prompts_list_changed: Option<bool>,
    #[serde(default)]
    resources_list_changed: Option<bool>,
    #[serde(default)]
    resource_subscriptions: Option<Vec<String>>,
}

impl Filter {
    /// Reads `params.notifications`; a wrong type is -32602's message.
    pub fn parse(params: &Map<String, Value>) -> Result<Filter, String> {
        let p: ListenParams = crate::params::parse(params).map_err(|e| e.message)?;
        let n = p.notifications;
        let uris = n.resource_subscriptions.unwrap_or_default();
        if uris.len() > MAX_URIS {
            return Err(format!(
                "Invalid params: notifications.resourceSubscriptions must be an array of at most {MAX_URIS} URIs"
            ));
        }
        Ok(Filter {
            tools: n.tools_list_changed.unwrap_or(false),
            prompts: n.prompts_list_changed.unwrap_or(false),
            resources: n.resources_list_changed.unwrap_or(false),
            uris,
        })
    }

    /// The part of the filter this server will honour: changes of what it declares.
    pub fn honoured(&self, caps: &ServerCapabilities) -> Filter {
        Filter {
            tools: self.tools && caps.tools.is_some(),
            prompts: self.prompts && caps.prompts.is_some(),
            resources: self.resources && caps.resources.is_some(),
            uris: if caps.resources.is_some() {
                self.uris.clone()
            } else {
                Vec::new()
            },
        }
    }

    fn wants(&self, change: &Change) -> bool {
        match change {
            Change::Tools => self.tools,
            Change::Prompts => self.prompts,
            Change::Resources => self.resources,
            Change::Updated(uri) => self.uris.iter().any(|u| u == uri),
        }
    }
}

struct Listener {
    id: RequestId,
    filter: Filter,
    handle: StreamHandle,
}

/// Open listen streams and the streams of running stateless requests.
#[derive(Default)]
pub struct Subscriptions {
    listeners: Mutex<Vec<Listener>>,
    streams: Mutex<Vec<StreamHandle>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One JSON-RPC notification as a stream frame.
pub fn frame(method: &str, params: Value) -> Option<Frame> {
    let n = OutNotification {
        jsonrpc: "2.0",
        method: method.to_string(),
        params: Some(params),
    };
    let json: Arc<str> = serde_json::to_string(&n).ok()?.into();
    Some(Frame::Message(Msg {
        seq: 0,
        json,
        id: None,
    }))
}

impl Subscriptions {
    /// The acknowledgement that must open a listen stream: the subscription id and what will be
    /// honoured.
    pub fn acknowledgement(id: &RequestId, honoured: &Filter) -> Option<Frame> {
        frame(
            "notifications/subscriptions/acknowledged",
            json!({
                "_meta": { crate::stateless::SUBSCRIPTION_ID_KEY: id },
                "notifications": honoured,
            }),
        )
    }

    /// Registers an acknowledged listen stream.
    pub fn listen(&self, id: RequestId, filter: Filter, handle: StreamHandle) {
        let mut l = lock(&self.listeners);
        l.retain(|x| !x.handle.is_closed());
        l.push(Listener { id, filter, handle });
    }

    /// Registers a stateless request's SSE stream for keepalives and shutdown.
    pub fn track(&self, handle: StreamHandle) {
        let mut s = lock(&self.streams);
        s.retain(|h| !h.is_closed());
        s.push(handle);
    }

    /// Open listen streams.
    pub fn listeners(&self) -> usize {
        let mut l = lock(&self.listeners);
        l.retain(|x| !x.handle.is_closed());
        l.len()
    }

    /// Tells every listener that asked for it; a listener too slow to take it is closed (its
    /// client reconnects and re-reads what it caches).
    pub fn notify(&self, change: Change) {
        let mut l = lock(&self.listeners);
        l.retain(|x| !x.handle.is_closed());
        for x in l.iter().filter(|x| x.filter.wants(&change)) {
            let mut params = json!({"_meta": { crate::stateless::SUBSCRIPTION_ID_KEY: &x.id }});
            if let Change::Updated(uri) = change {
                params["uri"] = uri.into();
            }
            let Some(f) = frame(change.method(), params) else {
                continue;
            };
            if x.handle.push(f) == Push::Full {
                log::warn!("listen stream {} is not reading; closing it", x.id);
                x.handle.close();
            }
        }
    }

    fn all(&self) -> Vec<StreamHandle> {
        let mut l = lock(&self.listeners);
        l.retain(|x| !x.handle.is_closed());
        let mut s = lock(&self.streams);
        s.retain(|h| !h.is_closed());
        l.iter()
            .map(|x| x.handle.clone())
            .chain(s.iter().cloned())
            .collect()
    }

    /// A keepalive comment on every stream; a stuck one is closed.
    pub fn keepalive(&self) {
        for h in self.all() {
            if h.push(Frame::Comment("keepalive")) == Push::Full {
                h.close();
            }
        }
    }

    /// Server shutdown: every stream gets `last` and ends.
    pub fn close_all(&self, last: Frame) {
        for h in self.all() {
            let _ = h.push(last.clone());
            h.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_parses_and_is_cut_to_what_is_declared() {
        let p = json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true,
            "resourceSubscriptions": ["a://x"]}});
        let f = Filter::parse(p.as_object().unwrap_or(&Map::new())).unwrap_or_default();
        assert!(f.tools && f.prompts && !f.resources);
        let caps = ServerCapabilities {
            tools: Some(Default::default()),
            ..Default::default()
        };
        let h = f.honoured(&caps);
        assert!(h.tools && !h.prompts && h.uris.is_empty());
        assert_eq!(
            serde_json::to_value(&h).ok(),
            Some(json!({"toolsListChanged": true}))
        );
        let bad = json!({"notifications": {"toolsListChanged": "yes"}});
        assert!(Filter::parse(bad.as_object().unwrap_or(&Map::new())).is_err());
    }
}
