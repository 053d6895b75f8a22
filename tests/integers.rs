//! `add` on the wire: exact over the whole signed and unsigned 64-bit range, an overflow is an
//! error that says so (a tool error on `tools/call`, -32602 on the seed's bare method), never a
//! rounded float; floats stay floats.

mod common;
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

#[test]
fn add_is_exact_and_overflow_is_an_error() {
    let srv = Server::start(&[]);
    let (mut sse, sid) = seed_session(&srv.addr);
    seed_initialize(&srv.addr, &mut sse, &sid);
    let mut call = |id: u64, method: &str, params: Value| {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        seed_post(&srv.addr, &sid, &body.to_string());
        let answer = sse.next_json(T);
        assert_eq!(answer["id"], id, "{answer}");
        answer
    };
    // The seed's bare method answers with the plain value.
    let cases = [
        (
            json!(9223372036854775807i64),
            json!(1),
            json!(9223372036854775808u64),
        ),
        (
            json!(18446744073709551615u64),
            json!(0),
            json!(18446744073709551615u64),
        ),
        (
            json!(-9223372036854775808i64),
            json!(18446744073709551615u64),
            json!(9223372036854775807i64),
        ),
        (json!(1.5), json!(2), json!(3.5)),
    ];
    for (i, (a, b, want)) in cases.iter().enumerate() {
        let r = call(10 + i as u64, "add", json!({"a": a, "b": b}));
        assert_eq!(r["result"], *want, "{a} + {b}: {r}");
    }
    let r = call(20, "add", json!({"a": 18446744073709551615u64, "b": 1}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let msg = r["error"]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("overflow"), "{msg}");
    // tools/call: the exact text, and a tool error for an overflow.
    let r = call(
        21,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 9223372036854775807i64, "b": 1}}),
    );
    assert_eq!(
        r["result"]["content"][0]["text"], "9223372036854775808",
        "{r}"
    );
    let r = call(
        22,
        "tools/call",
        json!({"name": "add", "arguments": {"a": -9223372036854775808i64, "b": -1}}),
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    let text = r["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("overflow"), "{text}");
}
