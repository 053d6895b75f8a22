//! The OAuth 2.1 resource server (MCP "Authorization"; README: Authorization): which access
//! tokens this server accepts and what they grant. A token is a JWT verified against its
//! issuer's published keys (`issuer`, `jwks`, `verify`), or an opaque token asked about at the
//! introspection endpoint (`introspect`); either way it must be for this resource (RFC 8707)
//! and hold the required scopes. `metadata` is what clients are told so they can get one.
//!
//! It knows nothing of sessions or transports: it turns a bearer string into a [`Grant`] or a
//! [`Refusal`], and the layers above map those to callers and HTTP answers.

mod fetch;
mod introspect;
mod issuer;
mod jwks;
pub mod metadata;
mod verify;

pub use issuer::Status as IssuerStatus;

use crate::config::OAuthSettings;
use fetch::Fetcher;
use introspect::Introspector;
use issuer::{Issuer, Limits};
use jsonwebtoken::Algorithm;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a verified token says.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The configured issuer it came from.
    pub issuer: String,
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires: Option<u64>,
}

/// Why a token was refused, as counted in `/metrics` (`reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    MissingToken,
    Malformed,
    AlgNotAllowed,
    UnknownIssuer,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience,
    MissingClaim,
    Inactive,
    InsufficientScope,
    IssuerUnavailable,
}

impl Reason {
    pub const ALL: [Reason; 13] = [
        Reason::MissingToken,
        Reason::Malformed,
        Reason::AlgNotAllowed,
        Reason::UnknownIssuer,
        Reason::UnknownKey,
        Reason::BadSignature,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::WrongAudience,
        Reason::MissingClaim,
        Reason::Inactive,
        Reason::InsufficientScope,
        Reason::IssuerUnavailable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Reason::MissingToken => "missing_token",
            Reason::Malformed => "malformed",
            Reason::AlgNotAllowed => "alg_not_allowed",
            Reason::UnknownIssuer => "unknown_issuer",
            Reason::UnknownKey => "unknown_kid",
            Reason::BadSignature => "bad_signature",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::WrongAudience => "wrong_audience",
            Reason::MissingClaim => "missing_claim",
            Reason::Inactive => "inactive",
            Reason::InsufficientScope => "insufficient_scope",
            Reason::IssuerUnavailable => "issuer_unavailable",
        }
    }
}

/// A refused token.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// 401 `invalid_token`, with the reason and a description for the client.
    Invalid(Reason, String),
    /// 403 `insufficient_scope`: the token lacks these of the required scopes.
    InsufficientScope(Vec<String>),
    /// 503: the keys or the introspection endpoint cannot be reached; retry after this long.
    Unavailable(Duration, String),
}

impl Refusal {
    pub fn reason(&self) -> Reason {
        match self {
            Refusal::Invalid(r, _) => *r,
            Refusal::InsufficientScope(_) => Reason::InsufficientScope,
            Refusal::Unavailable(..) => Reason::IssuerUnavailable,
        }
    }
}

/// The resource server of one HTTP server.
pub struct OAuth {
    settings: OAuthSettings,
    /// The canonical URI tokens must name in `aud`.
    resource: String,
    algorithms: Vec<Algorithm>,
    issuers: Vec<Arc<Issuer>>,
    introspection: Option<Introspector>,
    fetcher: Arc<Fetcher>,
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
        Ok(OAuth {
            issuers: settings
                .issuers
                .iter()
                .map(|i| Arc::new(Issuer::new(i)))
                .collect(),
            introspection: settings.introspection.clone().map(Introspector::new),
            fetcher: Arc::new(Fetcher::new(settings.max_document_bytes)),
            algorithms,
            resource,
            settings,
            refusals: Default::default(),
        })
    }

    fn limits(&self) -> Limits {
        Limits {
            timeout: self.settings.fetch_timeout,
            refresh_gap: self.settings.jwks_refresh,
        }
    }

    /// Starts fetching every issuer's keys in the background.
    pub fn prefetch(&self) {
        for i in &self.issuers {
            i.prefetch(&self.fetcher, self.limits());
        }
    }

    pub fn resource(&self) -> &str {
        &self.resource
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
            Some(jwt) => verify::verify(self, &jwt),
            None => match &self.introspection {
                Some(i) => i.check(self, &self.fetcher, token),
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
        self.issuers.iter().map(|i| i.status()).collect()
    }

    /// Whether some issuer has keys (else `/health` says degraded).
    pub fn has_keys(&self) -> bool {
        self.issuers.iter().any(|i| i.has_keys())
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
