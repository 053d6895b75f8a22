use fastmcp_server::ServerBuilder;
use fastmcp_server::config::{Cli, USAGE, parse_args};

fn main() {
    let config = match parse_args(std::env::args_os().skip(1).collect()) {
        Ok(Cli::Run(c)) => *c,
        Ok(Cli::Help) => {
            print!("{USAGE}");
            return;
        }
        Ok(Cli::Version) => {
            println!("fastmcp-server {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(e) => {
            eprintln!("fastmcp-server: {e}");
            std::process::exit(2);
        }
    };
    let level = if config.debug {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    // tiny_http logs every accept error at debug; keep our own debug output readable.
    let _ = simple_logger::SimpleLogger::new()
        .with_level(level)
        .with_module_level("tiny_http", log::LevelFilter::Warn)
        .init();
    let server = match ServerBuilder::new(config).builtin_tools().bind() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fastmcp-server: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    let stop = server.stop_flag();
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, stop.clone()) {
            eprintln!("fastmcp-server: cannot handle signal {signal}: {e}");
            std::process::exit(1);
        }
    }
    // Handlers are in place before the address is announced: whoever reads it may signal at once.
    let addr = server.local_addr();
    println!("fastmcp-server listening on http://{addr}");
    println!("  Streamable HTTP (MCP 2025-03-26+): http://{addr}/mcp");
    println!("  HTTP+SSE (MCP 2024-11-05):         http://{addr}/sse");
    println!("  Seed SSE stream:                   http://{addr}/notifications");
    println!("  Seed JSON-RPC POST:                http://{addr}/mcp?session_id=<id>");
    log::info!("listening on {addr}");
    server.run();
}
