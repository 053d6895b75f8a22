//! `[[resource]]` tables of a config file: a directory served as a template, one file, fixed
//! text, or a command's output (built elsewhere), and what a client may read of them.
//!
//! A directory is served to clients who choose the path, so every read is checked the same way
//! whatever the URI looks like: the path is decoded first, then refused if any part is hidden
//! (which covers `.` and `..`) or the name is not included, then resolved by the filesystem and
//! refused unless it stays inside the directory and is a regular file within the size cap.
//! Refusals are "not found", so they tell nothing about what lies outside.

use super::confine::confine;
use crate::content::ResourceContents;
use crate::error::Error;
use crate::resources::{Resource, ResourceTemplate};
use glob::Pattern;
use serde::Deserialize;
use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest file served unless `max_bytes` says otherwise.
const DEFAULT_MAX_BYTES: u64 = 1 << 20;
/// Most files a directory lists unless `max_files` says otherwise.
const DEFAULT_MAX_FILES: usize = 10_000;
/// Deepest subdirectory listed or watched (the root is depth 0).
pub(crate) const MAX_DEPTH: usize = 16;
/// Most directory entries one listing looks at, so a directory of many files that are not
/// included cannot make every `resources/list` slow.
const MAX_VISITS: usize = 100_000;
/// The variable of a `dir` resource's URI.
const PATH_VAR: &str = "{path}";

/// One `[[resource]]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceSpec {
    pub uri: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Overrides the media type guessed from a file's extension.
    pub mime_type: Option<String>,
    pub dir: Option<PathBuf>,
    pub file: Option<PathBuf>,
    pub text: Option<String>,
    pub command: Option<Vec<String>>,
    pub timeout_secs: Option<f64>,
    pub max_output_bytes: Option<usize>,
    /// Reads of a `command` resource running at once (default 1); more is an error at once.
    pub max_concurrency: Option<usize>,
    /// Globs on the path relative to `dir`; `*` matches across `/` too, so `*.md` takes
    /// Markdown files at any depth. Default: every file.
    pub include: Option<Vec<String>>,
    pub max_bytes: Option<u64>,
    pub max_files: Option<usize>,
}

/// What a resource table serves.
pub(crate) enum Built {
    Resource(Resource),
    Template(ResourceTemplate),
}

impl ResourceSpec {
    /// Semantic checks (absolute paths; exactly one source; a `dir` uri has exactly one `{path}`
    /// variable and a non-dir uri none; globs compile; dir/file exist at load). Err: one sentence.
    pub(crate) fn check(&self) -> Result<(), String> {
        let scheme = self.uri.split_once(':').map(|(s, _)| s).unwrap_or("");
        let mut chars = scheme.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            || !chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            return Err(format!("uri {:?} does not start with a scheme", self.uri));
        }
        let sources = [
            self.dir.is_some(),
            self.file.is_some(),
            self.text.is_some(),
            self.command.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() != 1 {
            return Err("a resource needs exactly one of dir, file, text or command".into());
        }
        let only = |set: bool, key: &str, kind: &str| {
            if set {
                Err(format!("{key} applies only to a {kind} resource"))
            } else {
                Ok(())
            }
        };
        only(
            self.include.is_some() && self.dir.is_none(),
            "include",
            "dir",
        )?;
        only(
            self.max_files.is_some() && self.dir.is_none(),
            "max_files",
            "dir",
        )?;
        let reads_files = self.dir.is_some() || self.file.is_some();
        only(
            self.max_bytes.is_some() && !reads_files,
            "max_bytes",
            "dir or file",
        )?;
        let runs = self.command.is_some();
        only(
            self.timeout_secs.is_some() && !runs,
            "timeout_secs",
            "command",
        )?;
        only(
            self.max_output_bytes.is_some() && !runs,
            "max_output_bytes",
            "command",
        )?;
        only(
            self.max_concurrency.is_some() && !runs,
            "max_concurrency",
            "command",
        )?;
        if self.max_bytes == Some(0)
            || self.max_files == Some(0)
            || self.max_output_bytes == Some(0)
            || self.max_concurrency == Some(0)
        {
            return Err("a limit of 0 would serve nothing".into());
        }
        if let Some(t) = self.timeout_secs
            && !(t.is_finite() && t > 0.0)
        {
            return Err("timeout_secs must be a positive number".into());
        }
        let has_var = self.uri.contains(['{', '}']);
        if let Some(dir) = &self.dir {
            let one_var = self.uri.ends_with(PATH_VAR) && self.uri.matches(['{', '}']).count() == 2;
            if !one_var || ResourceTemplate::try_new(&self.uri, "", |_, _, _| Ok(vec![])).is_err() {
                return Err(format!(
                    "a dir resource's uri must end with {PATH_VAR}, its only variable"
                ));
            }
            absolute(dir, "dir")?;
            if !dir.is_dir() {
                return Err(format!("dir {} is not a directory", dir.display()));
            }
            self.patterns()?;
        } else if has_var {
            return Err("only a dir resource's uri has a {variable}".into());
        }
        if let Some(file) = &self.file {
            absolute(file, "file")?;
            if !file.is_file() {
                return Err(format!("file {} is not a regular file", file.display()));
            }
        }
        if let Some(command) = &self.command {
            match command.first() {
                Some(c) if Path::new(c).is_absolute() => {}
                _ => return Err("command[0] must be an absolute path".into()),
            }
        }
        Ok(())
    }

