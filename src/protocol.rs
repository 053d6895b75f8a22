//! MCP protocol types: revisions, the handshake, tool descriptors and tool results.
//!
//! Results are built from these structs and shaped for the session's negotiated revision, so a
//! client never sees a field or content type its revision does not define.

use serde::Serialize;
use serde_json::{Map, Value};

/// The handshake revisions we serve, ordered by date so `>=` means "at least this revision".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Revision {
    V2024_11_05,
    V2025_03_26,
    V2025_06_18,
    V2025_11_25,
}

impl Revision {
    pub const ALL: [Revision; 4] = [
        Revision::V2024_11_05,
        Revision::V2025_03_26,
        Revision::V2025_06_18,
        Revision::V2025_11_25,
    ];
    pub const LATEST: Revision = Revision::V2025_11_25;

    pub fn as_str(self) -> &'static str {
        match self {
            Revision::V2024_11_05 => "2024-11-05",
            Revision::V2025_03_26 => "2025-03-26",
            Revision::V2025_06_18 => "2025-06-18",
            Revision::V2025_11_25 => "2025-11-25",
        }
    }

    pub fn parse(s: &str) -> Option<Revision> {
        Revision::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Version negotiation: the requested revision if we speak it, else our newest. Never an
    /// error; the client decides whether it can live with our choice.
    pub fn negotiate(requested: Option<&str>) -> Revision {
        requested
            .and_then(Revision::parse)
            .unwrap_or(Revision::LATEST)
    }
}

impl Serialize for Revision {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Name and version of a party (`serverInfo` / `clientInfo`).
#[derive(Debug, Clone, Serialize)]
pub struct Implementation {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ToolsCapability {
    #[serde(rename = "listChanged", skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ServerCapabilities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolsCapability>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InitializeResult {
    #[serde(rename = "protocolVersion")]
    pub protocol_version: Revision,
    pub capabilities: ServerCapabilities,
    #[serde(rename = "serverInfo")]
    pub server_info: Implementation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// What the client told us in `initialize`; both the MCP spelling and the seed's snake_case
/// spelling are accepted.
#[derive(Debug, Clone, Default)]
pub struct ClientHello {
    pub protocol_version: Option<String>,
    pub client_info: Option<Value>,
    pub capabilities: Option<Value>,
}

impl ClientHello {
    pub fn from_params(params: &Map<String, Value>) -> ClientHello {
        let pick = |a: &str, b: &str| params.get(a).or_else(|| params.get(b)).cloned();
        ClientHello {
            protocol_version: pick("protocolVersion", "protocol_version")
                .and_then(|v| v.as_str().map(str::to_owned)),
            client_info: pick("clientInfo", "client_info"),
            capabilities: params.get("capabilities").cloned(),
        }
    }
}

/// A tool as listed by `tools/list`.
#[derive(Debug, Clone, Serialize)]
pub struct ToolDescriptor {
    pub name: String,
    pub description: String,
    #[serde(rename = "inputSchema")]
    pub input_schema: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListToolsResult {
    pub tools: Vec<ToolDescriptor>,
}

/// One block of tool output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
}

impl Content {
    pub fn text(s: impl Into<String>) -> Content {
        Content::Text { text: s.into() }
    }
}

/// The outcome of a tool call.
///
/// `value` is the plain JSON value of a successful call; the seed's bare methods (`echo`, `add`,
/// `sleep` as JSON-RPC methods) answer with it directly, while `tools/call` answers with the MCP
/// `content` blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolResult {
    pub content: Vec<Content>,
    #[serde(rename = "isError", skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
    #[serde(skip)]
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
            is_error: false,
            value: Some(value),
        }
    }

    /// A tool failure the model should see (bad arguments included): `isError: true`.
    pub fn error(message: impl Into<String>) -> ToolResult {
        ToolResult {
            content: vec![Content::text(message)],
            is_error: true,
            value: None,
        }
    }

    /// The result in the MCP shape for a session of revision `rev`.
    pub fn to_mcp(&self, _rev: Revision) -> Value {
        // Text and image blocks exist in every revision, so there is nothing to drop yet; newer
        // content types will be converted here for older sessions.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn negotiation_falls_back_to_latest() {
        assert_eq!(
            Revision::negotiate(Some("2025-03-26")),
            Revision::V2025_03_26
        );
        assert_eq!(Revision::negotiate(Some("2099-01-01")), Revision::LATEST);
        assert_eq!(Revision::negotiate(None), Revision::LATEST);
    }

    #[test]
    fn tool_result_shape() {
        let r = ToolResult::value(json!(69));
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"content":[{"type":"text","text":"69"}]})
        );
        let e = ToolResult::error("bad");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"content":[{"type":"text","text":"bad"}],"isError":true})
        );
    }

    #[test]
    fn seed_hello_spelling() {
        let p = json!({"protocol_version":"2024-11-05","client_info":{"name":"c"}});
        let h = ClientHello::from_params(p.as_object().unwrap());
        assert_eq!(h.protocol_version.as_deref(), Some("2024-11-05"));
        assert!(h.client_info.is_some());
    }
}
