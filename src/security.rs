//! Who may talk to the server: DNS-rebinding protection (Host and Origin allow-lists) and the
//! optional bearer tokens (which tokens exist and what each may use is `access`; OAuth access
//! tokens are `oauth`'s). Checked before any transport sees a request.

use crate::access::{Access, Caller};
use crate::config::Config;
use crate::http::Reply;
use crate::oauth::{OAuth, Refusal, metadata};
use std::sync::Arc;

use crate::http::{Method, Request};
use crate::jsonrpc::{INVALID_REQUEST, quote, refusal};

pub struct Guard {
    hosts: Vec<String>,
    origins: Vec<String>,
    /// `--cors-origin` was given: then only the listed origins (and the server's own) pass, not
    /// every loopback origin, so another local page cannot reach in.
    listed_only: bool,
    access: Arc<Access>,
    /// The OAuth resource server, when `--oauth-issuer` is given.
    oauth: Option<OAuth>,
}

/// The path every Protected Resource Metadata route starts with (RFC 9728).
pub const METADATA_PREFIX: &str = "/.well-known/oauth-protected-resource";

/// Whether a request must carry a token (when any is configured): all but CORS preflights, which
/// carry no credentials, the resource metadata (which tells a client how to get a token), and
/// with `--public-health` the two operations endpoints.
pub fn needs_token(req: &Request, public_health: bool) -> bool {
    let ops = matches!(req.path(), "/health" | "/metrics");
    let metadata = req.path().starts_with(METADATA_PREFIX);
    !(req.method() == Method::Options || ops && public_health || metadata)
}

/// The host part of `host[:port]` or `[v6]:port`, lower-cased.
fn host_only(h: &str) -> String {
    let h = h.trim_ascii();
    let host = if let Some(rest) = h.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, _)) => format!("[{v6}]"),
            None => h.to_string(),
        }
    } else {
        h.rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map(|(host, _)| host.to_string())
            .unwrap_or_else(|| h.to_string())
    };
    host.to_ascii_lowercase()
}

impl Guard {
    /// Fails when the OAuth settings cannot work (see `OAuthSettings::check`).
    pub fn new(c: &Config) -> Result<Guard, String> {
        let oauth = match (&c.oauth, c.oauth_resource()) {
            (Some(settings), Some(resource)) => {
                let oauth = OAuth::new(settings.clone(), resource)?;
                log::info!(
                    "oauth: resource {} accepts tokens of {}",
                    oauth.resource(),
                    oauth.issuer_urls().join(", ")
                );
                oauth.prefetch();
                Some(oauth)
            }
            _ => None,
        };
        Ok(Guard::with_oauth(c, oauth))
    }

    fn with_oauth(c: &Config, oauth: Option<OAuth>) -> Guard {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // The address bound, bracketed if IPv6 before `host_only` looks for a port.
        hosts.push(host_only(&c.host_in_url()));
        hosts.extend(c.allowed_hosts.iter().map(|h| host_only(h)));
        let mut origins: Vec<String> = c
            .allowed_origins
            .iter()
            .chain(c.cors_origins.iter())
            .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
            .collect();
        origins.dedup();
        Guard {
            hosts,
            origins,
            listed_only: !c.cors_origins.is_empty(),
            access: Arc::new(Access::new(c.auth_token.as_deref(), &c.tokens)),
            oauth,
        }
    }

    /// The OAuth resource server, when one is configured.
    pub fn oauth(&self) -> Option<&OAuth> {
        self.oauth.as_ref()
    }

