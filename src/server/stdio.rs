//! A server on stdin/stdout instead of a socket: how desktop clients start local MCP servers.
//! Built by the same builder as the HTTP server, so what it offers is declared the same way; it
//! serves one session and returns when its input ends.

use super::access::AccessHandle;
use super::builder::ServerBuilder;
use crate::dispatch::Core;
use crate::features::ServerHandle;
use crate::transport::stdio::{self, Ending};
pub use crate::transport::stdio::{End, StdioStop};
use std::io::{Read, Write};
use std::sync::Arc;

/// A server ready to serve MCP on a byte stream pair: call [`StdioServer::run`] (stdin and
/// stdout) or [`StdioServer::run_on`].
pub struct StdioServer {
    core: Arc<Core>,
    ending: Ending,
}

impl ServerBuilder {
    /// Starts the worker pool and the timer for serving on stdio; no socket is bound.
    pub fn stdio(self) -> std::io::Result<StdioServer> {
        let core = self.core(Arc::new(crate::http::ListenerStats::default()), None)?;
        Ok(StdioServer {
            core,
            ending: Ending::default(),
        })
    }

    /// Serves MCP on stdin/stdout until stdin ends (or the output fails); logs go to stderr
    /// only (the `log` crate's logger is the caller's to set up that way).
    pub fn serve_stdio(self) -> std::io::Result<()> {
        self.stdio()?.run().map(|_| ())
    }

    /// Serves MCP on `input`/`output` until the input ends: for tests, and for programs that
    /// speak to a client over pipes or a socket of their own.
    pub fn serve_io(
        self,
        input: impl Read + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> std::io::Result<End> {
        self.stdio()?.run_on(input, output)
    }
}

impl StdioServer {
    /// Changes what the server offers while it runs, announcing each change to the client.
    pub fn handle(&self) -> ServerHandle {
        self.core.server.clone()
    }

    /// Replaces the scoped bearer tokens (which stdio never asks for; kept for a reload that
    /// serves the same config file over both kinds of transport).
    pub fn access(&self) -> AccessHandle {
        AccessHandle {
            core: self.core.clone(),
        }
    }

    /// Ends serving from another thread (a SIGTERM handler), as the end of the input would.
    pub fn stop_handle(&self) -> StdioStop {
        self.ending.stop_handle()
    }

    /// Serves on the process's stdin and stdout; returns why it ended.
    pub fn run(self) -> std::io::Result<End> {
        self.run_on(std::io::stdin(), std::io::stdout())
    }

    /// Serves on `input` and `output`; returns why it ended. Running requests are cancelled at
    /// the end, and what was already answered is written before this returns (within
    /// `--shutdown-grace-secs`).
    pub fn run_on(
        self,
        input: impl Read + Send + 'static,
        output: impl Write + Send + 'static,
    ) -> std::io::Result<End> {
        stdio::serve(&self.core, Box::new(input), Box::new(output), self.ending)
    }
}
