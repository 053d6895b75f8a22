//! The OAuth scopes tools declare, as the transports need them before a message is dispatched:
//! which scopes a POST's tool calls need (so a call the token may not make is refused with
//! HTTP 403 before any exchange opens, and the client can step up), and which exist at all (for
//! the resource's metadata).

use super::Core;
use serde_json::Value;

impl Core {
    /// The scopes the tool calls in a POST body need: `tools/call` by name, and the seed
    /// transport's bare tool methods; a batch is looked through whole. Unparsable bodies need
    /// none here (they are refused on their way).
    pub fn scopes_called(&self, body: &[u8]) -> Vec<String> {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Vec::new();
        };
        let messages = match &v {
            Value::Array(a) => a.iter().collect(),
            one => vec![one],
        };
        let tools = self
            .features
            .tools
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let mut scopes = Vec::new();
        for m in messages {
            let Some(method) = m.get("method").and_then(Value::as_str) else {
                continue;
            };
            let name = match method {
                "tools/call" => m.pointer("/params/name").and_then(Value::as_str),
                "initialize" | "ping" => None,
                bare if !bare.contains('/') => Some(bare),
                _ => None,
            };
            if let Some(scope) = name
                .and_then(|n| tools.get(n))
                .and_then(|t| t.scope.clone())
                && !scopes.contains(&scope)
            {
                scopes.push(scope);
            }
        }
        scopes
    }

    /// Every scope some tool declares, in registration order.
    pub fn tool_scopes(&self) -> Vec<String> {
        let tools = self
            .features
            .tools
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let mut scopes: Vec<String> = Vec::new();
        for s in tools.iter().filter_map(|t| t.scope.as_ref()) {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        scopes
    }
}
