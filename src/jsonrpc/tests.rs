//! The envelope rules, read from bytes and from values alike.

use super::*;
use serde_json::json;

/// One message read from its bytes, checked to come out exactly as from its `Value`.
fn single(v: Value) -> Result<Incoming, Rejection> {
    let from_value = parse_message(v.clone());
    if v.is_array() {
        // As bytes, an array is a batch.
        let batch = parse_body(v.to_string().as_bytes()).map(|_| ());
        assert_eq!(batch.unwrap_err().error.code, INVALID_REQUEST, "{v}");
        return from_value;
    }
    let from_bytes = parse_body(v.to_string().as_bytes()).map(|b| match b {
        Body::Single(m) => m,
        Body::Batch(_) => panic!("a batch from {v}"),
    });
    assert_eq!(format!("{from_bytes:?}"), format!("{from_value:?}"), "{v}");
    from_bytes
}

fn text(body: &str) -> Result<Incoming, Rejection> {
    match parse_body(body.as_bytes())? {
        Body::Single(m) => Ok(m),
        Body::Batch(_) => panic!("a batch from {body}"),
    }
}

#[test]
fn envelopes_read_from_bytes() {
    // Unknown members are skipped, whatever they hold; params arrive whole.
    let Ok(Incoming::Request(r)) = single(json!({
        "x": {"deep": [1, {"a": null}]}, "jsonrpc": "2.0", "id": 1, "y": [true, 2.5],
        "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}
    })) else {
        panic!("not a request")
    };
    assert_eq!(r.method, "tools/call");
    assert_eq!(r.params["arguments"]["message"], "hi");
    // A member given twice keeps its last value, as in a `Value`'s object.
    let Ok(Incoming::Request(r)) =
        text(r#"{"jsonrpc":"1.0","id":1,"method":"a","method":"b","jsonrpc":"2.0"}"#)
    else {
        panic!("not a request")
    };
    assert_eq!(r.method, "b");
    let err = text(r#"{"jsonrpc":"2.0","id":1,"method":"a","jsonrpc":"1.0"}"#).unwrap_err();
    assert_eq!(err.error.code, INVALID_REQUEST);
    // Escapes are read as their characters.
    let Ok(Incoming::Notification(n)) = text(r#"{"jsonrpc":"2\u002e0","method":"\u0061"}"#) else {
        panic!("not a notification")
    };
    assert_eq!(n.method, "a");
    // A method that happens to be the version string is still a method.
    let Ok(Incoming::Request(r)) = single(json!({"jsonrpc":"2.0","id":"x","method":"2.0"})) else {
        panic!("not a request")
    };
    assert_eq!(
        (r.method.as_str(), r.id),
        ("2.0", RequestId::String("x".into()))
    );
    for odd in [
        json!({"jsonrpc": 2.0, "id": 1, "method": "a"}),
        json!({"jsonrpc": ["2.0"], "id": 1, "method": "a"}),
        json!({"jsonrpc": {"v": "2.0"}, "id": 1, "method": "a"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": {"m": 1}}),
        json!({"jsonrpc": "2.0", "id": 1, "method": null}),
        json!({"jsonrpc": "2.0", "id": [1], "method": "a"}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "a", "params": null}),
        json!({"jsonrpc": "2.0", "id": 1, "method": "a", "params": "p"}),
        json!({"jsonrpc": "2.0", "id": 1, "result": {"x": 1}}),
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": 1}}),
        json!({"jsonrpc": "2.0", "id": 1, "result": 1, "error": 2}),
        json!({"jsonrpc": "2.0", "result": 1}),
        json!({}),
    ] {
        let _ = single(odd);
    }
    for not_object in ["1", "\"x\"", "null", "true", "2.5", "-3"] {
        let err = text(not_object).unwrap_err();
        assert_eq!(
            (err.id, err.error.code),
            (None, INVALID_REQUEST),
            "{not_object}"
        );
    }
    // Within a batch, an element that is an array or a scalar is not a message.
    for bad in [
        r#"[[{"jsonrpc":"2.0","method":"a"}]]"#,
        "[1]",
        "[{\"jsonrpc\":\"2.0\",\"method\":\"a\"}, null]",
    ] {
        let err = parse_body(bad.as_bytes()).unwrap_err();
        assert_eq!(err.error.code, INVALID_REQUEST, "{bad}");
        assert!(err.error.message.ends_with("(in batch)"), "{bad}");
    }
    for broken in ["", "{", "{\"a\":}", "[1,]", "{} x", "{\"id\":1e999}"] {
        let err = parse_body(broken.as_bytes()).unwrap_err();
        assert_eq!(err.error.code, PARSE_ERROR, "{broken}");
    }
}

#[test]
fn ids_keep_their_type() {
    let Ok(Incoming::Request(r)) = single(json!({"jsonrpc":"2.0","id":"7","method":"ping"})) else {
        panic!("not a request")
    };
    assert_eq!(serde_json::to_string(&r.id).unwrap(), "\"7\"");
    let Ok(Incoming::Request(r)) = single(json!({"jsonrpc":"2.0","id":7,"method":"ping"})) else {
        panic!("not a request")
    };
    assert_eq!(serde_json::to_string(&r.id).unwrap(), "7");
}

#[test]
fn rejects_bad_envelopes() {
    for bad in [
        json!({"jsonrpc":"2.0","id":null,"method":"ping"}),
        json!({"jsonrpc":"2.0","id":1.5,"method":"ping"}),
        json!({"jsonrpc":"2.0","id":true,"method":"ping"}),
        json!({"jsonrpc":"1.0","id":1,"method":"ping"}),
        json!({"id":1,"method":"ping"}),
        json!({"jsonrpc":"2.0","id":1,"method":5}),
        json!({"jsonrpc":"2.0","id":1}),
        json!([1]),
        json!("x"),
    ] {
        let err = single(bad.clone()).expect_err(&bad.to_string());
        assert_eq!(err.error.code, INVALID_REQUEST, "{bad}");
    }
    let err = single(json!({"jsonrpc":"2.0","id":3,"method":"x","params":[1]})).unwrap_err();
    assert_eq!(err.error.code, INVALID_PARAMS);
    assert_eq!(err.id, Some(RequestId::Number(3.into())));
}

#[test]
fn parse_errors_have_no_id() {
    let err = parse_body(b"{not json").unwrap_err();
    assert_eq!(err.error.code, PARSE_ERROR);
    let text = err.to_response().to_json();
    assert!(!text.contains("\"id\""), "{text}");
}

#[test]
fn batches() {
    assert!(matches!(
        parse_body(br#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"method":"b"}]"#),
        Ok(Body::Batch(v)) if v.len() == 2
    ));
    assert_eq!(parse_body(b"[]").unwrap_err().error.code, INVALID_REQUEST);
}

#[test]
fn quotes_keep_a_prefix_on_a_char_boundary() {
    assert_eq!(format!("{}", quote("tools/list")), "tools/list");
    assert_eq!(format!("{:?}", quote("a\"b")), format!("{:?}", "a\"b"));
    let long = format!("{}é{}", "a".repeat(QUOTE_LIMIT - 1), "b".repeat(3000));
    // 'é' straddles the limit: it goes whole, with the rest.
    let q = format!("{}", quote(&long));
    assert_eq!(
        q,
        format!("{}…[3002 bytes cut]", "a".repeat(QUOTE_LIMIT - 1))
    );
    assert_eq!(
        format!("{:?}", quote(&"x".repeat(200))),
        format!("\"{}\"…[72 bytes cut]", "x".repeat(128))
    );
}

#[test]
fn long_ids_are_refused_without_being_echoed() {
    let ok = format!(
        r#"{{"jsonrpc":"2.0","id":"{}","method":"ping"}}"#,
        "i".repeat(ID_LIMIT)
    );
    assert!(parse_body(ok.as_bytes()).is_ok());
    // Escapes count: 200 newlines are 400 bytes as written.
    for id in ["i".repeat(ID_LIMIT + 1), "\\n".repeat(200)] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"ping"}}"#);
        let err = parse_body(body.as_bytes()).unwrap_err();
        assert_eq!((err.id, err.error.code), (None, INVALID_REQUEST));
    }
}
