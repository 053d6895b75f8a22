//! Input-required rounds for a pool child's questions: revision 2026-07-28 asks the client
//! through results, a 2025 child through requests it sends mid-call and waits on.
//!
//! When a pool child asks during a stateless call, the call is *parked*: the client's request is
//! answered with an `input_required` result carrying the child's question and a signed
//! `requestState` naming the parked call (bound to the method, target and arguments like a native
//! server's state, good for `--input-state-ttl-secs`), while the child keeps waiting for its
//! answer and gets no other work. The client's retry with that state and `inputResponses` sends
//! the answers to the child as the responses to its questions, and the call goes on under the
//! retry's id: the child's final answer is the retry's result, another question another round.
//! A parked call nobody takes up within the TTL ends: its question is answered with an error, the
//! child is told the call is cancelled, and it is free again. One parked call per child, so the
//! table is bounded by `--stateless-children`; when every child is parked, a new request ends the
//! oldest parked call the same way (clients may give up on a round, and must not hold the pool).
//!
//! A state names its round by a fresh random nonce, so a state of another instance sharing the
//! key, of a call resumed or expired already, or of an earlier round, is unknown here: -32602, as
//! a native server answers a bad state.

use super::hub::{Hub, locked};
use super::ids::Pending;
use super::link::fail;
use super::parked::{Asked, Parked, binding, nonce};
use crate::dispatch::Core;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, Request, RequestId, Response};
use crate::mrtr::{sign_state, verify_state};
use crate::params::{self, WithMeta};
use crate::session::{Outgoing, Route, Session};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Instant;

/// The nonce a retry's `requestState` names (its signature, binding and age checked).
pub(super) fn state_nonce(core: &Core, req: &Request) -> Result<u64, ErrorObject> {
    let state = req.params.get("requestState").and_then(Value::as_str);
    let (Some(state), Some(binding)) = (state, binding(&req.method, &req.params)) else {
        return Err(crate::error::invalid_params(
            "requestState must be a string",
        ));
    };
    let rt = &core.runtime;
    let data = verify_state(&rt.state_key, rt.settings.input_state_ttl, &binding, state)?;
    data.get("nonce")
        .and_then(Value::as_u64)
        .ok_or_else(unknown_state)
}

/// A well-signed state whose round is not parked here (any more).
pub(super) fn unknown_state() -> ErrorObject {
    crate::error::invalid_params(
        "requestState names no call waiting here (answered already, expired, or of another instance); start the request again",
    )
}

fn capability_of(method: &str) -> Option<&'static str> {
    match method {
        "sampling/createMessage" => Some("sampling"),
        "elicitation/create" => Some("elicitation"),
        "roots/list" => Some("roots"),
        _ => None,
    }
}

impl Hub {
    /// Whether a call is parked at this child (it then gets no other work).
    pub(super) fn is_parked(&self) -> bool {
        locked(&self.parked).is_some()
    }

    /// The child asks during a stateless call: the call is parked and the client asked, when it
    /// can be (the only call in flight, a method that can be parked, a capability the client
    /// declared). False leaves the question to be refused.
    pub(super) fn park(&self, child_id: &Value, message: &Value) -> bool {
        let method = message.get("method").and_then(Value::as_str).unwrap_or("");
        let Some(capability) = capability_of(method) else {
            return false;
        };
        let params = message.get("params").cloned().unwrap_or_else(|| json!({}));
        let asked = |count: usize| Asked {
            key: format!("{capability}-{count}"),
            child_id: child_id.clone(),
            request: json!({"method": method, "params": params}),
        };
        if let Some(pk) = locked(&self.parked).as_mut() {
            // Another question while the client is being asked: it goes in the next round.
            pk.count += 1;
            pk.asks.push(asked(pk.count));
            return true;
        }
        let Some(core) = self.core() else {
            return false;
        };
        let p = {
            let mut t = locked(&self.table);
            let Some((n, p)) = t.sole() else {
                return false;
            };
            let Some(binding) = p.binding.clone().filter(|_| p.session.supports(capability)) else {
                return false;
            };
            // Parked before the call leaves the table, so the pool never sees this child idle.
            *locked(&self.parked) = Some(Parked {
                n,
                nonce: 0,
                binding,
                asks: vec![asked(1)],
                count: 1,
                timer: None,
                since: Instant::now(),
            });
            t.end(n)
        };
        if let Some(p) = p {
            self.ask_round(&core, &p.session, &p.route, &p.client_id, &p.method);
        }
        true
    }

