//! Prompts: `prompts/list` and `prompts/get`, with declared arguments (a missing required one is
//! -32602 naming it) and multi-message results of any content.

use crate::completion::CompletionRequest;
use crate::content::{Content, Role};
use crate::context::Context;
use crate::error::{Error, Subject, invalid_params, unknown_prompt};
use crate::jsonrpc::ErrorObject;
use crate::protocol::Revision;
use crate::schema::{field_order, schema_of};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said (any content block).
    pub content: Content,
}

impl PromptMessage {
    /// A message from the user.
    pub fn user(content: Content) -> PromptMessage {
        PromptMessage {
            role: Role::User,
            content,
        }
    }

    /// A message from the assistant.
    pub fn assistant(content: Content) -> PromptMessage {
        PromptMessage {
            role: Role::Assistant,
            content,
        }
    }
}

/// A declared argument of a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptArgument {
    /// The argument's name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Whether `prompts/get` without it is an error.
    pub required: bool,
}

/// The arguments a client gave `prompts/get`, by name. Optional arguments may be absent, so there
/// is no indexing that could panic: [`PromptArguments::get`] or [`PromptArguments::require`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptArguments(HashMap<String, String>);

impl From<HashMap<String, String>> for PromptArguments {
    fn from(map: HashMap<String, String>) -> PromptArguments {
        PromptArguments(map)
    }
}

impl PromptArguments {
    /// The argument's value, if the client gave it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The argument's value, or -32602 naming it.
    pub fn require(&self, name: &str) -> Result<&str, Error> {
        self.get(name)
            .ok_or_else(|| Error::invalid_params(format!("missing argument \"{name}\"")))
    }
}

/// Suggests values for one argument of a prompt or a resource template.
pub type CompleteFn =
    dyn Fn(&Context, &CompletionRequest) -> Result<Vec<String>, Error> + Send + Sync;

/// Produces a prompt's messages from its arguments.
pub type GetFn =
    dyn Fn(&Context, &PromptArguments) -> Result<Vec<PromptMessage>, Error> + Send + Sync;

/// A prompt template the client can list and fill in (`prompts/get`).
#[derive(Clone)]
pub struct Prompt {
    /// Unique name.
    pub name: String,
    /// Display name (sent from revision 2025-06-18).
    pub title: Option<String>,
    /// What the prompt is for.
    pub description: Option<String>,
    /// Declared arguments, in order.
    pub arguments: Vec<PromptArgument>,
    get: Arc<GetFn>,
    complete: Option<Arc<CompleteFn>>,
}

impl Prompt {
    /// A prompt whose messages `get` produces from the arguments the client gives; declare them
    /// with [`Prompt::argument`]. [`Prompt::typed`] derives them from a struct instead.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        get: impl Fn(&Context, &PromptArguments) -> Result<Vec<PromptMessage>, Error>
        + Send
        + Sync
        + 'static,
    ) -> Prompt {
        Prompt {
            name: name.into(),
            title: None,
            description: Some(description.into()),
            arguments: Vec::new(),
            get: Arc::new(get),
            complete: None,
        }
    }

    /// A prompt whose arguments are the fields of `A` (strings; an `Option` field is an optional
    /// argument, a doc comment its description). `get` receives them parsed; a missing or
    /// malformed one is -32602 naming it, before `get` runs.
    pub fn typed<A, F>(name: impl Into<String>, description: impl Into<String>, get: F) -> Prompt
    where
        A: DeserializeOwned + schemars::JsonSchema,
        F: Fn(&Context, A) -> Result<Vec<PromptMessage>, Error> + Send + Sync + 'static,
    {
        let mut prompt = Prompt::new(name, description, move |ctx, args: &PromptArguments| {
            let map: Map<String, Value> = args
                .0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let a: A = crate::params::from_map(&map).map_err(Error::invalid_params)?;
            get(ctx, a)
        });
        prompt.arguments = arguments_of(&schema_of::<A>(), field_order::<A>());
        prompt
    }

    /// Declares an argument.
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Prompt {
        self.arguments.push(PromptArgument {
            name: name.into(),
            description: Some(description.into()),
            required,
        });
        self
    }

    /// Sets the display name (sent from revision 2025-06-18).
    pub fn title(mut self, t: impl Into<String>) -> Prompt {
        self.title = Some(t.into());
        self
    }

    /// Completes this prompt's arguments (`completion/complete` with `ref/prompt`).
    pub fn complete(
        mut self,
        f: impl Fn(&Context, &CompletionRequest) -> Result<Vec<String>, Error> + Send + Sync + 'static,
    ) -> Prompt {
        self.complete = Some(Arc::new(f));
        self
    }

    pub(crate) fn completer(&self) -> Option<&Arc<CompleteFn>> {
        self.complete.as_ref()
    }

    fn to_wire(&self, rev: Revision) -> Value {
        let mut v = json!({"name": self.name});
        if let (Some(t), true) = (&self.title, rev >= Revision::V2025_06_18) {
            v["title"] = json!(t);
        }
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if !self.arguments.is_empty() {
            v["arguments"] = Value::Array(
                self.arguments
                    .iter()
                    .map(|a| {
                        let mut o = json!({"name": a.name, "required": a.required});
                        if let Some(d) = &a.description {
                            o["description"] = json!(d);
                        }
                        o
                    })
                    .collect(),
            );
        }
        v
    }
}

