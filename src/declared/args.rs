//! A declared tool's arguments: their types and limits as the config file states them, the input
//! schema clients see, and the check every call passes before anything runs. A value that
//! passes is inert by construction: no control characters, no leading `-` unless allowed, paths
//! resolved inside their root.

pub(crate) use super::arg_spec::{ArgSpec, ArgType, Num, PathKind};
use super::confine::confine;
use super::text_check::{DEFAULT_MAX_LEN, StrCheck, no_control};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Most items of an array argument unless `max_items` says otherwise.
const DEFAULT_MAX_ITEMS: usize = 64;

/// The checks of one argument, compiled at load.
#[derive(Debug, Clone)]
enum Check {
    Str(StrCheck),
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Num {
        min: Option<f64>,
        max: Option<f64>,
    },
    Bool {
        flag: Option<String>,
    },
    Path {
        root: PathBuf,
        must_exist: bool,
        kind: Option<PathKind>,
    },
    Array {
        item: StrCheck,
        max_items: usize,
    },
}

/// A checked argument value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArgValue {
    Text(String),
    Bool { value: bool, flag: Option<String> },
    List(Vec<String>),
}

/// One argument, ready to check calls.
#[derive(Debug, Clone)]
pub(crate) struct Arg {
    pub name: String,
    pub ty: ArgType,
    pub required: bool,
    pub secret: bool,
    description: Option<String>,
    default: Option<Value>,
    check: Check,
}

/// Every argument of a tool, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Args {
    args: Vec<Arg>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Args {
    /// Compiles the `args` tables; an error names the argument.
    pub fn compile(specs: &BTreeMap<String, ArgSpec>) -> Result<Args, String> {
        let mut args = Vec::new();
        for (name, spec) in specs {
            if !valid_name(name) {
                return Err(format!(
                    "argument name {name:?}: use letters, digits, _ and - (at most 64)"
                ));
            }
            args.push(Arg::compile(name, spec).map_err(|e| format!("argument {name:?}: {e}"))?);
        }
        Ok(Args { args })
    }

    pub fn get(&self, name: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter()
    }

    /// The tool's `inputSchema`.
    pub fn schema(&self) -> Value {
        let mut properties = Map::new();
        for a in &self.args {
            properties.insert(a.name.clone(), a.schema());
        }
        let required: Vec<&str> = self
            .args
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name.as_str())
            .collect();
        let mut schema = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        schema
    }

    /// Checks a call's arguments: every value typed and within its limits, no unknown names,
    /// defaults filled in. The error names the argument, for an `isError` result.
    pub fn check(&self, given: &Map<String, Value>) -> Result<BTreeMap<String, ArgValue>, String> {
        if let Some(unknown) = given.keys().find(|k| self.get(k).is_none()) {
            return Err(format!("unknown argument {:?}", clip(unknown)));
        }
        let mut out = BTreeMap::new();
        for a in &self.args {
            let v = match given.get(&a.name).filter(|v| !v.is_null()) {
                Some(v) => v,
                None => match &a.default {
                    Some(d) => d,
                    None if a.required => {
                        return Err(format!("missing required argument {:?}", a.name));
                    }
                    None => continue,
                },
            };
            let checked = a
                .check_value(v)
                .map_err(|e| format!("argument {:?}: {e}", a.name))?;
            out.insert(a.name.clone(), checked);
        }
        Ok(out)
    }
}

/// At most 64 characters of something a client sent, for an error message.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

fn toml_to_json(v: &toml::Value) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

