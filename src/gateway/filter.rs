//! `--allow-tool` / `--deny-tool`: which of a child's tools clients see and may call. A tool
//! hidden here is, to the client, no tool at all: absent from `tools/list`, and a call is
//! answered as for an unknown tool.

use serde_json::Value;

/// Globs (`glob::Pattern` syntax) over tool names. Empty `allow` allows every name; `deny` wins.
#[derive(Debug, Clone, Default)]
pub struct ToolFilter {
    allow: Vec<glob::Pattern>,
    deny: Vec<glob::Pattern>,
}

impl ToolFilter {
    /// Fails naming the first glob that does not parse.
    pub fn new(allow: &[String], deny: &[String]) -> Result<ToolFilter, String> {
        let parse = |flag: &str, globs: &[String]| {
            globs
                .iter()
                .map(|g| glob::Pattern::new(g).map_err(|e| format!("{flag} {g:?}: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(ToolFilter {
            allow: parse("--allow-tool", allow)?,
            deny: parse("--deny-tool", deny)?,
        })
    }

    /// Whether nothing is filtered.
    pub fn is_open(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// Whether clients may see and call tool `name`.
    pub fn allows(&self, name: &str) -> bool {
        (self.allow.is_empty() || self.allow.iter().any(|p| p.matches(name)))
            && !self.deny.iter().any(|p| p.matches(name))
    }

    /// Removes the tools it does not allow from a `tools/list` result (`{"tools": [...]}`); a
    /// tool without a string name is removed too (it could not be called by name anyway).
    pub fn filter_list(&self, result: &mut Value) {
        retain_tools(result, |n| self.allows(n));
    }
}

/// Keeps the tools of a `tools/list` result whose name `keep` accepts.
pub(crate) fn retain_tools(result: &mut Value, keep: impl Fn(&str) -> bool) {
    if let Some(Value::Array(tools)) = result.get_mut("tools") {
        tools.retain(|t| t.get("name").and_then(Value::as_str).is_some_and(&keep));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn allow_then_deny() {
        let f =
            ToolFilter::new(&["read_*".into(), "echo".into()], &["read_secret*".into()]).unwrap();
        assert!(f.allows("echo") && f.allows("read_file"));
        assert!(!f.allows("read_secrets") && !f.allows("write_file"));
        let mut r = json!({"tools": [{"name": "echo"}, {"name": "write_file"}, {"name": "read_secret"}, {}], "nextCursor": "x"});
        f.filter_list(&mut r);
        assert_eq!(r, json!({"tools": [{"name": "echo"}], "nextCursor": "x"}));
        let open = ToolFilter::new(&[], &[]).unwrap();
        assert!(open.is_open() && open.allows("anything"));
        let e = ToolFilter::new(&["[".into()], &[]).unwrap_err();
        assert!(e.contains("--allow-tool"), "{e}");
    }
}
