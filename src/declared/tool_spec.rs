//! A `[[tool]]` table as the config file writes it; `tool.rs` compiles it.

use super::args::ArgSpec;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Programs that run other programs or code given in their arguments: with one of these as
/// `command[0]`, checking the arguments no longer bounds what runs.
pub(crate) const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "csh",
    "tcsh",
    "fish",
    "busybox",
    "env",
    "xargs",
    "find",
    "awk",
    "gawk",
    "mawk",
    "nawk",
    "sed",
    "perl",
    "python",
    "python2",
    "python3",
    "ruby",
    "node",
    "nodejs",
    "deno",
    "bun",
    "php",
    "lua",
    "tclsh",
    "wish",
    "git",
    "ssh",
    "scp",
    "rsync",
    "tar",
    "sudo",
    "su",
    "doas",
    "pkexec",
    "nice",
    "nohup",
    "timeout",
    "stdbuf",
    "setsid",
    "chroot",
    "nsenter",
    "unshare",
    "flock",
    "watch",
    "make",
    "vi",
    "vim",
    "less",
    "more",
    "man",
    "docker",
    "podman",
    "systemd-run",
    "kubectl",
    "expect",
    "script",
    "parallel",
    "strace",
    "gdb",
    "eval",
    "exec",
    "cmd",
    "pwsh",
    "osascript",
    "java",
    "dotnet",
    "ash",
    "mksh",
    "rbash",
    "runuser",
    "setpriv",
    "ionice",
    "taskset",
    "chrt",
    "socat",
    "nc",
    "ncat",
    "tmux",
    "screen",
    "ed",
    "emacs",
    "busctl",
    "systemctl",
];

/// `rlimits = { ... }` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RlimitSpec {
    pub cpu_secs: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub open_files: Option<u64>,
    pub processes: Option<u64>,
    pub file_size_bytes: Option<u64>,
}

/// `annotations = { ... }` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnnotationSpec {
    pub title: Option<String>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutputKind {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ProgressKind {
    Lines,
}

/// One `[[tool]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolSpec {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub command: Vec<String>,
    #[serde(default)]
    pub args: BTreeMap<String, ArgSpec>,
    pub timeout_secs: Option<f64>,
    pub kill_grace_secs: Option<f64>,
    pub max_output_bytes: Option<usize>,
    pub max_concurrency: Option<usize>,
    pub annotations: Option<AnnotationSpec>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub env_passthrough: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub stdin: Option<String>,
    #[serde(default)]
    pub rlimits: RlimitSpec,
    pub user: Option<String>,
    pub ok_exit_codes: Option<Vec<i32>>,
    #[serde(default)]
    pub output: OutputKind,
    pub output_schema: Option<toml::Value>,
    pub progress: Option<ProgressKind>,
    #[serde(default)]
    pub allow_interpreter: bool,
    /// The OAuth scope a token needs to see and call this tool (`Tool::required_scope`).
    pub scope: Option<String>,
}
