//! The key that signs the `requestState` of input-required results (see `mrtr`). Random per
//! process by default; read from a file (`--state-key-file`) when several instances sit behind
//! one proxy, because a client's retry of an input-required request may land on any of them and
//! each must accept a state the others signed.

use crate::trusted_file::Others;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Fewer bytes than this in a key file is refused: a short secret can be guessed, and anyone who
/// has it can forge the answers a handler trusts.
pub const MIN_KEY_FILE_BYTES: usize = 32;

/// A key file larger than this is not a key (a wrong path, say).
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The key `requestState` is signed with; random per process unless configured.
#[derive(Clone)]
pub struct StateKey([u8; 32]);

impl std::fmt::Debug for StateKey {
    /// Never the key itself: a `Config` is printed in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

impl StateKey {
    /// A fresh random key: states do not survive a restart (the client starts the call again).
    pub fn random() -> StateKey {
        let mut k = [0u8; 32];
        k[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        k[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        StateKey(k)
    }

    /// The key derived from a shared secret (SHA-256 of its bytes, surrounding whitespace left
    /// out so that a trailing newline does not make two copies of one file differ).
    pub fn from_secret(secret: &[u8]) -> StateKey {
        StateKey(Sha256::digest(secret.trim_ascii()).into())
    }

    /// The key in the file at `path` (`--state-key-file`), shared by every instance behind one
    /// proxy. Refused, with a one-line reason, unless only its owner (root or the user the server
    /// runs as) may read it and it holds at least `MIN_KEY_FILE_BYTES` bytes: a key others can
    /// read lets them forge input answers.
    pub fn from_file(path: &Path) -> Result<StateKey, String> {
        let fail = |why: String| format!("{}: {why}", path.display());
        let bytes =
            crate::trusted_file::read(path, Others::Nothing, MAX_KEY_FILE_BYTES).map_err(fail)?;
        if bytes.trim_ascii().len() < MIN_KEY_FILE_BYTES {
            return Err(fail(format!(
                "holds fewer than {MIN_KEY_FILE_BYTES} bytes; make one with: head -c 32 /dev/urandom | base64 > FILE"
            )));
        }
        Ok(StateKey::from_secret(&bytes))
    }

    /// An HMAC-SHA256 over `data` under this key.
    pub(crate) fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this never fails.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        m.update(data);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_file_is_the_key() {
        let dir = std::env::temp_dir().join(format!("state-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, format!("{}\n", "k".repeat(40))).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = StateKey::from_file(&path).expect_err("0644 is refused");
        assert!(e.contains("644"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let a = StateKey::from_file(&path).unwrap();
        let b = StateKey::from_secret("k".repeat(40).as_bytes());
        assert_eq!(a.0, b.0, "a trailing newline is not part of the key");
        assert_ne!(a.0, StateKey::from_secret(b"other").0);
        std::fs::write(&path, "short").unwrap();
        assert!(
            StateKey::from_file(&path)
                .unwrap_err()
                .contains("fewer than")
        );
        assert!(
            StateKey::from_file(&dir)
                .unwrap_err()
                .contains("not a regular file")
        );
        assert_eq!(format!("{a:?}"), "StateKey(..)");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
