//! Tools, resources and prompts declared in a config file (`--config PATH`): real work on a host
//! without writing Rust. Everything in the file is checked when it is loaded, before anything is
//! served; a file that fails is refused whole (at start) or kept as it was (on reload).

mod arg_spec;
mod args;
mod argv;
pub(crate) mod confine;
mod env;
mod file;
mod prompt;
mod report;
pub(crate) mod resource;
mod resource_command;
mod slots;
mod text_check;
mod tool;
mod tool_spec;
pub mod watch;

pub use file::{GatewaySpec, LoadError, OAuthSpec};

use crate::child::{Stop, Supervisor};
use crate::config::TokenGrant;
use crate::features::{Offer, ServerHandle};
use crate::tools::ToolResult;
use file::Source;
use resource::{Built, ResourceSpec};
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use tool::CommandTool;

/// A loaded and checked config file: what it serves and who may call what.
pub struct Catalog {
    demo_tools: bool,
    offer: Offer,
    tools: Vec<Arc<CommandTool>>,
    resource_specs: Vec<ResourceSpec>,
    grants: Vec<TokenGrant>,
    warnings: Vec<String>,
    gateway: Option<file::GatewaySpec>,
    oauth: Option<file::OAuthSpec>,
}

impl Catalog {
    /// Reads, checks and compiles the file at `path`. Commands it declares run under
    /// `supervisor`, which kills them all at shutdown.
    pub fn load(path: &Path, supervisor: &Supervisor) -> Result<Catalog, LoadError> {
        Catalog::compile(&Source::read(path)?, supervisor)
    }

    /// As [`Catalog::load`], from text (`path` only names it in errors); no ownership check.
    pub fn from_text(
        path: &Path,
        text: &str,
        supervisor: &Supervisor,
    ) -> Result<Catalog, LoadError> {
        Catalog::compile(&Source::from_text(path, text.to_string()), supervisor)
    }

    fn compile(src: &Source, supervisor: &Supervisor) -> Result<Catalog, LoadError> {
        let spec = src.parse()?;
        let mut c = Catalog {
            demo_tools: spec.demo_tools,
            offer: Offer::default(),
            tools: Vec::new(),
            resource_specs: Vec::new(),
            grants: Vec::new(),
            warnings: Vec::new(),
            gateway: spec.gateway.clone(),
            oauth: spec.auth.oauth.clone(),
        };
        let mut names = std::collections::HashSet::new();
        for t in &spec.tool {
            let at = t.span().start;
            let t = t.get_ref();
            if !names.insert(t.name.clone()) {
                return Err(src.error_at(at, format!("tool {:?} is declared twice", t.name)));
            }
            let compiled = CommandTool::compile(t, supervisor, &mut c.warnings)
                .map_err(|e| src.error_at(at, format!("tool {:?}: {e}", t.name)))?;
            let compiled = Arc::new(compiled);
            c.offer.tools.push(compiled.to_tool());
            c.tools.push(compiled);
        }
        if spec.demo_tools {
            for name in ["echo", "add", "sleep"] {
                if names.contains(name) {
                    return Err(src.error_at(
                        0,
                        format!("tool {name:?} is declared and demo_tools is on; rename it"),
                    ));
                }
            }
        }
        let mut uris = std::collections::HashSet::new();
        for r in &spec.resource {
            let at = r.span().start;
            let r = r.get_ref();
            let fail = |e: String| src.error_at(at, format!("resource {:?}: {e}", r.uri));
            if !uris.insert(r.uri.clone()) {
                return Err(fail("declared twice".into()));
            }
            r.check().map_err(fail)?;
            match r.build().map_err(fail)? {
                Some(Built::Resource(res)) => c.offer.resources.push(res),
                Some(Built::Template(t)) => c.offer.templates.push(t),
                None => c
                    .offer
                    .resources
                    .push(resource_command::build(r, supervisor).map_err(fail)?),
            }
            c.resource_specs.push(r.clone());
        }
        let mut prompts = std::collections::HashSet::new();
        for p in &spec.prompt {
            let at = p.span().start;
            let p = p.get_ref();
            let fail = |e: String| src.error_at(at, format!("prompt {:?}: {e}", p.name));
            if !prompts.insert(p.name.clone()) {
                return Err(fail("declared twice".into()));
            }
            c.offer.prompts.push(p.build().map_err(fail)?);
        }
        let mut tokens = std::collections::HashSet::new();
        for t in &spec.auth.token {
            let at = t.span().start;
            let t = t.get_ref();
            let fail = |e: String| src.error_at(at, format!("auth.token {:?}: {e}", t.name));
            if !tokens.insert(t.name.clone()) {
                return Err(fail("declared twice".into()));
            }
            c.grants
                .push(TokenGrant::new(t.name.clone(), &t.sha256, t.tools.clone()).map_err(fail)?);
        }
        Ok(c)
    }

