//! A stateless call parked at its child's questions to the client, as the pool keeps it between
//! input-required rounds (what happens to it is [`super::bridge`]).

use crate::mrtr::Binding;
use crate::timer::TimerId;
use serde_json::{Map, Value, json};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A stateless call waiting for the client's answers to its child's questions.
pub(super) struct Parked {
    /// The call's number at the child.
    pub n: u64,
    /// What the current round's state names.
    pub nonce: u64,
    pub binding: Arc<Binding>,
    /// The child's questions not answered yet.
    pub asks: Vec<Asked>,
    /// Questions asked so far in this call (keys are numbered by it).
    pub count: usize,
    pub timer: Option<TimerId>,
    /// When the child first asked (the oldest parked call is the one evicted).
    pub since: Instant,
}

/// One question of the child: its key in `inputRequests`, the child's id, `{method, params}`.
pub(super) struct Asked {
    pub key: String,
    pub child_id: Value,
    pub request: Value,
}

/// What a stateless call's state is bound to; None for methods that cannot be parked.
pub(super) fn binding(method: &str, params: &Map<String, Value>) -> Option<Binding> {
    let text = |k: &str| params.get(k).and_then(Value::as_str);
    let args = params
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| json!({}));
    match method {
        "tools/call" | "prompts/get" => Some(Binding::new(method, text("name")?, Some(&args))),
        "resources/read" => Some(Binding::new(method, text("uri")?, None::<&()>)),
        _ => None,
    }
}

/// A fresh random number naming one round (not a secret: the state is signed).
pub(super) fn nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}