    /// The server's accepted tokens, to replace its grants at run time.
    pub fn access(&self) -> &Arc<Access> {
        &self.access
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| *h == host_only(host))
    }

    /// `host` is the request's `Host`: a page of the server's own origin always passes.
    fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let o = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.iter().any(|a| a == "*" || *a == o) {
            return true;
        }
        match o.split_once("://") {
            Some(("http" | "https", rest)) if self.listed_only => {
                host.is_some_and(|h| h.trim_ascii().eq_ignore_ascii_case(rest))
            }
            Some(("http" | "https", rest)) => self.host_allowed(rest),
            _ => false,
        }
    }

    /// Checks Host, Origin and (when `auth`) the bearer token; on failure returns the answer.
    /// CORS preflights carry no credentials, so they skip the token. Runs on the connection
    /// thread before the body is read: a refused client never gets to send one.
    pub fn check(&self, req: &Request, cors: &[(String, String)], auth: bool) -> Result<(), Reply> {
        // Every copy of the header must pass: a second Origin must not smuggle a foreign name.
        let host_ok = req.header_all("Host").all(|h| self.host_allowed(h));
        let origin_ok = req
            .header_all("Origin")
            .all(|o| self.origin_allowed(o, req.header("Host")));
        if !host_ok || !origin_ok {
            let what = if host_ok { "Origin" } else { "Host" };
            log::warn!(
                "refused a request with {what} {:?} (DNS-rebinding protection; see --allowed-host/--allowed-origin)",
                quote(req.header(what).unwrap_or(""))
            );
            return Err(Reply::json(
                403,
                refusal(
                    INVALID_REQUEST,
                    &format!(
                        "Forbidden: {what} not allowed (see --allowed-host / --allowed-origin)"
                    ),
                ),
            ));
        }
        self.caller(req, cors, auth).map(|_| ())
    }

    /// Who sent `req` (when `auth`; `None` also when no token is required), or the 401 to answer.
    /// Admission checks this on the connection thread; the worker asks again for the caller, and
    /// grants replaced in between count.
    pub fn caller(
        &self,
        req: &Request,
        cors: &[(String, String)],
        auth: bool,
    ) -> Result<Option<Caller>, Reply> {
        if !auth {
            return Ok(None);
        }
        let given = req
            .header("Authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim_ascii)
            .filter(|t| !t.is_empty());
        if let Some(oauth) = &self.oauth {
            return self.oauth_caller(oauth, given, cors).map(Some);
        }
        self.access.identify(given).map_err(|_| {
            Reply::json(
                401,
                refusal(
                    INVALID_REQUEST,
                    "Unauthorized: send Authorization: Bearer <token>",
                ),
            )
            .header("WWW-Authenticate", "Bearer")
            .headers(cors)
        })
    }

    /// A static token is its caller; any other bearer must be an OAuth token for this resource.
    fn oauth_caller(
        &self,
        oauth: &OAuth,
        given: Option<&str>,
        cors: &[(String, String)],
    ) -> Result<Caller, Reply> {
        let Some(token) = given else {
            oauth.refused(&Refusal::Invalid(
                crate::oauth::Reason::MissingToken,
                "no token".into(),
            ));
            let challenge = metadata::challenge(oauth.resource(), oauth.required_scopes(), None);
            return Err(challenge_reply(
                401,
                "Unauthorized: send Authorization: Bearer <access token> (see the resource_metadata of WWW-Authenticate)",
                challenge,
                cors,
            ));
        };
        if let Some(caller) = self.access.known(token) {
            return Ok(caller);
        }
        match oauth.authenticate(token) {
            Ok(g) => Ok(self.access.oauth_caller(
                &g.issuer,
                g.subject.as_deref(),
                g.client_id.as_deref(),
                g.scopes,
            )),
            Err(refusal) => Err(refusal_reply(oauth, &refusal, cors)),
        }
    }

    /// The 403 for a tools/call whose tool needs `scope`, which `caller` lacks; `None` when the
    /// caller is no OAuth caller or holds it.
    pub fn tool_scope_refusal(
        &self,
        caller: Option<&Caller>,
        scope: &str,
        cors: &[(String, String)],
    ) -> Option<Reply> {
        let oauth = self.oauth.as_ref()?;
        let held = caller?.scopes()?;
        if held.iter().any(|h| h == scope) {
            return None;
        }
        let mut needed = oauth.required_scopes().to_vec();
        needed.push(scope.to_string());
        let refusal = Refusal::InsufficientScope(vec![scope.to_string()]);
        oauth.refused(&refusal);
        Some(insufficient_scope(oauth, &needed, cors))
    }
}

/// A 401/403 with its `WWW-Authenticate` challenge (exposed to browser clients).
fn challenge_reply(
    status: u16,
    message: &str,
    challenge: String,
    cors: &[(String, String)],
) -> Reply {
    let reply = Reply::json(status, refusal(INVALID_REQUEST, message))
        .header("WWW-Authenticate", &challenge)
        .headers(cors);
    if cors.is_empty() {
        reply
    } else {
        reply.header("Access-Control-Expose-Headers", "WWW-Authenticate")
    }
}