    /// The file's `[gateway]` table, if it has one.
    pub fn gateway(&self) -> Option<&file::GatewaySpec> {
        self.gateway.as_ref()
    }

    /// The file's `[auth.oauth]` table, if it has one.
    pub fn oauth(&self) -> Option<&file::OAuthSpec> {
        self.oauth.as_ref()
    }

    /// Whether the built-in `echo`, `add` and `sleep` stay on (`demo_tools = true`).
    pub fn demo_tools(&self) -> bool {
        self.demo_tools
    }

    /// What the file serves, to add to a server or replace an earlier load with.
    pub fn offer(&self) -> Offer {
        self.offer.clone()
    }

    /// The scoped bearer tokens (`[[auth.token]]`).
    pub fn grants(&self) -> Vec<TokenGrant> {
        self.grants.clone()
    }

    /// Things that load but deserve a look (an interpreter as a command, a missing program).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Watches the served files: a change sends `notifications/resources/updated` to sessions
    /// subscribed to it, a file appearing or leaving a served directory `list_changed`. The
    /// watch ends when the returned value is dropped.
    pub fn watch(&self, handle: ServerHandle) -> std::io::Result<watch::FileWatch> {
        let h = handle.clone();
        watch::FileWatch::start(
            &self.resource_specs,
            move |uri: &str| h.resource_updated(uri),
            move || handle.resources_changed(),
        )
    }

    /// What would be served, for `fastmcp-server check`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "tools ({}):", self.tools.len());
        for t in &self.tools {
            let _ = writeln!(s, "  {}", t.describe());
            for a in t.args.iter() {
                let _ = writeln!(
                    s,
                    "    {} ({:?}{}{})",
                    a.name,
                    a.ty,
                    if a.required { ", required" } else { "" },
                    if a.secret { ", secret" } else { "" }
                );
            }
        }
        if self.demo_tools {
            let _ = writeln!(s, "  echo, add, sleep (demo_tools = true)");
        }
        let _ = writeln!(
            s,
            "resources ({}):",
            self.offer.resources.len() + self.offer.templates.len()
        );
        for r in &self.offer.resources {
            let _ = writeln!(s, "  {}", r.uri);
        }
        for t in &self.offer.templates {
            let _ = writeln!(s, "  {} (template)", t.uri_template);
        }
        let _ = writeln!(s, "prompts ({}):", self.offer.prompts.len());
        for p in &self.offer.prompts {
            let _ = writeln!(s, "  {}", p.name);
        }
        let _ = writeln!(s, "tokens ({}):", self.grants.len());
        for g in &self.grants {
            let _ = writeln!(s, "  {}: tools {}", g.name, g.tools.join(", "));
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }

    /// Runs one declared tool once with `args`, as `fastmcp-server call` does: the same checks,
    /// child setup and limits as a client's call. Err if there is no such tool.
    pub fn call(&self, tool: &str, args: &Map<String, Value>) -> Result<ToolResult, String> {
        let t = self
            .tools
            .iter()
            .find(|t| t.name == tool)
            .ok_or_else(|| format!("no tool {tool:?} in the config file"))?;
        let (expanded, stdin) = match t.prepare(args) {
            Ok(p) => p,
            Err(e) => return Ok(ToolResult::error(e)),
        };
        let stop = Stop::new().map_err(|e| e.to_string())?;
        Ok(t.run(&expanded, stdin, None, &stop, None))
    }
}
