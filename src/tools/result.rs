//! The outcome of a tool call, shaped per revision.

use crate::content::Content;
use crate::protocol::Revision;
use serde_json::{Value, json};

/// The outcome of a tool call.
///
/// `value` is the plain JSON value of a successful call; the seed's bare methods (`echo`, `add`,
/// `sleep` as JSON-RPC methods) answer with it directly, while `tools/call` answers with the MCP
/// `content` blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The content blocks.
    pub content: Vec<Content>,
    /// `structuredContent` (sent from revision 2025-06-18; the content blocks carry it as text).
    pub structured: Option<Value>,
    /// Whether the tool failed (the model sees the content as the reason).
    pub is_error: bool,
    /// The plain value, for the seed transport's bare methods.
    pub value: Option<Value>,
}

impl ToolResult {
    /// A successful result whose text is the value itself (strings unquoted).
    pub fn value(value: Value) -> ToolResult {
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ToolResult {
            content: vec![Content::text(text)],
            structured: None,
            is_error: false,
            value: Some(value),
        }
    }

    /// A tool error reporting a handler's [`Error`](crate::Error): `isError` with its text, the
    /// tool-side half of the mapping in `error.rs`.
    pub fn from_error(e: &crate::error::Error) -> ToolResult {
        ToolResult::error(e.to_string())
    }

    /// A successful result of one text block.
    pub fn text(text: impl Into<String>) -> ToolResult {
        ToolResult::value(Value::String(text.into()))
    }

    /// A successful result of any content blocks.
    pub fn content(content: Vec<Content>) -> ToolResult {
        ToolResult {
            content,
            structured: None,
            is_error: false,
            value: None,
        }
    }

    /// A structured result: `structuredContent`, and the same JSON as a text block.
    pub fn structured(value: Value) -> ToolResult {
        ToolResult {
            content: vec![Content::text(value.to_string())],
            structured: Some(value.clone()),
            is_error: false,
            value: Some(value),
        }
    }

    /// A tool failure the model should see (bad arguments included): `isError: true`.
    pub fn error(message: impl Into<String>) -> ToolResult {
        ToolResult {
            content: vec![Content::text(message)],
            structured: None,
            is_error: true,
            value: None,
        }
    }

    /// The result in the MCP shape for a session of revision `rev`.
    pub fn to_mcp(&self, rev: Revision) -> Value {
        let mut v = json!({
            "content": self.content.iter().map(|c| c.to_wire(rev)).collect::<Vec<_>>()
        });
        if self.is_error {
            v["isError"] = json!(true);
        }
        if let (Some(s), true) = (&self.structured, rev >= Revision::V2025_06_18) {
            v["structuredContent"] = s.clone();
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            ToolResult::value(json!(69)).to_mcp(Revision::LATEST),
            json!({"content":[{"type":"text","text":"69"}]})
        );
        assert_eq!(
            ToolResult::error("bad").to_mcp(Revision::LATEST),
            json!({"content":[{"type":"text","text":"bad"}],"isError":true})
        );
        let s = ToolResult::structured(json!({"sum": 3}));
        assert_eq!(
            s.to_mcp(Revision::V2025_06_18)["structuredContent"],
            json!({"sum": 3})
        );
        assert!(
            s.to_mcp(Revision::V2025_03_26)
                .get("structuredContent")
                .is_none()
        );
        assert_eq!(
            s.to_mcp(Revision::V2025_03_26)["content"][0]["text"],
            "{\"sum\":3}"
        );
    }
}