/// Every registered prompt, in registration order.
#[derive(Clone, Default)]
pub struct PromptRegistry {
    prompts: Vec<Prompt>,
}

impl PromptRegistry {
    pub fn add(&mut self, p: Prompt) {
        self.prompts.retain(|x| x.name != p.name);
        self.prompts.push(p);
    }

    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.prompts.len();
        self.prompts.retain(|p| p.name != name);
        before != self.prompts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|p| p.name == name)
    }

    pub(crate) fn list(
        &self,
        rev: Revision,
        cursor: Option<&str>,
        page_size: usize,
    ) -> Result<Value, ErrorObject> {
        crate::pagination::list_result("prompts", &self.prompts, cursor, page_size, |p| {
            p.to_wire(rev)
        })
    }

    /// `prompts/get {name, arguments?}`.
    pub(crate) fn render(
        &self,
        ctx: &Context,
        name: &str,
        args: HashMap<String, String>,
    ) -> Result<Value, ErrorObject> {
        let prompt = self.get(name).ok_or_else(|| unknown_prompt(name))?;
        if let Some(missing) = prompt
            .arguments
            .iter()
            .find(|a| a.required && !args.contains_key(&a.name))
        {
            return Err(invalid_params(format!(
                "missing required argument \"{}\" of prompt {name}",
                missing.name
            )));
        }
        let messages = (prompt.get)(ctx, &PromptArguments(args))
            .map_err(|e| e.to_rpc(Subject::Prompt(name)))?;
        let rev = ctx.revision();
        let mut v = json!({
            "messages": messages
                .iter()
                .map(|m| json!({"role": m.role, "content": m.content.to_wire(rev)}))
                .collect::<Vec<_>>()
        });
        if let Some(d) = &prompt.description {
            v["description"] = json!(d);
        }
        Ok(v)
    }
}

/// The part of a derived schema that declares prompt arguments.
#[derive(Default, Deserialize)]
struct ArgumentSchema {
    #[serde(default)]
    properties: std::collections::BTreeMap<String, PropertySchema>,
    #[serde(default)]
    required: Vec<String>,
}

#[derive(Default, Deserialize)]
struct PropertySchema {
    #[serde(default)]
    description: Option<String>,
}

/// A typed prompt's arguments, from its struct's schema, in the struct's field order.
fn arguments_of(schema: &Value, order: &[&str]) -> Vec<PromptArgument> {
    let mut s = ArgumentSchema::deserialize(schema).unwrap_or_default();
    let mut names: Vec<String> = order.iter().map(|n| n.to_string()).collect();
    // Names the struct's serde attributes renamed are in the schema only; they come last.
    names.extend(
        s.properties
            .keys()
            .filter(|k| !order.contains(&k.as_str()))
            .cloned(),
    );
    names
        .into_iter()
        .filter_map(|name| {
            let p = s.properties.remove(&name)?;
            Some(PromptArgument {
                required: s.required.contains(&name),
                name,
                description: p.description,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Review {
        /// What to review
        topic: String,
        /// Declared after `topic` but sorted before it: the struct's order wins.
        depth: Option<String>,
    }

    #[test]
    fn typed_prompts_declare_their_arguments_in_order() {
        let p = Prompt::typed("review", "Reviews", |_, _: Review| Ok(vec![]));
        let got: Vec<(&str, bool, Option<&str>)> = p
            .arguments
            .iter()
            .map(|a| (a.name.as_str(), a.required, a.description.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("topic", true, Some("What to review")),
                (
                    "depth",
                    false,
                    Some("Declared after `topic` but sorted before it: the struct's order wins.")
                )
            ]
        );
    }
}