    /// What it serves; Ok(None) for a `command` resource.
    pub(crate) fn build(&self) -> Result<Option<Built>, String> {
        self.check()?;
        let max = self.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
        let mime = self.mime_type.clone();
        let built = if let Some(dir) = self.dir()? {
            let dir = Arc::new(dir);
            let (reader, lister, completer) = (dir.clone(), dir.clone(), dir.clone());
            let name = self
                .name
                .clone()
                .unwrap_or_else(|| file_name_or(&dir.root, &self.uri));
            let mut t = ResourceTemplate::try_new(&self.uri, name, move |_, uri, vars| {
                reader.read(uri, vars.get("path").map_or("", String::as_str))
            })?
            .path_tail()
            .list_with(move || lister.entries())
            .complete(move |_, req| {
                Ok(match req.argument.as_str() {
                    "path" => completer.complete(&req.value),
                    _ => Vec::new(),
                })
            });
            t.title = self.title.clone();
            t.description = self.description.clone();
            t.mime_type = mime;
            Built::Template(t)
        } else if let Some(file) = &self.file {
            let (path, uri) = (file.clone(), self.uri.clone());
            let name = self
                .name
                .clone()
                .unwrap_or_else(|| file_name_or(file, &self.uri));
            let over = mime.clone();
            let mut r = Resource::new(&self.uri, name, move |_| {
                Ok(vec![read_capped(&path, &uri, over.as_deref(), max, false)?])
            });
            r.mime_type = mime.or_else(|| guess(file));
            Built::Resource(self.describe(r))
        } else if let Some(text) = &self.text {
            let name = self.name.clone().unwrap_or_else(|| self.uri.clone());
            let mime = mime.unwrap_or_else(|| "text/plain".into());
            Built::Resource(self.describe(Resource::text(&self.uri, name, mime, text.as_str())))
        } else {
            return Ok(None);
        };
        Ok(Some(built))
    }

    /// The rules of a `dir` resource (for listing, reading and watching it); None for others.
    pub(crate) fn dir(&self) -> Result<Option<Dir>, String> {
        let Some(root) = &self.dir else {
            return Ok(None);
        };
        Ok(Some(Dir {
            root: root.clone(),
            prefix: self
                .uri
                .strip_suffix(PATH_VAR)
                .unwrap_or(&self.uri)
                .to_string(),
            include: self.patterns()?,
            max_bytes: self.max_bytes.unwrap_or(DEFAULT_MAX_BYTES),
            max_files: self.max_files.unwrap_or(DEFAULT_MAX_FILES),
            mime: self.mime_type.clone(),
        }))
    }

    fn patterns(&self) -> Result<Vec<Pattern>, String> {
        let globs = self.include.as_deref().unwrap_or_default();
        globs
            .iter()
            .map(|g| Pattern::new(g).map_err(|e| format!("include pattern {g:?}: {e}")))
            .collect()
    }

    fn describe(&self, mut r: Resource) -> Resource {
        r.title = self.title.clone();
        r.description = self.description.clone();
        r
    }
}

fn absolute(p: &Path, key: &str) -> Result<(), String> {
    if p.is_absolute() {
        Ok(())
    } else {
        Err(format!("{key} must be an absolute path"))
    }
}

fn file_name_or(p: &Path, fallback: &str) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .map_or_else(|| fallback.to_string(), String::from)
}

/// A directory served as a template: which of its files a client may see and how big.
pub(crate) struct Dir {
    pub root: PathBuf,
    /// The template's URI before `{path}`.
    prefix: String,
    include: Vec<Pattern>,
    max_bytes: u64,
    max_files: usize,
    mime: Option<String>,
}

impl Dir {
    /// Whether `rel` (a path below the root, `/`-separated) names a file this directory may
    /// serve, judged by its name alone: no part empty or hidden (so no `.` or `..`), included.
    pub(crate) fn serves(&self, rel: &str) -> bool {
        !rel.is_empty()
            && !rel
                .split('/')
                .any(|part| part.is_empty() || part.starts_with('.'))
            && (self.include.is_empty() || self.include.iter().any(|p| p.matches(rel)))
    }

