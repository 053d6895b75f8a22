//! A resource whose contents are a command's output (`[[resource]] command = [...]`): a fixed argv
//! (a resource read has no arguments), run with the same child hygiene as a command tool — empty
//! environment, own process group, a deadline that kills the group, capped output.
//!
//! A resource read is answered synchronously, so unlike a command tool's run a command
//! resource's run holds the worker that reads it, for at most its `timeout_secs` (default 10).
//! `max_concurrency` (default 1) bounds how many workers it can hold: one more read at once is
//! an error at once, so a slow command cannot take the whole pool.

use super::resource::ResourceSpec;
use super::slots::Slots;
use crate::child::{ChildSpec, Exit, Limits, RunOptions, Stop, Supervisor};
use crate::content::ResourceContents;
use crate::error::Error;
use crate::resources::Resource;
use std::time::Duration;

const DEFAULT_TIMEOUT_SECS: f64 = 10.0;
const DEFAULT_MAX_OUTPUT: usize = 1024 * 1024;

pub(crate) fn build(r: &ResourceSpec, supervisor: &Supervisor) -> Result<Resource, String> {
    let argv = r
        .command
        .clone()
        .ok_or("no source: give dir, file, text or command")?;
    match argv.first() {
        Some(p) if p.starts_with('/') => {}
        _ => return Err("`command[0]` must be an absolute path (no PATH lookup, no shell)".into()),
    }
    if argv.iter().any(|a| a.contains('\0')) {
        return Err("NUL in `command`".into());
    }
    let secs = r.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err("`timeout_secs` must be more than 0 and at most 3600".into());
    }
    let max_output = r.max_output_bytes.unwrap_or(DEFAULT_MAX_OUTPUT);
    if max_output == 0 {
        return Err("`max_output_bytes` must be more than 0".into());
    }
    let max_running = r.max_concurrency.unwrap_or(1);
    let slots = Slots::new(max_running);
    let mime = r.mime_type.clone().unwrap_or_else(|| "text/plain".into());
    let spec = ChildSpec {
        argv,
        env: vec![("PATH".into(), super::env::DEFAULT_PATH.into())],
        cwd: None,
        limits: Limits::default(),
        user: None,
    };
    let uri = r.uri.clone();
    let supervisor = supervisor.clone();
    let (read_mime, read_uri) = (mime.clone(), uri.clone());
    let timeout = Duration::from_secs_f64(secs);
    let mut res = Resource::new(
        uri.clone(),
        r.name.clone().unwrap_or_else(|| uri.clone()),
        move |ctx| {
            let _slot = slots.take().ok_or_else(|| {
                Error::failed(format!(
                    "{read_uri}: {max_running} read(s) already running (max_concurrency); try again later"
                ))
            })?;
            let stop = Stop::new()?;
            let fire = stop.clone();
            ctx.on_cancel(move || fire.fire());
            let opts = RunOptions {
                stdin: None,
                timeout,
                kill_grace: Duration::from_secs(2),
                max_output_bytes: max_output,
                on_stdout_line: None,
            };
            let o = supervisor.run(&spec, opts, &stop)?;
            log::info!(
                target: "audit",
                "resource={read_uri} argv={} pid={} exit={:?} duration_ms={} output_bytes={} truncated={} timed_out={} session={} caller={}",
                serde_json::to_string(&spec.argv).unwrap_or_default(),
                o.pid,
                o.exit,
                o.duration.as_millis(),
                o.output_bytes,
                o.truncated,
                o.timed_out,
                ctx.session_id(),
                ctx.caller().unwrap_or("-"),
            );
            if o.timed_out {
                return Err(Error::failed(format!("{read_uri}: the command timed out")));
            }
            if o.exit != Exit::Code(0) {
                return Err(Error::failed(format!(
                    "{read_uri}: the command failed ({:?})",
                    o.exit
                )));
            }
            Ok(vec![ResourceContents::text(
                read_uri.clone(),
                read_mime.clone(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            )])
        },
    )
    .mime_type(mime);
    if let Some(d) = &r.description {
        res = res.description(d.clone());
    }
    if let Some(t) = &r.title {
        res = res.title(t.clone());
    }
    Ok(res)
}
