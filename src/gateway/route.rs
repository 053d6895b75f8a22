//! Which exchange each message from a child belongs to, for one session: the client's requests
//! in flight (their id → the route their answer takes, the method, the progress token they
//! carried). A child's answer goes back exactly where its request came from, its progress to the
//! exchange of the request that carried the token, and nothing of one session's table is ever
//! visible to another (one table per session).

use crate::jsonrpc::RequestId;
use crate::session::Route;
use std::collections::HashMap;

/// A client request the child has not answered yet.
pub(super) struct Pending {
    pub route: Route,
    pub method: String,
    token: Option<String>,
}

/// The requests of one session in flight at its child.
#[derive(Default)]
pub(super) struct Routes {
    requests: HashMap<RequestId, Pending>,
    /// A progress token (as JSON text: `1` and `"1"` differ) → the request that carried it.
    tokens: HashMap<String, RequestId>,
}

impl Routes {
    /// Records request `id`, answered on `route`; `token` is its `_meta.progressToken`. A second
    /// request with the id of one in flight replaces it (the client broke the id rule; the last
    /// one gets the answer).
    pub(super) fn begin(
        &mut self,
        id: RequestId,
        route: Route,
        method: &str,
        token: Option<&serde_json::Value>,
    ) {
        self.end(&id);
        let token = token.map(|t| t.to_string());
        if let Some(t) = &token {
            self.tokens.insert(t.clone(), id.clone());
        }
        self.requests.insert(
            id,
            Pending {
                route,
                method: method.to_string(),
                token,
            },
        );
    }

    /// Takes request `id` out of the table (answered or cancelled): None if it is not in flight.
    pub(super) fn end(&mut self, id: &RequestId) -> Option<Pending> {
        let p = self.requests.remove(id)?;
        if let Some(t) = &p.token
            && self.tokens.get(t) == Some(id)
        {
            self.tokens.remove(t);
        }
        Some(p)
    }

    /// The route of the request in flight that carried progress token `token`.
    pub(super) fn by_token(&self, token: &serde_json::Value) -> Option<Route> {
        let id = self.tokens.get(&token.to_string())?;
        self.requests.get(id).map(|p| p.route.clone())
    }

    /// The route of the only request in flight, if exactly one is.
    pub(super) fn sole(&self) -> Option<Route> {
        let mut it = self.requests.values();
        match (it.next(), it.next()) {
            (Some(p), None) => Some(p.route.clone()),
            _ => None,
        }
    }

    /// Everything in flight, emptied (the child is gone).
    pub(super) fn drain(&mut self) -> Vec<(RequestId, Pending)> {
        self.tokens.clear();
        self.requests.drain().collect()
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.requests.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(n: i64) -> RequestId {
        RequestId::Number(n.into())
    }

    #[test]
    fn answers_tokens_and_the_sole_request() {
        let mut r = Routes::default();
        assert!(r.sole().is_none());
        r.begin(id(1), Route::Session, "tools/call", Some(&json!("p")));
        assert!(r.sole().is_some());
        assert!(r.by_token(&json!("p")).is_some());
        // A number token is another token than the string of its digits.
        r.begin(id(2), Route::Session, "tools/list", Some(&json!(7)));
        assert!(r.by_token(&json!("7")).is_none());
        assert!(r.by_token(&json!(7)).is_some());
        assert!(r.sole().is_none(), "two in flight: no sole request");
        let p = r.end(&id(1)).expect("in flight");
        assert_eq!(p.method, "tools/call");
        assert!(
            r.by_token(&json!("p")).is_none(),
            "token gone with its request"
        );
        assert!(r.end(&id(1)).is_none(), "answered once");
        assert_eq!(r.len(), 1);
        assert_eq!(r.drain().len(), 1);
        assert_eq!(r.len(), 0);
        assert!(r.by_token(&json!(7)).is_none());
    }

    #[test]
    fn a_reused_id_replaces_the_old_request_and_its_token() {
        let mut r = Routes::default();
        r.begin(id(1), Route::Session, "a", Some(&json!("old")));
        r.begin(id(1), Route::Session, "b", Some(&json!("new")));
        assert!(r.by_token(&json!("old")).is_none());
        assert!(r.by_token(&json!("new")).is_some());
        assert_eq!(r.end(&id(1)).map(|p| p.method).as_deref(), Some("b"));
    }
}
