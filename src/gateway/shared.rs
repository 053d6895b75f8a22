//! `--gateway-shared`: every session on one child.
//!
//! The child is initialized once by the gateway; each session's `initialize` is answered from
//! that cached result (the protocol version lowered to the client's when the client asked for
//! an older one the child's answer covers), and its requests reach the child with ids rewritten
//! (see [`super::ids`]), so no session sees another's answers or progress. Settings the child
//! holds once for everyone are not forwarded: `logging/setLevel` sets the session's own level
//! here. A session that ends has its requests cancelled at the child; a child that dies ends
//! every session on it (their ids answer 404, clients initialize again) and is restarted by its
//! [`Slot`].

use super::link::fail;
use super::slot::Slot;
use super::wire;
use crate::dispatch::{Core, NOT_INITIALIZED};
use crate::jsonrpc::{
    ErrorObject, INTERNAL_ERROR, INVALID_REQUEST, Incoming, Request, Response, quote,
};
use crate::params::{self, SetLevel};
use crate::protocol::Revision;
use crate::session::{Outgoing, Route, Session};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) struct Shared {
    pub(super) slot: Arc<Slot>,
    init_timeout: Duration,
}

/// Answers request `r` with `result` on `route` and ends it.
fn answer(session: &Session, route: &Route, r: &Request, result: Value) {
    let response = Response::result(r.id.clone(), result);
    session.send(route, Outgoing::answer(&r.id, &response));
    session.end_request(&r.id);
}

impl Shared {
    pub(super) fn new(slot: Arc<Slot>, init_timeout: Duration) -> Shared {
        Shared { slot, init_timeout }
    }

    pub(super) fn forward(
        &self,
        core: &Arc<Core>,
        session: &Arc<Session>,
        msg: Incoming,
        route: &Route,
    ) {
        let hub = self.slot.current();
        match msg {
            Incoming::Request(r) if r.method == "initialize" => {
                self.initialize(core, session, r, route)
            }
            Incoming::Request(r) if r.method == "ping" => answer(session, route, &r, json!({})),
            Incoming::Request(r) if !session.is_initialized() => {
                let e = ErrorObject::new(
                    NOT_INITIALIZED,
                    format!(
                        "Session not initialized: send \"initialize\" before \"{}\"",
                        quote(&r.method)
                    ),
                );
                fail(session, route, &r.id, e)
            }
            Incoming::Request(r) if r.method == "logging/setLevel" => {
                if let Ok(p) = params::parse::<SetLevel>(&r.params) {
                    session.set_log_level(p.level);
                }
                answer(session, route, &r, json!({}))
            }
            Incoming::Request(r) => match hub.filter(|h| h.init_result().is_some()) {
                Some(h) => h.request(session, r, route),
                None => fail(session, route, &r.id, down()),
            },
            Incoming::Notification(n) if n.method == "notifications/initialized" => {}
            Incoming::Notification(n) if n.method == "notifications/cancelled" => {
                if let (Some(h), Ok(c)) = (hub, params::parse::<params::Cancelled>(&n.params)) {
                    h.cancel(session, &c.request_id);
                }
            }
            Incoming::Notification(n) => {
                if let Some(h) = hub {
                    let line = wire::to_line(&Incoming::Notification(n));
                    h.notify(serde_json::from_str(&line).unwrap_or_default());
                }
            }
            response @ Incoming::Response { .. } => {
                if let (Some(h), Incoming::Response { id, .. }) = (hub, &response) {
                    let line = wire::to_line(&response);
                    h.respond(session, id, serde_json::from_str(&line).unwrap_or_default());
                }
            }
        }
    }

    /// A session's `initialize`, answered from the child's (waiting for it while the child
    /// starts).
    fn initialize(&self, core: &Core, session: &Arc<Session>, r: Request, route: &Route) {
        if session.is_initialized() {
            let e = ErrorObject::new(
                INVALID_REQUEST,
                "Invalid Request: session already initialized",
            );
            return fail(session, route, &r.id, e);
        }
        let deadline = Instant::now() + self.init_timeout;
        let hub = self.slot.current();
        let ready = match &hub {
            Some(h) => h.wait_ready(deadline),
            None => Err("the MCP server behind this gateway is down (restarting)".into()),
        };
        let (hub, init) = match (hub, ready) {
            (Some(h), Ok(init)) => (h, init),
            (_, Err(why)) => {
                let e = ErrorObject::new(
                    INTERNAL_ERROR,
                    format!("The gateway cannot initialize: {why}"),
                );
                fail(session, route, &r.id, e);
                core.sessions.remove(&session.id);
                return;
            }
            (None, Ok(_)) => return,
        };
        let mut result = (*init).clone();
        let theirs = result.get("protocolVersion").and_then(Value::as_str);
        let child_rev = theirs.and_then(Revision::parse).unwrap_or(Revision::LATEST);
        let asked = r.params.get("protocolVersion").and_then(Value::as_str);
        let rev = match asked.and_then(Revision::parse) {
            Some(a) if a < child_rev => a,
            _ => child_rev,
        };
        result["protocolVersion"] = rev.as_str().into();
        session.mark_initialized(
            rev,
            r.params.get("clientInfo").cloned(),
            r.params.get("capabilities").cloned(),
        );
        hub.attach(session);
        let (weak, sid) = (Arc::downgrade(&hub), session.id.clone());
        session.on_end(move || {
            if let Some(h) = weak.upgrade() {
                h.detach(&sid);
            }
        });
        log::info!(
            "session {} initialized on the shared child: protocol {}",
            session.id,
            rev.as_str()
        );
        answer(session, route, &r, result);
    }
}

fn down() -> ErrorObject {
    ErrorObject::new(
        INTERNAL_ERROR,
        "The MCP server behind this gateway is down (restarting); initialize a new session",
    )
}
