//! The config file itself: who may have written it, its TOML tables, and errors that point at
//! `file:line:column`, so an operator finds a mistake before the service refuses to start.

use super::prompt::PromptSpec;
use super::resource::ResourceSpec;
use super::tool_spec::ToolSpec;
use crate::trusted_file::Others;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Largest config file read: a file this big is a mistake, not a configuration.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A config file that cannot be served, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line and column of the mistake, when it has a place.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.path.display(), self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

impl std::error::Error for LoadError {}

/// `[[auth.token]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenSpec {
    pub name: String,
    pub sha256: String,
    pub tools: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthSpec {
    #[serde(default)]
    pub token: Vec<Spanned<TokenSpec>>,
    #[serde(default)]
    pub oauth: Option<OAuthSpec>,
}

/// `[auth.oauth]`: the OAuth resource server's settings (README: Authorization); each
/// `--oauth-*` flag given on the command line wins over its key here. Read at start only.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthSpec {
    /// `--oauth-issuer` URLs.
    #[serde(default)]
    pub issuers: Vec<String>,
    /// `--oauth-resource`.
    pub resource: Option<String>,
    /// `--oauth-required-scope` values.
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// `--oauth-algorithms`, as a list.
    pub algorithms: Option<Vec<String>>,
    /// `--oauth-introspection-url`.
    pub introspection_url: Option<String>,
    /// `--oauth-introspection-client-id`.
    pub introspection_client_id: Option<String>,
    /// `--oauth-introspection-secret-file`.
    pub introspection_secret_file: Option<std::path::PathBuf>,
}

/// `[gateway]`: the stdio MCP server `fastmcp-server gateway --config PATH` serves (README:
/// Gateway); the command line's `-- COMMAND` and tool flags win over it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    /// argv, started without a shell.
    pub command: Vec<String>,
    /// `--allow-tool` globs.
    #[serde(default)]
    pub allow_tools: Vec<String>,
    /// `--deny-tool` globs.
    #[serde(default)]
    pub deny_tools: Vec<String>,
    /// `--env` entries: `NAME` (the server's value) or `NAME=VALUE`.
    #[serde(default)]
    pub env: Vec<String>,
}

/// The whole file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSpec {
    #[serde(default)]
    pub demo_tools: bool,
    #[serde(default)]
    pub tool: Vec<Spanned<ToolSpec>>,
    #[serde(default)]
    pub resource: Vec<Spanned<ResourceSpec>>,
    #[serde(default)]
    pub prompt: Vec<Spanned<PromptSpec>>,
    #[serde(default)]
    pub auth: AuthSpec,
    #[serde(default)]
    pub gateway: Option<GatewaySpec>,
}

/// The file's text, kept to place errors.
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// Reads the file after checking who could have written it: a config file decides which
    /// commands run, so one that group or others can write, or that someone other than root or
    /// the server's own user owns, is refused.
    pub fn read(path: &Path) -> Result<Source, LoadError> {
        let fail = |reason: String| LoadError {
            path: path.to_path_buf(),
            position: None,
            reason,
        };
        let bytes =
            crate::trusted_file::read(path, Others::MayRead, MAX_FILE_BYTES).map_err(fail)?;
        let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
        Ok(Source {
            path: path.to_path_buf(),
            text,
        })
    }

    /// A source from text (tests, and callers that checked the file themselves).
    pub fn from_text(path: &Path, text: String) -> Source {
        Source {
            path: path.to_path_buf(),
            text,
        }
    }

    /// Parses the tables; a syntax or type error carries its position.
    pub fn parse(&self) -> Result<FileSpec, LoadError> {
        toml::from_str(&self.text).map_err(|e| {
            let position = e.span().map(|s| self.position(s.start));
            LoadError {
                path: self.path.clone(),
                position,
                reason: e.message().trim().to_string(),
            }
        })
    }

    /// An error about the table that starts at byte `at`.
    pub fn error_at(&self, at: usize, reason: impl Into<String>) -> LoadError {
        LoadError {
            path: self.path.clone(),
            position: Some(self.position(at)),
            reason: reason.into(),
        }
    }

    /// 1-based line and column (in characters) of byte offset `at`.
    fn position(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let before = self.text.get(..at).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_line_and_column() {
        let src = Source::from_text(
            Path::new("t.toml"),
            "demo_tools = true\n\n[[tool]]\nname = \"x\"\ndescription = 5\n".into(),
        );
        let e = src.parse().unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(5), "{e}");
        assert!(e.to_string().starts_with("t.toml:5:"), "{e}");
        let e = Source::from_text(Path::new("t.toml"), "bogus = 1\n".into())
            .parse()
            .unwrap_err();
        assert!(e.to_string().contains("t.toml:1:1"), "{e}");
        assert_eq!(src.position(0), (1, 1));
        assert_eq!(src.position(19), (3, 1));
    }
}
