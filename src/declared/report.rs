//! What a command's run becomes: the tool result the client sees, and the audit line the
//! operator sees.

use super::argv::Expanded;
use super::tool_spec::OutputKind;
use crate::child::{Exit, Outcome};
use crate::context::Context;
use crate::tools::ToolResult;
use serde_json::Value;

/// How much of stderr an error result quotes (its end: where the reason usually is).
const STDERR_TAIL: usize = 2048;

/// What a tool's result depends on besides the run: its limits and how its output is read.
pub(crate) struct Rules {
    pub name: String,
    pub timeout: std::time::Duration,
    pub max_output: usize,
    pub ok_exit_codes: Vec<i32>,
    pub output: OutputKind,
    pub output_schema: Option<Value>,
}

impl Rules {
    /// The result of a finished run: an `isError` result for a timeout, a cancel, a signal or an
    /// exit code outside `ok_exit_codes`; otherwise the output as text or structured JSON.
    pub(super) fn render(&self, o: &Outcome) -> ToolResult {
        let truncated = o.truncated.then(|| {
            format!(
                "[output truncated: {} of {} bytes kept (max_output_bytes)]",
                o.stdout.len() + o.stderr.len(),
                o.output_bytes
            )
        });
        if o.timed_out || o.cancelled || o.shutdown {
            let why = if o.timed_out {
                format!("timed out after {} s", self.timeout.as_secs_f64())
            } else if o.shutdown {
                "stopped: the server is shutting down".to_string()
            } else {
                "cancelled".to_string()
            };
            return ToolResult::error(format!(
                "{}: {why}; its process group was killed{}",
                self.name,
                stderr_tail(&o.stderr)
            ));
        }
        let code = match o.exit {
            Exit::Code(c) => c,
            Exit::Signal(s) => {
                return ToolResult::error(format!(
                    "{}: killed by signal {s}{}",
                    self.name,
                    stderr_tail(&o.stderr)
                ));
            }
        };
        if !self.ok_exit_codes.contains(&code) {
            return ToolResult::error(format!(
                "{}: exit code {code}{}",
                self.name,
                stderr_tail(&o.stderr)
            ));
        }
        let stdout = String::from_utf8_lossy(&o.stdout);
        if self.output == OutputKind::Json {
            if o.truncated {
                return ToolResult::error(format!(
                    "{}: output exceeded max_output_bytes ({}), so it is not whole JSON",
                    self.name, self.max_output
                ));
            }
            return match serde_json::from_str::<Value>(&stdout) {
                Ok(v @ Value::Object(_)) => ToolResult::structured(v),
                Ok(v) if self.output_schema.is_none() => ToolResult::value(v),
                Ok(_) => ToolResult::error(format!(
                    "{}: output is JSON but not an object, as its output_schema requires",
                    self.name
                )),
                Err(e) => ToolResult::error(format!("{}: output is not JSON: {e}", self.name)),
            };
        }
        let mut content = vec![crate::content::Content::text(stdout.into_owned())];
        if !o.stderr.is_empty() {
            content.push(crate::content::Content::text(format!(
                "[stderr]\n{}",
                String::from_utf8_lossy(&o.stderr)
            )));
        }
        if let Some(t) = truncated {
            content.push(crate::content::Content::text(t));
        }
        ToolResult::content(content)
    }
}

/// The end of stderr, for an error result.
fn stderr_tail(stderr: &[u8]) -> String {
    if stderr.is_empty() {
        return String::new();
    }
    let start = stderr.len().saturating_sub(STDERR_TAIL);
    format!(
        "; stderr{}:\n{}",
        if start > 0 { " (its end)" } else { "" },
        String::from_utf8_lossy(&stderr[start..])
    )
}

/// One line per command run: what ran (secrets redacted), how it ended, and who asked.
pub(super) fn audit(tool: &str, e: &Expanded, o: &std::io::Result<Outcome>, ctx: Option<&Context>) {
    let (session, caller) = match ctx {
        Some(c) => (
            c.session_id().to_string(),
            c.caller().unwrap_or("-").to_string(),
        ),
        None => ("-".to_string(), "command line".to_string()),
    };
    let argv = serde_json::to_string(&e.shown).unwrap_or_default();
    match o {
        Ok(o) => {
            let exit = match o.exit {
                Exit::Code(c) => format!("code {c}"),
                Exit::Signal(s) => format!("signal {s}"),
            };
            let killed = if o.timed_out {
                "timeout"
            } else if o.cancelled {
                "cancelled"
            } else if o.shutdown {
                "shutdown"
            } else {
                "no"
            };
            log::info!(
                target: "audit",
                "tool={tool} argv={argv} pid={} exit=\"{exit}\" duration_ms={} output_bytes={} truncated={} killed={killed} session={session} caller={caller}",
                o.pid,
                o.duration.as_millis(),
                o.output_bytes,
                o.truncated,
            );
        }
        Err(err) => log::warn!(
            target: "audit",
            "tool={tool} argv={argv} error=\"{err}\" session={session} caller={caller}"
        ),
    }
}
