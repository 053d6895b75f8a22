//! Multi round-trip requests (revision 2026-07-28): how a handler gets input from the client
//! (sampling, elicitation, roots) when the server may not send requests.
//!
//! A handler asks through its `Context` exactly as in a session
//! revision. In a stateless request the first ask that has no answer yet ends the round: the
//! call is answered with an `input_required` result listing what was asked, and a signed
//! `requestState` holding the answers gathered so far. The client retries the request (a new id,
//! the same params) with `inputResponses`; the handler runs again from the start, and every ask
//! whose answer is now known returns it at once. So a handler written for sessions works
//! unchanged, provided it asks the same questions in the same order each time it runs (no
//! side effects before its last ask, or only repeatable ones).
//!
//! The state is an HMAC-SHA256-signed blob bound to the method, the target (tool, prompt or
//! resource) and the arguments: a client cannot forge answers, carry them to another call, or
//! keep using them after `--input-state-ttl-secs`.

use crate::jsonrpc::ErrorObject;
use crate::state_key::StateKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One question to the client: the method and its params, as an `inputRequests` entry.
#[derive(Debug, Clone)]
pub struct InputRequest {
    /// `elicitation/create`, `sampling/createMessage` or `roots/list`.
    pub method: &'static str,
    /// The request's params.
    pub params: Value,
}

impl InputRequest {
    /// A form elicitation: `message` and a flat `requested_schema`.
    pub fn elicitation(message: &str, requested_schema: Value) -> InputRequest {
        InputRequest {
            method: "elicitation/create",
            params: json!({"message": message, "requestedSchema": requested_schema}),
        }
    }

    /// A sampling request (`messages`, `maxTokens`, ...).
    pub fn sampling(params: Value) -> InputRequest {
        InputRequest {
            method: "sampling/createMessage",
            params,
        }
    }

    /// The client's roots.
    pub fn roots() -> InputRequest {
        InputRequest {
            method: "roots/list",
            params: json!({}),
        }
    }

    /// The client capability the request needs.
    pub fn capability(&self) -> &'static str {
        match self.method {
            "sampling/createMessage" => "sampling",
            "roots/list" => "roots",
            _ => "elicitation",
        }
    }

    /// Whether `answer` has the shape of this request's result; a malformed answer is asked
    /// for again rather than handed to the handler.
    fn accepts(&self, answer: &Value) -> bool {
        match self.method {
            "elicitation/create" => ElicitShape::deserialize(answer).is_ok(),
            "sampling/createMessage" => SampledShape::deserialize(answer).is_ok(),
            "roots/list" => RootsShape::deserialize(answer).is_ok(),
            _ => true,
        }
    }
}

/// The least an answer must have to be handed to a handler; the handler reads the rest.
#[derive(Deserialize)]
struct ElicitShape {
    #[serde(rename = "action")]
    _action: String,
}

#[derive(Deserialize)]
struct SampledShape {
    #[serde(rename = "content")]
    _content: Value,
    #[serde(rename = "role")]
    _role: String,
}

#[derive(Deserialize)]
struct RootsShape {
    #[serde(rename = "roots")]
    _roots: Vec<Value>,
}

/// The input state of one stateless request: the answers it brought, and what its handler asked
/// that is still unanswered.
pub struct InputRound {
    binding: String,
    /// From the verified `requestState` and this request's `inputResponses`.
    answers: Map<String, Value>,
    inner: Mutex<RoundState>,
}

#[derive(Default)]
struct RoundState {
    /// Answers the handler used this run: what the next `requestState` carries.
    used: Map<String, Value>,
    asked: Map<String, Value>,
    missing_capability: Option<&'static str>,
    next_key: usize,
}

