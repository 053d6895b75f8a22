//! `completion/complete`: what a completer is asked and how its suggestions are answered. The
//! completers themselves are registered with a prompt or a resource template.

use serde::Serialize;
use std::collections::HashMap;

/// What a completer is asked: named fields, so a completer cannot mix up the argument's name
/// with what the user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompletionRequest {
    /// The prompt argument or template variable being completed.
    pub argument: String,
    /// What the user has typed so far.
    pub value: String,
    /// The values of the other arguments already chosen (revision 2025-06-18 on; empty before).
    pub context: HashMap<String, String>,
}

impl CompletionRequest {
    /// A request to complete `argument` from what the user typed (`value`), with the other
    /// arguments already chosen: what the server hands a completer, and what a completer's own
    /// tests build.
    pub fn new(
        argument: impl Into<String>,
        value: impl Into<String>,
        context: HashMap<String, String>,
    ) -> CompletionRequest {
        CompletionRequest {
            argument: argument.into(),
            value: value.into(),
            context,
        }
    }
}

/// At most this many values go in one answer (the protocol's limit); `total`/`hasMore` say the rest.
const MAX_VALUES: usize = 100;

/// The `completion/complete` result.
#[derive(Serialize)]
pub(crate) struct CompleteResult {
    completion: Completion,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Completion {
    values: Vec<String>,
    total: usize,
    has_more: bool,
}

impl CompleteResult {
    /// The first [`MAX_VALUES`] suggestions, and how many there were.
    pub(crate) fn new(mut values: Vec<String>) -> CompleteResult {
        let total = values.len();
        values.truncate(MAX_VALUES);
        CompleteResult {
            completion: Completion {
                values,
                total,
                has_more: total > MAX_VALUES,
            },
        }
    }
}
