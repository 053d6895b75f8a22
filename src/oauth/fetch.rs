//! The one HTTP client of the resource server: issuer metadata, JWKS and introspection, each
//! bounded in time (a deadline for the whole exchange, connect included) and in bytes, so a slow
//! or hostile authorization server costs a bounded wait and bounded memory, never a hang.

use serde_json::Value;
use std::time::{Duration, Instant};

/// A blocking client with the server's limits; cheap to share between threads.
pub struct Fetcher {
    agent: ureq::Agent,
    max_bytes: u64,
}

/// Why a fetch failed, in one line for logs and `/health` (never a token or a secret).
pub type FetchError = String;

impl Fetcher {
    pub fn new(max_bytes: usize) -> Fetcher {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Statuses are judged here: a 404 of one discovery URL means "try the next".
            .http_status_as_error(false)
            // Documents are fetched from the URLs configured or published, never from elsewhere.
            .max_redirects(0)
            .user_agent(concat!("fastmcp-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Fetcher {
            agent,
            max_bytes: max_bytes as u64,
        }
    }

    /// `GET url` as JSON: `Ok(None)` on 404 (the document is not there), `Err` on anything
    /// else but 200 with a JSON body within the size limit, or past `deadline`.
    pub fn get_json(&self, url: &str, deadline: Instant) -> Result<Option<Value>, FetchError> {
        let left = remaining(deadline)?;
        let resp = self
            .agent
            .get(url)
            .header("Accept", "application/json")
            .config()
            .timeout_global(Some(left))
            .build()
            .call();
        self.json_of(url, resp)
    }

    /// `POST url` with a form body and HTTP Basic credentials (RFC 7662 §2.1), answered in JSON.
    pub fn post_form(
        &self,
        url: &str,
        basic: (&str, &str),
        form: &[(&str, &str)],
        deadline: Instant,
    ) -> Result<Value, FetchError> {
        use base64::Engine;
        let left = remaining(deadline)?;
        // RFC 6749 §2.3.1: both parts form-urlencoded before they are joined.
        let credentials = format!("{}:{}", form_encode(basic.0), form_encode(basic.1));
        let auth = base64::engine::general_purpose::STANDARD.encode(credentials);
        let resp = self
            .agent
            .post(url)
            .header("Accept", "application/json")
            .header("Authorization", &format!("Basic {auth}"))
            .config()
            .timeout_global(Some(left))
            .build()
            .send_form(form.iter().copied());
        match self.json_of(url, resp)? {
            Some(v) => Ok(v),
            None => Err(format!("{url}: 404")),
        }
    }

    fn json_of(
        &self,
        url: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Option<Value>, FetchError> {
        let mut resp = resp.map_err(|e| format!("{url}: {e}"))?;
        match resp.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            s => return Err(format!("{url}: HTTP {s}")),
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(self.max_bytes)
            .read_to_vec()
            .map_err(|e| format!("{url}: {e}"))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{url}: not JSON: {e}"))
    }
}

fn remaining(deadline: Instant) -> Result<Duration, FetchError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timed out".into());
    }
    Ok(left)
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_encoding() {
        assert_eq!(super::form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
