//! MCP protocol types: revisions, the handshake and capabilities.
//!
//! Results are built from these structs and shaped for the session's negotiated revision, so a
//! client never sees a field or content type its revision does not define.

use serde::Serialize;
use serde_json::{Map, Value};

/// The handshake revisions we serve, ordered by date so `>=` means "at least this revision".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Revision {
    /// The first published revision (HTTP+SSE transport).
    V2024_11_05,
    /// Streamable HTTP, batches, audio, annotations.
    V2025_03_26,
    /// Structured output, resource links, titles, elicitation.
    V2025_06_18,
    /// Icons, tasks, priming events.
    V2025_11_25,
    /// Stateless: no handshake or session; every request carries its version and client
    /// capabilities in `_meta` (see `stateless`). Never negotiated by `initialize`.
    V2026_07_28,
}

impl Revision {
    /// The handshake revisions served, oldest first: what `initialize` can negotiate.
    pub const ALL: [Revision; 4] = [
        Revision::V2024_11_05,
        Revision::V2025_03_26,
        Revision::V2025_06_18,
        Revision::V2025_11_25,
    ];
    /// The newest handshake revision; offered to `initialize` asking for an unknown one (or for
    /// 2026-07-28, which has no handshake).
    pub const LATEST: Revision = Revision::V2025_11_25;
    /// Every revision served on `/mcp`, newest first: `server/discover`'s `supportedVersions`
    /// and the `data.supported` of -32022 (the conformance suite checks they agree).
    pub const SUPPORTED: [Revision; 5] = [
        Revision::V2026_07_28,
        Revision::V2025_11_25,
        Revision::V2025_06_18,
        Revision::V2025_03_26,
        Revision::V2024_11_05,
    ];

    /// The revision's date string.
    pub fn as_str(self) -> &'static str {
        match self {
            Revision::V2024_11_05 => "2024-11-05",
            Revision::V2025_03_26 => "2025-03-26",
            Revision::V2025_06_18 => "2025-06-18",
            Revision::V2025_11_25 => "2025-11-25",
            Revision::V2026_07_28 => "2026-07-28",
        }
    }

    /// The handshake revision of that date string, if served.
    pub fn parse(s: &str) -> Option<Revision> {
        Revision::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Any revision of that date string we serve, stateless ones included.
    pub fn parse_any(s: &str) -> Option<Revision> {
        Revision::SUPPORTED.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether requests of this revision are stateless (no handshake, `_meta` on each).
    pub fn is_stateless(self) -> bool {
        self >= Revision::V2026_07_28
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

impl Implementation {
    /// This server, as `initialize` and every stateless result name it.
    pub fn this_server() -> Implementation {
        Implementation {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// `{"listChanged": true}` and friends; `{}` when nothing is set.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ListChanged {
    #[serde(rename = "listChanged", skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ResourcesCapability {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<bool>,
    #[serde(rename = "listChanged", skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// What the server offers, declared exactly for what is registered.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ServerCapabilities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesCapability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Map<String, Value>>,
    /// From revision 2025-03-26 (in 2024-11-05 completion exists without a capability).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completions: Option<Map<String, Value>>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_falls_back_to_latest() {
        assert_eq!(
            Revision::negotiate(Some("2025-03-26")),
            Revision::V2025_03_26
        );
        assert_eq!(Revision::negotiate(Some("2099-01-01")), Revision::LATEST);
        assert_eq!(Revision::negotiate(None), Revision::LATEST);
    }
}
