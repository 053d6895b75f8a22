//! Who is calling, and what they may use: the bearer tokens a server accepts (the static
//! `--auth-token-file` token and the scoped grants of `[[auth.token]]`), each mapped to a
//! [`Caller`] and the [`Scope`] of tools it may see.
//!
//! Tokens are never kept, only their SHA-256 digests: a presented token is hashed once and its
//! digest compared with every accepted one without an early exit, so the time taken tells nothing
//! of which digest, or how much of one, came close (and hashing first hides the token's length).
//!
//! A caller is a name and a key. The key is what a session is bound to (the digest of the token
//! that opened it); the scope is looked up again on every request, so a reload of the grants
//! takes effect at once. OAuth (issue 19) fits the same shape: the subject or client id as the
//! name, a key derived from them, and the token's scopes turned into a [`Scope`].

use crate::config::TokenGrant;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

/// The caller name of the `--auth-token-file` token (and of `Config::auth_token`).
pub const STATIC_TOKEN_NAME: &str = "auth-token-file";

/// Who sent a request: the name of the token's grant, and the key sessions are bound to.
#[derive(Clone, Debug)]
pub struct Caller {
    name: Arc<str>,
    key: [u8; 32],
    /// Set for an OAuth access token: who it was issued to, and what for.
    oauth: Option<Arc<Identity>>,
}

/// The subject of OAuth access tokens. Every caller of one (issuer, subject) shares this one
/// value while any holds it, so a session opened with one token sees the scopes of the
/// subject's latest token (a client that stepped up to a wider scope keeps its session).
#[derive(Debug)]
pub struct Identity {
    subject: Option<String>,
    client_id: Option<String>,
    scopes: RwLock<Arc<[String]>>,
}

impl Caller {
    /// The grant's name (`auth-token-file` for the static token), or an OAuth token's `sub`
    /// (its `client_id` when it has none).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// An OAuth token's `sub`.
    pub fn subject(&self) -> Option<&str> {
        self.oauth.as_ref()?.subject.as_deref()
    }

    /// An OAuth token's `client_id` (or `azp`).
    pub fn client_id(&self) -> Option<&str> {
        self.oauth.as_ref()?.client_id.as_deref()
    }

