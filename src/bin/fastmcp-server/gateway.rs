//! `fastmcp-server gateway [OPTIONS] -- COMMAND [ARGS...]`: the gateway's own flags, and the
//! library's `GatewayConfig` built from them and the config file's `[gateway]` table.

use fastmcp_server::{ChildSpec, GatewayConfig, GatewaySpec, ToolFilter};
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// The `PATH` a child gets unless `--env PATH...` says otherwise.
const CHILD_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The gateway's flags as given.
#[derive(Debug, Default)]
pub(crate) struct GatewayArgs {
    pub command: Vec<String>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub env: Vec<String>,
    pub max_children: Option<usize>,
    pub init_timeout: Option<Duration>,
    pub shared: bool,
    pub restart_max: Option<u32>,
    pub restart_window: Option<Duration>,
    pub stateless_children: Option<usize>,
}

/// Splits the arguments at the first `--`: what follows is a command, never a flag of ours.
pub(crate) fn split_command(mut args: Vec<OsString>) -> (Vec<OsString>, Option<Vec<OsString>>) {
    match args.iter().position(|a| a == "--") {
        Some(i) => {
            let command = args.split_off(i + 1);
            args.pop();
            (args, Some(command))
        }
        None => (args, None),
    }
}

/// Takes the gateway's flags out of `a`.
pub(crate) fn parse(
    a: &mut pico_args::Arguments,
    command: Option<Vec<OsString>>,
) -> Result<GatewayArgs, String> {
    let e = |e: pico_args::Error| e.to_string();
    let command = command
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            s.into_string()
                .map_err(|_| "the command must be UTF-8".to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_children = match a
        .opt_value_from_str::<_, usize>("--max-children")
        .map_err(e)?
    {
        Some(0) => return Err("--max-children must be greater than 0".into()),
        other => other,
    };
    let init_timeout = match a
        .opt_value_from_str::<_, f64>("--init-timeout-secs")
        .map_err(e)?
    {
        Some(v) if v.is_finite() && v > 0.0 && v < 1e9 => Some(Duration::from_secs_f64(v)),
        Some(_) => return Err("--init-timeout-secs must be a positive number of seconds".into()),
        None => None,
    };
    let restart_window = match a
        .opt_value_from_str::<_, f64>("--restart-window-secs")
        .map_err(e)?
    {
        Some(v) if v.is_finite() && v > 0.0 && v < 1e9 => Some(Duration::from_secs_f64(v)),
        Some(_) => return Err("--restart-window-secs must be a positive number of seconds".into()),
        None => None,
    };
    Ok(GatewayArgs {
        shared: a.contains("--gateway-shared"),
        restart_max: a.opt_value_from_str("--restart-max").map_err(e)?,
        restart_window,
        stateless_children: a.opt_value_from_str("--stateless-children").map_err(e)?,
        command,
        allow: a.values_from_str("--allow-tool").map_err(e)?,
        deny: a.values_from_str("--deny-tool").map_err(e)?,
        env: a.values_from_str("--env").map_err(e)?,
        max_children,
        init_timeout,
    })
}

/// The library's configuration: the command line's command and tool globs, else the file's.
pub(crate) fn config(
    args: GatewayArgs,
    file: Option<&GatewaySpec>,
    max_line_bytes: usize,
) -> Result<GatewayConfig, String> {
    let file = file.cloned().unwrap_or_default();
    let argv = if args.command.is_empty() {
        file.command
    } else {
        args.command
    };
    if argv.is_empty() {
        return Err("gateway: no command (`gateway -- COMMAND [ARGS...]`, or `[gateway] command = [...]` in --config)".into());
    }
    let pick = |cli: Vec<String>, file: Vec<String>| if cli.is_empty() { file } else { cli };
    let tools = ToolFilter::new(
        &pick(args.allow, file.allow_tools),
        &pick(args.deny, file.deny_tools),
    )?;
    let mut spec = ChildSpec::new(argv);
    spec.argv[0] = resolve(&spec.argv[0])?;
    spec.env = environment(&[file.env, args.env].concat())?;
    let mut c = GatewayConfig::new(spec);
    c.tools = tools;
    c.max_line_bytes = max_line_bytes;
    if let Some(n) = args.max_children {
        c.max_children = n;
    }
    if let Some(t) = args.init_timeout {
        c.init_timeout = t;
    }
    c.shared = args.shared;
    if let Some(n) = args.restart_max {
        c.restart_max = n;
    }
    if let Some(w) = args.restart_window {
        c.restart_window = w;
    }
    if let Some(n) = args.stateless_children {
        c.stateless_children = n;
    }
    Ok(c)
}

/// The program as an absolute path: a bare name is looked up once, now, in the server's own
/// `PATH` (the operator typed it), never by the child.
fn resolve(program: &str) -> Result<String, String> {
    if program.starts_with('/') {
        return Ok(program.to_string());
    }
    if program.contains('/') {
        return std::fs::canonicalize(program)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| format!("gateway: {program}: {e}"));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
        .ok_or_else(|| format!("gateway: {program} is not in PATH"))
}

/// The child's whole environment: `PATH` and the `--env` entries (`NAME` takes the server's
/// value, `NAME=VALUE` sets one); nothing else of the server's environment.
fn environment(entries: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut env = vec![("PATH".to_string(), CHILD_PATH.to_string())];
    for entry in entries {
        let (name, value) = match entry.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => {
                let v = std::env::var(entry)
                    .map_err(|_| format!("--env {entry}: not set in the server's environment"))?;
                (entry.clone(), v)
            }
        };
        env.retain(|(n, _)| *n != name);
        env.push((name, value));
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_follows_the_double_dash() {
        let args: Vec<OsString> = ["gateway", "--port", "0", "--", "/bin/x", "--port", "1"]
            .map(Into::into)
            .into();
        let (ours, cmd) = split_command(args);
        assert_eq!(ours, ["gateway", "--port", "0"].map(OsString::from));
        assert_eq!(cmd.unwrap(), ["/bin/x", "--port", "1"].map(OsString::from));
    }

    #[test]
    fn config_from_flags_and_file() {
        let file = GatewaySpec {
            command: vec!["/bin/cat".into()],
            allow_tools: vec!["a*".into()],
            env: vec!["X=1".into(), "PATH=/opt".into()],
            ..GatewaySpec::default()
        };
        let c = config(GatewayArgs::default(), Some(&file), 100).unwrap();
        assert_eq!(c.command.argv, ["/bin/cat"]);
        assert!(c.tools.allows("ab") && !c.tools.allows("b"));
        assert_eq!(
            c.command.env,
            [("X".into(), "1".into()), ("PATH".into(), "/opt".into())]
        );
        let args = GatewayArgs {
            command: vec!["sh".into(), "-c".into()],
            ..GatewayArgs::default()
        };
        let c = config(args, Some(&file), 100).unwrap();
        assert!(c.command.argv[0].ends_with("/sh") && c.command.argv[0].starts_with('/'));
        assert!(config(GatewayArgs::default(), None, 1).is_err());
        let bad = GatewayArgs {
            command: vec!["/bin/cat".into()],
            env: vec!["SURELY_NOT_SET_ANYWHERE_42".into()],
            ..GatewayArgs::default()
        };
        assert!(config(bad, None, 1).unwrap_err().contains("--env"));
    }

    #[test]
    fn shared_restart_and_pool_flags() {
        let mut a = pico_args::Arguments::from_vec(
            [
                "--gateway-shared",
                "--restart-max",
                "3",
                "--restart-window-secs",
                "10",
                "--stateless-children",
                "0",
            ]
            .map(OsString::from)
            .into(),
        );
        let g = parse(&mut a, Some(vec!["/bin/cat".into()])).unwrap();
        let c = config(g, None, 100).unwrap();
        assert!(c.shared);
        assert_eq!(
            (c.restart_max, c.restart_window, c.stateless_children),
            (3, Duration::from_secs(10), 0)
        );
        let d = config(
            parse(
                &mut pico_args::Arguments::from_vec(vec![]),
                Some(vec!["/bin/cat".into()]),
            )
            .unwrap(),
            None,
            100,
        )
        .unwrap();
        assert!(!d.shared && d.stateless_children == 2 && d.restart_max == 5);
        let mut bad = pico_args::Arguments::from_vec(
            ["--restart-window-secs", "0"].map(OsString::from).into(),
        );
        assert!(parse(&mut bad, None).is_err());
    }
}
