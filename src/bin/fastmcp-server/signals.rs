//! Signals: SIGTERM and SIGINT start a graceful shutdown, SIGHUP re-reads the config file. One
//! thread blocks on signal-hook's self-pipe, so nothing polls while the server idles.

use crate::declared::Reload;
use fastmcp_server::Supervisor;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::time::Duration;

/// `stop` starts the server's shutdown (the HTTP listener's or the stdio server's).
pub(crate) fn handle(
    stop: impl FnOnce() + Send + 'static,
    supervisor: Supervisor,
    grace: Duration,
    mut reload: Option<Reload>,
) -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            for signal in signals.forever() {
                if signal == SIGHUP {
                    match reload.as_mut() {
                        Some(r) => r.reload(),
                        None => log::info!("SIGHUP: no --config file to re-read"),
                    }
                    continue;
                }
                log::info!("signal received; shutting down");
                stop();
                // Running commands are stopped now, so their calls are answered while the
                // server drains instead of being cut when it exits.
                supervisor.shutdown(grace);
                break;
            }
        })?;
    Ok(())
}