impl Arg {
    fn compile(name: &str, s: &ArgSpec) -> Result<Arg, String> {
        let only = |allowed: &[&str]| -> Result<(), String> {
            let set = [
                ("pattern", s.pattern.is_some()),
                ("enum", s.choices.is_some()),
                ("max_len", s.max_len.is_some()),
                ("allow_leading_dash", s.allow_leading_dash),
                ("min", s.min.is_some()),
                ("max", s.max.is_some()),
                ("flag", s.flag.is_some()),
                ("root", s.root.is_some()),
                ("must_exist", s.must_exist),
                ("kind", s.kind.is_some()),
                ("max_items", s.max_items.is_some()),
            ];
            match set.iter().find(|(k, on)| *on && !allowed.contains(k)) {
                Some((k, _)) => Err(format!("`{k}` does not apply to type {:?}", s.ty)),
                None => Ok(()),
            }
        };
        let check = match s.ty {
            ArgType::String => {
                only(&["pattern", "enum", "max_len", "allow_leading_dash"])?;
                Check::Str(StrCheck::compile(s)?)
            }
            ArgType::Integer => {
                only(&["min", "max"])?;
                let int = |n: Option<Num>, what: &str| match n {
                    None => Ok(None),
                    Some(Num::Int(i)) => Ok(Some(i)),
                    Some(Num::Float(_)) => {
                        Err(format!("`{what}` of an integer must be an integer"))
                    }
                };
                // `min` defaults to 0: a negative number as a whole element reads as an option
                // (`-1`), so allowing one is the config's explicit choice.
                Check::Int {
                    min: int(s.min, "min")?.or(Some(0)),
                    max: int(s.max, "max")?,
                }
            }
            ArgType::Number => {
                only(&["min", "max"])?;
                if [s.min, s.max]
                    .iter()
                    .flatten()
                    .any(|n| !n.as_f64().is_finite())
                {
                    return Err("`min` and `max` must be finite numbers".into());
                }
                Check::Num {
                    min: s.min.map(Num::as_f64).or(Some(0.0)),
                    max: s.max.map(Num::as_f64),
                }
            }
            ArgType::Boolean => {
                only(&["flag"])?;
                if let Some(f) = &s.flag
                    && (f.is_empty() || f.chars().any(char::is_control))
                {
                    return Err(
                        "`flag` must be a non-empty argument without control characters".into(),
                    );
                }
                Check::Bool {
                    flag: s.flag.clone(),
                }
            }
            ArgType::Path => {
                only(&["root", "must_exist", "kind"])?;
                let root = s.root.as_ref().ok_or("a path argument needs `root`")?;
                if !root.is_absolute() {
                    return Err(format!("`root` must be absolute: {}", root.display()));
                }
                let root = root
                    .canonicalize()
                    .map_err(|e| format!("`root` {}: {e}", root.display()))?;
                if !root.is_dir() {
                    return Err(format!("`root` {} is not a directory", root.display()));
                }
                Check::Path {
                    root,
                    must_exist: s.must_exist || s.kind.is_some(),
                    kind: s.kind,
                }
            }
            ArgType::Array => {
                only(&[
                    "pattern",
                    "enum",
                    "max_len",
                    "allow_leading_dash",
                    "max_items",
                ])?;
                Check::Array {
                    item: StrCheck::compile(s)?,
                    max_items: s.max_items.unwrap_or(DEFAULT_MAX_ITEMS),
                }
            }
        };
        if let (Some(lo), Some(hi)) = (s.min, s.max)
            && lo.as_f64() > hi.as_f64()
        {
            return Err("`min` is greater than `max`".into());
        }
        let mut arg = Arg {
            name: name.to_string(),
            ty: s.ty,
            required: s.required.unwrap_or(s.default.is_none()),
            secret: s.secret,
            description: s.description.clone(),
            default: None,
            check,
        };
        if let Some(d) = &s.default {
            let d = toml_to_json(d)?;
            // A default must pass the same check as a client's value (a path's existence is
            // checked at call time, when it matters).
            if !matches!(arg.check, Check::Path { .. }) {
                arg.check_value(&d)
                    .map_err(|e| format!("`default` fails its own check: {e}"))?;
            }
            arg.default = Some(d);
        }
        Ok(arg)
    }

