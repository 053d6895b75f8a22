//! Opaque access tokens, asked about at the authorization server (RFC 7662): the answer must say
//! `active`, name this resource in `aud` and an accepted issuer in `iss` (when it gives one),
//! and not be past `exp`. Answers are cached by the token's digest (never the token) until
//! `min(exp, 60 s)`, so a client's requests cost one introspection a minute, and a flood of one
//! bad token costs one.

use super::grant::{Grant, Reason, Refusal, Rules, scopes_of};
use super::issuer::same_issuer;
use super::settings::Introspection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest time an answer is reused.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// Answers kept at most (expired ones go first, then everything).
const CACHE_ENTRIES: usize = 10_000;

type Answer = Result<Grant, (Reason, String)>;

pub struct Introspector {
    endpoint: Introspection,
    cache: Mutex<HashMap<[u8; 32], (Instant, Answer)>>,
    pub fetches_ok: AtomicU64,
    pub fetches_failed: AtomicU64,
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Introspector {
    pub fn new(endpoint: Introspection) -> Introspector {
        Introspector {
            endpoint,
            cache: Mutex::new(HashMap::new()),
            fetches_ok: AtomicU64::new(0),
            fetches_failed: AtomicU64::new(0),
        }
    }

    pub fn url(&self) -> &str {
        &self.endpoint.url
    }

    /// What the authorization server says of `token`, from the cache when it is fresh.
    pub fn check(&self, rules: &Rules, token: &str) -> Result<Grant, Refusal> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .get(&key)
                .filter(|(until, _)| Instant::now() < *until)
                .map(|(_, a)| a.clone())
        };
        let answer = match cached {
            Some(a) => a,
            None => {
                let deadline = Instant::now() + rules.limits.timeout;
                let e = &self.endpoint;
                let doc = rules.fetcher.post_form(
                    &e.url,
                    (&e.client_id, &e.secret),
                    &[("token", token), ("token_type_hint", "access_token")],
                    deadline,
                );
                let doc = match doc {
                    Ok(d) => {
                        self.fetches_ok.fetch_add(1, Ordering::Relaxed);
                        d
                    }
                    Err(why) => {
                        self.fetches_failed.fetch_add(1, Ordering::Relaxed);
                        log::warn!("oauth: introspection failed: {why}");
                        return Err(Refusal::Unavailable(
                            Duration::from_secs(5),
                            "token introspection is unavailable now".into(),
                        ));
                    }
                };
                let answer = judge(rules, &doc);
                self.remember(key, &answer);
                answer
            }
        };
        let grant = answer.map_err(|(r, why)| Refusal::Invalid(r, why))?;
        // A cached answer outlives nothing: its own exp is checked again.
        if grant
            .expires
            .is_some_and(|exp| exp + rules.leeway.as_secs() < now_unix())
        {
            return Err(Refusal::Invalid(
                Reason::Expired,
                "the token has expired".into(),
            ));
        }
        Ok(grant)
    }

    fn remember(&self, key: [u8; 32], answer: &Answer) {
        let now = Instant::now();
        let mut ttl = CACHE_TTL;
        if let Ok(g) = answer
            && let Some(exp) = g.expires
        {
            ttl = ttl.min(Duration::from_secs(exp.saturating_sub(now_unix())));
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, (until, _)| now < *until);
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (now + ttl, answer.clone()));
    }
}

/// The grant an introspection answer makes, or why it makes none.
fn judge(rules: &Rules, doc: &Value) -> Answer {
    if doc.get("active").and_then(Value::as_bool) != Some(true) {
        return Err((Reason::Inactive, "the token is not active".into()));
    }
    let issuer = match doc.get("iss").and_then(Value::as_str) {
        Some(iss) => match rules.issuers.iter().find(|i| same_issuer(&i.url, iss)) {
            Some(i) => i.url.clone(),
            None => {
                return Err((
                    Reason::UnknownIssuer,
                    format!("issuer {:?} is not accepted", crate::jsonrpc::quote(iss)),
                ));
            }
        },
        // The introspection endpoint is the first issuer's unless it says otherwise.
        None => rules.issuers[0].url.clone(),
    };
    let for_us = match doc.get("aud") {
        Some(Value::String(a)) => *a == rules.resource,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(&rules.resource)),
        _ => false,
    };
    if !for_us {
        return Err((
            Reason::WrongAudience,
            format!(
                "the token is not for this resource (aud must name {})",
                rules.resource
            ),
        ));
    }
    let exp = doc.get("exp").and_then(Value::as_u64);
    if exp.is_some_and(|e| e + rules.leeway.as_secs() < now_unix()) {
        return Err((Reason::Expired, "the token has expired".into()));
    }
    if doc
        .get("nbf")
        .and_then(Value::as_u64)
        .is_some_and(|n| n > now_unix() + rules.leeway.as_secs())
    {
        return Err((
            Reason::NotYetValid,
            "the token is not valid yet (nbf in the future)".into(),
        ));
    }
    let text = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(Grant {
        issuer,
        subject: text("sub"),
        client_id: text("client_id"),
        scopes: scopes_of(doc.get("scope").and_then(Value::as_str), None),
        expires: exp,
    })
}
