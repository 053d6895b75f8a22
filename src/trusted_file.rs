//! Files that steer the server (`--config`, `--state-key-file`): read only if nobody but root or
//! the server's own user could have written them, and, for a secret, nobody else can read it.
//! The checks and the read go through one open, so the file checked is the file read.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What group and others may do with the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Others {
    /// Read it (a config file): only writing is refused.
    MayRead,
    /// Nothing (a key): any group or other bit is refused.
    Nothing,
}

/// The file's bytes, or a one-line reason it is refused.
pub(crate) fn read(path: &Path, others: Others, max_bytes: u64) -> Result<Vec<u8>, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    allowed(
        meta.mode(),
        meta.uid(),
        rustix::process::geteuid().as_raw(),
        others,
    )?;
    if meta.len() > max_bytes {
        return Err(format!("larger than {max_bytes} bytes"));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Refused: group or other bits `others` forbids, or an owner other than root or `euid`.
fn allowed(mode: u32, owner: u32, euid: u32, others: Others) -> Result<(), String> {
    let (mask, what, fix) = match others {
        Others::MayRead => (0o022, "write", "chmod go-w"),
        Others::Nothing => (0o077, "access", "chmod 600"),
    };
    if mode & mask != 0 {
        return Err(format!(
            "group or others may {what} it (mode {:o}); run {fix} on it",
            mode & 0o7777
        ));
    }
    if owner != 0 && owner != euid {
        return Err(format!(
            "owned by uid {owner}, neither root nor the user the server runs as (uid {euid})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_may_be_read_by_others_but_not_written() {
        assert!(allowed(0o100600, 0, 1000, Others::MayRead).is_ok());
        assert!(allowed(0o100644, 1000, 1000, Others::MayRead).is_ok());
        let e = allowed(0o100664, 0, 0, Others::MayRead).unwrap_err();
        assert!(e.contains("chmod go-w") && e.contains("664"), "{e}");
        assert!(allowed(0o100646, 0, 0, Others::MayRead).is_err());
        let e = allowed(0o100644, 1001, 1000, Others::MayRead).unwrap_err();
        assert!(e.contains("uid 1001"), "{e}");
    }

    #[test]
    fn a_key_file_is_its_owners_alone() {
        assert!(allowed(0o100600, 1000, 1000, Others::Nothing).is_ok());
        assert!(allowed(0o100400, 0, 1000, Others::Nothing).is_ok());
        for mode in [0o100640, 0o100604, 0o100610, 0o100660, 0o100644] {
            let e = allowed(mode, 1000, 1000, Others::Nothing).expect_err("group/other bits");
            assert!(e.contains("chmod 600") && !e.contains('\n'), "{e}");
        }
        assert!(allowed(0o100600, 1001, 1000, Others::Nothing).is_err());
    }
}
