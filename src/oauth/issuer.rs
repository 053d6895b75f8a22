//! One authorization server: where its keys are (discovered from its metadata, RFC 8414, else
//! OpenID Connect discovery), the keys fetched last, and the rules for fetching again.
//!
//! A request whose key is cached never waits. One that needs a fetch (an unknown `kid`) starts
//! it, or waits for the one under way: at most one fetch per issuer at a time, each bounded by
//! the fetch timeout, and at most one per `jwks_refresh` caused by unknown ids, so made-up `kid`s
//! cannot make the server hammer the issuer. A failed fetch never lets a request in: the request
//! is told the issuer is unavailable (503) and retries later.

use super::fetch::Fetcher;
use super::jwks::Keys;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Keys older than this are fetched again in the background, whatever else happens.
pub const FULL_REFRESH: Duration = Duration::from_secs(3600);

/// The limits one issuer's fetches keep.
#[derive(Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub refresh_gap: Duration,
}

/// What a token's key lookup found.
pub enum Lookup {
    /// Keys that may have signed it (already filtered by `kid`, family and pinned `alg`).
    Found(Vec<DecodingKey>),
    /// The issuer's current keys have no such key (after the one fetch allowed).
    Unknown,
    /// The keys could not be fetched; retry after this long.
    Unavailable(Duration),
}

#[derive(Default)]
struct State {
    keys: Arc<Keys>,
    jwks_uri: Option<String>,
    fetching: bool,
    /// Bumped when a fetch ends, so waiters know theirs is done.
    generation: u64,
    last_attempt: Option<Instant>,
    last_ok: Option<Instant>,
    last_attempt_unix: Option<u64>,
    last_ok_unix: Option<u64>,
    last_error: Option<String>,
}

/// What `/health` shows of an issuer.
pub struct Status {
    pub issuer: String,
    pub keys: usize,
    pub last_fetch_ok: Option<bool>,
    pub last_fetch_at: Option<u64>,
    pub last_ok_at: Option<u64>,
    pub last_error: Option<String>,
    pub fetches_ok: u64,
    pub fetches_failed: u64,
}

pub struct Issuer {
    /// As configured; a token's `iss` must be this (a trailing `/` aside).
    pub url: String,
    state: Mutex<State>,
    done: Condvar,
    fetches_ok: AtomicU64,
    fetches_failed: AtomicU64,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether two issuer identifiers name the same server (one may end in `/`, the other not).
pub fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The metadata URLs to try, in order (RFC 8414 §3.1 inserts the well-known part before the
/// issuer's path; OpenID Connect Discovery appends it; the MCP revision 2025-11-25 tries both).
pub fn discovery_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let Some((scheme, authority, path)) = super::settings::split_url(trimmed) else {
        return Vec::new();
    };
    let origin = format!("{scheme}://{authority}");
    if path.is_empty() {
        return vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ];
    }
    vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}/.well-known/openid-configuration{path}"),
        format!("{trimmed}/.well-known/openid-configuration"),
    ]
}

