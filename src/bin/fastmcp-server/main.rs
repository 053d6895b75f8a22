//! The `fastmcp-server` binary: the library with its built-in tools, or the tools of a config
//! file, behind a command line. It uses only the library's public API, as any other program
//! would, so the API has to be enough to ship a server.

mod alloc;
mod cli;
mod declared;
mod gateway;
mod oauth;
mod signals;
mod stdio;

use cli::{Cli, USAGE, parse_args};
use fastmcp_server::{Revision, ServerBuilder, Supervisor};
use std::time::Duration;

fn main() {
    // Before any thread starts: large buffers go back to the system when freed (see `alloc`).
    let large_blocks_returned = alloc::return_large_blocks();
    let (mut config, tools_file, on_stdio, oauth_flags) =
        match parse_args(std::env::args_os().skip(1).collect()) {
            Ok(Cli::Run(c, file, oauth)) => (*c, file, false, *oauth),
            Ok(Cli::Stdio(c, file)) => (*c, file, true, oauth::OAuthFlags::default()),
            Ok(Cli::Gateway(c, file, g, oauth)) => {
                hide_environment();
                std::process::exit(serve_gateway(*c, file, g, *oauth))
            }
            Ok(Cli::Help) => {
                print!("{USAGE}");
                return;
            }
            Ok(Cli::Version) => {
                let revisions: Vec<&str> = Revision::SUPPORTED.iter().map(|r| r.as_str()).collect();
                println!("fastmcp-server {}", env!("CARGO_PKG_VERSION"));
                println!("MCP revisions: {}", revisions.join(", "));
                return;
            }
            Ok(Cli::Check(path)) => std::process::exit(declared::check(&path)),
            Ok(Cli::Call { config, tool, args }) => {
                hide_environment();
                std::process::exit(declared::call(&config, &tool, &args))
            }
            Err(e) => {
                eprintln!("fastmcp-server: {e}");
                std::process::exit(2);
            }
        };
    init_log(config.debug);
    if !large_blocks_returned {
        log::debug!("allocator: mmap threshold left as the C library sets it");
    }
    if tools_file.is_some() {
        hide_environment();
    }
    let supervisor = Supervisor::new();
    let mut builder_state = None;
    let builder = match tools_file.as_deref() {
        None => {
            config.oauth = oauth_or_exit(oauth_flags, None);
            ServerBuilder::new(config).builtin_tools()
        }
        Some(path) => match declared::Served::load(path, &supervisor, config.max_sleep_secs) {
            Ok(served) => {
                config.tokens = served.grants();
                config.oauth = oauth_or_exit(oauth_flags, served.oauth());
                let b = ServerBuilder::new(config)
                    .offer(served.offer())
                    .declare_tools()
                    .declare_resources()
                    .declare_prompts();
                builder_state = Some(served);
                b
            }
            Err(e) => {
                eprintln!("fastmcp-server: {e}");
                std::process::exit(2);
            }
        },
    };
    let grace = GRACE;
    if on_stdio {
        std::process::exit(stdio::serve(builder, builder_state, supervisor, grace));
    }
    serve(builder, supervisor, builder_state);
}

/// Children run as the server's own user unless a tool says `user`, and a process may read the
/// `/proc/<pid>/environ` of another of its user's processes: the server's environment (the token
/// file's path, `${VAR}` secrets meant for one tool's `env`) would be one `cat` away from every
/// child. A process that is not dumpable has its `/proc` files owned by root, so that read fails;
/// a child becomes dumpable again when it execs, so this costs children nothing.
fn hide_environment() {
    use rustix::process::{DumpableBehavior, set_dumpable_behavior};
    if let Err(e) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        log::warn!("cannot make the process non-dumpable; children may read its environment: {e}");
    }
}

/// The OAuth settings of the flags and the file's `[auth.oauth]`; a mistake in them ends the
/// process (exit 2) before it listens.
fn oauth_or_exit(
    flags: oauth::OAuthFlags,
    file: Option<&fastmcp_server::OAuthSpec>,
) -> Option<fastmcp_server::OAuthSettings> {
    flags.settings(file).unwrap_or_else(|e| {
        eprintln!("fastmcp-server: {e}");
        std::process::exit(2)
    })
}

/// How long children of config tools get to end at shutdown.
const GRACE: Duration = Duration::from_secs(3);

fn init_log(debug: bool) {
    let level = if debug {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    let _ = simple_logger::SimpleLogger::new().with_level(level).init();
}

/// `gateway`: a stdio MCP server behind the HTTP transports; the config file gives the command
/// (`[gateway]`) and the tokens (`[auth]`). Returns the exit code.
fn serve_gateway(
    mut config: fastmcp_server::Config,
    file: Option<std::path::PathBuf>,
    args: gateway::GatewayArgs,
    oauth_flags: oauth::OAuthFlags,
) -> i32 {
    init_log(config.debug);
    let supervisor = Supervisor::new();
    let catalog = match file
        .as_deref()
        .map(|p| fastmcp_server::Catalog::load(p, &supervisor))
    {
        Some(Err(e)) => {
            eprintln!("fastmcp-server: {e}");
            return 2;
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    if let Some(c) = &catalog {
        config.tokens = c.grants();
    }
    config.oauth = oauth_or_exit(oauth_flags, catalog.as_ref().and_then(|c| c.oauth()));
    let table = catalog.as_ref().and_then(|c| c.gateway());
    let gw = match gateway::config(args, table, config.max_body_bytes) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("fastmcp-server: {e}");
            return 2;
        }
    };
    log::info!("gateway to {:?}", gw.command.argv);
    serve(ServerBuilder::new(config).gateway(gw), supervisor, None);
    0
}

fn serve(builder: ServerBuilder, supervisor: Supervisor, builder_state: Option<declared::Served>) {
    let grace = GRACE;
    let server = match builder.bind() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fastmcp-server: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    let reload = builder_state.map(|served| served.start(server.handle(), server.access()));
    let stop = server.stop_handle();
    if let Err(e) = signals::handle(move || stop.stop(), supervisor.clone(), grace, reload) {
        eprintln!("fastmcp-server: cannot handle signals: {e}");
        std::process::exit(1);
    }
    // Handlers are in place before the address is announced: whoever reads it may signal at once.
    let addr = server.local_addr();
    println!("fastmcp-server listening on http://{addr}");
    println!("  Streamable HTTP (MCP 2025-03-26+, stateless 2026-07-28): http://{addr}/mcp");
    println!("  HTTP+SSE (MCP 2024-11-05):         http://{addr}/sse");
    println!("  Seed SSE stream:                   http://{addr}/notifications");
    println!("  Seed JSON-RPC POST:                http://{addr}/mcp?session_id=<id>");
    log::info!("listening on {addr}");
    server.run();
    // No child outlives the server: a command still running now is killed with its group.
    supervisor.shutdown(grace);
}
