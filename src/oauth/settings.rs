//! The OAuth resource server's settings (`--oauth-*`, `[auth.oauth]`), apart from `config`
//! because they come with their own checks: a mistake stops the server at startup instead of
//! refusing every client.

use std::time::Duration;

/// Where tokens come from and what they must say, when the server is an OAuth 2.1 resource
/// server (README: Authorization). Checked once by [`OAuthSettings::check`] at startup, so a
/// mistake stops the server instead of refusing every client.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthSettings {
    /// Authorization servers whose tokens are accepted (their `iss`); `https`, or `http` on a
    /// loopback host only (tests, a local IdP).
    pub issuers: Vec<String>,
    /// This server's canonical URI, which a token's `aud` must name (RFC 8707); `None` derives
    /// it from the first allowed host, else the bound address (see `Config::oauth_resource`).
    pub resource: Option<String>,
    /// Scopes every token must hold, for any access.
    pub required_scopes: Vec<String>,
    /// JWS algorithms accepted. Asymmetric only: `none` and HMAC are refused by `check`,
    /// since a resource server holds no shared secret, and accepting HS* with a public key as the
    /// secret is the classic forgery.
    pub algorithms: Vec<String>,
    /// Clock skew tolerated for `exp` and `nbf`.
    pub leeway: Duration,
    /// Longest time one fetch (metadata, JWKS, introspection) may take, all of it.
    pub fetch_timeout: Duration,
    /// Largest metadata, JWKS or introspection answer read.
    pub max_document_bytes: usize,
    /// Least time between two JWKS fetches caused by unknown key ids (a flood of made-up `kid`s
    /// must not become a flood of fetches).
    pub jwks_refresh: Duration,
    /// RFC 7662 introspection of opaque (non-JWT) tokens.
    pub introspection: Option<Introspection>,
}

/// The introspection endpoint and this server's credentials there (HTTP Basic).
#[derive(Clone, PartialEq)]
pub struct Introspection {
    /// The endpoint (`https`, or `http` on loopback).
    pub url: String,
    /// This server's client id there.
    pub client_id: String,
    /// Its secret (`--oauth-introspection-secret-file`); never logged.
    pub secret: String,
}

impl std::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspection")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The algorithms accepted when none are named.
pub const DEFAULT_OAUTH_ALGORITHMS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

/// Every algorithm `OAuthSettings::algorithms` may name.
const ASYMMETRIC_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

impl Default for OAuthSettings {
    fn default() -> OAuthSettings {
        OAuthSettings {
            issuers: Vec::new(),
            resource: None,
            required_scopes: Vec::new(),
            algorithms: DEFAULT_OAUTH_ALGORITHMS.map(String::from).to_vec(),
            leeway: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
            max_document_bytes: 262_144,
            jwks_refresh: Duration::from_secs(30),
            introspection: None,
        }
    }
}

impl OAuthSettings {
    /// A one-line reason when the settings cannot work: no issuer, an issuer or URL that is
    /// neither `https` nor loopback `http`, an algorithm that is not asymmetric.
    pub fn check(&self) -> Result<(), String> {
        if self.issuers.is_empty() {
            return Err("OAuth needs at least one --oauth-issuer".into());
        }
        for i in &self.issuers {
            check_fetch_url("--oauth-issuer", i)?;
        }
        if let Some(r) = &self.resource {
            let (scheme, authority, _) = split_url(r)
                .ok_or_else(|| format!("--oauth-resource {r:?} is not an absolute URL"))?;
            if !matches!(scheme, "http" | "https") || authority.is_empty() || r.contains('#') {
                return Err(format!(
                    "--oauth-resource {r:?} must be an http(s) URL without a fragment"
                ));
            }
        }
        if self.algorithms.is_empty() {
            return Err("--oauth-algorithms names no algorithm".into());
        }
        for a in &self.algorithms {
            if a.eq_ignore_ascii_case("none") || a.to_ascii_uppercase().starts_with("HS") {
                return Err(format!(
                    "--oauth-algorithms: {a} is refused (unsigned or shared-secret tokens; a resource server accepts only asymmetric signatures)"
                ));
            }
            if !ASYMMETRIC_ALGORITHMS.contains(&a.as_str()) {
                return Err(format!(
                    "--oauth-algorithms: unknown algorithm {a:?} (known: {})",
                    ASYMMETRIC_ALGORITHMS.join(",")
                ));
            }
        }
        if let Some(i) = &self.introspection {
            check_fetch_url("--oauth-introspection-url", &i.url)?;
            if i.client_id.is_empty() {
                return Err(
                    "--oauth-introspection-url needs --oauth-introspection-client-id".into(),
                );
            }
        }
        if self.max_document_bytes == 0 || self.fetch_timeout.is_zero() {
            return Err(
                "--oauth-max-document-bytes and --oauth-fetch-timeout-secs must be positive".into(),
            );
        }
        Ok(())
    }
}

/// `scheme`, `authority` and the rest (path and query, maybe empty) of an absolute URL.
pub fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some((scheme, &rest[..end], &rest[end..]))
}

/// Whether `authority` (`host[:port]`) names the loopback interface.
pub fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A URL the server fetches from: `https`, or `http` to loopback only (a token's keys fetched
/// over plain HTTP from another host could be swapped by anyone on the path).
fn check_fetch_url(flag: &str, url: &str) -> Result<(), String> {
    match split_url(url) {
        Some(("https", a, _)) if !a.is_empty() => Ok(()),
        Some(("http", a, _)) if is_loopback_authority(a) => Ok(()),
        _ => Err(format!(
            "{flag} {url:?} must be an https URL (http only for a loopback host)"
        )),
    }
}

/// Reads `--oauth-introspection-secret-file`: only its owner may read it, like
/// `--state-key-file`; surrounding white space is dropped.
pub fn read_secret_file(path: &std::path::Path) -> Result<String, String> {
    let bytes = crate::trusted_file::read(path, crate::trusted_file::Others::Nothing, 4096)
        .map_err(|why| format!("{}: {why}", path.display()))?;
    let s = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    let s = s.trim();
    if s.is_empty() {
        return Err(format!("{}: empty", path.display()));
    }
    Ok(s.to_string())
}
