//! Revision 2026-07-28's stateless requests through a pool of initialized children
//! (`--stateless-children`).
//!
//! A stateless request has no session to start a child for, and starting and initializing one
//! per request would cost a process per call; so a few children are initialized once each (the
//! newest handshake revision they accept) and stateless requests go to the least busy one, ids
//! rewritten. `server/discover` is answered from a pooled child's `initialize` result; results
//! are shaped as the revision wants them (`resultType`, caching hints, the server's info).
//! A child asking the client mid-call parks the call as an input-required round (see
//! [`super::bridge`]); the retry carrying its `requestState` goes back to that child.
//! Refused: `subscriptions/listen` (the transport refuses it: the children's notifications
//! belong to no listener here).

use super::hub::{Hub, HubCtx};
use super::link::fail;
use super::slot::Slot;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, Request};
use crate::protocol::Revision;
use crate::session::{Outgoing, Route, Session};
use crate::stateless::{SERVER_INFO_KEY, shape_result, unknown_method};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) struct Pool {
    slots: Vec<Arc<Slot>>,
    init_timeout: Duration,
    ctx: HubCtx,
}

impl Pool {
    pub(super) fn new(slots: Vec<Arc<Slot>>, init_timeout: Duration, ctx: HubCtx) -> Pool {
        Pool {
            slots,
            init_timeout,
            ctx,
        }
    }

    pub(super) fn stop(&self) {
        for s in &self.slots {
            s.stop();
        }
    }

    /// One stateless request, answered on `route`.
    pub(super) fn serve(&self, session: &Arc<Session>, req: Request, route: &Route) {
        if self.slots.is_empty() {
            let e = ErrorObject::new(
                crate::jsonrpc::METHOD_NOT_FOUND,
                "The gateway does not serve stateless requests (revision 2026-07-28): --stateless-children is 0; initialize a session with revision 2025-11-25 or earlier",
            );
            return fail(session, route, &req.id, e);
        }
        if !crate::stateless::METHODS.contains(&req.method.as_str())
            || req.method == "subscriptions/listen"
        {
            return fail(session, route, &req.id, unknown_method(&req.method));
        }
        if req.params.contains_key("requestState")
            && super::parked::binding(&req.method, &req.params).is_some()
        {
            return self.resume(session, req, route);
        }
        let (hub, init) = match self.ready_hub() {
            Ok(ready) => ready,
            Err(why) => {
                let e =
                    ErrorObject::new(INTERNAL_ERROR, format!("Stateless request refused: {why}"));
                return fail(session, route, &req.id, e);
            }
        };
        if req.method == "server/discover" {
            let ttl = self
                .ctx
                .core
                .get()
                .and_then(|c| c.upgrade())
                .map_or(0, |c| c.runtime.settings.cache_ttl_ms);
            let result = shape_result("server/discover", discover(&init), ttl);
            let response = crate::jsonrpc::Response::result(req.id.clone(), result);
            session.send(route, Outgoing::answer(&req.id, &response));
            session.end_request(&req.id);
            return;
        }
        hub.request(session, req, route);
    }
}

impl Pool {
    /// The retry of a call parked at a question to the client (see [`super::bridge`]).
    fn resume(&self, session: &Arc<Session>, req: Request, route: &Route) {
        let Some(core) = self.ctx.core.get().and_then(|c| c.upgrade()) else {
            return fail(session, route, &req.id, super::bridge::unknown_state());
        };
        let nonce = match super::bridge::state_nonce(&core, &req) {
            Ok(n) => n,
            Err(e) => return fail(session, route, &req.id, e),
        };
        for hub in self.slots.iter().filter_map(|s| s.current()) {
            if let Some(parked) = hub.take_parked(nonce) {
                return hub.resume(parked, session, req, route);
            }
        }
        fail(session, route, &req.id, super::bridge::unknown_state());
    }

