//! Checks of a text value that reaches a child (a `string` argument, an `array` item): no control
//! characters, no leading `-` unless allowed, a whole-value `pattern`, an `enum`, a length.

use super::arg_spec::ArgSpec;
use serde_json::{Value, json};

/// Longest string argument unless `max_len` says otherwise.
pub(crate) const DEFAULT_MAX_LEN: usize = 4096;

#[derive(Debug, Clone)]
pub(crate) struct StrCheck {
    pattern: Option<(String, regex_lite::Regex)>,
    choices: Option<Vec<String>>,
    max_len: usize,
    leading_dash: bool,
}

/// NUL and every other control character (newline and tab included) are refused in any text
/// that reaches a child: they are how one argument pretends to be several.
pub(crate) fn no_control(s: &str) -> Result<(), String> {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "control character U+{:04X} is not allowed",
            c as u32
        )),
        None => Ok(()),
    }
}

impl StrCheck {
    pub fn compile(s: &ArgSpec) -> Result<StrCheck, String> {
        let pattern = match &s.pattern {
            Some(p) => {
                let whole = format!("^(?:{p})$");
                let re = regex_lite::Regex::new(&whole).map_err(|e| format!("`pattern`: {e}"))?;
                Some((p.clone(), re))
            }
            None => None,
        };
        if let Some(choices) = &s.choices {
            if choices.is_empty() {
                return Err("`enum` is empty".into());
            }
            for c in choices {
                no_control(c).map_err(|e| format!("`enum` value {c:?}: {e}"))?;
            }
        }
        Ok(StrCheck {
            pattern,
            choices: s.choices.clone(),
            max_len: s.max_len.unwrap_or(DEFAULT_MAX_LEN),
            leading_dash: s.allow_leading_dash,
        })
    }

    pub fn describe(&self, s: &mut Value) {
        if let Some((p, _)) = &self.pattern {
            s["pattern"] = json!(format!("^(?:{p})$"));
        }
        if let Some(c) = &self.choices {
            s["enum"] = json!(c);
        }
        s["maxLength"] = json!(self.max_len);
    }

    pub fn check(&self, s: &str) -> Result<(), String> {
        no_control(s)?;
        if s.chars().count() > self.max_len {
            return Err(format!("longer than {} characters", self.max_len));
        }
        if !self.leading_dash && s.starts_with('-') {
            return Err("may not start with '-' (it would read as an option)".into());
        }
        if let Some(c) = &self.choices
            && !c.iter().any(|x| x == s)
        {
            return Err(format!("must be one of {}", c.join(", ")));
        }
        if let Some((p, re)) = &self.pattern
            && !re.is_match(s)
        {
            return Err(format!("does not match the pattern {p}"));
        }
        Ok(())
    }
}
