//! The schema checks used by the other tests really reject what the schemas forbid.

mod common;
use common::schema::{check_http_error, check_message};
use serde_json::json;

fn rejects(f: impl FnOnce() + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(f).is_err()
}

#[test]
fn invalid_messages_are_caught() {
    let ok = json!({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"x"}]}});
    check_message("2025-06-18", &ok, Some("tools/call"));
    assert!(rejects(|| check_message(
        "2025-06-18",
        &json!({"jsonrpc":"2.0","id":null,"result":{}}),
        None
    )));
    assert!(rejects(|| check_message(
        "2025-06-18",
        &json!({"id":1,"result":{}}),
        None
    )));
    assert!(rejects(|| check_message(
        "2024-11-05",
        &json!({"jsonrpc":"2.0","id":1,"result":"Hello"}),
        None
    )));
    assert!(rejects(|| check_message(
        "2025-06-18",
        &json!({"jsonrpc":"2.0","id":1,"result":{"content":"x"}}),
        Some("tools/call")
    )));
    // Audio content does not exist in 2024-11-05.
    let audio = json!({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"audio","data":"AA==","mimeType":"audio/wav"}]}});
    check_message("2025-03-26", &audio, Some("tools/call"));
    assert!(rejects(|| check_message(
        "2024-11-05",
        &audio,
        Some("tools/call")
    )));
    assert!(rejects(|| check_message(
        "2025-06-18",
        &json!({"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}),
        Some("initialize")
    )));
    // Batches validate only in 2025-03-26.
    assert!(rejects(|| check_message(
        "2025-06-18",
        &json!([ok.clone()]),
        None
    )));
    // Id-less error bodies are judged by 2025-11-25; a null id never passes.
    check_http_error(
        "2024-11-05",
        &json!({"jsonrpc":"2.0","error":{"code":-32700,"message":"x"}}),
    );
    assert!(rejects(|| check_http_error(
        "2025-11-25",
        &json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}})
    )));
}