    /// A free child, initialized (waiting for it, up to `--init-timeout-secs`, when it starts
    /// now): the least busy one started, or a new one when every started one is busy.
    fn ready_hub(&self) -> Result<(Arc<Hub>, Arc<Value>), String> {
        let busy = |s: &Arc<Slot>| s.current().map(|h| h.in_flight());
        // A child whose call waits for the client's answers takes no other work.
        let free = |s: &&Arc<Slot>| !s.current().is_some_and(|h| h.is_parked());
        let idle = self
            .slots
            .iter()
            .filter(|s| s.is_up())
            .filter(free)
            .min_by_key(|s| busy(s));
        let slot = match idle {
            Some(s) if busy(s) == Some(0) => Some(s),
            other => self
                .slots
                .iter()
                .find(|s| s.current().is_none())
                .or(other)
                .or_else(|| self.slots.iter().find(free)),
        };
        let Some(slot) = slot.or_else(|| self.evict_oldest()) else {
            return Err("no stateless child is available".into());
        };
        let hub = slot
            .hub()
            .ok_or_else(|| "the MCP server behind this gateway cannot be started".to_string())?;
        let init = hub.wait_ready(Instant::now() + self.init_timeout)?;
        Ok((hub, init))
    }

    /// Every child has a call parked at a question: the oldest parked call ends, and its child
    /// is the one to use.
    fn evict_oldest(&self) -> Option<&Arc<Slot>> {
        let oldest = self
            .slots
            .iter()
            .filter_map(|s| Some((s, s.current()?.parked_since()?)))
            .min_by_key(|(_, since)| *since)
            .map(|(s, _)| s)?;
        if let Some(hub) = oldest.current() {
            hub.evict();
        }
        Some(oldest)
    }

    /// The input schema of the child's tool `name` (what the transport checks a stateless
    /// call's `Mcp-Param-*` headers against); None without a pool or such a tool.
    pub(super) fn tool_schema(&self, name: &str) -> Option<Value> {
        if self.slots.is_empty() {
            return None;
        }
        let up = self.slots.iter().filter_map(|s| s.current());
        match up.into_iter().find(|h| h.init_result().is_some()) {
            Some(hub) => hub.tool_schema(name),
            None => self.ready_hub().ok()?.0.tool_schema(name),
        }
    }
}

/// `server/discover` from a child's `initialize` result: its capabilities (without what only a
/// listener could use: no listen stream is served here), instructions and server info.
pub(super) fn discover(init: &Value) -> Value {
    let mut capabilities = init
        .get("capabilities")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(caps) = capabilities.as_object_mut() {
        for feature in ["tools", "prompts", "resources"] {
            if let Some(Value::Object(f)) = caps.get_mut(feature) {
                f.remove("listChanged");
                f.remove("subscribe");
            }
        }
    }
    let mut result = Map::new();
    result.insert(
        "supportedVersions".into(),
        json!(Revision::SUPPORTED.map(Revision::as_str)),
    );
    result.insert("capabilities".into(), capabilities);
    if let Some(i) = init.get("instructions").filter(|i| i.is_string()) {
        result.insert("instructions".into(), i.clone());
    }
    if let Some(info) = init.get("serverInfo").filter(|i| i.is_object()) {
        result.insert("_meta".into(), json!({ SERVER_INFO_KEY: info }));
    }
    Value::Object(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discover_keeps_the_childs_facts_and_drops_listening() {
        let init = json!({"protocolVersion": "2025-11-25",
            "capabilities": {"tools": {"listChanged": true}, "resources": {"subscribe": true}, "logging": {}},
            "serverInfo": {"name": "child", "version": "9"}, "instructions": "be nice"});
        let d = shape_result("server/discover", discover(&init), 1000);
        assert_eq!(
            d["capabilities"],
            json!({"tools": {}, "resources": {}, "logging": {}})
        );
        assert_eq!(d["instructions"], "be nice");
        assert_eq!(d["_meta"][SERVER_INFO_KEY]["name"], "child");
        assert_eq!(d["resultType"], "complete");
        assert_eq!(d["supportedVersions"][0], "2026-07-28");
    }
}
