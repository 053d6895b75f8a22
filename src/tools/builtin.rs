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

/// `echo {message}`: the message back.
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

/// `add {a, b}`: their sum; integers stay exact integers.
pub fn add() -> Tool {
    Tool::typed(
        "add",
        "Adds two numbers; integers stay integers.",
        |_, Add { a, b }| Ok(sum(&a, &b)),
    )
}

/// Integers add exactly over the whole signed and unsigned 64-bit range; a sum outside it is an
/// error that says so, never a rounded float. Anything with a fraction adds as floats.
fn sum(a: &Number, b: &Number) -> ToolResult {
    let int = |n: &Number| n.as_i64().map(i128::from).or(n.as_u64().map(i128::from));
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        let s = x + y;
        return match (i64::try_from(s), u64::try_from(s)) {
            (Ok(v), _) => ToolResult::value(Value::from(v)),
            (_, Ok(v)) => ToolResult::value(Value::from(v)),
            _ => ToolResult::error(format!(
                "integer overflow: {a} + {b} = {s} does not fit in 64 bits"
            )),
        };
    }
    let f = a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN);
    match Number::from_f64(f) {
        Some(n) => ToolResult::value(Value::Number(n)),
        None => ToolResult::error("the sum is not a finite number"),
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Sleep {
    /// Seconds to wait
    seconds: f64,
}

/// `sleep {seconds}`: answers after that long without holding a worker (at most `max_secs`).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn add(a: Value, b: Value) -> ToolResult {
        let n = |v: Value| match v {
            Value::Number(n) => n,
            _ => Number::from(0),
        };
        sum(&n(a), &n(b))
    }

    #[test]
    fn integers_are_exact_over_64_bits() {
        let ok = |a: Value, b: Value, want: Value| {
            let r = add(a.clone(), b.clone());
            assert!(!r.is_error, "{a} + {b}: {r:?}");
            assert_eq!(r.value, Some(want), "{a} + {b}");
        };
        ok(
            i64::MAX.into(),
            1.into(),
            Value::from(9_223_372_036_854_775_808u64),
        );
        ok(u64::MAX.into(), 0.into(), Value::from(u64::MAX));
        ok(
            u64::MAX.into(),
            Value::from(i64::MIN),
            Value::from(i64::MAX as u64),
        );
        ok(i64::MIN.into(), 0.into(), Value::from(i64::MIN));
        ok(Value::from(-5), 3.into(), Value::from(-2));
        ok(Value::from(1.5), 2.into(), Value::from(3.5));
        for (a, b) in [
            (Value::from(u64::MAX), Value::from(1)),
            (Value::from(i64::MIN), Value::from(-1)),
        ] {
            let r = add(a, b);
            assert!(r.is_error, "{r:?}");
            assert!(format!("{:?}", r.content).contains("overflow"), "{r:?}");
        }
    }
}
