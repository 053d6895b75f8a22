//! A tool that runs a command: `[[tool]]` in the config file. Arguments are checked before
//! anything runs; the child gets an argv (never a shell string), an empty environment but for
//! what the file names, its own process group, limits, and a deadline after which the whole group
//! is killed. The call holds no worker: the child runs on a thread of its own, bounded by the
//! tool's `max_concurrency`.

use super::args::Args;
use super::argv::{Expanded, Template};
use super::env;
use super::report::{Rules, audit};
use super::slots::Slots;
use super::tool_spec::{INTERPRETERS, OutputKind, ProgressKind, ToolSpec};
use crate::child::{ChildSpec, Limits, RunOptions, Stop, Supervisor};
use crate::context::Context;
use crate::tools::{Responder, Tool, ToolAnnotations, ToolResult};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What receives each stdout line of a run (progress notifications).
type OnLine = Option<Box<dyn FnMut(&str) + Send>>;

const DEFAULT_TIMEOUT_SECS: f64 = 30.0;
const DEFAULT_MAX_OUTPUT: usize = 1024 * 1024;
const DEFAULT_CONCURRENCY: usize = 4;
const DEFAULT_KILL_GRACE_SECS: f64 = 2.0;
/// Longest progress message made of one stdout line.
const PROGRESS_LINE: usize = 512;
/// Stack of the thread that supervises one run: it only polls pipes and copies bytes.
const RUN_STACK: usize = 128 * 1024;

/// A compiled command tool, shared by its `Tool` handler and `fastmcp-server call`.
pub(crate) struct CommandTool {
    pub name: String,
    title: Option<String>,
    description: String,
    pub args: Args,
    template: Template,
    stdin: Option<Template>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    limits: Limits,
    user: Option<String>,
    kill_grace: Duration,
    rules: Rules,
    progress: Option<ProgressKind>,
    annotations: Option<ToolAnnotations>,
    /// The OAuth scope `scope = "…"` asks for.
    scope: Option<String>,
    slots: Slots,
    supervisor: Supervisor,
}

fn seconds(what: &str, v: Option<f64>, default: f64) -> Result<Duration, String> {
    let s = v.unwrap_or(default);
    if s.is_finite() && s > 0.0 && s <= 86_400.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!(
            "`{what}` must be more than 0 and at most 86400 seconds"
        ))
    }
}

