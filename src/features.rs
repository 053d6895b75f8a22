//! What the server offers (tools, resources, prompts) and [`ServerHandle`], which changes it while
//! the server runs.
//!
//! This sits below the transports and the dispatcher: a handler may register handlers (through
//! `ctx.server()`), so the registries cannot depend on anything that runs requests. Changes are
//! announced through [`Announce`], which the layer that owns the sessions implements.

use crate::prompts::{Prompt, PromptRegistry};
use crate::protocol::{ListChanged, ResourcesCapability, Revision, ServerCapabilities};
use crate::resources::{Resource, ResourceRegistry, ResourceTemplate};
use crate::tools::{Tool, ToolRegistry};
use serde_json::Map;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What the server offers. The registries can change while it runs (see [`ServerHandle`]); each
/// change is announced with `notifications/*/list_changed`.
#[derive(Default)]
pub(crate) struct Features {
    pub tools: RwLock<ToolRegistry>,
    pub resources: RwLock<ResourceRegistry>,
    pub prompts: RwLock<PromptRegistry>,
    /// Capabilities declared even while nothing of that kind is registered (the application
    /// means to add some at run time).
    pub declare_tools: bool,
    pub declare_resources: bool,
    pub declare_prompts: bool,
}

/// A poisoned lock only means a panic elsewhere mid-update of plain data; keep serving.
pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl Features {
    pub(crate) fn capabilities(&self, rev: Revision) -> ServerCapabilities {
        let changing = ListChanged {
            list_changed: Some(true),
        };
        ServerCapabilities {
            tools: (self.declare_tools || !read(&self.tools).is_empty()).then(|| changing.clone()),
            resources: (self.declare_resources || !read(&self.resources).is_empty()).then_some(
                ResourcesCapability {
                    subscribe: Some(true),
                    list_changed: Some(true),
                },
            ),
            prompts: (self.declare_prompts || !read(&self.prompts).is_empty()).then_some(changing),
            logging: Some(Map::new()),
            completions: (rev >= Revision::V2025_03_26).then(Map::new),
        }
    }
}

/// Something clients may hear of.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// The tool list changed.
    Tools,
    /// The prompt list changed.
    Prompts,
    /// The resource list changed.
    Resources,
    /// The resource with this URI changed.
    Updated(&'a str),
}

impl Change<'_> {
    /// The notification that announces it.
    pub(crate) fn method(&self) -> &'static str {
        match self {
            Change::Tools => "notifications/tools/list_changed",
            Change::Prompts => "notifications/prompts/list_changed",
            Change::Resources => "notifications/resources/list_changed",
            Change::Updated(_) => "notifications/resources/updated",
        }
    }
}

/// A set of tools, resources and prompts that is added, and later replaced, as one: what a
/// config file declares. Replacing it announces each kind that changed once, not once per item.
#[derive(Clone, Default)]
pub struct Offer {
    /// Tools.
    pub tools: Vec<Tool>,
    /// Resources with a fixed URI.
    pub resources: Vec<Resource>,
    /// Resource templates.
    pub templates: Vec<ResourceTemplate>,
    /// Prompts.
    pub prompts: Vec<Prompt>,
}

impl Offer {
    /// Adds everything to the registries, replacing items of the same names.
    pub(crate) fn add_to(self, f: &Features) {
        let mut tools = write(&f.tools);
        for t in self.tools {
            tools.register(t);
        }
        drop(tools);
        let mut resources = write(&f.resources);
        for r in self.resources {
            resources.add(r);
        }
        for t in self.templates {
            resources.add_template(t);
        }
        drop(resources);
        let mut prompts = write(&f.prompts);
        for p in self.prompts {
            prompts.add(p);
        }
    }

    /// Removes from the registries every item this offer names.
    fn remove_from(&self, f: &Features) {
        let mut tools = write(&f.tools);
        for t in &self.tools {
            tools.remove(&t.name);
        }
        drop(tools);
        let mut resources = write(&f.resources);
        for r in &self.resources {
            resources.remove(&r.uri);
        }
        for t in &self.templates {
            resources.remove(&t.uri_template);
        }
        drop(resources);
        let mut prompts = write(&f.prompts);
        for p in &self.prompts {
            prompts.remove(&p.name);
        }
    }
}

/// Tells whoever listens (sessions, listen streams) that something changed.
pub(crate) trait Announce: Send + Sync {
    fn announce(&self, change: Change<'_>);
}

/// Changes tools, resources and prompts of a running server. Each change sends
/// `notifications/{tools,resources,prompts}/list_changed` to every initialized session (on its
/// general stream, or kept in its outbox until one opens) and to listen streams that asked.
#[derive(Clone)]
pub struct ServerHandle {
    features: Arc<Features>,
    announce: Arc<dyn Announce>,
}

impl ServerHandle {
    pub(crate) fn new(features: Arc<Features>, announce: Arc<dyn Announce>) -> ServerHandle {
        ServerHandle { features, announce }
    }

    /// Adds or replaces a tool.
    pub fn add_tool(&self, tool: Tool) {
        write(&self.features.tools).register(tool);
        self.announce.announce(Change::Tools);
    }

    /// Removes a tool; false if there was none of that name.
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = write(&self.features.tools).remove(name);
        self.announce_if(removed, Change::Tools)
    }

    /// Adds or replaces a resource.
    pub fn add_resource(&self, resource: Resource) {
        write(&self.features.resources).add(resource);
        self.announce.announce(Change::Resources);
    }

    /// Adds or replaces a resource template.
    pub fn add_resource_template(&self, template: ResourceTemplate) {
        write(&self.features.resources).add_template(template);
        self.announce.announce(Change::Resources);
    }

    /// Removes a resource by URI, or a template by its URI template.
    pub fn remove_resource(&self, uri: &str) -> bool {
        let removed = write(&self.features.resources).remove(uri);
        self.announce_if(removed, Change::Resources)
    }

    /// Adds or replaces a prompt.
    pub fn add_prompt(&self, prompt: Prompt) {
        write(&self.features.prompts).add(prompt);
        self.announce.announce(Change::Prompts);
    }

    /// Removes a prompt; false if there was none of that name.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = write(&self.features.prompts).remove(name);
        self.announce_if(removed, Change::Prompts)
    }

    /// Replaces the items of `old` (a previous offer) with those of `new` in one step per kind,
    /// then announces `list_changed` once for each kind either of them has.
    pub fn replace(&self, old: &Offer, new: Offer) {
        let tools = !old.tools.is_empty() || !new.tools.is_empty();
        let resources = !old.resources.is_empty()
            || !old.templates.is_empty()
            || !new.resources.is_empty()
            || !new.templates.is_empty();
        let prompts = !old.prompts.is_empty() || !new.prompts.is_empty();
        old.remove_from(&self.features);
        new.add_to(&self.features);
        for (changed, change) in [
            (tools, Change::Tools),
            (resources, Change::Resources),
            (prompts, Change::Prompts),
        ] {
            if changed {
                self.announce.announce(change);
            }
        }
    }

    /// Tells every session that the list of resources changed
    /// (`notifications/resources/list_changed`), e.g. files appeared in a served directory.
    pub fn resources_changed(&self) {
        self.announce.announce(Change::Resources);
    }

    /// Tells every session subscribed to `uri` that the resource changed
    /// (`notifications/resources/updated`).
    pub fn resource_updated(&self, uri: &str) {
        self.announce.announce(Change::Updated(uri));
    }

    fn announce_if(&self, changed: bool, change: Change<'_>) -> bool {
        if changed {
            self.announce.announce(change);
        }
        changed
    }
}
