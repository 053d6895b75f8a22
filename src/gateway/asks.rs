//! What a shared child asks of a client (sampling, elicitation, roots, ping).
//!
//! A child asks on behalf of the request it is serving, and the only way to know which is that
//! exactly one is in flight: then the question goes to that request's session (under an id of
//! ours, see [`super::ids`]); otherwise it is refused to the child. A pool child's question
//! becomes an input-required round when it can (see [`super::bridge`]), else ends the call (see
//! [`Hub::stateless_ask`]).

use super::hub::{Hub, Mode, locked, streaming};
use super::link::fail;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR};
use crate::session::Outgoing;
use serde_json::{Value, json};

impl Hub {
    /// A request of the child: relayed to the session whose request is the only one in flight
    /// (it must be asking on that request's behalf), otherwise refused to the child. In the pool
    /// it ends that stateless call instead (see [`Hub::stateless_ask`]).
    pub(super) fn child_request(&self, mut message: Value) {
        let child_id = message.get("id").cloned().unwrap_or_default();
        if message.get("method").and_then(Value::as_str) == Some("ping") {
            self.send_line(json!({"jsonrpc": "2.0", "id": child_id, "result": {}}).to_string());
            return;
        }
        if self.mode == Mode::Pool {
            return self.stateless_ask(child_id, &message);
        }
        let (target, our_id) = {
            let mut t = locked(&self.table);
            let target = t.sole().map(|(_, p)| (p.session.clone(), p.route.clone()));
            let our_id = target
                .as_ref()
                .map(|(session, _)| t.ask(child_id.clone(), session));
            (target, our_id)
        };
        let (Some((session, route)), Some(our_id)) = (target, our_id) else {
            return self.refuse_ask(
                child_id,
                "The gateway cannot tell which client to ask: not exactly one request is in flight",
            );
        };
        message["id"] = serde_json::to_value(our_id).unwrap_or_default();
        session.send(
            &streaming(route),
            Outgoing::message(message.to_string().into()),
        );
    }

    /// A pool child asks the client something during a stateless call: parked as an
    /// input-required round if it can be (see [`super::bridge`]); otherwise the call ends here:
    /// -32021 when the client did not declare the capability (what a native server answers
    /// too), else an error saying the call needs a session (not the only call in flight at its
    /// child, or a method with no input rounds). The child is told the call is cancelled, and
    /// its request is refused.
    fn stateless_ask(&self, child_id: Value, message: &Value) {
        if self.park(&child_id, message) {
            return;
        }
        let method = message.get("method").and_then(Value::as_str).unwrap_or("");
        let capability = method.split('/').next().unwrap_or("");
        let sole = {
            let mut t = locked(&self.table);
            let n = t.sole().map(|(n, _)| n);
            n.and_then(|n| Some((n, t.end(n)?)))
        };
        self.refuse_ask(
            child_id,
            "The gateway cannot relay requests to revision 2026-07-28 (stateless) clients",
        );
        let Some((n, p)) = sole else { return };
        self.tell_cancelled(n, "the client cannot be asked through the gateway");
        let e = if !p.session.supports(capability) {
            crate::stateless::missing_capability(capability)
        } else {
            ErrorObject::new(
                INTERNAL_ERROR,
                format!(
                    "The MCP server behind this gateway asked the client for {} during a stateless call; the gateway cannot relay that as an input-required round (revision 2026-07-28): use a session (2025-11-25)",
                    crate::jsonrpc::quote(method)
                ),
            )
        };
        fail(&p.session, &p.route, &p.client_id, e);
    }
}