    /// The scopes of the subject's latest OAuth token; `None` for a static token.
    pub fn scopes(&self) -> Option<Arc<[String]>> {
        let id = self.oauth.as_ref()?;
        Some(id.scopes.read().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// Whether both hold the same credentials (compared in constant time): a session is used only
    /// by the token that opened it.
    pub fn is(&self, other: &Caller) -> bool {
        constant_time_eq(&self.key, &other.key)
    }
}

/// Whether a session opened by `owner` may be used by `caller` (no token on either side when the
/// server requires none).
pub fn same_caller(owner: Option<&Caller>, caller: Option<&Caller>) -> bool {
    match (owner, caller) {
        (None, None) => true,
        (Some(a), Some(b)) => a.is(b),
        _ => false,
    }
}

/// What a caller may use. Only tools are scoped; resources, prompts and completion are not.
#[derive(Clone, Debug)]
pub enum Scope {
    /// Every tool: no token required, or the static token.
    All,
    /// The tools whose names match one of these globs.
    Tools(Arc<[glob::Pattern]>),
    /// An OAuth token's scopes: every tool that needs no scope or one of these.
    OAuth(Arc<[String]>),
}

impl Scope {
    /// Whether the tool `name`, which needs no OAuth scope, is visible to and callable by this
    /// caller.
    pub fn allows_tool(&self, name: &str) -> bool {
        self.allows(name, None)
    }

    /// Whether the tool `name` is visible to, and callable by, this caller; `required` is the
    /// OAuth scope the tool declares, which binds OAuth callers only (a static token's grant
    /// names its tools itself).
    pub fn allows(&self, name: &str, required: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Tools(globs) => globs.iter().any(|g| g.matches(name)),
            Scope::OAuth(held) => required.is_none_or(|r| held.iter().any(|h| h == r)),
        }
    }

    /// A scope that shows nothing: a caller whose grant was removed while its request was on
    /// its way.
    fn nothing() -> Scope {
        Scope::Tools(Arc::from(Vec::new()))
    }
}

/// Why a request was refused: it carried no token the server accepts.
#[derive(Debug, PartialEq, Eq)]
pub struct Unauthorized;

/// One accepted token.
struct Entry {
    caller: Caller,
    scope: Scope,
}

/// The tokens a server accepts at one moment; replaced whole by [`Access::set_grants`].
struct Tokens {
    entries: Vec<Entry>,
}

impl Tokens {
    fn new(static_key: Option<[u8; 32]>, grants: &[TokenGrant]) -> Tokens {
        let mut entries: Vec<Entry> = static_key
            .map(|key| Entry {
                caller: Caller {
                    name: STATIC_TOKEN_NAME.into(),
                    key,
                    oauth: None,
                },
                scope: Scope::All,
            })
            .into_iter()
            .collect();
        for g in grants {
            if entries.iter().any(|e| e.caller.key == g.sha256) {
                log::warn!(
                    "token {:?} has the digest of an earlier token; the earlier one applies",
                    g.name
                );
            }
            let globs: Vec<glob::Pattern> = g
                .tools
                .iter()
                .filter_map(|t| match glob::Pattern::new(t) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        log::warn!("token {:?}: tool glob {t:?} ignored: {e}", g.name);
                        None
                    }
                })
                .collect();
            entries.push(Entry {
                caller: Caller {
                    name: g.name.as_str().into(),
                    key: g.sha256,
                    oauth: None,
                },
                scope: Scope::Tools(globs.into()),
            });
        }
        Tokens { entries }
    }

    /// The entry whose key is `key`. Every entry is compared, each in constant time, so the time
    /// taken depends only on how many there are.
    fn find(&self, key: &[u8; 32]) -> Option<&Entry> {
        let mut found = None;
        for e in &self.entries {
            let hit = constant_time_eq(key, &e.caller.key);
            if hit && found.is_none() {
                found = Some(e);
            }
        }
        found
    }
}

/// An [`Identity`]'s entry: the session key and the client id.
type IdentityKey = ([u8; 32], Option<String>);

/// The accepted tokens of one server, shared by its admission check and its [`Access`] users;
/// the grants are swapped atomically (a request sees the old set or the new one, never a mix).
pub struct Access {
    static_key: Option<[u8; 32]>,
    /// A server started with any token keeps requiring one: removing the last grant at run time
    /// (a reload) closes the door to everyone instead of opening it.
    required: bool,
    current: RwLock<Arc<Tokens>>,
    /// The OAuth subjects some caller holds now, by key (see [`Identity`]).
    identities: Mutex<HashMap<IdentityKey, Weak<Identity>>>,
}

impl Access {
    /// The static token (`--auth-token-file`; it sees every tool) and the scoped grants.
    pub fn new(static_token: Option<&str>, grants: &[TokenGrant]) -> Access {
        let static_key = static_token.map(digest);
        Access {
            static_key,
            required: static_key.is_some() || !grants.is_empty(),
            current: RwLock::new(Arc::new(Tokens::new(static_key, grants))),
            identities: Mutex::new(HashMap::new()),
        }
    }

    /// The static token or grant `token` is, if any (beside OAuth, a bearer that is a known
    /// static token is that caller; any other goes to OAuth verification).
    pub fn known(&self, token: &str) -> Option<Caller> {
        self.tokens().find(&digest(token)).map(|e| e.caller.clone())
    }

