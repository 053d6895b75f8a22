//! An argument's table as the config file writes it (`[tool.args.NAME]`); `args.rs` compiles it.

use serde::Deserialize;
use std::path::PathBuf;

/// A number as TOML writes it: integer limits stay exact.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ArgType {
    String,
    Integer,
    Number,
    Boolean,
    Path,
    Array,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PathKind {
    File,
    Dir,
}

/// One `[tool.args.NAME]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArgSpec {
    #[serde(rename = "type")]
    pub ty: ArgType,
    pub description: Option<String>,
    pub required: Option<bool>,
    pub default: Option<toml::Value>,
    /// Redacted in the audit log.
    #[serde(default)]
    pub secret: bool,
    pub pattern: Option<String>,
    #[serde(rename = "enum")]
    pub choices: Option<Vec<String>>,
    pub max_len: Option<usize>,
    #[serde(default)]
    pub allow_leading_dash: bool,
    pub min: Option<Num>,
    pub max: Option<Num>,
    pub flag: Option<String>,
    pub root: Option<PathBuf>,
    #[serde(default)]
    pub must_exist: bool,
    pub kind: Option<PathKind>,
    pub max_items: Option<usize>,
}
