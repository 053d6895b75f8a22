//! Id rewriting for a child many requesters share (the stateless pool, `--gateway-shared`).
//!
//! Two sessions may both send request `7` with progress token `"p"`; the child must see two
//! different requests. Each client request gets a gateway-unique number as its id at the child,
//! and its progress token becomes `"gw-N"` (N the same number), so an answer or a progress
//! notification names exactly one request, hence exactly one session. The child's own requests
//! to a client get ids of ours too (`"gw-ask-K"`), so a client's response maps back to the child
//! request it answers and comes from the session that was asked.

use crate::jsonrpc::RequestId;
use crate::mrtr::Binding;
use crate::session::{Route, Session};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The id of the gateway's own `initialize`; client requests are numbered after it and
/// [`TOOLS_ID`].
pub(super) const INIT_ID: u64 = 0;
/// The id of the gateway's own `tools/list` (a pool child's tools, for header checks).
pub(super) const TOOLS_ID: u64 = 1;
const TOKEN_PREFIX: &str = "gw-";
const ASK_PREFIX: &str = "gw-ask-";

/// A client request in flight at the shared child.
pub(super) struct Pending {
    pub session: Arc<Session>,
    pub client_id: RequestId,
    pub route: Route,
    pub method: String,
    /// The client's progress token, restored on the child's progress notifications.
    pub token: Option<Value>,
    /// A stateless call that may become an input-required round: what its `requestState` is
    /// bound to (see [`super::bridge`]).
    pub binding: Option<Arc<Binding>>,
}

/// A request of the child sent to a client: the child's id, and the session asked.
struct Ask {
    child_id: Value,
    session: String,
}

/// Everything in flight at one shared child.
pub(super) struct Table {
    next: u64,
    pending: HashMap<u64, Pending>,
    /// (session, client id as JSON text) → our number: what a cancellation names. The session
    /// by address: stateless stand-ins all have the empty id, and a pending request holds its
    /// session, so the address is not reused while the entry exists.
    by_client: HashMap<(usize, String), u64>,
    asks: HashMap<u64, Ask>,
}

impl Default for Table {
    fn default() -> Table {
        Table {
            next: TOOLS_ID + 1,
            pending: HashMap::new(),
            by_client: HashMap::new(),
            asks: HashMap::new(),
        }
    }
}

fn client_key(session: &Session, id: &RequestId) -> (usize, String) {
    (
        std::ptr::from_ref(session) as usize,
        serde_json::to_string(id).unwrap_or_default(),
    )
}

impl Table {
    /// Records a client request; returns its number at the child and, if it carried one, the
    /// progress token the child gets instead of the client's.
    pub(super) fn begin(&mut self, p: Pending) -> (u64, Option<Value>) {
        let n = self.next;
        self.next += 1;
        (n, self.resume(n, p))
    }

    /// Records a client request under number `n`, which the child already knows: a call parked
    /// at a question, taken up again by the client's retry. Returns the progress token as
    /// [`Table::begin`] does.
    pub(super) fn resume(&mut self, n: u64, p: Pending) -> Option<Value> {
        let key = client_key(&p.session, &p.client_id);
        // A reused client id replaces the old request (the client broke the id rule; the last
        // one gets the answer, as with a child of its own).
        if let Some(old) = self.by_client.insert(key, n) {
            self.pending.remove(&old);
        }
        let token = p
            .token
            .as_ref()
            .map(|_| Value::from(format!("{TOKEN_PREFIX}{n}")));
        self.pending.insert(n, p);
        token
    }

    /// Takes request `n` out (answered): None if it is not in flight.
    pub(super) fn end(&mut self, n: u64) -> Option<Pending> {
        let p = self.pending.remove(&n)?;
        self.by_client.remove(&client_key(&p.session, &p.client_id));
        Some(p)
    }

    /// Our number for a session's request (a cancellation names the client's id).
    pub(super) fn number_of(&self, session: &Session, id: &RequestId) -> Option<u64> {
        self.by_client.get(&client_key(session, id)).copied()
    }

    /// The request a child's progress token names: its session, route and client token.
    pub(super) fn by_token(&self, token: &Value) -> Option<&Pending> {
        let n = token.as_str()?.strip_prefix(TOKEN_PREFIX)?.parse().ok()?;
        self.pending.get(&n)
    }

