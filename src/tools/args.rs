//! Checking a typed tool's arguments before its code runs, so that the error names the field.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What a typed tool checks before its code runs: the required arguments and the declared types
/// of the top-level properties, read once from the derived schema.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ArgCheck {
    #[serde(default)]
    required: Vec<String>,
    /// Ordered, not hashed: a handful of names, looked up on every call.
    #[serde(default)]
    properties: BTreeMap<String, Property>,
}

#[derive(Debug, Default, Deserialize)]
struct Property {
    #[serde(default, rename = "type")]
    types: Option<Types>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Types {
    One(String),
    Many(Vec<String>),
    /// Anything else (a schema keyword this check does not read): not checked here.
    Other(serde::de::IgnoredAny),
}

impl Types {
    fn names(&self) -> &[String] {
        match self {
            Types::One(t) => std::slice::from_ref(t),
            Types::Many(ts) => ts,
            Types::Other(_) => &[],
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn type_ok(expected: &str, v: &Value) -> bool {
    match expected {
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => true,
    }
}

impl ArgCheck {
    /// Reads the checks from a tool's input schema (one this crate derived).
    pub(super) fn of(schema: &Value) -> ArgCheck {
        ArgCheck::deserialize(schema).unwrap_or_default()
    }

    /// Checks required fields and declared types, then deserialises; the error names the field
    /// (SEP-1303: a tool error, not -32602).
    pub(super) fn parse<A: DeserializeOwned>(
        &self,
        args: &Map<String, Value>,
    ) -> Result<A, String> {
        if let Some(name) = self
            .required
            .iter()
            .find(|n| !args.contains_key(n.as_str()))
        {
            return Err(format!("missing required argument \"{name}\""));
        }
        for (name, value) in args {
            let Some(types) = self.properties.get(name).and_then(|p| p.types.as_ref()) else {
                continue;
            };
            let types = types.names();
            if !types.is_empty() && !types.iter().any(|t| type_ok(t, value)) {
                return Err(format!(
                    "argument \"{name}\" must be {}, got {}",
                    types.join(" or "),
                    kind(value)
                ));
            }
        }
        // serde's message quotes the offending value, which the client chose: a tool error (a
        // result, not an error object) is not cut centrally, so it is cut here.
        crate::params::from_map(args)
            .map_err(|e| format!("invalid arguments: {}", crate::jsonrpc::quote(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        a: f64,
        name: String,
        tag: Option<String>,
    }

    #[test]
    fn typed_arguments_are_checked_and_named() {
        let schema = crate::schema::schema_of::<Args>();
        let check = ArgCheck::of(&schema);
        assert_eq!(schema["type"], "object");
        assert!(schema.get("$schema").is_none());
        let args = |v: Value| v.as_object().cloned().unwrap();
        let e = check.parse::<Args>(&args(json!({"a": 1}))).err().unwrap();
        assert!(e.contains("\"name\""), "{e}");
        let e = check
            .parse::<Args>(&args(json!({"a": "x", "name": "n"})))
            .err()
            .unwrap();
        assert!(e.contains("\"a\"") && e.contains("a string"), "{e}");
        assert!(
            check
                .parse::<Args>(&args(json!({"a": 1, "name": "n"})))
                .is_ok()
        );
        assert!(
            check
                .parse::<Args>(&args(json!({"a": 1, "name": "n", "tag": null})))
                .is_ok()
        );
    }
}
