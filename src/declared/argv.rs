//! A command's argv template: `{name}` placeholders fill whole elements or parts of one, never
//! splitting or joining elements, so a value reaches the child as exactly the argument it was,
//! whatever it contains. No shell ever sees it.

use super::args::{ArgType, ArgValue, Args};
use std::collections::BTreeMap;

/// What the audit log shows in place of a `secret = true` argument's value.
pub(crate) const REDACTED: &str = "<redacted>";

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Element {
    /// Literal text and placeholders, expanded into one element.
    Parts(Vec<Piece>),
    /// `"{files...}"`: one element per item of an array argument.
    Spread(String),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    elements: Vec<Element>,
}

/// An expanded argv, and the same with secret values redacted (for the audit log).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expanded {
    pub argv: Vec<String>,
    pub shown: Vec<String>,
}

/// Splits one element into literal text and `{name}`s; `{{` and `}}` are literal braces.
fn pieces(element: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = element.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(format!("unclosed `{{` in {element:?}")),
                    }
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Var(name));
            }
            '}' => return Err(format!("lone `}}` in {element:?} (write `}}}}`)")),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() || out.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

impl Template {
    /// Parses `command` against the tool's arguments: `command[0]` is a fixed absolute path,
    /// every placeholder names a declared argument, arrays appear only as a whole `{name...}`
    /// element and booleans with a `flag` only as a whole `{name}` element.
    pub fn parse(command: &[String], args: &Args) -> Result<Template, String> {
        let program = command.first().ok_or("`command` is empty")?;
        if !program.starts_with('/') || program.contains('{') {
            return Err(format!(
                "`command[0]` must be an absolute path without placeholders, not {program:?} (no PATH lookup, no shell)"
            ));
        }
        let mut elements = Vec::with_capacity(command.len());
        for element in command {
            if element.contains('\0') {
                return Err(format!("NUL in command element {element:?}"));
            }
            let ps = pieces(element)?;
            if let [Piece::Var(v)] = ps.as_slice()
                && let Some(name) = v.strip_suffix("...")
            {
                let arg = args
                    .get(name)
                    .ok_or_else(|| format!("{{{v}}} names no declared argument"))?;
                if arg.ty != ArgType::Array {
                    return Err(format!("{{{v}}}: only array arguments spread"));
                }
                elements.push(Element::Spread(name.to_string()));
                continue;
            }
            for p in &ps {
                if let Piece::Var(v) = p {
                    let arg = args
                        .get(v)
                        .ok_or_else(|| format!("{{{v}}} names no declared argument"))?;
                    if arg.ty == ArgType::Array {
                        return Err(format!(
                            "{{{v}}} is an array: write it as a whole element \"{{{v}...}}\""
                        ));
                    }
                    if ps.len() > 1 && arg.ty == ArgType::Boolean {
                        return Err(format!("{{{v}}} is a boolean: write it as a whole element"));
                    }
                }
            }
            elements.push(Element::Parts(ps));
        }
        Ok(Template { elements })
    }

    /// Parses a single-element template (`stdin = "{text}"`).
    pub fn parse_one(text: &str, args: &Args) -> Result<Template, String> {
        let ps = pieces(text)?;
        for p in &ps {
            if let Piece::Var(v) = p {
                let arg = args
                    .get(v)
                    .ok_or_else(|| format!("{{{v}}} names no declared argument"))?;
                if matches!(arg.ty, ArgType::Array | ArgType::Boolean) {
                    return Err(format!("{{{v}}}: only text arguments fill `stdin`"));
                }
            }
        }
        Ok(Template {
            elements: vec![Element::Parts(ps)],
        })
    }

    /// Names of the arguments the template uses.
    pub fn uses(&self, name: &str) -> bool {
        self.elements.iter().any(|e| match e {
            Element::Spread(n) => n == name,
            Element::Parts(ps) => ps.iter().any(|p| *p == Piece::Var(name.to_string())),
        })
    }

