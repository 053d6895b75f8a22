//! Resources: static resources and URI templates (RFC 6570 level 1, `{var}`), `resources/list`,
//! `resources/templates/list`, `resources/read`, and subscriptions with
//! `notifications/resources/updated`.

use crate::completion::CompletionRequest;
use crate::content::{Annotations, ResourceContents};
use crate::context::Context;
use crate::error::{Error, Subject};
use crate::jsonrpc::ErrorObject;
use crate::prompts::CompleteFn;
use crate::protocol::Revision;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Reads a resource with a fixed URI.
pub type ReadFn = dyn Fn(&Context) -> Result<Vec<ResourceContents>, Error> + Send + Sync;

/// A resource with a fixed URI.
#[derive(Clone)]
pub struct Resource {
    /// The resource's URI (unique).
    pub uri: String,
    /// Its name.
    pub name: String,
    /// Display name (sent from revision 2025-06-18).
    pub title: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// Its media type.
    pub mime_type: Option<String>,
    /// Its size in bytes, when known.
    pub size: Option<u64>,
    /// Who it is for, how important it is.
    pub annotations: Option<Annotations>,
    read: Arc<ReadFn>,
}

impl Resource {
    /// A resource whose contents `read` produces on every `resources/read`.
    pub fn new(
        uri: impl Into<String>,
        name: impl Into<String>,
        read: impl Fn(&Context) -> Result<Vec<ResourceContents>, Error> + Send + Sync + 'static,
    ) -> Resource {
        Resource {
            uri: uri.into(),
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
            size: None,
            annotations: None,
            read: Arc::new(read),
        }
    }

    /// A resource with fixed text.
    pub fn text(
        uri: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        text: impl Into<String>,
    ) -> Resource {
        let (uri, mime, text) = (uri.into(), mime_type.into(), text.into());
        let contents = ResourceContents::text(uri.clone(), mime.clone(), text);
        Resource::new(uri, name, move |_| Ok(vec![contents.clone()])).mime_type(mime)
    }

    /// A resource with fixed binary contents (sent base64-encoded).
    pub fn blob(
        uri: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        data: Vec<u8>,
    ) -> Resource {
        let (uri, mime) = (uri.into(), mime_type.into());
        let size = data.len() as u64;
        let contents = ResourceContents::blob(uri.clone(), mime.clone(), data);
        let mut r = Resource::new(uri, name, move |_| Ok(vec![contents.clone()])).mime_type(mime);
        r.size = Some(size);
        r
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Resource {
        self.description = Some(d.into());
        self
    }

    /// Sets the display name (sent from revision 2025-06-18).
    pub fn title(mut self, t: impl Into<String>) -> Resource {
        self.title = Some(t.into());
        self
    }

    /// Sets the media type.
    pub fn mime_type(mut self, m: impl Into<String>) -> Resource {
        self.mime_type = Some(m.into());
        self
    }

    /// Sets the annotations.
    pub fn annotations(mut self, a: Annotations) -> Resource {
        self.annotations = Some(a);
        self
    }

    fn to_wire(&self, rev: Revision) -> Value {
        let mut v = json!({"uri": self.uri, "name": self.name});
        if let (Some(t), true) = (&self.title, rev >= Revision::V2025_06_18) {
            v["title"] = json!(t);
        }
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if let Some(m) = &self.mime_type {
            v["mimeType"] = json!(m);
        }
        if let Some(s) = self.size {
            v["size"] = json!(s);
        }
        if let Some(a) = self
            .annotations
            .as_ref()
            .and_then(|a| serde_json::to_value(a).ok())
        {
            v["annotations"] = a;
        }
        v
    }
}

/// Reads a templated resource: the context, the URI asked for, and the template's variables.
pub type TemplateReadFn = dyn Fn(&Context, &str, &HashMap<String, String>) -> Result<Vec<ResourceContents>, Error>
    + Send
    + Sync;

/// A family of resources named by a URI template such as `file:///logs/{day}.txt`.
#[derive(Clone)]
pub struct ResourceTemplate {
    /// The RFC 6570 level-1 template (unique).
    pub uri_template: String,
    /// Its name.
    pub name: String,
    /// Display name (sent from revision 2025-06-18).
    pub title: Option<String>,
    /// What its resources are.
    pub description: Option<String>,
    /// Media type of its resources.
    pub mime_type: Option<String>,
    parts: Vec<Part>,
    read: Arc<TemplateReadFn>,
    complete: Option<Arc<CompleteFn>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Var(String),
}

/// Splits a level-1 template into literals and `{var}`s; `None` if it is not one.
fn parse_template(t: &str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_string()));
        }
        let close = rest[open..].find('}')? + open;
        let name = &rest[open + 1..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        if matches!(parts.last(), Some(Part::Var(_))) {
            return None; // two variables in a row cannot be told apart
        }
        parts.push(Part::Var(name.to_string()));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return None;
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    Some(parts)
}