/// What a handler's asks came to once it returned.
pub enum Conclusion {
    /// Every ask was answered (or there were none): the handler's own result stands.
    Complete,
    /// The handler asked for a capability the client did not declare (-32021).
    MissingCapability(&'static str),
    /// Questions are open: answer with this `input_required` result.
    InputRequired(Value),
}

impl InputRound {
    /// Reads `inputResponses` and `requestState` of a `tools/call`, `prompts/get` or
    /// `resources/read`; a state that fails its signature, binding or age check is -32602.
    pub fn from_params(
        key: &StateKey,
        ttl: Duration,
        binding: Binding,
        params: &Map<String, Value>,
    ) -> Result<InputRound, ErrorObject> {
        let p: RoundParams = crate::params::parse(params)?;
        let mut answers = match &p.request_state {
            None => Map::new(),
            Some(s) => verify(key, ttl, &binding.0, s)?,
        };
        answers.extend(p.input_responses.unwrap_or_default());
        Ok(InputRound {
            binding: binding.0,
            answers,
            inner: Mutex::new(RoundState::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RoundState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A key for an unnamed ask: its kind and its position among the handler's asks, so the
    /// same handler run again asks under the same keys.
    pub fn next_key(&self, kind: &str) -> String {
        let mut s = self.state();
        s.next_key += 1;
        format!("{kind}-{}", s.next_key)
    }

    /// Asks `questions` at once: every answer if all are known, else records the open ones (they
    /// all go to the client in one `input_required` result) and returns None.
    pub fn ask(
        &self,
        declared: impl Fn(&str) -> bool,
        questions: &[(String, InputRequest)],
    ) -> Result<Option<Map<String, Value>>, &'static str> {
        let mut s = self.state();
        if let Some((_, q)) = questions.iter().find(|(_, q)| !declared(q.capability())) {
            s.missing_capability.get_or_insert(q.capability());
            return Err(q.capability());
        }
        let mut got = Map::new();
        for (k, q) in questions {
            match self.answers.get(k).filter(|a| q.accepts(a)) {
                Some(a) => {
                    got.insert(k.clone(), a.clone());
                }
                None => {
                    s.asked
                        .insert(k.clone(), json!({"method": q.method, "params": q.params}));
                }
            }
        }
        if got.len() < questions.len() {
            return Ok(None);
        }
        for (k, a) in &got {
            s.used.insert(k.clone(), a.clone());
        }
        Ok(Some(got))
    }

    /// What the handler's asks came to; called once it has returned.
    pub fn conclude(&self, key: &StateKey) -> Conclusion {
        let s = self.state();
        if let Some(c) = s.missing_capability {
            return Conclusion::MissingCapability(c);
        }
        if s.asked.is_empty() {
            return Conclusion::Complete;
        }
        Conclusion::InputRequired(json!({
            "resultType": "input_required",
            "inputRequests": s.asked,
            "requestState": sign(key, &self.binding, &s.used),
        }))
    }
}

fn invalid(why: &str) -> ErrorObject {
    crate::error::invalid_params(why)
}

/// The params of a request that may run an input round, as far as the round goes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoundParams {
    #[serde(default)]
    request_state: Option<String>,
    #[serde(default)]
    input_responses: Option<Map<String, Value>>,
}

/// What a state is good for: one method, one target (tool, prompt or resource) and the same
/// arguments (hashed), so answers cannot be carried to another call.
pub struct Binding(String);

impl Binding {
    /// The binding of `method` on `target` with `arguments` (serialised with sorted keys, so equal
    /// arguments bind equally).
    pub fn new(method: &str, target: &str, arguments: Option<&impl serde::Serialize>) -> Binding {
        let args = arguments
            .and_then(|a| serde_json::to_string(a).ok())
            .unwrap_or_default();
        let digest = Sha256::digest(format!("{method}\n{target}\n{args}").as_bytes());
        Binding(B64.encode(&digest[..16]))
    }
}

/// Signs `data` as a `requestState` bound like a native one: for the gateway, whose state names
/// a child's call parked at a question rather than answers.
pub(crate) fn sign_state(key: &StateKey, binding: &Binding, data: &Map<String, Value>) -> String {
    sign(key, &binding.0, data)
}

/// Checks a state from [`sign_state`] (signature, binding, age): its data, or the -32602 a
/// native server gives for a bad state.
pub(crate) fn verify_state(
    key: &StateKey,
    ttl: Duration,
    binding: &Binding,
    state: &str,
) -> Result<Map<String, Value>, ErrorObject> {
    verify(key, ttl, &binding.0, state)
}

/// What a signed state carries.
#[derive(Serialize, Deserialize)]
struct Payload {
    /// The binding: method, target and arguments, hashed.
    b: String,
    /// When it was issued (seconds since the epoch).
    t: u64,
    /// The answers so far, by key.
    a: Map<String, Value>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn sign(key: &StateKey, binding: &str, answers: &Map<String, Value>) -> String {
    let payload = Payload {
        b: binding.to_string(),
        t: now_secs(),
        a: answers.clone(),
    };
    let payload = serde_json::to_string(&payload).unwrap_or_default();
    let body = B64.encode(payload.as_bytes());
    let tag = B64.encode(key.mac(body.as_bytes()).finalize().into_bytes());
    format!("v1.{body}.{tag}")
}

fn verify(
    key: &StateKey,
    ttl: Duration,
    binding: &str,
    state: &str,
) -> Result<Map<String, Value>, ErrorObject> {
    let tampered = || invalid("requestState failed its integrity check (altered, or not ours)");
    let mut parts = state.split('.');
    let (Some("v1"), Some(body), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(tampered());
    };
    let tag = B64.decode(tag).map_err(|_| tampered())?;
    key.mac(body.as_bytes())
        .verify_slice(&tag)
        .map_err(|_| tampered())?;
    let payload: Payload = B64
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(tampered)?;
    if payload.b != binding {
        return Err(invalid(
            "requestState belongs to another request (method, name or arguments differ)",
        ));
    }
    if now_secs().saturating_sub(payload.t) > ttl.as_secs() {
        return Err(invalid("requestState expired; start the request again"));
    }
    Ok(payload.a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn elicit() -> InputRequest {
        InputRequest {
            method: "elicitation/create",
            params: json!({"message": "name?"}),
        }
    }

    const TTL: Duration = Duration::from_secs(60);

    /// The binding of `tools/call` of tool `t` with arguments `{"x": x}`.
    fn bound(x: i64) -> Binding {
        Binding::new("tools/call", "t", Some(&json!({ "x": x })))
    }

    #[test]
    fn state_round_trips_and_rejects_tampering() {
        let key = StateKey::random();
        let p = params(json!({"name": "t", "arguments": {"x": 1}}));
        let round =
            InputRound::from_params(&key, TTL, bound(1), &p).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(
            round.ask(|_| true, &[("a".into(), elicit())]),
            Ok(None)
        ));
        let Conclusion::InputRequired(r) = round.conclude(&key) else {
            panic!("expected input_required")
        };
        let state = r["requestState"].as_str().unwrap_or_default().to_string();
        let retry = params(
            json!({"name": "t", "arguments": {"x": 1}, "requestState": state,
            "inputResponses": {"a": {"action": "accept", "content": {"n": "x"}}}}),
        );
        let round = InputRound::from_params(&key, TTL, bound(1), &retry)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(
            round.ask(|_| true, &[("a".into(), elicit())]),
            Ok(Some(_))
        ));
        assert!(matches!(round.conclude(&key), Conclusion::Complete));

        let mut bad = state.clone().into_bytes();
        let i = bad.len() / 2;
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        let forged = params(json!({"name": "t", "arguments": {"x": 1},
            "requestState": String::from_utf8_lossy(&bad)}));
        assert!(InputRound::from_params(&key, TTL, bound(1), &forged).is_err());
        let other_args = params(json!({"name": "t", "arguments": {"x": 2}, "requestState": state}));
        assert!(InputRound::from_params(&key, TTL, bound(2), &other_args).is_err());
        assert!(
            InputRound::from_params(
                &StateKey::random(),
                TTL,
                bound(1),
                &params(json!({"name": "t", "arguments": {"x": 1}, "requestState": state}))
            )
            .is_err()
        );
    }

    #[test]
    fn malformed_answers_are_asked_again_and_capabilities_checked() {
        let key = StateKey::random();
        let p = params(json!({"name": "t", "inputResponses": {"a": {"nope": 1}}}));
        let round =
            InputRound::from_params(&key, TTL, bound(0), &p).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(
            round.ask(|_| true, &[("a".into(), elicit())]),
            Ok(None)
        ));
        let round =
            InputRound::from_params(&key, TTL, bound(0), &p).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            round
                .ask(|c| c == "sampling", &[("a".into(), elicit())])
                .err(),
            Some("elicitation")
        );
        assert!(matches!(
            round.conclude(&key),
            Conclusion::MissingCapability("elicitation")
        ));
        assert!(
            InputRound::from_params(&key, TTL, bound(0), &params(json!({"inputResponses": 3})))
                .is_err()
        );
    }
}
