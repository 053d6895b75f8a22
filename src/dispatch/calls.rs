//! The methods that run a user's handler: `tools/call` (and the seed's bare tool methods),
//! `resources/read`, `prompts/get` and `completion/complete`. A handler that panics is answered
//! with -32603 and the server goes on.

use super::{Call, Outcome, read};
use crate::completion::{CompleteResult, CompletionRequest};
use crate::error::{Subject, panicked, resource_not_found, unknown_prompt};
use crate::jsonrpc::{ErrorObject, INVALID_PARAMS, quote};
use crate::mrtr::Binding;
use crate::params::{self, CallTool, Complete, GetPrompt, Reference, ResourceUri};
use crate::prompts::CompleteFn;
use crate::tools::{Responder, Shape, Tool};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Runs a handler that may panic; a panic becomes -32603 and the server goes on.
fn guarded(what: &str, f: impl FnOnce() -> Outcome) -> Outcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        log::error!("a {what} handler panicked");
        Err(panicked(what))
    })
}

/// `tools/call`'s `name` and `arguments` read in place when they are what [`CallTool`] accepts
/// (a string; an object, `null` or nothing), so a call copies neither; `None` otherwise.
fn call_params(params: &Map<String, Value>) -> Option<(&str, Option<&Map<String, Value>>)> {
    let name = params.get("name")?.as_str()?;
    match params.get("arguments") {
        None | Some(Value::Null) => Some((name, None)),
        Some(Value::Object(args)) => Some((name, Some(args))),
        Some(_) => None,
    }
}

