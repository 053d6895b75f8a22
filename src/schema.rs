//! JSON Schemas derived from Rust types (`schemars`), for tool inputs and outputs, prompt
//! arguments and elicitation forms.

use serde_json::{Value, json};

/// The JSON Schema of a type, without the `$schema` and `title` members: tool schemas are
/// read by clients of every revision, and some validators refuse a dialect URI they do not know.
pub fn schema_of<T: schemars::JsonSchema>() -> Value {
    let mut v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
        o.entry("type").or_insert_with(|| json!("object"));
    }
    v
}
