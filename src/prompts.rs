//! Prompts: `prompts/list` and `prompts/get`, with declared arguments (a missing required one is
//! -32602 naming it) and multi-message results of any content.

use crate::content::{Content, Role};
use crate::context::Context;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_PARAMS};
use crate::protocol::Revision;
use crate::resources::CompleteFn;
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

/// Produces a prompt's messages from its arguments; an `Err` is reported as -32602 (the
/// arguments are wrong) with this text.
pub type GetFn =
    dyn Fn(&Context, &HashMap<String, String>) -> Result<Vec<PromptMessage>, String> + Send + Sync;

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
    /// A prompt whose messages `get` produces from the arguments the client gives.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        get: impl Fn(&Context, &HashMap<String, String>) -> Result<Vec<PromptMessage>, String>
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
        f: impl Fn(&Context, &str, &str, &HashMap<String, String>) -> Vec<String>
        + Send
        + Sync
        + 'static,
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
        params: &Map<String, Value>,
        page_size: usize,
    ) -> Result<Value, ErrorObject> {
        crate::pagination::list_result("prompts", &self.prompts, params, page_size, |p| {
            p.to_wire(rev)
        })
    }

    /// `prompts/get {name, arguments?}`.
    pub(crate) fn render(
        &self,
        ctx: &Context,
        params: &Map<String, Value>,
    ) -> Result<Value, ErrorObject> {
        let name = params.get("name").and_then(Value::as_str).ok_or_else(|| {
            ErrorObject::new(INVALID_PARAMS, "Invalid params: \"name\" must be a string")
        })?;
        let prompt = self
            .get(name)
            .ok_or_else(|| ErrorObject::new(INVALID_PARAMS, format!("Unknown prompt: {name}")))?;
        let args = string_map(params.get("arguments"))?;
        if let Some(missing) = prompt
            .arguments
            .iter()
            .find(|a| a.required && !args.contains_key(&a.name))
        {
            return Err(ErrorObject::new(
                INVALID_PARAMS,
                format!(
                    "Invalid params: missing required argument \"{}\" of prompt {name}",
                    missing.name
                ),
            ));
        }
        let messages = (prompt.get)(ctx, &args)
            .map_err(|e| ErrorObject::new(INVALID_PARAMS, format!("Invalid params: {e}")))?;
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

/// Prompt arguments are a map of strings; anything else is -32602.
pub(crate) fn string_map(v: Option<&Value>) -> Result<HashMap<String, String>, ErrorObject> {
    match v {
        None | Some(Value::Null) => Ok(HashMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(ErrorObject::new(
                    INVALID_PARAMS,
                    format!("Invalid params: argument \"{k}\" must be a string"),
                )),
            })
            .collect(),
        Some(_) => Err(ErrorObject::new(
            INVALID_PARAMS,
            "Invalid params: \"arguments\" must be an object of strings",
        )),
    }
}

/// A handler panicked: the client gets -32603, the server goes on.
pub(crate) fn panicked(what: &str) -> ErrorObject {
    ErrorObject::new(INTERNAL_ERROR, format!("Internal error: {what} failed"))
}
