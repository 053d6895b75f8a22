//! A prompt from the config file: `{arg}` in its messages is replaced by the argument's value in
//! one pass, by plain replacement. There is no template language, so nothing a client sends is
//! ever interpreted: a value containing `{other}` stays as it is.

use crate::content::Content;
use crate::error::Error;
use crate::prompts::{Prompt, PromptArguments, PromptMessage};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PromptArgSpec {
    pub name: String,
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleSpec {
    User,
    Assistant,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageSpec {
    pub role: RoleSpec,
    pub text: String,
}

/// One `[[prompt]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PromptSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub arguments: Vec<PromptArgSpec>,
    pub messages: Vec<MessageSpec>,
}

/// Replaces each `{name}` of a declared argument in one left-to-right pass; other braces stay.
fn fill(text: &str, names: &[String], args: &PromptArguments) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let hit = names
            .iter()
            .find(|n| after.starts_with(n.as_str()) && after[n.len()..].starts_with('}'));
        match hit {
            Some(n) => {
                out.push_str(args.get(n).unwrap_or(""));
                rest = &after[n.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl PromptSpec {
    pub fn build(&self) -> Result<Prompt, String> {
        if !super::tool::valid_tool_name(&self.name) {
            return Err(format!(
                "prompt name {:?}: use letters, digits, _, - and .",
                self.name
            ));
        }
        if self.messages.is_empty() {
            return Err("a prompt needs at least one message".into());
        }
        let mut names: Vec<String> = Vec::new();
        for a in &self.arguments {
            if a.name.is_empty() || names.contains(&a.name) || a.name.contains(['{', '}']) {
                return Err(format!(
                    "argument name {:?} is empty, repeated or has braces",
                    a.name
                ));
            }
            names.push(a.name.clone());
        }
        let messages = self.messages.clone();
        let required: Vec<String> = self
            .arguments
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name.clone())
            .collect();
        let fill_names = names.clone();
        let mut p = Prompt::new(
            self.name.clone(),
            self.description.clone().unwrap_or_default(),
            move |_, args: &PromptArguments| {
                for r in &required {
                    args.require(r)?;
                }
                Ok::<_, Error>(
                    messages
                        .iter()
                        .map(|m| {
                            let c = Content::text(fill(&m.text, &fill_names, args));
                            match m.role {
                                RoleSpec::User => PromptMessage::user(c),
                                RoleSpec::Assistant => PromptMessage::assistant(c),
                            }
                        })
                        .collect(),
                )
            },
        );
        if self.description.is_none() {
            p.description = None;
        }
        p.title = self.title.clone();
        for a in &self.arguments {
            p = p.argument(
                a.name.clone(),
                a.description.clone().unwrap_or_default(),
                a.required,
            );
            if a.description.is_none()
                && let Some(last) = p.arguments.last_mut()
            {
                last.description = None;
            }
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> PromptArguments {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PromptArguments::from(map)
    }

    #[test]
    fn fills_in_one_pass_and_leaves_other_braces() {
        let names = vec!["diff".to_string(), "who".to_string()];
        let a = args(&[("diff", "x {who} y"), ("who", "me")]);
        assert_eq!(
            fill("Review {diff} for {who} {json: 1} {nope}", &names, &a),
            "Review x {who} y for me {json: 1} {nope}"
        );
        assert_eq!(fill("{who", &names, &a), "{who");
        assert_eq!(fill("{diff}", &names, &args(&[])), "");
    }

    #[test]
    fn bad_prompts_are_refused() {
        let spec: PromptSpec = toml::from_str("name = \"r\"\nmessages = []\n").unwrap();
        assert!(spec.build().err().unwrap().contains("at least one"));
        let spec: PromptSpec = toml::from_str(
            "name = \"r\"\narguments = [{name = \"a\"}, {name = \"a\"}]\nmessages = [{role = \"user\", text = \"{a}\"}]\n",
        )
        .unwrap();
        assert!(spec.build().err().unwrap().contains("repeated"));
    }
}
