//! The binary's side of a config file: load it at start, re-read it on SIGHUP (checked first,
//! swapped at once on success, kept on failure), and the `check` and `call` subcommands.

use fastmcp_server::{AccessHandle, Catalog, Offer, ServerHandle, Supervisor, TokenGrant};
use std::path::{Path, PathBuf};

/// A loaded file and what it adds to a server (with the demo tools when it asks for them).
pub(crate) struct Served {
    path: PathBuf,
    catalog: Catalog,
    offer: Offer,
    supervisor: Supervisor,
    max_sleep_secs: f64,
}

fn offer_of(catalog: &Catalog, max_sleep_secs: f64) -> Offer {
    let mut offer = catalog.offer();
    if catalog.demo_tools() {
        use fastmcp_server::builtin;
        offer.tools.extend([
            builtin::echo(),
            builtin::add(),
            builtin::sleep(max_sleep_secs),
        ]);
    }
    offer
}

impl Served {
    pub fn load(
        path: &Path,
        supervisor: &Supervisor,
        max_sleep_secs: f64,
    ) -> Result<Served, String> {
        let catalog = Catalog::load(path, supervisor).map_err(|e| e.to_string())?;
        for w in catalog.warnings() {
            log::warn!("{}: {w}", path.display());
        }
        Ok(Served {
            path: path.to_path_buf(),
            offer: offer_of(&catalog, max_sleep_secs),
            catalog,
            supervisor: supervisor.clone(),
            max_sleep_secs,
        })
    }

    pub fn offer(&self) -> Offer {
        self.offer.clone()
    }

    pub fn grants(&self) -> Vec<TokenGrant> {
        self.catalog.grants()
    }

    /// The file's `[auth.oauth]` table.
    pub fn oauth(&self) -> Option<&fastmcp_server::OAuthSpec> {
        self.catalog.oauth()
    }

    /// Starts watching the served files; what SIGHUP then needs (the running server's handles:
    /// over HTTP or stdio alike).
    pub fn start(self, handle: ServerHandle, access: AccessHandle) -> Reload {
        let watch = watch(&self.catalog, &handle);
        Reload {
            served: self,
            handle,
            access,
            _watch: watch,
        }
    }
}

fn watch(catalog: &Catalog, handle: &ServerHandle) -> Option<fastmcp_server::FileWatch> {
    match catalog.watch(handle.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            log::warn!("cannot watch served files (no resources/updated notifications): {e}");
            None
        }
    }
}

/// What a SIGHUP needs: the file, the running server's handles, and what is served now.
pub(crate) struct Reload {
    served: Served,
    handle: ServerHandle,
    access: AccessHandle,
    _watch: Option<fastmcp_server::FileWatch>,
}

impl Reload {
    pub fn reload(&mut self) {
        let path = self.served.path.clone();
        match Served::load(&path, &self.served.supervisor, self.served.max_sleep_secs) {
            Ok(new) => {
                // Tools first, then who may call them: a narrowed grant never meets the old tools.
                self.handle.replace(&self.served.offer, new.offer());
                self.access.set_grants(new.grants());
                self._watch = None;
                self._watch = watch(&new.catalog, &self.handle);
                self.served = new;
                log::info!("{}: reloaded", path.display());
            }
            Err(e) => log::error!("reload failed, still serving the previous file: {e}"),
        }
    }
}

/// `fastmcp-server check --config PATH`: 0 and a summary, or 2 and `file:line:column: reason`.
pub(crate) fn check(path: &Path) -> i32 {
    match Catalog::load(path, &Supervisor::new()) {
        Ok(c) => {
            print!("{}: ok\n{}", path.display(), c.summary());
            0
        }
        Err(e) => {
            eprintln!("{e}");
            2
        }
    }
}

/// `fastmcp-server call --config PATH TOOL JSON`: runs the tool once; prints the result as
/// `tools/call` would answer it. 0 on success, 1 on a tool error, 2 on a usage or file error.
pub(crate) fn call(path: &Path, tool: &str, args: &str) -> i32 {
    let _ = simple_logger::SimpleLogger::new()
        .with_level(log::LevelFilter::Info)
        .init();
    let catalog = match Catalog::load(path, &Supervisor::new()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let args: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fastmcp-server: the arguments must be a JSON object: {e}");
            return 2;
        }
    };
    match catalog.call(tool, &args) {
        Ok(result) => {
            println!("{}", result.to_mcp(fastmcp_server::Revision::V2025_06_18));
            if result.is_error { 1 } else { 0 }
        }
        Err(e) => {
            eprintln!("fastmcp-server: {e}");
            2
        }
    }
}