    /// Fills in checked values. An element whose argument is absent is dropped; a boolean with a
    /// `flag` becomes the flag or nothing; an array spreads into one element per item.
    pub fn expand(&self, values: &BTreeMap<String, ArgValue>, args: &Args) -> Expanded {
        let secret = |name: &str| args.get(name).is_some_and(|a| a.secret);
        let mut out = Expanded {
            argv: Vec::new(),
            shown: Vec::new(),
        };
        'elements: for e in &self.elements {
            match e {
                Element::Spread(name) => {
                    if let Some(ArgValue::List(items)) = values.get(name) {
                        for it in items {
                            out.argv.push(it.clone());
                            out.shown.push(if secret(name) {
                                REDACTED.into()
                            } else {
                                it.clone()
                            });
                        }
                    }
                }
                Element::Parts(ps) => {
                    let (mut real, mut shown) = (String::new(), String::new());
                    for p in ps {
                        match p {
                            Piece::Lit(l) => {
                                real.push_str(l);
                                shown.push_str(l);
                            }
                            Piece::Var(name) => {
                                let text = match values.get(name) {
                                    None => continue 'elements,
                                    Some(ArgValue::Text(t)) => t.clone(),
                                    Some(ArgValue::Bool { value, flag: None }) => value.to_string(),
                                    Some(ArgValue::Bool {
                                        value,
                                        flag: Some(f),
                                    }) => {
                                        if !value {
                                            continue 'elements;
                                        }
                                        f.clone()
                                    }
                                    Some(ArgValue::List(_)) => continue 'elements,
                                };
                                shown.push_str(if secret(name) { REDACTED } else { &text });
                                real.push_str(&text);
                            }
                        }
                    }
                    out.argv.push(real);
                    out.shown.push(shown);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declared::args::ArgSpec;
    use serde_json::json;

    fn args() -> Args {
        let specs: BTreeMap<String, ArgSpec> = toml::from_str(
            "[unit]\ntype = \"string\"\nallow_leading_dash = true\n[lines]\ntype = \"integer\"\nrequired = false\n[v]\ntype = \"boolean\"\nflag = \"--verbose\"\nrequired = false\n[files]\ntype = \"array\"\nrequired = false\n[token]\ntype = \"string\"\nsecret = true\nrequired = false\n",
        )
        .unwrap();
        Args::compile(&specs).unwrap()
    }

    fn cmd(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_fill_elements_without_splitting_or_joining() {
        let a = args();
        let t = Template::parse(
            &cmd(&[
                "/bin/x",
                "-u",
                "{unit}",
                "--lines={lines}",
                "{v}",
                "{files...}",
                "{{lit}}",
            ]),
            &a,
        )
        .unwrap();
        let v = a
            .check(json!({"unit": "a b; $(id)\u{2028}", "lines": 5, "v": true, "files": ["f 1", "f2"]}).as_object().unwrap())
            .unwrap();
        let e = t.expand(&v, &a);
        assert_eq!(
            e.argv,
            cmd(&[
                "/bin/x",
                "-u",
                "a b; $(id)\u{2028}",
                "--lines=5",
                "--verbose",
                "f 1",
                "f2",
                "{lit}"
            ])
        );
        // Absent optional arguments drop their element; false drops the flag.
        let v = a
            .check(json!({"unit": "u", "v": false}).as_object().unwrap())
            .unwrap();
        assert_eq!(t.expand(&v, &a).argv, cmd(&["/bin/x", "-u", "u", "{lit}"]));
    }

    #[test]
    fn secrets_are_redacted_in_the_shown_argv_only() {
        let a = args();
        let t = Template::parse(&cmd(&["/bin/x", "--token={token}", "{unit}"]), &a).unwrap();
        let v = a
            .check(
                json!({"unit": "u", "token": "hunter2"})
                    .as_object()
                    .unwrap(),
            )
            .unwrap();
        let e = t.expand(&v, &a);
        assert_eq!(e.argv, cmd(&["/bin/x", "--token=hunter2", "u"]));
        assert_eq!(
            e.shown,
            cmd(&["/bin/x", &format!("--token={REDACTED}"), "u"])
        );
    }

    #[test]
    fn bad_templates_are_refused_at_load() {
        let a = args();
        for (c, why) in [
            (cmd(&["x", "{unit}"]), "absolute"),
            (cmd(&["/bin/{unit}"]), "absolute"),
            (cmd(&[]), "empty"),
            (cmd(&["/bin/x", "{nope}"]), "no declared"),
            (cmd(&["/bin/x", "{files}"]), "whole element"),
            (cmd(&["/bin/x", "-{v}"]), "boolean"),
            (cmd(&["/bin/x", "{unit...}"]), "only array"),
            (cmd(&["/bin/x", "{unit"]), "unclosed"),
            (cmd(&["/bin/x", "a}b"]), "lone"),
        ] {
            let e = Template::parse(&c, &a).unwrap_err();
            assert!(e.contains(why), "{c:?}: {e}");
        }
    }
}
