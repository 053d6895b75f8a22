//! Revision 2026-07-28 on stdio: each request carries its own `_meta` and is served statelessly,
//! beside the session, as `POST /mcp` serves it (GUIDE §2.2). The revision's stdio rules are few:
//! messages are the same lines, cancellation is `notifications/cancelled` (GUIDE §6.5), there are
//! no headers to mirror, and answers may arrive in any order. Each request gets a stand-in session
//! for as long as it runs; what it sends (progress, logs, its answer) goes out on the stdio
//! session's channel, so the output stays one ordered stream.
//!
//! Not served here: `subscriptions/listen` (its notifications would need a stream of their own
//! per subscription; a 2026-07-28 client on stdio re-lists instead), refused with -32601.

use crate::dispatch::Core;
use crate::jsonrpc::{ErrorObject, Incoming, METHOD_NOT_FOUND, RequestId, Response};
use crate::params::{self, Cancelled};
use crate::protocol::Revision;
use crate::session::{Exchange, Outgoing, Route, Session, StatelessClient};
use crate::stateless::{self as rev, RequestMeta};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Whether a message is a 2026-07-28 request: its `_meta` names a revision that has no
/// handshake, or it is `server/discover` (GUIDE §2.3, rules 3 and 4).
pub(super) fn is_modern(msg: &Incoming) -> bool {
    let Incoming::Request(r) = msg else {
        return false;
    };
    match rev::requested_version(&r.params) {
        Some(v) => Revision::parse(v).is_none(),
        None => r.method == "server/discover",
    }
}

/// The stateless requests running now, by id, so `notifications/cancelled` finds them.
#[derive(Default, Clone)]
pub(super) struct Running(Arc<Mutex<HashMap<RequestId, Arc<Session>>>>);

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RequestId, Arc<Session>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Cancels every stateless request still running (the input ended).
    pub(super) fn cancel_all(&self) -> usize {
        let all: Vec<(RequestId, Arc<Session>)> = self.lock().drain().collect();
        all.iter().filter(|(id, s)| s.cancel(id)).count()
    }

    /// Cancels the stateless request a `notifications/cancelled` names; false if none runs by
    /// that id (it may be the session's).
    pub(super) fn cancel(&self, params: &Map<String, Value>) -> bool {
        let Ok(c) = params::parse::<Cancelled>(params) else {
            return false;
        };
        let stand_in = self.lock().get(&c.request_id).cloned();
        stand_in.is_some_and(|s| {
            s.cancel(&c.request_id);
            true
        })
    }
}

/// Checks and serves one 2026-07-28 request; refusals are answered at once.
pub(super) fn serve(core: &Arc<Core>, stdio: &Arc<Session>, running: &Running, msg: Incoming) {
    let Incoming::Request(r) = msg else {
        return;
    };
    let refuse = |e: ErrorObject| {
        let response = Response::error(Some(r.id.clone()), e);
        stdio.send(&Route::Session, Outgoing::answer(&r.id, &response));
    };
    let meta = match RequestMeta::parse(&r.params) {
        Ok(m) => m,
        Err(why) => return refuse(rev::invalid_params(why)),
    };
    if Revision::parse_any(&meta.version) != Some(Revision::V2026_07_28) {
        return refuse(rev::unsupported_version(&meta.version));
    }
    if !rev::METHODS.contains(&r.method.as_str()) {
        return refuse(rev::unknown_method(&r.method));
    }
    if r.method == "subscriptions/listen" {
        return refuse(ErrorObject::new(
            METHOD_NOT_FOUND,
            "Method not found: subscriptions/listen is not served on stdio (list again to see changes)",
        ));
    }
    let client = StatelessClient {
        client_info: meta.client_info,
        capabilities: meta.capabilities,
        log_level: meta.log_level,
    };
    let stand_in = core.sessions.stateless(client, None);
    let id = r.id.clone();
    running.lock().insert(id.clone(), stand_in.clone());
    let route = Route::Exchange(Arc::new(Forward {
        stdio: stdio.clone(),
        running: running.clone(),
        id: id.clone(),
    }));
    let received = core.receive(&stand_in, Incoming::Request(r));
    if !super::queue::submit(core, stdio, route, id.clone(), received) {
        running.lock().remove(&id);
    }
}

/// Where a stateless request's messages go: the stdio session's channel.
struct Forward {
    stdio: Arc<Session>,
    running: Running,
    id: RequestId,
}

impl Exchange for Forward {
    fn deliver(&self, msg: &Outgoing) -> bool {
        if msg.answers.is_some() {
            self.running.lock().remove(&self.id);
        }
        self.stdio.send(&Route::Session, msg.clone());
        true
    }

    /// Cancelled by the client: it expects no answer.
    fn cancelled(&self, _id: &RequestId) {
        self.running.lock().remove(&self.id);
    }

    fn streams(&self) -> bool {
        true
    }
}
