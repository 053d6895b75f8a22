//! The `--oauth-*` flags and the config file's `[auth.oauth]` table, merged: a flag given on the
//! command line wins over its key in the file, the file fills in the rest (README:
//! Authorization).

use fastmcp_server::{Introspection, OAuthSettings, OAuthSpec};
use std::path::PathBuf;
use std::time::Duration;

/// The flags as given; the file's table is not read yet when they are parsed.
#[derive(Debug, Default)]
pub(crate) struct OAuthFlags {
    /// The file's keys, spelled as flags.
    pub spec: OAuthSpec,
    pub leeway_secs: Option<u64>,
    pub fetch_timeout_secs: Option<f64>,
    pub max_document_bytes: Option<usize>,
    pub jwks_refresh_secs: Option<u64>,
}

pub(crate) fn parse(a: &mut pico_args::Arguments) -> Result<OAuthFlags, String> {
    let e = |e: pico_args::Error| e.to_string();
    let algorithms: Option<String> = a.opt_value_from_str("--oauth-algorithms").map_err(e)?;
    let spec = OAuthSpec {
        issuers: a.values_from_str("--oauth-issuer").map_err(e)?,
        resource: a.opt_value_from_str("--oauth-resource").map_err(e)?,
        required_scopes: a.values_from_str("--oauth-required-scope").map_err(e)?,
        algorithms: algorithms.map(|l| {
            l.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        introspection_url: a
            .opt_value_from_str("--oauth-introspection-url")
            .map_err(e)?,
        introspection_client_id: a
            .opt_value_from_str("--oauth-introspection-client-id")
            .map_err(e)?,
        introspection_secret_file: a
            .opt_value_from_str::<_, PathBuf>("--oauth-introspection-secret-file")
            .map_err(e)?,
    };
    let fetch_timeout_secs: Option<f64> = a
        .opt_value_from_str("--oauth-fetch-timeout-secs")
        .map_err(e)?;
    if fetch_timeout_secs.is_some_and(|t| !(t.is_finite() && t > 0.0 && t <= 300.0)) {
        return Err("--oauth-fetch-timeout-secs must be above 0 and at most 300".into());
    }
    Ok(OAuthFlags {
        spec,
        leeway_secs: a.opt_value_from_str("--oauth-leeway-secs").map_err(e)?,
        fetch_timeout_secs,
        max_document_bytes: a
            .opt_value_from_str("--oauth-max-document-bytes")
            .map_err(e)?,
        jwks_refresh_secs: a
            .opt_value_from_str("--oauth-jwks-refresh-secs")
            .map_err(e)?,
    })
}

impl OAuthFlags {
    /// The settings of flags and file together: `None` when neither names an issuer (then
    /// nothing changes), an error for settings that cannot work, checked now so that the server
    /// does not start at all rather than refuse every client.
    pub fn settings(self, file: Option<&OAuthSpec>) -> Result<Option<OAuthSettings>, String> {
        let f = file.cloned().unwrap_or_default();
        let s = self.spec;
        let pick = |flag: Vec<String>, file: Vec<String>| if flag.is_empty() { file } else { flag };
        let issuers = pick(s.issuers, f.issuers);
        let tuning = self.leeway_secs.is_some()
            || self.fetch_timeout_secs.is_some()
            || self.max_document_bytes.is_some()
            || self.jwks_refresh_secs.is_some();
        let introspection_url = s.introspection_url.or(f.introspection_url);
        if issuers.is_empty() {
            if tuning || introspection_url.is_some() || s.resource.is_some() {
                return Err("the --oauth-* flags need at least one --oauth-issuer".into());
            }
            return Ok(None);
        }
        let d = OAuthSettings::default();
        let introspection = match introspection_url {
            None => None,
            Some(url) => {
                let client_id = s
                    .introspection_client_id
                    .or(f.introspection_client_id)
                    .ok_or("--oauth-introspection-url needs --oauth-introspection-client-id")?;
                let path = s
                    .introspection_secret_file
                    .or(f.introspection_secret_file)
                    .ok_or("--oauth-introspection-url needs --oauth-introspection-secret-file")?;
                let secret = fastmcp_server::read_secret_file(&path)
                    .map_err(|why| format!("--oauth-introspection-secret-file {why}"))?;
                Some(Introspection {
                    url,
                    client_id,
                    secret,
                })
            }
        };
        let settings = OAuthSettings {
            issuers,
            resource: s.resource.or(f.resource),
            required_scopes: pick(s.required_scopes, f.required_scopes),
            algorithms: s.algorithms.or(f.algorithms).unwrap_or(d.algorithms),
            leeway: self.leeway_secs.map_or(d.leeway, Duration::from_secs),
            fetch_timeout: self
                .fetch_timeout_secs
                .map_or(d.fetch_timeout, Duration::from_secs_f64),
            max_document_bytes: self.max_document_bytes.unwrap_or(d.max_document_bytes),
            jwks_refresh: self
                .jwks_refresh_secs
                .map_or(d.jwks_refresh, Duration::from_secs),
            introspection,
        };
        settings.check()?;
        Ok(Some(settings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(s: &str) -> OAuthFlags {
        let args = s.split_whitespace().map(std::ffi::OsString::from).collect();
        let mut a = pico_args::Arguments::from_vec(args);
        parse(&mut a).unwrap()
    }

    #[test]
    fn flags_win_over_the_file_and_bad_algorithms_are_refused() {
        assert!(flags("").settings(None).unwrap().is_none());
        let file = OAuthSpec {
            issuers: vec!["https://file.example".into()],
            required_scopes: vec!["mcp".into()],
            ..OAuthSpec::default()
        };
        let s = flags("--oauth-issuer https://a.example --oauth-issuer http://127.0.0.1:9 --oauth-leeway-secs 5")
            .settings(Some(&file))
            .unwrap()
            .unwrap();
        assert_eq!(s.issuers, ["https://a.example", "http://127.0.0.1:9"]);
        assert_eq!(
            s.required_scopes,
            ["mcp"],
            "the file fills in what no flag says"
        );
        assert_eq!(s.leeway, Duration::from_secs(5));
        assert_eq!(s.algorithms, ["RS256", "PS256", "ES256", "EdDSA"]);
        for bad in [
            "--oauth-issuer https://a --oauth-algorithms RS256,none",
            "--oauth-issuer https://a --oauth-algorithms HS256",
            "--oauth-issuer http://idp.example.com",
            "--oauth-leeway-secs 5",
        ] {
            let e = flags(bad).settings(None).unwrap_err();
            assert!(!e.contains('\n'), "{bad}: {e}");
        }
        let e = flags("--oauth-issuer https://a --oauth-algorithms RS256,none")
            .settings(None)
            .unwrap_err();
        assert!(e.contains("none") && e.contains("refused"), "{e}");
    }
}
