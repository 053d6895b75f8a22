//! The built-in tools `echo`, `add` and `sleep`, registered through the same public API a library
//! user has.

use super::ToolResult;
use super::{Tool, ToolRegistry};
use serde_json::{Value, json};
use std::time::Duration;

/// Registers `echo`, `add` and `sleep`; `max_sleep_secs` bounds what `sleep` accepts.
pub fn register(registry: &mut ToolRegistry, max_sleep_secs: f64) {
    registry.register(echo());
    registry.register(add());
    registry.register(sleep(max_sleep_secs));
}

pub fn echo() -> Tool {
    Tool::sync(
        "echo",
        "Returns the message it is given.",
        json!({
            "type": "object",
            "properties": {"message": {"type": "string", "description": "Text to echo back"}},
            "required": ["message"]
        }),
        |args| match args.get("message") {
            Some(Value::String(s)) => ToolResult::value(Value::String(s.clone())),
            Some(other) => {
                ToolResult::error(format!("\"message\" must be a string, got {}", kind(other)))
            }
            None => ToolResult::error("missing required argument \"message\""),
        },
    )
}

pub fn add() -> Tool {
    Tool::sync(
        "add",
        "Adds two numbers; integers stay integers.",
        json!({
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"]
        }),
        |args| {
            let (a, b) = match (number(args.get("a"), "a"), number(args.get("b"), "b")) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return ToolResult::error(e),
            };
            let sum = match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x.checked_add(y).map(Value::from),
                _ => None,
            };
            let sum = match sum {
                Some(s) => s,
                None => {
                    let f = a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN);
                    match serde_json::Number::from_f64(f) {
                        Some(n) => Value::Number(n),
                        None => return ToolResult::error("the sum is not a finite number"),
                    }
                }
            };
            ToolResult::value(sum)
        },
    )
}

pub fn sleep(max_secs: f64) -> Tool {
    Tool::new(
        "sleep",
        "Waits the given number of seconds, then answers. Holds no thread while waiting.",
        json!({
            "type": "object",
            "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": max_secs}},
            "required": ["seconds"]
        }),
        move |args, responder| {
            let secs = match number(args.get("seconds"), "seconds") {
                Ok(n) => n.as_f64().unwrap_or(f64::NAN),
                Err(e) => return responder.finish(ToolResult::error(e)),
            };
            if !(secs.is_finite() && (0.0..=max_secs).contains(&secs)) {
                return responder.finish(ToolResult::error(format!(
                    "\"seconds\" must be between 0 and {max_secs}, got {secs}"
                )));
            }
            let text = format!("Slept for {secs} seconds");
            responder.finish_after(
                Duration::from_secs_f64(secs),
                ToolResult::value(json!(text)),
            );
        },
    )
}

fn number(v: Option<&Value>, name: &str) -> Result<serde_json::Number, String> {
    match v {
        Some(Value::Number(n)) => Ok(n.clone()),
        Some(other) => Err(format!("\"{name}\" must be a number, got {}", kind(other))),
        None => Err(format!("missing required argument \"{name}\"")),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
