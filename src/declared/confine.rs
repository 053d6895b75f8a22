//! Keeping a client-chosen path inside a configured root: the check behind a `dir` resource and
//! the `path` tool argument.
//!
//! Path checks by string prefix are how declarative servers get escaped (`..`, a symlink, a
//! sibling named like the root), so this one lets the filesystem resolve the path and compares
//! whole components of the result. An answer never tells whether a path outside the root exists:
//! anything that resolves outside is "path escapes its root", present or not.

use std::path::{Path, PathBuf};

/// Longest `requested` accepted (Linux's PATH_MAX); longer ones cannot be resolved anyway.
const MAX_LEN: usize = 4096;

/// Resolves `requested` (relative to `root`, or absolute) with every symlink followed, and
/// accepts it only if the result is `root` itself or below it, compared by whole path
/// components (never a string prefix: /srv/docs2 is not inside /srv/docs). `..` is resolved by
/// the filesystem, not textually. With `must_exist = false`, the longest existing ancestor is
/// resolved and the rest appended (the rest may not contain `..`, `.` or empty components).
/// Errors are short sentences fit for a tool error ("path escapes its root", "no such file").
pub(crate) fn confine(root: &Path, requested: &str, must_exist: bool) -> Result<PathBuf, String> {
    if requested.contains('\0') {
        return Err("path contains a NUL byte".into());
    }
    if requested.len() > MAX_LEN {
        return Err("path is too long".into());
    }
    let root = root
        .canonicalize()
        .map_err(|_| "the root directory is missing".to_string())?;
    let inside = |p: &Path| p.starts_with(&root);
    let full = root.join(requested); // an absolute `requested` replaces the root
    match full.canonicalize() {
        Ok(p) if inside(&p) => return Ok(p),
        Ok(_) => return Err(ESCAPES.into()),
        Err(_) => {}
    }
    // It does not resolve: find how far it does, so that an escape is told apart from a missing
    // file by where the path leads, not by whether the target exists.
    let (base, rest) = if Path::new(requested).is_absolute() {
        (PathBuf::from("/"), requested.trim_start_matches('/'))
    } else {
        (root.clone(), requested)
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let (existing, missing) = (0..segments.len())
        .rev()
        .find_map(|k| {
            let prefix = base.join(segments[..k].join("/"));
            prefix.canonicalize().ok().map(|p| (p, &segments[k..]))
        })
        .ok_or_else(|| ESCAPES.to_string())?;
    if !inside(&existing) {
        return Err(ESCAPES.into());
    }
    // Something is there yet does not resolve: a dangling symlink (or a loop). Writing through
    // it would land wherever it points, so it is never "a new file".
    if let Some(first) = missing.first()
        && existing.join(first).symlink_metadata().is_ok()
    {
        return Err("path goes through a broken symlink".into());
    }
    if must_exist {
        return Err("no such file".into());
    }
    let mut out = existing;
    for seg in missing {
        // `Path::push` would quietly drop `.` and empty parts; refuse them instead.
        if matches!(*seg, "" | "." | "..") {
            return Err("path has '.', '..' or an empty part where it does not exist".into());
        }
        out.push(seg);
    }
    Ok(out)
}

const ESCAPES: &str = "path escapes its root";

/// A directory under the system's temporary directory, removed with everything in it on drop.
#[cfg(test)]
pub(crate) struct TempDir(pub PathBuf);

#[cfg(test)]
impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("fastmcp-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p.canonicalize().unwrap())
    }
}

#[cfg(test)]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// `<tmp>/docs` (with `a.txt`, `sub/b.txt`, `in -> sub`, `out -> <tmp>/secret`), a sibling
    /// `<tmp>/docs2` and `<tmp>/secret/key`.
    fn tree() -> (TempDir, PathBuf) {
        let t = TempDir::new("confine");
        let docs = t.0.join("docs");
        fs::create_dir_all(docs.join("sub")).unwrap();
        fs::create_dir_all(t.0.join("docs2")).unwrap();
        fs::create_dir_all(t.0.join("secret")).unwrap();
        fs::write(docs.join("a.txt"), "a").unwrap();
        fs::write(docs.join("sub/b.txt"), "b").unwrap();
        fs::write(t.0.join("docs2/c.txt"), "c").unwrap();
        fs::write(t.0.join("secret/key"), "k").unwrap();
        symlink(docs.join("sub"), docs.join("in")).unwrap();
        symlink(t.0.join("secret"), docs.join("out")).unwrap();
        symlink(t.0.join("secret/nothing"), docs.join("dangling")).unwrap();
        (t, docs)
    }

    #[test]
    fn inside_paths_resolve() {
        let (_t, docs) = tree();
        assert_eq!(confine(&docs, "a.txt", true), Ok(docs.join("a.txt")));
        assert_eq!(confine(&docs, "", true), Ok(docs.clone()));
        assert_eq!(confine(&docs, "sub/../a.txt", true), Ok(docs.join("a.txt")));
        // A symlink that stays inside is followed.
        assert_eq!(confine(&docs, "in/b.txt", true), Ok(docs.join("sub/b.txt")));
        let abs = docs.join("sub/b.txt");
        assert_eq!(confine(&docs, abs.to_str().unwrap(), true), Ok(abs));
    }

    #[test]
    fn escapes_are_refused_whether_the_target_exists_or_not() {
        let (t, docs) = tree();
        let secret = t.0.join("secret/key");
        for p in [
            "../secret/key",
            "../secret/none",
            "sub/../../secret/key",
            "../../../../../../etc/passwd",
            "out/key",
            "out/none",
            "../docs2/c.txt", // the sibling whose name starts like the root's
            "../docs2",
            "/etc/passwd",
            "/nonexistent/x",
            secret.to_str().unwrap(),
        ] {
            for must_exist in [true, false] {
                assert_eq!(confine(&docs, p, must_exist), Err(ESCAPES.into()), "{p}");
            }
        }
    }

    #[test]
    fn missing_leaves_depend_on_must_exist() {
        let (_t, docs) = tree();
        assert_eq!(confine(&docs, "new.txt", true), Err("no such file".into()));
        assert_eq!(confine(&docs, "new.txt", false), Ok(docs.join("new.txt")));
        assert_eq!(confine(&docs, "in/x/y", false), Ok(docs.join("sub/x/y")));
        for bad in ["x/../y", "x/./y", "x//y", "new/"] {
            assert!(confine(&docs, bad, false).is_err(), "{bad}");
        }
        // Writing through a dangling symlink would create its target outside.
        assert!(confine(&docs, "dangling", false).is_err());
        assert!(confine(&docs, "dangling", true).is_err());
    }

    #[test]
    fn nul_and_overlong_paths_are_refused() {
        let (_t, docs) = tree();
        assert!(confine(&docs, "a.txt\0", true).is_err());
        assert!(confine(&docs, &"a/".repeat(3000), false).is_err());
        assert!(confine(&docs.join("missing-root"), "a.txt", true).is_err());
    }
}