/// A valid MCP tool name: what clients and the specification accept.
pub(crate) fn valid_tool_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 128
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl CommandTool {
    /// Checks and compiles a `[[tool]]`; warnings (an interpreter as `command[0]`) are pushed to
    /// `warnings`.
    pub fn compile(
        s: &ToolSpec,
        supervisor: &Supervisor,
        warnings: &mut Vec<String>,
    ) -> Result<CommandTool, String> {
        if !valid_tool_name(&s.name) {
            return Err(format!(
                "tool name {:?}: use letters, digits, _, - and . (at most 128)",
                s.name
            ));
        }
        let args = Args::compile(&s.args)?;
        let template = Template::parse(&s.command, &args)?;
        let stdin = match &s.stdin {
            Some(t) => Some(Template::parse_one(t, &args).map_err(|e| format!("`stdin`: {e}"))?),
            None => None,
        };
        for a in args.iter() {
            let used = template.uses(&a.name) || stdin.as_ref().is_some_and(|t| t.uses(&a.name));
            if !used {
                return Err(format!(
                    "argument {:?} is declared but used neither in `command` nor in `stdin`",
                    a.name
                ));
            }
        }
        let program = &s.command[0];
        // By the name written and the name it resolves to: `/usr/local/bin/run -> /bin/bash`.
        let real = std::fs::canonicalize(program)
            .ok()
            .and_then(|p| p.to_str().map(String::from));
        let is_interpreter = |path: &str| {
            let base = path.rsplit('/').next().unwrap_or(path);
            let stem = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            INTERPRETERS.contains(&base) || INTERPRETERS.contains(&stem)
        };
        if !s.allow_interpreter
            && (is_interpreter(program) || real.as_deref().is_some_and(is_interpreter))
        {
            warnings.push(format!(
                "tool {:?}: {program} runs other programs or code from its arguments; checked arguments do not bound what it does (set allow_interpreter = true once you have made sure)",
                s.name
            ));
        }
        if !std::path::Path::new(program).is_file() {
            warnings.push(format!("tool {:?}: {program} does not exist (yet)", s.name));
        }
        if let Some(cwd) = &s.cwd
            && !cwd.is_absolute()
        {
            return Err(format!("`cwd` must be absolute: {}", cwd.display()));
        }
        if s.user.is_some() && !rustix::process::geteuid().is_root() {
            warnings.push(format!(
                "tool {:?}: `user` needs the server to run as root; calls will fail",
                s.name
            ));
        }
        let max_concurrency = s.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        if max_concurrency == 0 || max_concurrency > 1024 {
            return Err("`max_concurrency` must be between 1 and 1024".into());
        }
        let max_output = s.max_output_bytes.unwrap_or(DEFAULT_MAX_OUTPUT);
        if max_output == 0 || max_output > 256 * 1024 * 1024 {
            return Err("`max_output_bytes` must be between 1 and 268435456".into());
        }
        let output_schema = match &s.output_schema {
            Some(_) if s.output != OutputKind::Json => {
                return Err("`output_schema` needs `output = \"json\"`".into());
            }
            Some(v) => {
                let v = serde_json::to_value(v).map_err(|e| format!("`output_schema`: {e}"))?;
                if v.get("type").and_then(Value::as_str) != Some("object") {
                    return Err("`output_schema` must have type = \"object\"".into());
                }
                Some(v)
            }
            None => None,
        };
        let annotations = s.annotations.as_ref().map(|a| ToolAnnotations {
            title: a.title.clone(),
            read_only: a.read_only,
            destructive: a.destructive,
            idempotent: a.idempotent,
            open_world: a.open_world,
        });
        Ok(CommandTool {
            name: s.name.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            env: env::build(&s.env, &s.env_passthrough, &env::server_env)?,
            args,
            template,
            stdin,
            cwd: s.cwd.clone(),
            limits: Limits {
                cpu_secs: s.rlimits.cpu_secs,
                memory_bytes: s.rlimits.memory_bytes,
                open_files: s.rlimits.open_files,
                processes: s.rlimits.processes,
                file_size_bytes: s.rlimits.file_size_bytes,
            },
            user: s.user.clone(),
            rules: Rules {
                name: s.name.clone(),
                timeout: seconds("timeout_secs", s.timeout_secs, DEFAULT_TIMEOUT_SECS)?,
                max_output,
                ok_exit_codes: s.ok_exit_codes.clone().unwrap_or_else(|| vec![0]),
                output: s.output,
                output_schema,
            },
            kill_grace: seconds(
                "kill_grace_secs",
                s.kill_grace_secs,
                DEFAULT_KILL_GRACE_SECS,
            )?,
            progress: s.progress,
            annotations,
            scope: match s.scope.as_deref().map(str::trim) {
                Some("") => return Err("`scope` must not be empty".into()),
                Some(sc) if sc.contains(char::is_whitespace) || sc.contains(['"', '\\']) => {
                    return Err(format!(
                        "`scope` {sc:?} must be one scope token (no spaces or quotes)"
                    ));
                }
                other => other.map(str::to_owned),
            },
            slots: Slots::new(max_concurrency),
            supervisor: supervisor.clone(),
        })
    }

    /// The argv template as `check` prints it.
    pub fn describe(&self) -> String {
        format!(
            "{} (timeout {} s, output ≤ {} bytes, ≤ {} at once)",
            self.name,
            self.rules.timeout.as_secs_f64(),
            self.rules.max_output,
            self.slots.max()
        )
    }

    /// The MCP tool: the handler checks the arguments, takes a slot, and runs the command on a
    /// thread of its own; the answer goes through the responder when the child is done.
    pub fn to_tool(self: &Arc<Self>) -> Tool {
        let me = self.clone();
        let mut tool = Tool::new(
            self.name.clone(),
            self.description.clone(),
            self.args.schema(),
            move |args, responder| me.call(args, responder),
        );
        tool.title = self.title.clone();
        tool.annotations = self.annotations.clone();
        tool.output_schema = self.rules.output_schema.clone();
        tool.scope = self.scope.clone();
        tool
    }

    fn call(self: &Arc<Self>, given: &Map<String, Value>, responder: Responder) {
        let (expanded, stdin) = match self.prepare(given) {
            Ok(p) => p,
            Err(e) => return responder.finish(ToolResult::error(e)),
        };
        let Some(slot) = self.slots.take() else {
            return responder.finish(ToolResult::error(format!(
                "{}: {} calls already running (max_concurrency); try again later",
                self.name,
                self.slots.max()
            )));
        };
        let stop = match Stop::new() {
            Ok(s) => s,
            Err(e) => return responder.finish(ToolResult::error(format!("cannot start: {e}"))),
        };
        let ctx = responder.context().clone();
        let fire = stop.clone();
        ctx.on_cancel(move || fire.fire());
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("tool-{}", self.name))
            .stack_size(RUN_STACK)
            .spawn(move || {
                let _slot = slot;
                let on_line = me.progress_reporter(&ctx);
                let result = me.run(&expanded, stdin, on_line, &stop, Some(&ctx));
                responder.finish(result);
            });
        if let Err(e) = spawned {
            log::error!("tool {}: cannot start a thread: {e}", self.name);
            // The responder moved into the closure that failed to start: it was dropped with it
            // and has answered with an internal error.
        }
    }

    /// Checks the arguments and expands the argv and stdin.
    pub fn prepare(
        &self,
        given: &Map<String, Value>,
    ) -> Result<(Expanded, Option<Vec<u8>>), String> {
        let values = self.args.check(given)?;
        let expanded = self.template.expand(&values, &self.args);
        let stdin = self
            .stdin
            .as_ref()
            .map(|t| t.expand(&values, &self.args).argv.concat().into_bytes());
        Ok((expanded, stdin))
    }

    fn progress_reporter(&self, ctx: &Context) -> OnLine {
        if self.progress != Some(ProgressKind::Lines) || !ctx.wants_progress() {
            return None;
        }
        let ctx = ctx.clone();
        let mut n = 0u64;
        Some(Box::new(move |line: &str| {
            n += 1;
            let msg: String = line.chars().take(PROGRESS_LINE).collect();
            ctx.progress(n as f64, None, Some(&msg));
        }))
    }

    /// Runs the command once on this thread and shapes the outcome; one audit line either way.
    pub fn run(
        &self,
        expanded: &Expanded,
        stdin: Option<Vec<u8>>,
        on_stdout_line: OnLine,
        stop: &Stop,
        ctx: Option<&Context>,
    ) -> ToolResult {
        let spec = ChildSpec {
            argv: expanded.argv.clone(),
            env: self.env.clone(),
            cwd: self.cwd.clone(),
            limits: self.limits.clone(),
            user: self.user.clone(),
        };
        let opts = RunOptions {
            stdin,
            timeout: self.rules.timeout,
            kill_grace: self.kill_grace,
            max_output_bytes: self.rules.max_output,
            on_stdout_line,
        };
        let outcome = self.supervisor.run(&spec, opts, stop);
        audit(&self.name, expanded, &outcome, ctx);
        match outcome {
            Ok(o) => self.rules.render(&o),
            Err(e) => ToolResult::error(format!("{}: cannot run {}: {e}", self.name, spec.argv[0])),
        }
    }
}