    fn schema(&self) -> Value {
        let mut s = match &self.check {
            Check::Str(c) => {
                let mut s = json!({"type": "string"});
                c.describe(&mut s);
                s
            }
            Check::Int { min, max } => {
                let mut s = json!({"type": "integer"});
                if let Some(m) = min {
                    s["minimum"] = json!(m);
                }
                if let Some(m) = max {
                    s["maximum"] = json!(m);
                }
                s
            }
            Check::Num { min, max } => {
                let mut s = json!({"type": "number"});
                if let Some(m) = min {
                    s["minimum"] = json!(m);
                }
                if let Some(m) = max {
                    s["maximum"] = json!(m);
                }
                s
            }
            Check::Bool { .. } => json!({"type": "boolean"}),
            Check::Path { kind, .. } => {
                let what = match kind {
                    Some(PathKind::File) => "a file",
                    Some(PathKind::Dir) => "a directory",
                    None => "a path",
                };
                json!({"type": "string", "maxLength": DEFAULT_MAX_LEN,
                       "x-path": format!("{what} inside the tool's root, relative to it")})
            }
            Check::Array { item, max_items } => {
                let mut items = json!({"type": "string"});
                item.describe(&mut items);
                json!({"type": "array", "items": items, "maxItems": max_items})
            }
        };
        if let Some(d) = &self.description {
            s["description"] = json!(d);
        }
        if let Some(d) = &self.default {
            s["default"] = d.clone();
        }
        s
    }

    /// Checks one value of this argument.
    pub fn check_value(&self, v: &Value) -> Result<ArgValue, String> {
        match &self.check {
            Check::Str(c) => {
                let s = v.as_str().ok_or("expected a string")?;
                c.check(s)?;
                Ok(ArgValue::Text(s.to_string()))
            }
            Check::Int { min, max } => {
                let i = v.as_i64().ok_or("expected an integer")?;
                if min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m) {
                    return Err(range(min.map(|m| m as f64), max.map(|m| m as f64)));
                }
                Ok(ArgValue::Text(i.to_string()))
            }
            Check::Num { min, max } => {
                let f = v
                    .as_f64()
                    .filter(|f| f.is_finite())
                    .ok_or("expected a number")?;
                if min.is_some_and(|m| f < m) || max.is_some_and(|m| f > m) {
                    return Err(range(*min, *max));
                }
                // Integers keep their exact digits; other numbers Rust's shortest round-trip form.
                // -0.0 would be written "-0": a leading dash.
                let f = if f == 0.0 { 0.0 } else { f };
                let text = match v.as_i64() {
                    Some(i) => i.to_string(),
                    None => f.to_string(),
                };
                Ok(ArgValue::Text(text))
            }
            Check::Bool { flag } => Ok(ArgValue::Bool {
                value: v.as_bool().ok_or("expected true or false")?,
                flag: flag.clone(),
            }),
            Check::Path {
                root,
                must_exist,
                kind,
            } => {
                let s = v.as_str().ok_or("expected a path (a string)")?;
                no_control(s)?;
                if s.len() > DEFAULT_MAX_LEN {
                    return Err(format!("longer than {DEFAULT_MAX_LEN} bytes"));
                }
                let path = confine(root, s, *must_exist)?;
                match kind {
                    Some(PathKind::File) if !path.is_file() => return Err("not a file".into()),
                    Some(PathKind::Dir) if !path.is_dir() => return Err("not a directory".into()),
                    _ => {}
                }
                let text = path
                    .into_os_string()
                    .into_string()
                    .map_err(|_| "the resolved path is not UTF-8")?;
                Ok(ArgValue::Text(text))
            }
            Check::Array { item, max_items } => {
                let items = v.as_array().ok_or("expected an array of strings")?;
                if items.len() > *max_items {
                    return Err(format!("more than {max_items} items"));
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.iter().enumerate() {
                    let s = it
                        .as_str()
                        .ok_or_else(|| format!("item {i}: expected a string"))?;
                    item.check(s).map_err(|e| format!("item {i}: {e}"))?;
                    out.push(s.to_string());
                }
                Ok(ArgValue::List(out))
            }
        }
    }
}

fn range(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("must be between {lo} and {hi}"),
        (Some(lo), None) => format!("must be at least {lo}"),
        (None, Some(hi)) => format!("must be at most {hi}"),
        (None, None) => "out of range".into(),
    }
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
