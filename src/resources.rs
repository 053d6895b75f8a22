//! Resources: static resources and URI templates (RFC 6570 level 1, `{var}`), `resources/list`,
//! `resources/templates/list`, `resources/read`, and subscriptions with
//! `notifications/resources/updated`.
//!
//! A template may also list its resources (a directory's files): `resources/list` then pages
//! over the static resources followed by every template's listed ones, so a client that only
//! lists sees them too.

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
use template::{Part, match_template, parse_template};

mod template;

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

    /// An entry a template's lister returns (see [`ResourceTemplate::list_with`]): it is read
    /// through the template that lists it, so it has no read function of its own (registered
    /// on its own with `add`, it reads as not found).
    pub fn entry(uri: impl Into<String>, name: impl Into<String>) -> Resource {
        Resource::new(uri, name, |_| Err(Error::NotFound))
    }

    /// Sets the size in bytes.
    pub fn size(mut self, bytes: u64) -> Resource {
        self.size = Some(bytes);
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

/// Lists the resources a template stands for right now (`resources/list`).
pub type ListFn = dyn Fn() -> Vec<Resource> + Send + Sync;

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
    /// Whether the last variable, when the template ends with it, takes the rest of the URI.
    tail: bool,
    read: Arc<TemplateReadFn>,
    complete: Option<Arc<CompleteFn>>,
    list: Option<Arc<ListFn>>,
}

impl ResourceTemplate {
    /// A template; panics at registration (not at run time) if `uri_template` is not a valid
    /// level-1 template, so a mistake shows up when the server is built. A template that comes
    /// from a file or a client uses [`ResourceTemplate::try_new`].
    pub fn new(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        read: impl Fn(&Context, &str, &HashMap<String, String>) -> Result<Vec<ResourceContents>, Error>
        + Send
        + Sync
        + 'static,
    ) -> ResourceTemplate {
        ResourceTemplate::try_new(uri_template, name, read).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A template, or why `uri_template` is not a valid level-1 template.
    pub fn try_new(
        uri_template: impl Into<String>,
        name: impl Into<String>,
        read: impl Fn(&Context, &str, &HashMap<String, String>) -> Result<Vec<ResourceContents>, Error>
        + Send
        + Sync
        + 'static,
    ) -> Result<ResourceTemplate, String> {
        let uri_template = uri_template.into();
        let Some(parts) = parse_template(&uri_template) else {
            return Err(format!("not a level-1 URI template: {uri_template:?}"));
        };
        Ok(ResourceTemplate {
            uri_template,
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
            parts,
            tail: false,
            read: Arc::new(read),
            complete: None,
            list: None,
        })
    }

    /// Lets the last variable, when the template ends with it, take the rest of the URI with
    /// its `/`s: `file:///docs/{path}` then matches `file:///docs/sub/a.md` with `path` =
    /// `sub/a.md` (level-1 expansion would have sent `sub%2Fa.md`, which matches either way).
    /// The read function sees such values unchecked: it must refuse `..` itself.
    pub fn path_tail(mut self) -> Self {
        self.tail = true;
        self
    }

    /// Lists the template's resources in `resources/list`, after the static ones (each one an
    /// [`Resource::entry`], read through this template). `f` runs on every `resources/list`, so
    /// it should be bounded.
    pub fn list_with(mut self, f: impl Fn() -> Vec<Resource> + Send + Sync + 'static) -> Self {
        self.list = Some(Arc::new(f));
        self
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
        match_template(&self.parts, self.tail, uri)
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
        let listed: Vec<Resource> = self
            .templates
            .iter()
            .filter_map(|t| t.list.as_ref())
            .flat_map(|f| f())
            .collect();
        let all: Vec<&Resource> = self.resources.iter().chain(&listed).collect();
        crate::pagination::list_result("resources", &all, cursor, page_size, |r| r.to_wire(rev))
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
    fn listed_resources_page_after_the_static_ones() {
        let mut reg = ResourceRegistry::default();
        reg.add(Resource::text("memo://a", "a", "text/plain", "A"));
        let t = ResourceTemplate::new("file:///d/{path}", "d", |_, _, _| Ok(vec![]))
            .path_tail()
            .list_with(|| {
                ["x", "y/z"]
                    .iter()
                    .map(|p| Resource::entry(format!("file:///d/{p}"), *p).size(1))
                    .collect()
            });
        reg.add_template(t);
        assert!(ResourceTemplate::try_new("x://{a", "t", |_, _, _| Ok(vec![])).is_err());
        let uris = |v: &Value| -> Vec<String> {
            v["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["uri"].as_str().unwrap().to_string())
                .collect()
        };
        let first = reg.list(Revision::V2025_06_18, None, 2).unwrap();
        assert_eq!(uris(&first), ["memo://a", "file:///d/x"]);
        let next = first["nextCursor"].as_str().unwrap();
        let second = reg.list(Revision::V2025_06_18, Some(next), 2).unwrap();
        assert_eq!(uris(&second), ["file:///d/y/z"]);
        assert_eq!(second["resources"][0]["size"], 1);
        assert!(second.get("nextCursor").is_none());
        assert!(reg.exists("file:///d/y/z"));
    }
}
