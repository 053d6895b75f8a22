//! Noticing changes to served files, so subscribers hear `notifications/resources/updated` and
//! clients re-list when a served directory gains or loses a file.
//!
//! One thread sleeps in `poll` on an inotify descriptor and a pipe, and wakes only when a
//! watched directory changes or the watch is dropped (the pipe's write end closes): the server
//! never polls the filesystem. Directories are watched, not files: a `file` resource is seen
//! through its parent filtered by name, so an editor's or a deploy's atomic replace (write a
//! temporary file, rename it over) is noticed, which a watch on the old inode would miss. The
//! events one `read` returns are announced once per URI, so a burst of writes is one update.

use super::resource::{Dir, MAX_DEPTH, ResourceSpec};
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::OwnedFd;
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;
use rustix::pipe::{PipeFlags, pipe_with};
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Most directories one watch follows (the kernel's default per-user limit is 8192 for all
/// programs together).
const MAX_WATCHES: usize = 1024;

/// Changes a served file or directory can undergo; all are asked of every watched directory.
fn mask() -> WatchFlags {
    WatchFlags::MODIFY
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::ATTRIB
        | WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::ONLYDIR
        | WatchFlags::EXCL_UNLINK
}

/// Watches the files and directories of resource tables; dropping it stops the thread.
pub struct FileWatch {
    /// The pipe's write end: closing it wakes the thread to stop.
    stop: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl FileWatch {
    /// Watches what `specs` serve: a change to a served file calls `updated` with its URI; a
    /// served file appearing or going away in a `dir` tree calls `list_changed`.
    pub(crate) fn start(
        specs: &[ResourceSpec],
        updated: impl Fn(&str) + Send + 'static,
        list_changed: impl Fn() + Send + 'static,
    ) -> io::Result<FileWatch> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
        let (wake, stop) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        let mut w = Watcher {
            fd,
            targets: HashMap::new(),
            dirs: Vec::new(),
            files: Vec::new(),
            updated: Box::new(updated),
            list_changed: Box::new(list_changed),
        };
        for spec in specs {
            if let Some(dir) = spec.dir().map_err(io::Error::other)? {
                let root = dir.root.clone();
                w.dirs.push(dir);
                w.add_tree(w.dirs.len() - 1, &root, String::new(), 0);
            } else if let Some(file) = &spec.file
                && let (Some(parent), Some(name)) = (file.parent(), file.file_name())
            {
                w.files.push(spec.uri.clone());
                let target = Target::File {
                    name: name.to_owned(),
                    uri: spec.uri.clone(),
                };
                w.add(parent, target);
            }
        }
        let thread = std::thread::Builder::new()
            .name("resource-watch".into())
            .stack_size(256 * 1024)
            .spawn(move || w.run(wake))?;
        Ok(FileWatch {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for FileWatch {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a watched directory stands for.
enum Target {
    /// The parent of a `file` resource: only events naming the file count.
    File { name: OsString, uri: String },
    /// A directory of a `dir` resource's tree (`dirs[dir]`), at `rel` below its root.
    Tree {
        dir: usize,
        rel: String,
        depth: usize,
    },
}

/// What one batch of events calls for.
#[derive(Default)]
struct Batch {
    updated: BTreeSet<String>,
    list_changed: bool,
}

struct Watcher {
    fd: OwnedFd,
    /// Watch descriptor → what it stands for (one directory may serve several resources).
    targets: HashMap<i32, Vec<Target>>,
    dirs: Vec<Dir>,
    /// URIs of `file` resources (announced all at once when the kernel dropped events).
    files: Vec<String>,
    updated: Box<dyn Fn(&str) + Send>,
    list_changed: Box<dyn Fn() + Send>,
}

impl Watcher {
    fn add(&mut self, path: &Path, target: Target) {
        if self.targets.len() >= MAX_WATCHES {
            log::warn!(
                "not watching {}: {MAX_WATCHES} directories watched",
                path.display()
            );
            return;
        }
        match inotify::add_watch(&self.fd, path, mask()) {
            Ok(wd) => self.targets.entry(wd).or_default().push(target),
            Err(e) => log::warn!("cannot watch {}: {e}", path.display()),
        }
    }

    /// Watches `path` (at `rel` in tree `dir`) and its subdirectories that may hold served
    /// files: not hidden, not symlinks, no deeper than the listing goes.
    fn add_tree(&mut self, dir: usize, path: &Path, rel: String, depth: usize) {
        let target = Target::Tree {
            dir,
            rel: rel.clone(),
            depth,
        };
        self.add(path, target);
        if depth + 1 >= MAX_DEPTH {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name();
            let (Some(name), Ok(kind)) = (name.to_str(), e.file_type()) else {
                continue;
            };
            if kind.is_dir() && !name.starts_with('.') {
                self.add_tree(dir, &e.path(), join(&rel, name), depth + 1);
            }
        }
    }

    /// Stops watching `rel` of tree `dir` and everything below it (moved out of the tree, where
    /// its watches would otherwise keep reporting under the old names).
    fn remove_tree(&mut self, dir: usize, rel: &str) {
        let below = |r: &str| r == rel || r.strip_prefix(rel).is_some_and(|s| s.starts_with('/'));
        let mut emptied = Vec::new();
        for (wd, targets) in &mut self.targets {
            targets.retain(
                |t| !matches!(t, Target::Tree { dir: d, rel: r, .. } if *d == dir && below(r)),
            );
            if targets.is_empty() {
                emptied.push(*wd);
            }
        }
        for wd in emptied {
            self.targets.remove(&wd);
            let _ = inotify::remove_watch(&self.fd, wd);
        }
    }

    fn run(mut self, wake: OwnedFd) {
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 64 * 1024];
        loop {
            let mut fds = [
                PollFd::new(&self.fd, PollFlags::IN),
                PollFd::new(&wake, PollFlags::IN),
            ];
            match poll(&mut fds, None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    log::error!("resource watch stopped: {e}");
                    return;
                }
            }
            if !fds[1].revents().is_empty() {
                return; // the FileWatch was dropped
            }
            let mut events = Vec::new();
            let mut reader = inotify::Reader::new(&self.fd, &mut buf);
            loop {
                match reader.next() {
                    Ok(e) => {
                        let name = e
                            .file_name()
                            .map(|n| OsString::from_vec(n.to_bytes().to_vec()));
                        events.push((e.wd(), e.events(), name));
                    }
                    Err(Errno::WOULDBLOCK) | Err(Errno::INTR) => break,
                    Err(e) => {
                        log::error!("resource watch stopped: {e}");
                        return;
                    }
                }
            }
            let mut batch = Batch::default();
            for (wd, flags, name) in events {
                self.event(wd, flags, name, &mut batch);
            }
            // The list first: a client that re-lists then hears of the files it now sees.
            if batch.list_changed {
                (self.list_changed)();
            }
            for uri in &batch.updated {
                (self.updated)(uri);
            }
        }
    }

    fn event(&mut self, wd: i32, flags: ReadFlags, name: Option<OsString>, batch: &mut Batch) {
        if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
            // Events were lost: announce everything that might have changed.
            batch.updated.extend(self.files.iter().cloned());
            batch.list_changed |= !self.dirs.is_empty();
            return;
        }
        if flags.contains(ReadFlags::IGNORED) {
            self.targets.remove(&wd); // the directory is gone or unwatched
            return;
        }
        let Some(name) = name else {
            return; // an event on the directory itself
        };
        let content = ReadFlags::MODIFY
            | ReadFlags::CLOSE_WRITE
            | ReadFlags::ATTRIB
            | ReadFlags::MOVED_TO
            | ReadFlags::DELETE;
        let presence =
            ReadFlags::CREATE | ReadFlags::DELETE | ReadFlags::MOVED_FROM | ReadFlags::MOVED_TO;
        let mut new_dirs = Vec::new();
        let mut gone_dirs = Vec::new();
        for target in self.targets.get(&wd).into_iter().flatten() {
            match target {
                Target::File { name: n, uri } => {
                    if *n == name && flags.intersects(content | presence) {
                        batch.updated.insert(uri.clone());
                    }
                }
                Target::Tree { dir, rel, depth } => {
                    let Some(name) = name.to_str().filter(|n| !n.starts_with('.')) else {
                        continue;
                    };
                    let sub = join(rel, name);
                    if flags.contains(ReadFlags::ISDIR) {
                        if flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO) {
                            new_dirs.push((*dir, sub.clone(), depth + 1));
                        }
                        if flags.contains(ReadFlags::MOVED_FROM) {
                            gone_dirs.push((*dir, sub));
                        }
                        batch.list_changed |= flags.intersects(presence);
                        continue;
                    }
                    let d = &self.dirs[*dir];
                    if d.serves(&sub) {
                        batch.list_changed |= flags.intersects(presence);
                        if flags.intersects(content) {
                            batch.updated.insert(d.uri(&sub));
                        }
                    }
                }
            }
        }
        for (dir, rel) in gone_dirs {
            self.remove_tree(dir, &rel);
        }
        for (dir, rel, depth) in new_dirs {
            if depth < MAX_DEPTH {
                let path: PathBuf = self.dirs[dir].root.join(&rel);
                self.add_tree(dir, &path, rel, depth);
            }
        }
    }
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
