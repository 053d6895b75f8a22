//! Rich content: the blocks tools, prompts and resources return (text, image, audio, embedded
//! resource, resource link), with annotations, shaped for each protocol revision.
//!
//! A block a revision does not define is never sent to it: audio (from 2025-03-26) and resource
//! links (from 2025-06-18) become a text block that says what was there, so an older client still
//! learns of it, and `lastModified` (from 2025-06-18) is dropped from annotations.

use crate::protocol::Revision;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{Value, json};

/// Who a block is for, how important it is, and when it last changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Annotations {
    /// `user` and/or `assistant`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<Role>,
    /// 0.0 (least) to 1.0 (most important).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// ISO 8601 timestamp (sent from revision 2025-06-18).
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Annotations {
    fn to_wire(&self, rev: Revision) -> Option<Value> {
        let mut a = self.clone();
        if rev < Revision::V2025_06_18 {
            a.last_modified = None;
        }
        if a == Annotations::default() {
            return None;
        }
        serde_json::to_value(a).ok()
    }
}

/// Who a prompt message or an annotated block speaks to or for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The human user.
    User,
    /// The model.
    Assistant,
}

/// The contents of a resource: text, or binary data (sent base64-encoded).
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceContents {
    /// Text contents.
    Text {
        /// The resource's URI.
        uri: String,
        /// Its media type, when known.
        mime_type: Option<String>,
        /// The text.
        text: String,
    },
    /// Binary contents.
    Blob {
        /// The resource's URI.
        uri: String,
        /// Its media type, when known.
        mime_type: Option<String>,
        /// The raw bytes (sent base64-encoded).
        data: Vec<u8>,
    },
}

impl ResourceContents {
    /// Text contents of `uri`.
    pub fn text(
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        ResourceContents::Text {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            text: text.into(),
        }
    }

    /// Binary contents of `uri` (raw bytes; base64 on the wire).
    pub fn blob(uri: impl Into<String>, mime_type: impl Into<String>, data: Vec<u8>) -> Self {
        ResourceContents::Blob {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            data,
        }
    }

    /// The URI these contents belong to.
    pub fn uri(&self) -> &str {
        match self {
            ResourceContents::Text { uri, .. } | ResourceContents::Blob { uri, .. } => uri,
        }
    }

    /// The contents as the protocol writes them (`blob` base64-encoded).
    pub fn to_wire(&self) -> Value {
        let (uri, mime, body) = match self {
            ResourceContents::Text {
                uri,
                mime_type,
                text,
            } => (uri, mime_type, ("text", Value::String(text.clone()))),
            ResourceContents::Blob {
                uri,
                mime_type,
                data,
            } => (uri, mime_type, ("blob", Value::String(base64_encode(data)))),
        };
        let mut v = json!({ "uri": uri });
        if let Some(m) = mime {
            v["mimeType"] = Value::String(m.clone());
        }
        v[body.0] = body.1;
        v
    }
}

/// One content block.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
        /// Who it is for, how important it is.
        annotations: Option<Annotations>,
    },
    /// An image.
    Image {
        /// The raw image bytes (sent base64-encoded).
        data: Vec<u8>,
        /// Its media type (`image/png`, ...).
        mime_type: String,
        /// Who it is for, how important it is.
        annotations: Option<Annotations>,
    },
    /// From revision 2025-03-26; older sessions get a text block naming it.
    Audio {
        /// The raw audio bytes (sent base64-encoded).
        data: Vec<u8>,
        /// Its media type (`audio/wav`, ...).
        mime_type: String,
        /// Who it is for, how important it is.
        annotations: Option<Annotations>,
    },
    /// A resource's contents, embedded.
    Resource {
        /// The embedded contents.
        resource: ResourceContents,
        /// Who it is for, how important it is.
        annotations: Option<Annotations>,
    },
    /// A pointer to a resource the client may read (from revision 2025-06-18; older sessions get
    /// a text block with the URI).
    ResourceLink {
        /// The resource's URI.
        uri: String,
        /// Its name.
        name: String,
        /// What it is.
        description: Option<String>,
        /// Its media type, when known.
        mime_type: Option<String>,
        /// Who it is for, how important it is.
        annotations: Option<Annotations>,
    },
}

impl Content {
    /// A text block.
    pub fn text(s: impl Into<String>) -> Content {
        Content::Text {
            text: s.into(),
            annotations: None,
        }
    }

