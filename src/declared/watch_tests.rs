//! Tests of `watch.rs` with real files in a temporary directory.

use super::*;
use crate::declared::confine::TempDir;
use std::fs;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Generous: inotify delivers within milliseconds; this only bounds a failing test.
const WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, PartialEq)]
enum Heard {
    Updated(String),
    ListChanged,
}

/// A `file` resource on `<tmp>/motd` and a `dir` resource on `<tmp>/docs` (`*.md` only), and
/// what the watch reports.
fn watch() -> (TempDir, FileWatch, Receiver<Heard>) {
    let t = TempDir::new("watch");
    fs::write(t.0.join("motd"), "hello").unwrap();
    fs::create_dir_all(t.0.join("docs/sub")).unwrap();
    fs::write(t.0.join("docs/sub/b.md"), "b").unwrap();
    let specs = [
        ResourceSpec {
            uri: "file:///motd".into(),
            file: Some(t.0.join("motd")),
            ..ResourceSpec::default()
        },
        ResourceSpec {
            uri: "file:///docs/{path}".into(),
            dir: Some(t.0.join("docs")),
            include: Some(vec!["*.md".into()]),
            ..ResourceSpec::default()
        },
    ];
    let (tx, rx) = channel();
    let tx2 = tx.clone();
    let updated = move |uri: &str| drop(tx.send(Heard::Updated(uri.to_string())));
    let listed = move || drop(tx2.send(Heard::ListChanged));
    let w = FileWatch::start(&specs, updated, listed).unwrap();
    (t, w, rx)
}

/// Everything heard until `want` (which must come within [`WAIT`]).
fn until(rx: &Receiver<Heard>, want: Heard) -> Vec<Heard> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(h) if h == want => return seen,
            Ok(h) => seen.push(h),
            Err(_) => panic!("never heard {want:?}; heard {seen:?}"),
        }
    }
}

fn updated(uri: &str) -> Heard {
    Heard::Updated(uri.to_string())
}

#[test]
fn a_write_and_an_atomic_replace_are_updates() {
    let (t, _w, rx) = watch();
    fs::write(t.0.join("motd"), "changed").unwrap();
    until(&rx, updated("file:///motd"));
    fs::write(t.0.join("motd.tmp"), "replaced").unwrap();
    fs::rename(t.0.join("motd.tmp"), t.0.join("motd")).unwrap();
    until(&rx, updated("file:///motd"));
    fs::write(t.0.join("docs/sub/b.md"), "b2").unwrap();
    until(&rx, updated("file:///docs/sub/b.md"));
}

#[test]
fn files_coming_and_going_in_a_dir_change_the_list() {
    let (t, _w, rx) = watch();
    let docs = t.0.join("docs");
    // Not served (hidden, not included): nothing to hear of them before the served file.
    fs::write(docs.join(".draft.md"), "x").unwrap();
    fs::write(docs.join("notes.txt"), "x").unwrap();
    fs::write(docs.join("a.md"), "a").unwrap();
    let before = until(&rx, Heard::ListChanged);
    assert!(before.is_empty(), "{before:?}");
    until(&rx, updated("file:///docs/a.md"));
    // A new subdirectory is watched too.
    fs::create_dir(docs.join("new")).unwrap();
    until(&rx, Heard::ListChanged);
    fs::write(docs.join("new/c.md"), "c").unwrap();
    until(&rx, updated("file:///docs/new/c.md"));
    fs::remove_file(docs.join("a.md")).unwrap();
    until(&rx, Heard::ListChanged);
}

#[test]
fn a_subdirectory_moved_out_is_no_longer_reported() {
    let (t, _w, rx) = watch();
    fs::rename(t.0.join("docs/sub"), t.0.join("gone")).unwrap();
    until(&rx, Heard::ListChanged);
    fs::write(t.0.join("gone/b.md"), "moved").unwrap();
    // The sentinel's URI sorts after the other's, so that in one batch it would come second.
    fs::write(t.0.join("docs/z.md"), "z").unwrap();
    let heard = until(&rx, updated("file:///docs/z.md"));
    assert!(
        !heard.contains(&updated("file:///docs/sub/b.md")),
        "{heard:?}"
    );
}

#[test]
fn dropping_the_watch_stops_its_thread() {
    let t = TempDir::new("watch-drop");
    let spec = ResourceSpec {
        uri: "file:///d/{path}".into(),
        dir: Some(t.0.clone()),
        ..ResourceSpec::default()
    };
    let alive = Arc::new(());
    let (a, b) = (alive.clone(), alive.clone());
    let w = FileWatch::start(
        &[spec],
        move |_| {
            let _keep = &a;
        },
        move || {
            let _keep = &b;
        },
    )
    .unwrap();
    assert_eq!(Arc::strong_count(&alive), 3);
    let started = Instant::now();
    drop(w);
    assert!(started.elapsed() < WAIT);
    // The thread ended and its callbacks with it.
    assert_eq!(Arc::strong_count(&alive), 1);
}