impl Call<'_> {
    /// What a stateless request's `requestState` is bound to; nothing (and no hashing) for a
    /// session's request, which has no input rounds.
    fn bind(&self, binding: impl FnOnce() -> Binding) -> Option<Binding> {
        self.stateless().then(binding)
    }

    /// `tools/call {name, arguments?}`: None once the tool's responder has taken the answer.
    pub(super) fn call_tool(&self) -> Option<Outcome> {
        let parsed;
        let (name, args) = match call_params(&self.req.params) {
            Some(p) => p,
            // Not well-formed: the typed parse says what is wrong.
            None => match params::parse::<CallTool>(&self.req.params) {
                Ok(p) => {
                    parsed = p;
                    (parsed.name.as_str(), parsed.arguments.as_ref())
                }
                Err(e) => return Some(Err(e)),
            },
        };
        // A tool outside the caller's grant is, to it, no tool at all.
        let tool = read(&self.core.features.tools).shared(name).cloned();
        let scope = self.scope();
        let Some(tool) = tool.filter(|t| scope.allows(name, t.scope.as_deref())) else {
            return Some(Err(ErrorObject::new(
                INVALID_PARAMS,
                format!("Unknown tool: {}", quote(name)),
            )));
        };
        let no_args = Map::new();
        let args = args.unwrap_or(&no_args);
        let bound = self.bind(|| Binding::new("tools/call", name, Some(args)));
        self.run_tool(&tool, args, Shape::ToolsCall(self.revision()), bound)
    }

    /// The seed's `echo`/`add`/`sleep` methods: the tool of that name, `params` as arguments.
    pub(super) fn call_bare_tool(&self, name: &str) -> Option<Outcome> {
        let tool = read(&self.core.features.tools).shared(name).cloned();
        let Some(tool) = tool.filter(|t| self.scope().allows(name, t.scope.as_deref())) else {
            return Some(Err(super::method_not_found(name)));
        };
        self.run_tool(&tool, &self.req.params, Shape::Bare, None)
    }

    fn run_tool(
        &self,
        tool: &Tool,
        args: &Map<String, Value>,
        shape: Shape,
        bound: Option<Binding>,
    ) -> Option<Outcome> {
        let ctx = match self.context(bound) {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        let responder = Responder::new(tool.name.clone(), ctx, self.req.id.clone(), shape);
        log::debug!("session {}: calling tool {}", self.session.id, tool.name);
        // A panic unwinds through the responder, whose drop answers the client with -32603.
        let handler = tool.handler.clone();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(args, responder)))
            .is_err()
        {
            log::error!("tool {} panicked", tool.name);
        }
        None
    }

    /// `resources/read {uri}`.
    pub(super) fn read_resource(&self) -> Outcome {
        let p: ResourceUri = params::parse(&self.req.params)?;
        let registry = read(&self.core.features.resources).clone();
        let ctx =
            self.context(self.bind(|| Binding::new("resources/read", &p.uri, None::<&()>)))?;
        ctx.conclude(guarded("resource", || registry.read(&ctx, &p.uri)))
    }

    /// `prompts/get {name, arguments?}`.
    pub(super) fn get_prompt(&self) -> Outcome {
        let p: GetPrompt = params::parse(&self.req.params)?;
        let registry = read(&self.core.features.prompts).clone();
        let args = p.arguments.unwrap_or_default();
        let ctx = self.context(self.bind(|| {
            // Sorted, so that equal arguments bind a `requestState` equally.
            let sorted: BTreeMap<&String, &String> = args.iter().collect();
            Binding::new("prompts/get", &p.name, Some(&sorted))
        }))?;
        ctx.conclude(guarded("prompt", || registry.render(&ctx, &p.name, args)))
    }

    /// `completion/complete {ref, argument, context?}`: the completer of the prompt or template
    /// named; a resource without one completes to nothing.
    pub(super) fn complete(&self) -> Outcome {
        let p: Complete = params::parse(&self.req.params)?;
        let completer = self.completer(&p.reference)?;
        let request = CompletionRequest {
            argument: p.argument.name,
            value: p.argument.value,
            context: p.context.and_then(|c| c.arguments).unwrap_or_default(),
        };
        let ctx = self.context(None)?;
        guarded("completion", || {
            let values = match completer {
                Some(f) => f(&ctx, &request).map_err(|e| e.to_rpc(Subject::Completion))?,
                None => Vec::new(),
            };
            Ok(serde_json::to_value(CompleteResult::new(values)).unwrap_or_default())
        })
    }

    fn completer(&self, reference: &Reference) -> Result<Option<Arc<CompleteFn>>, ErrorObject> {
        let f = &self.core.features;
        match reference {
            Reference::Prompt { name } => read(&f.prompts)
                .get(name)
                .map(|p| p.completer().cloned())
                .ok_or_else(|| unknown_prompt(name)),
            Reference::Resource { uri } => {
                let resources = read(&f.resources);
                match resources.template(uri) {
                    Some(t) => Ok(t.completer().cloned()),
                    None if resources.exists(uri) => Ok(None),
                    None => Err(resource_not_found(self.revision(), uri)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Read in place exactly when the typed parse accepts them, and to the same values.
    #[test]
    fn call_params_agree_with_the_typed_parse() {
        for p in [
            json!({"name": "echo", "arguments": {"message": "hi"}}),
            json!({"name": "echo"}),
            json!({"name": "echo", "arguments": null, "_meta": {"progressToken": 1}}),
            json!({"name": "echo", "arguments": [1]}),
            json!({"name": "echo", "arguments": "x"}),
            json!({"name": 5, "arguments": {}}),
            json!({"name": null}),
            json!({"arguments": {}}),
            json!({}),
        ] {
            let map = p.as_object().cloned().unwrap_or_default();
            let typed = params::parse::<CallTool>(&map);
            match call_params(&map) {
                Some((name, args)) => {
                    let typed = typed.unwrap_or_else(|e| panic!("{p}: {e:?}"));
                    assert_eq!(name, typed.name, "{p}");
                    assert_eq!(args, typed.arguments.as_ref(), "{p}");
                }
                None => assert!(typed.is_err(), "{p}"),
            }
        }
    }
}
