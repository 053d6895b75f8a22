//! A child's environment: empty but for `PATH`, the tool's `env` table and the names it passes
//! through, so no secret of the service (tokens, credentials in its unit's environment) reaches a
//! command unless the config file names it. `${VAR}` takes a value from the server's environment,
//! and only inside `env` values: never in `command`, where it could change what runs.

use std::collections::BTreeMap;

/// The `PATH` every child gets unless its `env` sets another.
pub(crate) const DEFAULT_PATH: &str = "/usr/bin:/bin";

/// Expands `${VAR}` from `lookup`; `$$` is a literal `$`. A `$` followed by anything else, an
/// unclosed `${`, a bad name or an unset variable is an error (a missing secret must not quietly
/// become an empty string).
pub(crate) fn expand(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = r.find('}').ok_or("unclosed `${`")?;
            let name = &r[..end];
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(format!("`${{{name}}}` is not a variable name"));
            }
            let v = lookup(name)
                .ok_or_else(|| format!("`${{{name}}}` is not set in the server's environment"))?;
            out.push_str(&v);
            rest = &r[end + 1..];
        } else {
            return Err("a `$` must start `${NAME}` or be written `$$`".into());
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The complete environment of a tool's children, built at load.
pub(crate) fn build(
    table: &BTreeMap<String, String>,
    passthrough: &[String],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, String> {
    let valid = |n: &str| {
        !n.is_empty()
            && !n.contains('=')
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("PATH".into(), DEFAULT_PATH.into());
    for name in passthrough {
        if !valid(name) {
            return Err(format!(
                "`env_passthrough`: {name:?} is not a variable name"
            ));
        }
        if let Some(v) = lookup(name) {
            env.insert(name.clone(), v);
        }
    }
    for (name, value) in table {
        if !valid(name) {
            return Err(format!("`env`: {name:?} is not a variable name"));
        }
        let v = expand(value, lookup).map_err(|e| format!("`env.{name}`: {e}"))?;
        if v.contains('\0') {
            return Err(format!("`env.{name}`: contains NUL"));
        }
        env.insert(name.clone(), v);
    }
    Ok(env.into_iter().collect())
}

/// The server's own environment.
pub(crate) fn server_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr$t".into()),
            "LANG" => Some("C.UTF-8".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_variables_and_dollar_dollar_only() {
        assert_eq!(expand("Bearer ${TOKEN}", &vars).unwrap(), "Bearer s3cr$t");
        assert_eq!(
            expand("$$HOME and $${TOKEN}", &vars).unwrap(),
            "$HOME and ${TOKEN}"
        );
        assert!(expand("${NOPE}", &vars).unwrap_err().contains("not set"));
        assert!(expand("$TOKEN", &vars).is_err());
        assert!(expand("${TOKEN", &vars).unwrap_err().contains("unclosed"));
        assert!(expand("${1X}", &vars).is_err());
    }

    #[test]
    fn the_environment_is_path_table_and_passthrough_only() {
        let table = BTreeMap::from([("AUTH".to_string(), "${TOKEN}".to_string())]);
        let env = build(&table, &["LANG".into(), "UNSET".into()], &vars).unwrap();
        assert_eq!(
            env,
            vec![
                ("AUTH".into(), "s3cr$t".into()),
                ("LANG".into(), "C.UTF-8".into()),
                ("PATH".into(), DEFAULT_PATH.into()),
            ]
        );
        let bad = BTreeMap::from([("A=B".to_string(), "x".to_string())]);
        assert!(build(&bad, &[], &vars).is_err());
    }
}
