//! The OAuth 2.1 resource server (MCP "Authorization"; README: Authorization): which access
//! tokens this server accepts and what they grant. A token is a JWT verified against its
//! issuer's published keys (`issuer`, `jwks`, `verify`), or an opaque token asked about at the
//! introspection endpoint (`introspect`); either way it must be for this resource (RFC 8707)
//! and hold the required scopes. `metadata` is what clients are told so they can get one.
//!
//! It knows nothing of sessions or transports: it turns a bearer string into a [`Grant`] or a
//! [`Refusal`], and the layers above map those to callers and HTTP answers.

mod fetch;
mod grant;
mod introspect;
mod issuer;
mod jwks;
pub mod metadata;
pub mod settings;
mod verify;

pub use grant::{Grant, Reason, Refusal};
pub use issuer::Status as IssuerStatus;

use fetch::Fetcher;
use grant::Rules;
use introspect::Introspector;
use issuer::{Issuer, Limits};
use jsonwebtoken::Algorithm;
use settings::OAuthSettings;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The resource server of one HTTP server.
pub struct OAuth {
    settings: OAuthSettings,
    rules: Rules,
    introspection: Option<Introspector>,
    refusals: [AtomicU64; Reason::ALL.len()],
}

impl OAuth {
    /// Checks the settings (see [`OAuthSettings::check`]); `resource` is the resolved canonical
    /// URI. Nothing is fetched until [`OAuth::prefetch`] or the first token.
    pub fn new(settings: OAuthSettings, resource: String) -> Result<OAuth, String> {
        settings.check()?;
        let algorithms = settings
            .algorithms
            .iter()
            .map(|a| Algorithm::from_str(a).map_err(|_| format!("unknown algorithm {a}")))
            .collect::<Result<Vec<_>, _>>()?;
        let rules = Rules {
            issuers: settings
                .issuers
                .iter()
                .map(|i| Arc::new(Issuer::new(i)))
                .collect(),
            fetcher: Arc::new(Fetcher::new(settings.max_document_bytes)),
            algorithms,
            algorithm_names: settings.algorithms.join(","),
            resource,
            leeway: settings.leeway,
            limits: Limits {
                timeout: settings.fetch_timeout,
                refresh_gap: settings.jwks_refresh,
            },
        };
        Ok(OAuth {
            introspection: settings.introspection.clone().map(Introspector::new),
            rules,
            settings,
            refusals: Default::default(),
        })
    }

    /// Starts fetching every issuer's keys in the background.
    pub fn prefetch(&self) {
        for i in &self.rules.issuers {
            i.prefetch(&self.rules.fetcher, self.rules.limits);
        }
    }

    pub fn resource(&self) -> &str {
        &self.rules.resource
    }

    pub fn required_scopes(&self) -> &[String] {
        &self.settings.required_scopes
    }

    pub fn issuer_urls(&self) -> &[String] {
        &self.settings.issuers
    }

    /// What `token` grants: verified (JWT) or introspected (opaque), for this resource, holding
    /// every required scope. Each refusal is counted and logged at debug.
    pub fn authenticate(&self, token: &str) -> Result<Grant, Refusal> {
        let outcome = match verify::Jwt::parse(token) {
            Some(jwt) => verify::verify(&self.rules, &jwt),
            None => match &self.introspection {
                Some(i) => i.check(&self.rules, token),
                None => Err(Refusal::Invalid(
                    Reason::Malformed,
                    "not a JWT (and this server introspects no opaque tokens)".into(),
                )),
            },
        };
        let outcome = outcome.and_then(|g| {
            let missing = missing_scopes(&self.settings.required_scopes, &g.scopes);
            if missing.is_empty() {
                Ok(g)
            } else {
                Err(Refusal::InsufficientScope(missing))
            }
        });
        if let Err(r) = &outcome {
            self.refused(r);
        }
        outcome
    }

    /// Counts and logs a refusal made here or above (a missing token, a tool's scope).
    pub fn refused(&self, r: &Refusal) {
        let reason = r.reason();
        self.refusals[reason as usize].fetch_add(1, Ordering::Relaxed);
        let why = match r {
            Refusal::Invalid(_, why) | Refusal::Unavailable(_, why) => why.clone(),
            Refusal::InsufficientScope(s) => format!("missing scope(s) {}", s.join(" ")),
        };
        log::debug!("oauth: refused ({}): {why}", reason.label());
    }

    /// Refusals so far, per reason.
    pub fn refusal_counts(&self) -> Vec<(&'static str, u64)> {
        Reason::ALL
            .iter()
            .map(|r| {
                (
                    r.label(),
                    self.refusals[*r as usize].load(Ordering::Relaxed),
                )
            })
            .collect()
    }

    /// Fetches so far: (issuer label, ok, failed), introspection under `introspection`.
    pub fn fetch_counts(&self) -> Vec<(String, u64, u64)> {
        let mut v: Vec<(String, u64, u64)> = self
            .rules
            .issuers
            .iter()
            .map(|i| {
                let (ok, failed) = i.fetch_counts();
                (i.url.clone(), ok, failed)
            })
            .collect();
        if let Some(i) = &self.introspection {
            v.push((
                "introspection".into(),
                i.fetches_ok.load(Ordering::Relaxed),
                i.fetches_failed.load(Ordering::Relaxed),
            ));
        }
        v
    }

    /// Each issuer's keys and last fetch, for `/health`.
    pub fn status(&self) -> Vec<IssuerStatus> {
        self.rules.issuers.iter().map(|i| i.status()).collect()
    }

    /// Whether some issuer has keys (else `/health` says degraded).
    pub fn has_keys(&self) -> bool {
        self.rules.issuers.iter().any(|i| i.has_keys())
    }

    /// The introspection endpoint, when opaque tokens are introspected.
    pub fn introspection_url(&self) -> Option<&str> {
        self.introspection.as_ref().map(|i| i.url())
    }
}

/// The scopes of `needed` that `held` lacks.
pub fn missing_scopes(needed: &[String], held: &[String]) -> Vec<String> {
    needed
        .iter()
        .filter(|n| !held.contains(n))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
