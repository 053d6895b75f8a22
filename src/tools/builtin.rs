//! The built-in tools `echo`, `add` and `sleep`, registered through the same public API a library
//! user has.

use super::{Tool, ToolRegistry, ToolResult};
use serde::Deserialize;
use serde_json::{Number, Value};
use std::time::Duration;

/// Registers `echo`, `add` and `sleep`; `max_sleep_secs` bounds what `sleep` accepts.
pub fn register(registry: &mut ToolRegistry, max_sleep_secs: f64) {
    registry.register(echo());
    registry.register(add());
    registry.register(sleep(max_sleep_secs));
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Echo {
    /// Text to echo back
    message: String,
}

pub fn echo() -> Tool {
    Tool::typed("echo", "Returns the message it is given.", |_, a: Echo| {
        Ok(ToolResult::value(Value::String(a.message)))
    })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Add {
    a: Number,
    b: Number,
}

pub fn add() -> Tool {
    Tool::typed(
        "add",
        "Adds two numbers; integers stay integers.",
        |_, Add { a, b }| {
            let exact = match (a.as_i64(), b.as_i64()) {
                (Some(x), Some(y)) => x.checked_add(y).map(Value::from),
                _ => None,
            };
            if let Some(sum) = exact {
                return Ok(ToolResult::value(sum));
            }
            let f = a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN);
            match Number::from_f64(f) {
                Some(n) => Ok(ToolResult::value(Value::Number(n))),
                None => Ok(ToolResult::error("the sum is not a finite number")),
            }
        },
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Sleep {
    /// Seconds to wait
    seconds: f64,
}

pub fn sleep(max_secs: f64) -> Tool {
    let mut tool = Tool::deferred(
        "sleep",
        "Waits the given number of seconds, then answers. Holds no thread while waiting.",
        move |Sleep { seconds }, responder| {
            if !(seconds.is_finite() && (0.0..=max_secs).contains(&seconds)) {
                return responder.finish(ToolResult::error(format!(
                    "\"seconds\" must be between 0 and {max_secs}, got {seconds}"
                )));
            }
            let text = format!("Slept for {seconds} seconds");
            responder.finish_after(
                Duration::from_secs_f64(seconds),
                ToolResult::value(Value::String(text)),
            );
        },
    );
    // The bounds are configuration, so the derived schema gets them here.
    if let Some(s) = tool.input_schema.pointer_mut("/properties/seconds") {
        s["minimum"] = 0.into();
        s["maximum"] = max_secs.into();
    }
    tool
}
