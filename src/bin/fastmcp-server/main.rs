//! The `fastmcp-server` binary: the library with its built-in tools behind a command line. It
//! uses only the library's public API, as any other program would, so the API has to be enough
//! to ship a server.

mod alloc;
mod cli;

use cli::{Cli, USAGE, parse_args};
use fastmcp_server::{ServerBuilder, StopHandle};

fn main() {
    // Before any thread starts: large buffers go back to the system when freed (see `alloc`).
    let large_blocks_returned = alloc::return_large_blocks();
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
    let _ = simple_logger::SimpleLogger::new().with_level(level).init();
    if !large_blocks_returned {
        log::debug!("allocator: mmap threshold left as the C library sets it");
    }
    let server = match ServerBuilder::new(config).builtin_tools().bind() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fastmcp-server: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = stop_on_signals(server.stop_handle()) {
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
}

/// SIGTERM and SIGINT start a graceful shutdown. The handler only writes a byte to a socket pair;
/// a thread blocked reading the other end does the rest, so nothing polls while the server idles.
fn stop_on_signals(stop: StopHandle) -> std::io::Result<()> {
    use std::io::Read;
    let (mut rx, tx) = std::os::unix::net::UnixStream::pair()?;
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::low_level::pipe::register(signal, tx.try_clone()?)?;
    }
    std::thread::Builder::new()
        .name("signals".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut byte = [0u8; 1];
            if rx.read(&mut byte).is_ok_and(|n| n > 0) {
                log::info!("signal received; shutting down");
                stop.stop();
            }
        })?;
    Ok(())
}
