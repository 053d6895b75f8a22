//! The params of every method a client calls, as serde structs, and the one way they are read:
//! [`parse`], whose error is -32602 naming the field that is wrong (`arguments.a: invalid type
//! ...`), so no handler walks JSON by hand and every method refuses bad params the same way.
//!
//! Unknown members are ignored everywhere: later revisions add fields we must pass over.

use crate::error::invalid_params;
use crate::jsonrpc::{ErrorObject, RequestId};
use crate::logging::LogLevel;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Reads `params` as `T`; -32602 naming the offending field otherwise.
pub(crate) fn parse<T: DeserializeOwned>(params: &Map<String, Value>) -> Result<T, ErrorObject> {
    from_map(params).map_err(invalid_params)
}

/// Reads a JSON object as `T`; the error names the field that is wrong (`arguments.a: invalid
/// type ...`). Valid input takes serde's direct path; only a failure is read again with the path
/// tracked, so naming the field costs nothing on the requests that are right.
pub(crate) fn from_map<T: DeserializeOwned>(map: &Map<String, Value>) -> Result<T, String> {
    T::deserialize(map).or_else(|_| {
        serde_path_to_error::deserialize(map).map_err(|e| match e.path().to_string().as_str() {
            "." => e.inner().to_string(),
            path => format!("{path}: {}", e.inner()),
        })
    })
}

/// `initialize`. The seed transport's clients spell the fields in snake_case.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Initialize {
    #[serde(default, alias = "protocol_version")]
    pub protocol_version: Option<String>,
    #[serde(default, alias = "client_info")]
    pub client_info: Option<Map<String, Value>>,
    #[serde(default)]
    pub capabilities: Option<Map<String, Value>>,
}

/// The `_meta` every request may carry; only what this server acts on.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RequestMeta {
    #[serde(default, rename = "progressToken")]
    pub progress_token: Option<RequestId>,
}

/// A request's params as far as `_meta` goes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WithMeta {
    #[serde(default, rename = "_meta")]
    pub meta: Option<RequestMeta>,
}

/// `tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct List {
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `tools/call`.
#[derive(Debug, Deserialize)]
pub(crate) struct CallTool {
    pub name: String,
    #[serde(default)]
    pub arguments: Option<Map<String, Value>>,
}

/// `resources/read`, `resources/subscribe`, `resources/unsubscribe`.
#[derive(Debug, Deserialize)]
pub(crate) struct ResourceUri {
    pub uri: String,
}

/// `prompts/get`: arguments are strings.
#[derive(Debug, Deserialize)]
pub(crate) struct GetPrompt {
    pub name: String,
    #[serde(default)]
    pub arguments: Option<HashMap<String, String>>,
}

/// `completion/complete`.
#[derive(Debug, Deserialize)]
pub(crate) struct Complete {
    #[serde(rename = "ref")]
    pub reference: Reference,
    pub argument: CompleteArgument,
    #[serde(default)]
    pub context: Option<CompleteContext>,
}

/// What `completion/complete` completes.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum Reference {
    #[serde(rename = "ref/prompt")]
    Prompt { name: String },
    #[serde(rename = "ref/resource")]
    Resource { uri: String },
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompleteArgument {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompleteContext {
    #[serde(default)]
    pub arguments: Option<HashMap<String, String>>,
}

/// `logging/setLevel`.
#[derive(Debug, Deserialize)]
pub(crate) struct SetLevel {
    pub level: LogLevel,
}

/// `notifications/cancelled`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Cancelled {
    pub request_id: RequestId,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse::<CallTool>(&map(json!({"name": "t", "arguments": 3}))).unwrap_err();
        assert_eq!(e.code, crate::jsonrpc::INVALID_PARAMS);
        assert!(
            e.message.starts_with("Invalid params: arguments:"),
            "{}",
            e.message
        );
        let e = parse::<ResourceUri>(&map(json!({}))).unwrap_err();
        assert!(e.message.contains("missing field `uri`"), "{}", e.message);
        let e = parse::<GetPrompt>(&map(json!({"name": "p", "arguments": {"x": 1}}))).unwrap_err();
        assert!(e.message.contains("arguments.x"), "{}", e.message);
        let e = parse::<SetLevel>(&map(json!({"level": "loud"}))).unwrap_err();
        assert!(e.message.contains("level"), "{}", e.message);
    }

    #[test]
    fn seed_spelling_and_references() {
        let i: Initialize = parse(&map(
            json!({"protocol_version": "2024-11-05", "client_info": {"name": "c"}}),
        ))
        .unwrap();
        assert_eq!(i.protocol_version.as_deref(), Some("2024-11-05"));
        assert!(i.client_info.is_some());
        let c: Complete = parse(&map(
            json!({"ref": {"type": "ref/resource", "uri": "x://{a}"},
            "argument": {"name": "a", "value": ""}}),
        ))
        .unwrap();
        assert!(matches!(c.reference, Reference::Resource { .. }));
        assert!(
            parse::<Complete>(&map(json!({"ref": {"type": "ref/x"},
            "argument": {"name": "a", "value": ""}})))
            .is_err()
        );
        let m: WithMeta = parse(&map(json!({"_meta": {"progressToken": "p"}}))).unwrap();
        assert!(m.meta.and_then(|m| m.progress_token).is_some());
        assert!(parse::<WithMeta>(&map(json!({"_meta": {"progressToken": 1.5}}))).is_err());
    }
}
