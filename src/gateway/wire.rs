//! The lines a gateway exchanges with its child: a client's parsed message written back as one
//! JSON line, and a child's line sorted into what it is.

use crate::jsonrpc::{Incoming, RequestId};
use serde_json::{Map, Value, json};

/// One client message as the line the child reads. Params the client left out stay out.
pub(super) fn to_line(msg: &Incoming) -> String {
    let with_params = |mut v: Value, params: &Map<String, Value>| {
        if !params.is_empty() {
            v["params"] = Value::Object(params.clone());
        }
        v
    };
    let v = match msg {
        Incoming::Request(r) => with_params(
            json!({"jsonrpc": "2.0", "id": r.id, "method": r.method}),
            &r.params,
        ),
        Incoming::Notification(n) => {
            with_params(json!({"jsonrpc": "2.0", "method": n.method}), &n.params)
        }
        Incoming::Response { id, outcome: Ok(v) } => {
            json!({"jsonrpc": "2.0", "id": id, "result": v})
        }
        Incoming::Response {
            id,
            outcome: Err(e),
        } => {
            json!({"jsonrpc": "2.0", "id": id, "error": e})
        }
    };
    v.to_string()
}

/// What a child's line is.
#[derive(Debug, PartialEq)]
pub(super) enum FromChild {
    /// The answer to a client request (`id` and `result` or `error`).
    Response { id: RequestId, message: Value },
    /// A notification (progress, log message, list changed, ...).
    Notification { method: String, message: Value },
    /// A request to the client (sampling, elicitation, roots, ping).
    Request { message: Value },
    /// Not JSON-RPC: logged and dropped.
    Invalid(String),
}

pub(super) fn classify(line: &[u8]) -> FromChild {
    let message: Value = match serde_json::from_slice(line) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return FromChild::Invalid("not a JSON object".into()),
        Err(e) => return FromChild::Invalid(e.to_string()),
    };
    let id = message.get("id").and_then(RequestId::from_value);
    match (message.get("method").and_then(Value::as_str), id) {
        (Some(_), Some(_)) => FromChild::Request { message },
        (Some(m), None) => FromChild::Notification {
            method: m.to_string(),
            message,
        },
        (None, Some(id)) if message.get("result").is_some() || message.get("error").is_some() => {
            FromChild::Response { id, message }
        }
        _ => FromChild::Invalid("neither a request, a notification nor a response".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::parse_message;

    #[test]
    fn messages_round_trip_and_lines_sort() {
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":3,"result":{"roots":[]}}"#,
            r#"{"jsonrpc":"2.0","id":4,"error":{"code":-1,"message":"no"}}"#,
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            let line = to_line(&parse_message(v.clone()).unwrap());
            assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), v);
        }
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
            FromChild::Response { .. }
        ));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#),
            FromChild::Request { .. }
        ));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","method":"notifications/progress"}"#),
            FromChild::Notification { .. }
        ));
        assert!(matches!(classify(b"[1]"), FromChild::Invalid(_)));
        assert!(matches!(classify(b"nope"), FromChild::Invalid(_)));
        assert!(matches!(classify(br#"{"id":1}"#), FromChild::Invalid(_)));
    }
}
