//! What the resource server tells clients about itself: the Protected Resource Metadata
//! document (RFC 9728) and the `WWW-Authenticate` challenges (RFC 6750 §3) that point to it, so
//! a client that knows nothing but the server's URL finds the authorization server and the
//! scopes to ask for.

use serde_json::{Value, json};

/// Where the metadata of `resource` is (RFC 9728 §3.1: the well-known part goes between the
/// host and the resource's path), e.g. `https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`.
pub fn metadata_url(resource: &str) -> String {
    let Some((scheme, authority, path)) = super::settings::split_url(resource) else {
        return resource.to_string();
    };
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    format!("{scheme}://{authority}/.well-known/oauth-protected-resource{path}")
}

/// The path part of [`metadata_url`]: the route this server answers besides the bare one.
pub fn metadata_path(resource: &str) -> String {
    let url = metadata_url(resource);
    super::settings::split_url(&url)
        .map(|(_, _, p)| p.to_string())
        .unwrap_or_default()
}

/// The metadata document.
pub fn document(resource: &str, issuers: &[String], scopes: &[String]) -> Value {
    json!({
        "resource": resource,
        "authorization_servers": issuers,
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
    })
}

/// A quoted-string parameter value: no quote, backslash or control character can end it early
/// or smuggle another parameter (or header) in.
fn quoted(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("\"{clean}\"")
}

/// A `Bearer` challenge: `error` is `(code, description)` when a token was presented and
/// refused; `scope` lists what the client should ask for (omitted when empty).
pub fn challenge(resource: &str, scope: &[String], error: Option<(&str, &str)>) -> String {
    let mut v = format!(
        "Bearer resource_metadata={}",
        quoted(&metadata_url(resource))
    );
    if !scope.is_empty() {
        v.push_str(&format!(", scope={}", quoted(&scope.join(" "))));
    }
    if let Some((code, description)) = error {
        v.push_str(&format!(
            ", error={}, error_description={}",
            quoted(code),
            quoted(description)
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls() {
        assert_eq!(
            metadata_url("https://mcp.example.com/mcp"),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_path("https://h/mcp"),
            "/.well-known/oauth-protected-resource/mcp"
        );
    }

    #[test]
    fn challenges_quote_safely() {
        let c = challenge(
            "https://h/mcp",
            &["a".into(), "b".into()],
            Some(("invalid_token", "bad \"x\"\r\nSet-Cookie: y")),
        );
        assert_eq!(
            c,
            "Bearer resource_metadata=\"https://h/.well-known/oauth-protected-resource/mcp\", scope=\"a b\", error=\"invalid_token\", error_description=\"bad 'x'  Set-Cookie: y\""
        );
        assert!(!challenge("https://h/mcp", &[], None).contains("scope"));
    }
}
