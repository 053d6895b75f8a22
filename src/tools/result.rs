//! The outcome of a tool call, shaped per revision.

use crate::content::{Content, Wire};
use crate::protocol::Revision;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
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

/// [`ToolResult::to_mcp`] as it is serialised, without the `Value` tree: a `tools/call` answer
/// is written straight from the result's blocks. The same JSON, in the same (sorted) order.
pub(crate) struct McpWire<'a> {
    pub result: &'a ToolResult,
    pub rev: Revision,
}

impl Serialize for McpWire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.result;
        let structured = r
            .structured
            .as_ref()
            .filter(|_| self.rev >= Revision::V2025_06_18);
        let len = 1 + usize::from(r.is_error) + usize::from(structured.is_some());
        let mut m = s.serialize_map(Some(len))?;
        m.serialize_entry("content", &Blocks(&r.content, self.rev))?;
        if r.is_error {
            m.serialize_entry("isError", &true)?;
        }
        if let Some(v) = structured {
            m.serialize_entry("structuredContent", v)?;
        }
        m.end()
    }
}

struct Blocks<'a>(&'a [Content], Revision);

impl Serialize for Blocks<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for block in self.0 {
            seq.serialize_element(&Wire { block, rev: self.1 })?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_directly_as_to_mcp_writes_it() {
        use crate::content::{Annotations, Role};
        let annotated = Content::text("a").with_annotations(Annotations {
            audience: vec![Role::User],
            priority: Some(0.5),
            last_modified: Some("2025-01-01T00:00:00Z".into()),
        });
        let results = [
            ToolResult::text("hi \"there\"\n"),
            ToolResult::value(json!(69)),
            ToolResult::error("bad"),
            ToolResult::structured(json!({"sum": 3, "a": [1, "x"]})),
            ToolResult::content(vec![]),
            ToolResult::content(vec![
                annotated,
                Content::image(vec![1, 2, 3], "image/png"),
                Content::audio(vec![4], "audio/wav"),
                Content::resource_link("test://a", "a"),
                Content::text("b"),
            ]),
        ];
        for r in &results {
            for rev in Revision::ALL {
                let wire = McpWire { result: r, rev };
                assert_eq!(
                    serde_json::to_string(&wire).unwrap(),
                    serde_json::to_string(&r.to_mcp(rev)).unwrap(),
                    "{r:?} {rev:?}"
                );
            }
        }
    }

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
