//! `fastmcp-server --stdio`: the same server on stdin/stdout, for a desktop client that starts
//! it as a child. Nothing but MCP messages may reach stdout, so this mode prints no banner: the
//! logger writes to stderr, which such clients show as the server's log.

use crate::declared::Served;
use crate::signals;
use fastmcp_server::{ServerBuilder, StdioEnd, Supervisor};
use std::time::Duration;

/// Serves until stdin ends or SIGTERM/SIGINT; the process's exit status (0 unless reading stdin
/// failed or the server could not start).
pub(crate) fn serve(
    builder: ServerBuilder,
    served: Option<Served>,
    supervisor: Supervisor,
    grace: Duration,
) -> i32 {
    let server = match builder.stdio() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fastmcp-server: cannot start: {e}");
            return 1;
        }
    };
    let reload = served.map(|s| s.start(server.handle(), server.access()));
    let stop = server.stop_handle();
    if let Err(e) = signals::handle(move || stop.stop(), supervisor.clone(), grace, reload) {
        eprintln!("fastmcp-server: cannot handle signals: {e}");
        return 1;
    }
    let end = server.run();
    // No child outlives the server: a command still running now is killed with its group.
    supervisor.shutdown(grace);
    match end {
        Ok(StdioEnd::InputError) => 1,
        Ok(_) => 0,
        Err(e) => {
            eprintln!("fastmcp-server: {e}");
            1
        }
    }
}