    /// The URI of the file at `rel`.
    pub(crate) fn uri(&self, rel: &str) -> String {
        let mut uri = self.prefix.clone();
        for b in rel.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                uri.push(char::from(b));
            } else {
                uri.push_str(&format!("%{b:02X}"));
            }
        }
        uri
    }

    /// `resources/read` of `uri`, whose `{path}` is `rel` (already percent-decoded).
    pub(crate) fn read(&self, uri: &str, rel: &str) -> Result<Vec<ResourceContents>, Error> {
        let path = self.resolve(rel).ok_or(Error::NotFound)?;
        Ok(vec![read_capped(
            &path,
            uri,
            self.mime.as_deref(),
            self.max_bytes,
            true,
        )?])
    }

    /// The file `rel` names, if it may be served: by its name, then where it resolves (a
    /// symlink must stay inside and lead to a name that may be served too).
    fn resolve(&self, rel: &str) -> Option<PathBuf> {
        if !self.serves(rel) {
            return None;
        }
        let path = confine(&self.root, rel, true).ok()?;
        let root = self.root.canonicalize().ok()?;
        let real = path.strip_prefix(&root).ok()?.to_str()?;
        self.serves(real).then_some(path)
    }

    /// The files a client may read, in path order: `(relative path, size)`, at most
    /// `max_files`, no deeper than [`MAX_DEPTH`]. Symlinked directories are not entered.
    pub(crate) fn files(&self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut visits = MAX_VISITS;
        self.walk(&self.root, "", 0, &mut visits, &mut out);
        out
    }

    fn walk(
        &self,
        dir: &Path,
        rel: &str,
        depth: usize,
        visits: &mut usize,
        out: &mut Vec<(String, u64)>,
    ) {
        let Ok(read) = fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<fs::DirEntry> = read.filter_map(Result::ok).take(*visits).collect();
        *visits -= entries.len();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            if out.len() >= self.max_files {
                return;
            }
            let (Ok(kind), Some(name)) = (e.file_type(), e.file_name().to_str().map(String::from))
            else {
                continue; // a name that is not UTF-8 has no URI
            };
            if name.starts_with('.') {
                continue;
            }
            let sub = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if kind.is_dir() {
                if depth + 1 < MAX_DEPTH {
                    self.walk(&e.path(), &sub, depth + 1, visits, out);
                }
            } else if kind.is_file() && self.serves(&sub) {
                out.push((sub, e.metadata().map_or(0, |m| m.len())));
            } else if kind.is_symlink()
                && let Some(meta) = self.resolve(&sub).and_then(|p| p.metadata().ok())
                && meta.is_file()
            {
                out.push((sub, meta.len()));
            }
        }
    }

    fn entries(&self) -> Vec<Resource> {
        self.files()
            .into_iter()
            .map(|(rel, size)| {
                let mut r = Resource::entry(self.uri(&rel), rel.as_str()).size(size);
                r.mime_type = self.mime.clone().or_else(|| guess(Path::new(&rel)));
                r
            })
            .collect()
    }

    /// Completion of `{path}`: listed paths that start with what the user typed.
    fn complete(&self, typed: &str) -> Vec<String> {
        let files = self.files().into_iter().map(|(rel, _)| rel);
        files.filter(|rel| rel.starts_with(typed)).collect()
    }
}

/// The media type of a file by its extension.
fn guess(path: &Path) -> Option<String> {
    mime_guess::from_path(path)
        .first()
        .map(|m| m.essence_str().to_string())
}

/// Whether contents of this media type are text when they are valid UTF-8.
fn textish(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence,
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/toml"
                | "application/yaml"
                | "application/x-yaml"
                | "application/x-sh"
                | "application/sql"
        )
}

/// Reads the regular file at `path` as the contents of `uri`: text when it is valid UTF-8 of a
/// textual type (or of no known type), else a blob. Over `max` bytes is an error that says so.
/// `nofollow` refuses a symlink as the last part, so a path resolved beforehand cannot be
/// swapped for one in between. Non-blocking open: a FIFO must not hold a worker.
fn read_capped(
    path: &Path,
    uri: &str,
    mime: Option<&str>,
    max: u64,
    nofollow: bool,
) -> Result<ResourceContents, Error> {
    let mut flags = libc::O_NONBLOCK;
    if nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    let open = fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path);
    let mut file = open.map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => Error::failed("permission denied"),
        _ => Error::NotFound,
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::NotFound);
    }
    let too_big = || Error::invalid_params(format!("{uri} is over its limit of {max} bytes"));
    if meta.len() > max {
        return Err(too_big());
    }
    let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.by_ref()
        .take(max.saturating_add(1))
        .read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(too_big()); // it grew while read
    }
    let guessed = mime.map(String::from).or_else(|| guess(path));
    let text_ok = guessed.as_deref().is_none_or(textish);
    let mime = guessed.unwrap_or_else(|| {
        let utf8 = std::str::from_utf8(&data).is_ok();
        if utf8 {
            "text/plain"
        } else {
            "application/octet-stream"
        }
        .to_string()
    });
    Ok(match String::from_utf8(data) {
        Ok(text) if text_ok => ResourceContents::text(uri, mime, text),
        Ok(text) => ResourceContents::blob(uri, mime, text.into_bytes()),
        Err(e) => ResourceContents::blob(uri, mime, e.into_bytes()),
    })
}

#[cfg(test)]
#[path = "resource_tests.rs"]
mod tests;