/// Matches `uri` against a template: each variable takes a non-empty run of characters other
/// than `/` (level-1 expansion percent-encodes everything else), percent-decoded.
fn match_template(parts: &[Part], uri: &str) -> Option<HashMap<String, String>> {
    let mut vars = HashMap::new();
    let mut rest = uri;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
            Part::Var(name) => {
                let end = match parts.get(i + 1) {
                    Some(Part::Literal(next)) => rest.find(next.as_str())?,
                    _ => rest.len(),
                };
                let value = &rest[..end];
                if value.is_empty() || value.contains('/') {
                    return None;
                }
                vars.insert(name.clone(), percent_decode(value));
                rest = &rest[end..];
            }
        }
    }
    rest.is_empty().then_some(vars)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ResourceTemplate {
    /// A template; panics at registration (not at run time) if `uri_template` is not a valid
    /// level-1 template, so a mistake shows up when the server is built.
    pub fn new(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        read: impl Fn(&Context, &str, &HashMap<String, String>) -> Result<Vec<ResourceContents>, Error>
        + Send
        + Sync
        + 'static,
    ) -> ResourceTemplate {
        let uri_template = uri_template.into();
        let parts = parse_template(&uri_template)
            .unwrap_or_else(|| panic!("not a level-1 URI template: {uri_template:?}"));
        ResourceTemplate {
            uri_template,
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
            parts,
            read: Arc::new(read),
            complete: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Sets the display name (sent from revision 2025-06-18).
    pub fn title(mut self, t: impl Into<String>) -> Self {
        self.title = Some(t.into());
        self
    }

    /// Sets the media type of its resources.
    pub fn mime_type(mut self, m: impl Into<String>) -> Self {
        self.mime_type = Some(m.into());
        self
    }

    /// Completes the template's variables (`completion/complete` with `ref/resource`).
    pub fn complete(
        mut self,
        f: impl Fn(&Context, &CompletionRequest) -> Result<Vec<String>, Error> + Send + Sync + 'static,
    ) -> Self {
        self.complete = Some(Arc::new(f));
        self
    }

    /// The variables of `uri` if it matches this template.
    pub fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        match_template(&self.parts, uri)
    }

    pub(crate) fn completer(&self) -> Option<&Arc<CompleteFn>> {
        self.complete.as_ref()
    }

    pub(crate) fn read(
        &self,
        ctx: &Context,
        uri: &str,
        vars: &HashMap<String, String>,
    ) -> Result<Vec<ResourceContents>, Error> {
        (self.read)(ctx, uri, vars)
    }

    fn to_wire(&self, rev: Revision) -> Value {
        let mut v = json!({"uriTemplate": self.uri_template, "name": self.name});
        if let (Some(t), true) = (&self.title, rev >= Revision::V2025_06_18) {
            v["title"] = json!(t);
        }
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if let Some(m) = &self.mime_type {
            v["mimeType"] = json!(m);
        }
        v
    }
}

/// Every registered resource and template, in registration order.
#[derive(Clone, Default)]
pub struct ResourceRegistry {
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
}

impl ResourceRegistry {
    pub fn add(&mut self, r: Resource) {
        self.resources.retain(|x| x.uri != r.uri);
        self.resources.push(r);
    }

    pub fn add_template(&mut self, t: ResourceTemplate) {
        self.templates.retain(|x| x.uri_template != t.uri_template);
        self.templates.push(t);
    }

    pub fn remove(&mut self, uri: &str) -> bool {
        let before = self.resources.len() + self.templates.len();
        self.resources.retain(|r| r.uri != uri);
        self.templates.retain(|t| t.uri_template != uri);
        before != self.resources.len() + self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.templates.is_empty()
    }

    pub(crate) fn template(&self, uri_template: &str) -> Option<&ResourceTemplate> {
        self.templates
            .iter()
            .find(|t| t.uri_template == uri_template)
    }

    /// Whether `uri` names a resource (static or through a template).
    pub fn exists(&self, uri: &str) -> bool {
        self.resources.iter().any(|r| r.uri == uri)
            || self.templates.iter().any(|t| t.matches(uri).is_some())
    }

    pub(crate) fn list(
        &self,
        rev: Revision,
        cursor: Option<&str>,
        page_size: usize,
    ) -> Result<Value, ErrorObject> {
        crate::pagination::list_result("resources", &self.resources, cursor, page_size, |r| {
            r.to_wire(rev)
        })
    }

    pub(crate) fn list_templates(
        &self,
        rev: Revision,
        cursor: Option<&str>,
        page_size: usize,
    ) -> Result<Value, ErrorObject> {
        crate::pagination::list_result(
            "resourceTemplates",
            &self.templates,
            cursor,
            page_size,
            |t| t.to_wire(rev),
        )
    }

    /// `resources/read {uri}`: a static resource first, then the first template that matches.
    pub(crate) fn read(&self, ctx: &Context, uri: &str) -> Result<Value, ErrorObject> {
        let result = if let Some(r) = self.resources.iter().find(|r| r.uri == uri) {
            (r.read)(ctx)
        } else if let Some((t, vars)) = self
            .templates
            .iter()
            .find_map(|t| t.matches(uri).map(|v| (t, v)))
        {
            t.read(ctx, uri, &vars)
        } else {
            Err(Error::NotFound)
        };
        let subject = Subject::Resource {
            uri,
            rev: ctx.revision(),
        };
        match result {
            Ok(contents) if !contents.is_empty() => Ok(json!({
                "contents": contents.iter().map(ResourceContents::to_wire).collect::<Vec<_>>()
            })),
            // An empty `contents` must never stand for a missing resource.
            Ok(_) => Err(Error::NotFound.to_rpc(subject)),
            Err(e) => Err(e.to_rpc(subject)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_level_one() {
        let p = parse_template("test://template/{id}/data").unwrap();
        let v = match_template(&p, "test://template/123/data").unwrap();
        assert_eq!(v["id"], "123");
        assert!(match_template(&p, "test://template//data").is_none());
        assert!(match_template(&p, "test://template/1/2/data").is_none());
        assert!(match_template(&p, "test://template/123/data/x").is_none());
        let p = parse_template("file:///{dir}/{name}.txt").unwrap();
        let v = match_template(&p, "file:///logs/a%20b.txt").unwrap();
        assert_eq!((v["dir"].as_str(), v["name"].as_str()), ("logs", "a b"));
        assert!(parse_template("x://{a}{b}").is_none());
        assert!(parse_template("x://{a").is_none());
        assert!(parse_template("x://{a-b}").is_none());
    }
}