    /// Answers the client's request with the parked call's open questions and a new state; the
    /// TTL starts again.
    fn ask_round(
        &self,
        core: &Core,
        session: &Session,
        route: &Route,
        id: &RequestId,
        method: &str,
    ) {
        let rt = &core.runtime;
        let (result, old_timer) = {
            let mut parked = locked(&self.parked);
            let Some(pk) = parked.as_mut() else {
                // Ended (evicted for another request) before its question reached the client.
                drop(parked);
                let e = ErrorObject::new(
                    INTERNAL_ERROR,
                    "The call ended before the client could be asked: every stateless child was needed",
                );
                return fail(session, route, id, e);
            };
            pk.nonce = nonce();
            let requests: Map<String, Value> = pk
                .asks
                .iter()
                .map(|a| (a.key.clone(), a.request.clone()))
                .collect();
            let mut data = Map::new();
            data.insert("nonce".into(), pk.nonce.into());
            let state = sign_state(&rt.state_key, &pk.binding, &data);
            let (weak, nonce) = (self.me.clone(), pk.nonce);
            let timer = rt.timer.schedule(rt.settings.input_state_ttl, move || {
                if let Some(hub) = weak.upgrade() {
                    hub.expire(nonce);
                }
            });
            let result = json!({"resultType": "input_required", "inputRequests": requests,
                "requestState": state});
            (result, pk.timer.replace(timer))
        };
        if let Some(t) = old_timer {
            rt.timer.cancel(t);
        }
        let result = crate::stateless::shape_result(method, result, rt.settings.cache_ttl_ms);
        let response = Response::result(id.clone(), result);
        session.send(route, Outgoing::answer(id, &response));
        session.end_request(id);
    }

    /// The parked call whose current round is `nonce`, taken out.
    pub(super) fn take_parked(&self, nonce: u64) -> Option<Parked> {
        locked(&self.parked).take_if(|p| p.nonce == nonce)
    }

    /// The client's retry of a parked call: its answers go to the child, and the call goes on
    /// under the retry's id; questions it left unanswered are asked again.
    pub(super) fn resume(
        &self,
        mut pk: Parked,
        session: &Arc<Session>,
        req: Request,
        route: &Route,
    ) {
        let Some(core) = self.core() else {
            return fail(session, route, &req.id, unknown_state());
        };
        if let Some(t) = pk.timer.take() {
            core.runtime.timer.cancel(t);
        }
        let responses = req
            .params
            .get("inputResponses")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let (answered, open): (Vec<Asked>, Vec<Asked>) = pk
            .asks
            .drain(..)
            .partition(|a| responses.contains_key(&a.key));
        let lines: Vec<String> = answered
            .iter()
            .map(|a| json!({"jsonrpc": "2.0", "id": a.child_id, "result": responses[&a.key]}))
            .map(|v| v.to_string())
            .collect();
        if !open.is_empty() {
            pk.asks = open;
            *locked(&self.parked) = Some(pk);
            for line in lines {
                self.send_line(line);
            }
            return self.ask_round(&core, session, route, &req.id, &req.method);
        }
        let token = params::parse::<WithMeta>(&req.params)
            .ok()
            .and_then(|m| m.meta)
            .and_then(|m| m.progress_token)
            .and_then(|t| serde_json::to_value(t).ok());
        // In flight again before the child hears the answers, so its next message finds it.
        locked(&self.table).resume(
            pk.n,
            Pending {
                session: session.clone(),
                client_id: req.id,
                route: route.clone(),
                method: req.method,
                token,
                binding: Some(pk.binding),
            },
        );
        for line in lines {
            self.send_line(line);
        }
    }

    /// The TTL of round `nonce` passed with no retry: the child's questions are answered with
    /// an error, the call is cancelled at the child, and the child is free for other work.
    fn expire(&self, nonce: u64) {
        if let Some(pk) = self.take_parked(nonce) {
            log::info!(
                "gateway: a call parked at a question to the client expired (--input-state-ttl-secs)"
            );
            self.end_parked(
                pk,
                "The client did not answer within --input-state-ttl-secs",
            );
        }
    }

    /// Since when a call is parked at this child, if one is.
    pub(super) fn parked_since(&self) -> Option<Instant> {
        locked(&self.parked).as_ref().map(|p| p.since)
    }

    /// Every child has a parked call and a new request needs one: this child's (the oldest)
    /// ends as if it expired, and its state becomes unknown. Clients that never retry (they
    /// may give up) would otherwise hold the whole pool until the TTL.
    pub(super) fn evict(&self) {
        if let Some(pk) = locked(&self.parked).take() {
            log::info!(
                "gateway: every stateless child was parked at a question; the oldest call ended"
            );
            if let (Some(t), Some(core)) = (pk.timer, self.core()) {
                core.runtime.timer.cancel(t);
            }
            self.end_parked(pk, "The gateway needed this child for another request");
        }
    }

    fn end_parked(&self, pk: Parked, why: &str) {
        for a in pk.asks {
            self.refuse_ask(a.child_id, why);
        }
        self.tell_cancelled(pk.n, "the client's input-required round ended unanswered");
    }
}