impl Issuer {
    pub fn new(url: &str) -> Issuer {
        Issuer {
            url: url.to_string(),
            state: Mutex::new(State::default()),
            done: Condvar::new(),
            fetches_ok: AtomicU64::new(0),
            fetches_failed: AtomicU64::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fetches counted so far: (ok, failed).
    pub fn fetch_counts(&self) -> (u64, u64) {
        (
            self.fetches_ok.load(Ordering::Relaxed),
            self.fetches_failed.load(Ordering::Relaxed),
        )
    }

    pub fn status(&self) -> Status {
        let s = self.state();
        let (ok, failed) = self.fetch_counts();
        Status {
            issuer: self.url.clone(),
            keys: s.keys.len(),
            last_fetch_ok: s.last_attempt.map(|_| s.last_error.is_none()),
            last_fetch_at: s.last_attempt_unix,
            last_ok_at: s.last_ok_unix,
            last_error: s.last_error.clone(),
            fetches_ok: ok,
            fetches_failed: failed,
        }
    }

    /// Whether any key is cached.
    pub fn has_keys(&self) -> bool {
        self.state().keys.len() > 0
    }

    /// The keys that may have signed a token of `kid`/`alg`, fetching once if needed (see the
    /// module doc). Blocks at most about one fetch timeout.
    pub fn lookup(
        self: &Arc<Self>,
        kid: Option<&str>,
        alg: Algorithm,
        fetcher: &Arc<Fetcher>,
        limits: Limits,
    ) -> Lookup {
        let mut s = self.state();
        let found = s.keys.candidates(kid, alg);
        let stale = s.last_ok.is_none_or(|t| t.elapsed() >= FULL_REFRESH);
        if !found.is_empty() {
            if stale && !s.fetching {
                s.fetching = true;
                drop(s);
                self.refresh_in_background(fetcher, limits);
            }
            return Lookup::Found(found);
        }
        // A token with a kid the current set has (of another type) gains nothing from a fetch.
        if kid.is_some_and(|k| s.keys.has_kid(k)) {
            return Lookup::Unknown;
        }
        if !s.fetching {
            let gap_left = s
                .last_attempt
                .map(|t| limits.refresh_gap.saturating_sub(t.elapsed()))
                .unwrap_or_default();
            if !gap_left.is_zero() {
                return if s.last_error.is_some() {
                    Lookup::Unavailable(gap_left)
                } else {
                    Lookup::Unknown
                };
            }
            s.fetching = true;
            drop(s);
            self.fetch_now(fetcher, limits);
            s = self.state();
        } else {
            let generation = s.generation;
            let deadline = Instant::now() + limits.timeout + Duration::from_secs(1);
            while s.fetching && s.generation == generation {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Lookup::Unavailable(limits.refresh_gap.max(Duration::from_secs(1)));
                }
                s = self
                    .done
                    .wait_timeout(s, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        let found = s.keys.candidates(kid, alg);
        if !found.is_empty() {
            Lookup::Found(found)
        } else if s.last_error.is_some() {
            Lookup::Unavailable(limits.refresh_gap.max(Duration::from_secs(1)))
        } else {
            Lookup::Unknown
        }
    }

    /// Starts a fetch on its own thread unless one is under way (at startup, so the first
    /// client does not pay for discovery).
    pub fn prefetch(self: &Arc<Self>, fetcher: &Arc<Fetcher>, limits: Limits) {
        {
            let mut s = self.state();
            if s.fetching {
                return;
            }
            s.fetching = true;
        }
        self.refresh_in_background(fetcher, limits);
    }

    /// The caller has set `fetching`.
    fn refresh_in_background(self: &Arc<Self>, fetcher: &Arc<Fetcher>, limits: Limits) {
        let (me, fetcher) = (self.clone(), fetcher.clone());
        let spawned = std::thread::Builder::new()
            .name("oauth-fetch".into())
            .spawn(move || me.fetch_now(&fetcher, limits));
        if let Err(e) = spawned {
            log::warn!("oauth: cannot start a fetch thread: {e}");
            let mut s = self.state();
            s.fetching = false;
            s.generation += 1;
            self.done.notify_all();
        }
    }

    /// Fetches (discovery if needed, then the JWKS) within one timeout and records the outcome;
    /// the caller has set `fetching`.
    fn fetch_now(&self, fetcher: &Fetcher, limits: Limits) {
        let deadline = Instant::now() + limits.timeout;
        let jwks_uri = self.state().jwks_uri.clone();
        let outcome = self.fetch_keys(fetcher, jwks_uri, deadline);
        let mut s = self.state();
        s.fetching = false;
        s.generation += 1;
        s.last_attempt = Some(Instant::now());
        s.last_attempt_unix = Some(now_unix());
        match outcome {
            Ok((uri, keys)) => {
                log::info!("oauth: {} has {} signing key(s)", self.url, keys.len());
                self.fetches_ok.fetch_add(1, Ordering::Relaxed);
                s.jwks_uri = Some(uri);
                s.keys = Arc::new(keys);
                s.last_ok = s.last_attempt;
                s.last_ok_unix = s.last_attempt_unix;
                s.last_error = None;
            }
            Err(e) => {
                log::warn!("oauth: fetching the keys of {} failed: {e}", self.url);
                self.fetches_failed.fetch_add(1, Ordering::Relaxed);
                // Discovered again next time: the metadata may have moved the keys.
                s.jwks_uri = None;
                s.last_error = Some(e);
            }
        }
        drop(s);
        self.done.notify_all();
    }

    fn fetch_keys(
        &self,
        fetcher: &Fetcher,
        jwks_uri: Option<String>,
        deadline: Instant,
    ) -> Result<(String, Keys), String> {
        let uri = match jwks_uri {
            Some(u) => u,
            None => self.discover(fetcher, deadline)?,
        };
        let doc = fetcher
            .get_json(&uri, deadline)?
            .ok_or_else(|| format!("{uri}: 404"))?;
        Ok((uri, Keys::parse(&doc)?))
    }

    /// The `jwks_uri` of the first metadata document found whose `issuer` is this one.
    fn discover(&self, fetcher: &Fetcher, deadline: Instant) -> Result<String, String> {
        for url in discovery_urls(&self.url) {
            let Some(meta) = fetcher.get_json(&url, deadline)? else {
                continue;
            };
            let issuer = meta.get("issuer").and_then(Value::as_str).unwrap_or("");
            if !same_issuer(issuer, &self.url) {
                return Err(format!(
                    "{url}: names issuer {issuer:?}, not {:?} (RFC 8414 §3.3)",
                    self.url
                ));
            }
            let uri = meta
                .get("jwks_uri")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{url}: no jwks_uri"))?;
            return match super::settings::split_url(uri) {
                Some(("https", _, _)) => Ok(uri.to_string()),
                Some(("http", a, _)) if super::settings::is_loopback_authority(a) => {
                    Ok(uri.to_string())
                }
                _ => Err(format!(
                    "{url}: jwks_uri {uri:?} is neither https nor loopback http"
                )),
            };
        }
        Err(format!(
            "no authorization server metadata found for {}",
            self.url
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls_insert_and_append() {
        assert_eq!(
            discovery_urls("https://as.example.com/"),
            [
                "https://as.example.com/.well-known/oauth-authorization-server",
                "https://as.example.com/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            discovery_urls("https://as.example.com/realms/a"),
            [
                "https://as.example.com/.well-known/oauth-authorization-server/realms/a",
                "https://as.example.com/.well-known/openid-configuration/realms/a",
                "https://as.example.com/realms/a/.well-known/openid-configuration"
            ]
        );
        assert!(same_issuer("https://a/", "https://a") && !same_issuer("https://a", "https://b"));
    }
}
