//! `completion/complete`: suggestions for a prompt's arguments or a resource template's variables,
//! from the completer the prompt or template was registered with.

use crate::context::Context;
use crate::jsonrpc::{ErrorObject, INVALID_PARAMS};
use crate::prompts::PromptRegistry;
use crate::resources::{CompleteFn, ResourceRegistry};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// At most this many values go in one answer (the protocol's limit); `total`/`hasMore` say the rest.
const MAX_VALUES: usize = 100;

pub(crate) fn complete(
    ctx: &Context,
    prompts: &PromptRegistry,
    resources: &ResourceRegistry,
    params: &Map<String, Value>,
) -> Result<Value, ErrorObject> {
    let bad = |m: &str| ErrorObject::new(INVALID_PARAMS, format!("Invalid params: {m}"));
    let reference = params
        .get("ref")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("\"ref\" must be an object"))?;
    let argument = params
        .get("argument")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("\"argument\" must be an object with name and value"))?;
    let (Some(name), Some(value)) = (
        argument.get("name").and_then(Value::as_str),
        argument.get("value").and_then(Value::as_str),
    ) else {
        return Err(bad("\"argument\" needs string \"name\" and \"value\""));
    };
    let chosen =
        crate::prompts::string_map(params.get("context").and_then(|c| c.get("arguments")))?;
    let completer: Option<Arc<CompleteFn>> = match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => {
            let pname = reference
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("ref/prompt needs \"name\""))?;
            let p = prompts.get(pname).ok_or_else(|| {
                ErrorObject::new(INVALID_PARAMS, format!("Unknown prompt: {pname}"))
            })?;
            p.completer().cloned()
        }
        Some("ref/resource") => {
            let uri = reference
                .get("uri")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("ref/resource needs \"uri\""))?;
            match resources.template(uri) {
                Some(t) => t.completer().cloned(),
                None if resources.exists(uri) => None,
                None => return Err(crate::resources::not_found_in(ctx.revision(), uri)),
            }
        }
        _ => return Err(bad("\"ref.type\" must be ref/prompt or ref/resource")),
    };
    let mut values = completer
        .map(|f| f(ctx, name, value, &chosen))
        .unwrap_or_default();
    let total = values.len();
    values.truncate(MAX_VALUES);
    Ok(json!({"completion": {"values": values, "total": total, "hasMore": total > MAX_VALUES}}))
}
