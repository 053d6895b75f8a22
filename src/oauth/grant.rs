//! What verification yields: a [`Grant`] or a [`Refusal`] (with the [`Reason`] counted in
//! `/metrics`), and the [`Rules`] a token is verified by.

use super::fetch::Fetcher;
use super::issuer::{Issuer, Limits};
use jsonwebtoken::Algorithm;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// What a token must satisfy, and where its issuers' keys come from.
pub struct Rules {
    pub issuers: Vec<Arc<Issuer>>,
    pub fetcher: Arc<Fetcher>,
    pub algorithms: Vec<Algorithm>,
    /// The accepted algorithms as configured, for refusals.
    pub algorithm_names: String,
    /// The canonical URI tokens must name in `aud`.
    pub resource: String,
    pub leeway: Duration,
    pub limits: Limits,
}

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

/// Space-separated `scope` (RFC 9068), else `scp` as a list or a string (some IdPs).
pub fn scopes_of(scope: Option<&str>, scp: Option<&Value>) -> Vec<String> {
    if let Some(s) = scope {
        return s.split_whitespace().map(str::to_owned).collect();
    }
    match scp {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}