    /// How many client requests are in flight.
    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }

    /// The only request in flight, if exactly one is, and its number.
    pub(super) fn sole(&self) -> Option<(u64, &Pending)> {
        let mut it = self.pending.iter();
        match (it.next(), it.next()) {
            (Some((n, p)), None) => Some((*n, p)),
            _ => None,
        }
    }

    /// Records a child request sent to `session`; the id the client sees.
    pub(super) fn ask(&mut self, child_id: Value, session: &Session) -> RequestId {
        let k = self.next;
        self.next += 1;
        self.asks.insert(
            k,
            Ask {
                child_id,
                session: session.id.clone(),
            },
        );
        RequestId::String(format!("{ASK_PREFIX}{k}"))
    }

    /// The child's id for a client's response `id`, if `session` was asked it.
    pub(super) fn answered(&mut self, session: &Session, id: &RequestId) -> Option<Value> {
        let RequestId::String(s) = id else {
            return None;
        };
        let k: u64 = s.strip_prefix(ASK_PREFIX)?.parse().ok()?;
        if self.asks.get(&k)?.session != session.id {
            return None;
        }
        self.asks.remove(&k).map(|a| a.child_id)
    }

    /// Everything `session` has in flight, taken out (the session ended); the child's
    /// requests to it are forgotten too (the child's id of each is returned for an error).
    pub(super) fn drop_session(&mut self, session: &str) -> (Vec<u64>, Vec<Value>) {
        let mine: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.session.id == session)
            .map(|(n, _)| *n)
            .collect();
        for n in &mine {
            self.end(*n);
        }
        let asks: Vec<u64> = self
            .asks
            .iter()
            .filter(|(_, a)| a.session == session)
            .map(|(k, _)| *k)
            .collect();
        let asked = asks
            .iter()
            .filter_map(|k| self.asks.remove(k))
            .map(|a| a.child_id)
            .collect();
        (mine, asked)
    }

    /// Everything in flight, emptied (the child is gone).
    pub(super) fn drain(&mut self) -> Vec<Pending> {
        self.by_client.clear();
        self.asks.clear();
        self.pending.drain().map(|(_, p)| p).collect()
    }
}

/// A request's number, when the child's id is one of ours.
pub(super) fn number(id: &RequestId) -> Option<u64> {
    match id {
        RequestId::Number(n) => n.as_u64(),
        RequestId::String(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Sessions, TransportKind};
    use serde_json::json;

    fn pending(session: &Arc<Session>, id: i64, token: Option<Value>) -> Pending {
        Pending {
            session: session.clone(),
            client_id: RequestId::Number(id.into()),
            route: Route::Session,
            method: "tools/call".into(),
            token,
            binding: None,
        }
    }

    #[test]
    fn the_same_client_id_in_two_sessions_is_two_requests() {
        let store = Sessions::new(8, 8);
        let a = store.create(TransportKind::Streamable, None, None).unwrap();
        let b = store.create(TransportKind::Streamable, None, None).unwrap();
        let mut t = Table::default();
        let (na, ta) = t.begin(pending(&a, 7, Some(json!("p"))));
        let (nb, tb) = t.begin(pending(&b, 7, Some(json!("p"))));
        assert!(na != nb && na > TOOLS_ID && nb > TOOLS_ID);
        assert_ne!(ta, tb, "tokens rewritten apart");
        let tb = tb.expect("token");
        assert_eq!(
            t.by_token(&tb).map(|p| p.session.id.clone()),
            Some(b.id.clone())
        );
        assert_eq!(
            t.by_token(&tb).and_then(|p| p.token.clone()),
            Some(json!("p"))
        );
        assert!(
            t.by_token(&json!("p")).is_none(),
            "the client's token is not ours"
        );
        let seven = RequestId::Number(7.into());
        assert_eq!(t.number_of(&a, &seven), Some(na));
        assert!(t.sole().is_none());
        assert_eq!(t.end(na).map(|p| p.session.id.clone()), Some(a.id.clone()));
        assert!(t.end(na).is_none(), "answered once");
        assert_eq!(
            t.sole().map(|(n, p)| (n, p.session.id.clone())),
            Some((nb, b.id.clone()))
        );
        // The child asks b something; only b's response goes back, under the child's id.
        let ask = t.ask(json!(3), &b);
        assert!(t.answered(&a, &ask).is_none(), "a was not asked");
        assert_eq!(t.answered(&b, &ask), Some(json!(3)));
        assert!(t.answered(&b, &ask).is_none());
        let again = t.ask(json!("x"), &b);
        let (requests, asked) = t.drop_session(&b.id);
        assert_eq!((requests, asked), (vec![nb], vec![json!("x")]));
        assert!(t.answered(&b, &again).is_none());
        assert_eq!(t.len(), 0);
    }
}
