//! JWT access tokens: which issuer a token claims, its header's algorithm against the allowed
//! list, then the signature and the claims (`iss`, `aud`, `exp`, `nbf`) through `jsonwebtoken`.
//! The unverified header and claims are only read to pick the issuer and key; nothing from them
//! is trusted before the signature checks out.

use super::grant::{Grant, Reason, Refusal, Rules, scopes_of};
use super::issuer::{Lookup, same_issuer};
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;
use std::str::FromStr;

/// A token's parts once split, when it has the shape of a JWS compact serialization with a JSON
/// object header naming an `alg`; anything else is an opaque token.
pub struct Jwt<'a> {
    token: &'a str,
    header: Value,
    claims: Value,
}

fn segment(s: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

impl<'a> Jwt<'a> {
    /// `None` for a token that is not a JWT at all (then introspection may know it).
    pub fn parse(token: &'a str) -> Option<Jwt<'a>> {
        let mut parts = token.split('.');
        let (h, c, _sig) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header = segment(h).filter(|h| h.get("alg").is_some())?;
        // A JWT-shaped token whose claims are no JSON object is a broken JWT, not an opaque one.
        let claims = segment(c).unwrap_or(Value::Null);
        Some(Jwt {
            token,
            header,
            claims,
        })
    }
}

/// The claims read after verification.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: Option<String>,
    client_id: Option<String>,
    azp: Option<String>,
    scope: Option<String>,
    scp: Option<Value>,
    exp: Option<u64>,
}

fn invalid(reason: Reason, why: impl Into<String>) -> Refusal {
    Refusal::Invalid(reason, why.into())
}

/// Verifies a JWT access token for this resource.
pub fn verify(rules: &Rules, jwt: &Jwt<'_>) -> Result<Grant, Refusal> {
    let alg_name = jwt.header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg_name.eq_ignore_ascii_case("none") {
        return Err(invalid(
            Reason::AlgNotAllowed,
            "alg none (an unsigned token) is not accepted",
        ));
    }
    let alg = Algorithm::from_str(alg_name)
        .ok()
        .filter(|a| rules.algorithms.contains(a))
        .ok_or_else(|| {
            invalid(
                Reason::AlgNotAllowed,
                format!(
                    "alg {:?} is not accepted (accepted: {})",
                    crate::jsonrpc::quote(alg_name),
                    rules.algorithm_names
                ),
            )
        })?;
    let Some(iss) = jwt.claims.get("iss").and_then(Value::as_str) else {
        return Err(invalid(Reason::MissingClaim, "the token has no iss claim"));
    };
    let Some(issuer) = rules.issuers.iter().find(|i| same_issuer(&i.url, iss)) else {
        return Err(invalid(
            Reason::UnknownIssuer,
            format!("issuer {:?} is not accepted", crate::jsonrpc::quote(iss)),
        ));
    };
    let kid = jwt.header.get("kid").and_then(Value::as_str);
    let keys = match issuer.lookup(kid, alg, &rules.fetcher, rules.limits) {
        Lookup::Found(keys) => keys,
        Lookup::Unknown => {
            return Err(invalid(
                Reason::UnknownKey,
                format!(
                    "no signing key {} at the issuer",
                    kid.map_or("(no kid)".to_string(), |k| format!(
                        "{:?}",
                        crate::jsonrpc::quote(k)
                    ))
                ),
            ));
        }
        Lookup::Unavailable(retry) => {
            return Err(Refusal::Unavailable(
                retry,
                format!("the keys of issuer {} cannot be fetched now", issuer.url),
            ));
        }
    };
    let mut validation = Validation::new(alg);
    validation.leeway = rules.leeway.as_secs();
    validation.validate_nbf = true;
    validation.set_audience(&[&rules.resource]);
    validation.set_issuer(&[iss]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let mut last = invalid(Reason::BadSignature, "bad signature");
    for key in &keys {
        match jsonwebtoken::decode::<Claims>(jwt.token, key, &validation) {
            Ok(data) => return Ok(grant(data.claims)),
            Err(e) => {
                last = refusal_of(e.kind(), &rules.resource);
                if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                    break;
                }
            }
        }
    }
    Err(last)
}

fn grant(c: Claims) -> Grant {
    Grant {
        issuer: c.iss,
        subject: c.sub.filter(|s| !s.is_empty()),
        client_id: c.client_id.or(c.azp).filter(|s| !s.is_empty()),
        scopes: scopes_of(c.scope.as_deref(), c.scp.as_ref()),
        expires: c.exp,
    }
}

fn refusal_of(kind: &ErrorKind, resource: &str) -> Refusal {
    match kind {
        ErrorKind::ExpiredSignature => invalid(Reason::Expired, "the token has expired"),
        ErrorKind::ImmatureSignature => invalid(
            Reason::NotYetValid,
            "the token is not valid yet (nbf in the future)",
        ),
        ErrorKind::InvalidAudience => invalid(
            Reason::WrongAudience,
            format!("the token is not for this resource (aud must name {resource})"),
        ),
        ErrorKind::InvalidIssuer => invalid(Reason::UnknownIssuer, "issuer not accepted"),
        ErrorKind::InvalidSignature => invalid(Reason::BadSignature, "bad signature"),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            invalid(Reason::AlgNotAllowed, "alg not accepted for this key")
        }
        ErrorKind::MissingRequiredClaim(c) => {
            invalid(Reason::MissingClaim, format!("the token has no {c} claim"))
        }
        ErrorKind::InvalidClaimFormat(c) => {
            invalid(Reason::Malformed, format!("the {c} claim is malformed"))
        }
        _ => invalid(Reason::Malformed, "malformed token"),
    }
}