    /// An image from its raw bytes (PNG, JPEG, ...).
    pub fn image(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Content {
        Content::Image {
            data: data.into(),
            mime_type: mime_type.into(),
            annotations: None,
        }
    }

    /// Audio from its raw bytes (WAV, MP3, ...).
    pub fn audio(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Content {
        Content::Audio {
            data: data.into(),
            mime_type: mime_type.into(),
            annotations: None,
        }
    }

    /// An embedded resource.
    pub fn resource(resource: ResourceContents) -> Content {
        Content::Resource {
            resource,
            annotations: None,
        }
    }

    /// A link to a resource the client may read (`resources/read`).
    pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Content {
        Content::ResourceLink {
            uri: uri.into(),
            name: name.into(),
            description: None,
            mime_type: None,
            annotations: None,
        }
    }

    /// Sets this block's annotations.
    pub fn with_annotations(mut self, a: Annotations) -> Content {
        match &mut self {
            Content::Text { annotations, .. }
            | Content::Image { annotations, .. }
            | Content::Audio { annotations, .. }
            | Content::Resource { annotations, .. }
            | Content::ResourceLink { annotations, .. } => *annotations = Some(a),
        }
        self
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The block as the negotiated revision defines it.
    pub fn to_wire(&self, rev: Revision) -> Value {
        let (mut v, annotations) = match self {
            Content::Text { text, annotations } => {
                (json!({"type": "text", "text": text}), annotations)
            }
            Content::Image {
                data,
                mime_type,
                annotations,
            } => (
                json!({"type": "image", "data": base64_encode(data), "mimeType": mime_type}),
                annotations,
            ),
            Content::Audio {
                data,
                mime_type,
                annotations,
            } if rev >= Revision::V2025_03_26 => (
                json!({"type": "audio", "data": base64_encode(data), "mimeType": mime_type}),
                annotations,
            ),
            Content::Audio {
                data,
                mime_type,
                annotations,
            } => (
                json!({"type": "text", "text": format!(
                    "[audio content ({mime_type}, {} bytes) cannot be sent in protocol revision {}]",
                    data.len(),
                    rev.as_str()
                )}),
                annotations,
            ),
            Content::Resource {
                resource,
                annotations,
            } => (
                json!({"type": "resource", "resource": resource.to_wire()}),
                annotations,
            ),
            Content::ResourceLink {
                uri,
                name,
                description,
                mime_type,
                annotations,
            } if rev >= Revision::V2025_06_18 => {
                let mut v = json!({"type": "resource_link", "uri": uri, "name": name});
                if let Some(d) = description {
                    v["description"] = Value::String(d.clone());
                }
                if let Some(m) = mime_type {
                    v["mimeType"] = Value::String(m.clone());
                }
                (v, annotations)
            }
            Content::ResourceLink {
                uri,
                name,
                annotations,
                ..
            } => (
                json!({"type": "text", "text": format!("Resource: {name} <{uri}>")}),
                annotations,
            ),
        };
        if let Some(a) = annotations.as_ref().and_then(|a| a.to_wire(rev)) {
            v["annotations"] = a;
        }
        v
    }
}

/// A block as [`Content::to_wire`] shapes it, serialised without building its `Value` first when
/// it is a plain text block (most tool results): the same JSON, member for member, in the same
/// (sorted) order.
pub(crate) struct Wire<'a> {
    pub block: &'a Content,
    pub rev: Revision,
}

impl Serialize for Wire<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.block {
            Content::Text {
                text,
                annotations: None,
            } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("text", text)?;
                m.serialize_entry("type", "text")?;
                m.end()
            }
            other => other.to_wire(self.rev).serialize(s),
        }
    }
}

pub(crate) fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_shaped_per_revision() {
        let audio = Content::audio(vec![1, 2, 3], "audio/wav");
        assert_eq!(
            audio.to_wire(Revision::V2025_03_26),
            json!({"type":"audio","data":"AQID","mimeType":"audio/wav"})
        );
        assert_eq!(audio.to_wire(Revision::V2024_11_05)["type"], "text");
        let link = Content::resource_link("test://a", "a");
        assert_eq!(link.to_wire(Revision::V2025_06_18)["type"], "resource_link");
        assert_eq!(
            link.to_wire(Revision::V2025_03_26),
            json!({"type":"text","text":"Resource: a <test://a>"})
        );
        let annotated = Content::text("x").with_annotations(Annotations {
            audience: vec![Role::User],
            priority: Some(0.5),
            last_modified: Some("2025-01-01T00:00:00Z".into()),
        });
        assert!(
            annotated.to_wire(Revision::V2025_06_18)["annotations"]
                .get("lastModified")
                .is_some()
        );
        assert!(
            annotated.to_wire(Revision::V2024_11_05)["annotations"]
                .get("lastModified")
                .is_none()
        );
        let blob = Content::resource(ResourceContents::blob("test://b", "image/png", vec![0xff]));
        assert_eq!(
            blob.to_wire(Revision::V2024_11_05),
            json!({"type":"resource","resource":{"uri":"test://b","mimeType":"image/png","blob":"/w=="}})
        );
    }
}