    /// The caller of a verified OAuth token. Sessions are bound to (issuer, subject), so a
    /// refreshed token of the same subject keeps its session and another subject's does not;
    /// the subject's scopes become this token's.
    pub fn oauth_caller(
        &self,
        issuer: &str,
        subject: Option<&str>,
        client_id: Option<&str>,
        scopes: Vec<String>,
    ) -> Caller {
        let who = subject.or(client_id).unwrap_or("");
        let mut h = Sha256::new();
        // Kinds and lengths first, so no issuer/subject pair can be spelled as another.
        h.update(b"oauth\0");
        for part in [
            issuer,
            if subject.is_some() {
                "sub"
            } else {
                "client_id"
            },
            who,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let key: [u8; 32] = h.finalize().into();
        let scopes: Arc<[String]> = scopes.into();
        let mut ids = self.identities.lock().unwrap_or_else(|p| p.into_inner());
        let id_key = (key, client_id.map(str::to_owned));
        let identity = match ids.get(&id_key).and_then(Weak::upgrade) {
            Some(id) => {
                *id.scopes.write().unwrap_or_else(|p| p.into_inner()) = scopes;
                id
            }
            None => {
                // Forgotten subjects go when the table has doubled since it was last swept.
                if ids.len() >= 64 && ids.len().is_power_of_two() {
                    ids.retain(|_, w| w.strong_count() > 0);
                }
                let id = Arc::new(Identity {
                    subject: subject.map(str::to_owned),
                    client_id: client_id.map(str::to_owned),
                    scopes: RwLock::new(scopes),
                });
                ids.insert(id_key, Arc::downgrade(&id));
                id
            }
        };
        Caller {
            name: if who.is_empty() {
                "oauth".into()
            } else {
                who.into()
            },
            key,
            oauth: Some(identity),
        }
    }

    /// How many OAuth subjects the table holds, forgotten ones included (they go at its sweeps).
    #[cfg(test)]
    fn identities_held(&self) -> usize {
        self.identities
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    fn tokens(&self) -> Arc<Tokens> {
        // A poisoned lock only means a panic elsewhere while swapping an `Arc`; the value is whole.
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the scoped grants; the static token stays.
    pub fn set_grants(&self, grants: &[TokenGrant]) {
        let next = Arc::new(Tokens::new(self.static_key, grants));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = next;
        log::info!("access: {} scoped token(s) in force", grants.len());
        if self.locks_everyone_out(grants) {
            log::warn!(
                "access: no token is granted any more, so no request is accepted (restart without tokens to open the server)"
            );
        }
    }

    /// Whether `grants` would let nobody in: a token is required, and neither the static token
    /// nor any grant is left.
    fn locks_everyone_out(&self, grants: &[TokenGrant]) -> bool {
        self.required && self.static_key.is_none() && grants.is_empty()
    }

    /// Who presents `token` (the bearer value, `None` when the request has none): `Ok(None)`
    /// when the server requires no token, `Err` when it does and this one is not accepted.
    pub fn identify(&self, token: Option<&str>) -> Result<Option<Caller>, Unauthorized> {
        let tokens = self.tokens();
        if tokens.entries.is_empty() && !self.required {
            return Ok(None);
        }
        let key = digest(token.unwrap_or(""));
        match (token, tokens.find(&key)) {
            (Some(_), Some(e)) => Ok(Some(e.caller.clone())),
            _ => Err(Unauthorized),
        }
    }

    /// Whether `caller`'s token is still accepted (grants may have changed since it was
    /// identified).
    pub fn accepts(&self, caller: &Caller) -> bool {
        // An OAuth caller's token is checked on every request; reloading grants leaves it be.
        caller.oauth.is_some() || self.tokens().find(&caller.key).is_some()
    }

    /// What `caller` may use now (grants may have changed since its session began): everything
    /// without a token, nothing once its grant is gone.
    pub fn scope(&self, caller: Option<&Caller>) -> Scope {
        let Some(caller) = caller else {
            return Scope::All;
        };
        if let Some(scopes) = caller.scopes() {
            return Scope::OAuth(scopes);
        }
        self.tokens()
            .find(&caller.key)
            .map_or_else(Scope::nothing, |e| e.scope.clone())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares without an early exit, so the time taken does not reveal how much of a guess was
/// right. (The length is not secret.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
