//! Validates server output against the official MCP schema of a revision (tests/schema/).
//!
//! Each message is checked twice, as the conformance suite does: against `JSONRPCMessage` (the
//! envelope) and against the typed definition of its result or error.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

fn load(rev: &str) -> Value {
    let path = format!("{}/tests/schema/{rev}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("schema is JSON")
}

type Cache = Mutex<HashMap<(String, String), std::sync::Arc<jsonschema::Validator>>>;

fn validator(rev: &str, def: &str) -> std::sync::Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (rev.to_string(), def.to_string());
    if let Some(v) = cache.lock().unwrap().get(&key) {
        return v.clone();
    }
    let mut doc = load(rev);
    let defs_key = if doc.get("$defs").is_some() {
        "$defs"
    } else {
        "definitions"
    };
    assert!(
        doc[defs_key].get(def).is_some(),
        "{rev} has no definition {def}"
    );
    doc["$ref"] = Value::String(format!("#/{defs_key}/{def}"));
    let v = std::sync::Arc::new(
        jsonschema::validator_for(&doc).unwrap_or_else(|e| panic!("{rev}/{def}: {e}")),
    );
    cache.lock().unwrap().insert(key, v.clone());
    v
}

/// Asserts `instance` is valid against definition `def` of revision `rev`.
pub fn assert_valid(rev: &str, def: &str, instance: &Value) {
    let v = validator(rev, def);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid {def} ({rev}): {errors:?}\n{instance}"
    );
}

fn result_def(method: &str) -> Option<&'static str> {
    Some(match method {
        "initialize" => "InitializeResult",
        "ping" => "EmptyResult",
        "tools/list" => "ListToolsResult",
        "tools/call" => "CallToolResult",
        _ => return None,
    })
}

fn error_def(rev: &str) -> &'static str {
    if rev >= "2025-11-25" {
        "JSONRPCErrorResponse"
    } else {
        "JSONRPCError"
    }
}

/// Validates one message the server sent in a session of revision `rev`; `method` is the method of
/// the request it answers, when known.
pub fn check_message(rev: &str, msg: &Value, method: Option<&str>) {
    if let Value::Array(items) = msg {
        assert_eq!(rev, "2025-03-26", "arrays are valid only in 2025-03-26");
        assert_valid(rev, "JSONRPCBatchResponse", msg);
        for m in items {
            check_message(rev, m, None);
        }
        return;
    }
    assert_valid(rev, "JSONRPCMessage", msg);
    if msg.get("error").is_some() {
        assert_valid(rev, error_def(rev), msg);
    } else if let (Some(result), Some(def)) = (msg.get("result"), method.and_then(result_def)) {
        assert_valid(rev, def, result);
    }
}

/// Validates the JSON-RPC error body of a non-2xx HTTP answer. An id-less error is valid only
/// from 2025-11-25, so such bodies are checked against that revision whatever the session's.
pub fn check_http_error(rev: &str, body: &Value) {
    assert!(
        body.get("id") != Some(&Value::Null),
        "never \"id\": null: {body}"
    );
    if body.get("id").is_some() {
        check_message(rev, body, None);
    } else {
        assert_valid("2025-11-25", "JSONRPCErrorResponse", body);
    }
}