fn insufficient_scope(oauth: &OAuth, needed: &[String], cors: &[(String, String)]) -> Reply {
    let challenge = metadata::challenge(
        oauth.resource(),
        needed,
        Some(("insufficient_scope", "the token lacks a scope this needs")),
    );
    challenge_reply(
        403,
        &format!("Forbidden: the token lacks a scope ({})", needed.join(" ")),
        challenge,
        cors,
    )
}

/// The answer to a refused OAuth token (it never quotes the token).
fn refusal_reply(oauth: &OAuth, refused: &Refusal, cors: &[(String, String)]) -> Reply {
    match refused {
        Refusal::Invalid(_, why) => {
            let challenge = metadata::challenge(
                oauth.resource(),
                oauth.required_scopes(),
                Some(("invalid_token", why)),
            );
            challenge_reply(401, &format!("Unauthorized: {why}"), challenge, cors)
        }
        Refusal::InsufficientScope(_) => insufficient_scope(oauth, oauth.required_scopes(), cors),
        Refusal::Unavailable(retry, why) => Reply::json(
            503,
            refusal(
                INVALID_REQUEST,
                &format!("Service unavailable: {why}; retry later"),
            ),
        )
        .header("Retry-After", retry.as_secs().max(1).to_string())
        .headers(cors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        let c = Config {
            host: "127.0.0.1".into(),
            allowed_hosts: vec!["mcp.example.com".into()],
            allowed_origins: vec!["https://app.example.com".into()],
            ..Config::default()
        };
        let g = Guard::new(&c).unwrap();
        for ok in [
            "localhost:8085",
            "127.0.0.1",
            "[::1]:9",
            "LOCALHOST",
            "mcp.example.com:443",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in ["evil.example.com", "localhost.evil.com:80", "127.0.0.2"] {
            assert!(!g.host_allowed(bad), "{bad}");
        }
        assert!(g.origin_allowed("http://localhost:3000", None));
        assert!(g.origin_allowed("https://app.example.com", None));
        assert!(!g.origin_allowed("http://evil.example.com", None));
        assert!(!g.origin_allowed("null", None));
        assert!(!g.origin_allowed("file://localhost", None));
    }

    #[test]
    fn the_bound_address_is_an_allowed_host() {
        let guard = |host: &str| {
            let c = Config {
                host: host.into(),
                ..Config::default()
            };
            Guard::new(&c).unwrap()
        };
        assert!(guard("10.0.0.7").host_allowed("10.0.0.7:8085"));
        assert!(guard("mcp.internal").host_allowed("MCP.internal:8085"));
        assert!(!guard("mcp.internal").host_allowed("[mcp.internal]:8085"));
        // An IPv6 address is bracketed in a Host header, whichever way --host spelled it.
        for host in [
            "2001:db8::5",
            "[2001:db8::5]",
            "2001:DB8::5",
            " 2001:db8::5 ",
        ] {
            let g = guard(host);
            assert!(g.host_allowed("[2001:db8::5]:8085"), "{host}");
            assert!(g.host_allowed("[2001:db8::5]"), "{host}");
            assert!(!g.host_allowed("[2001:db8::]:8085"), "{host}");
            assert!(!g.host_allowed("2001:db8:"), "{host}");
        }
    }

    #[test]
    fn cors_origins_list_every_origin_let_in() {
        let c = Config {
            host: "127.0.0.1".into(),
            cors_origins: vec!["http://127.0.0.1:3000".into()],
            ..Config::default()
        };
        let g = Guard::new(&c).unwrap();
        assert!(g.origin_allowed("http://127.0.0.1:3000", Some("127.0.0.1:8085")));
        // Another loopback page is refused once origins are listed...
        assert!(!g.origin_allowed("http://127.0.0.1:4000", Some("127.0.0.1:8085")));
        assert!(!g.origin_allowed("http://localhost:3000", Some("127.0.0.1:8085")));
        // ...but the server's own origin is its own.
        assert!(g.origin_allowed("http://127.0.0.1:8085", Some("127.0.0.1:8085")));
    }
}
