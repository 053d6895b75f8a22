//! URI templates of RFC 6570 level 1 (`{var}`): parsing, and matching a URI to find the values.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
    Literal(String),
    Var(String),
}

/// Splits a level-1 template into literals and `{var}`s; `None` if it is not one.
pub(super) fn parse_template(t: &str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_string()));
        }
        let close = rest[open..].find('}')? + open;
        let name = &rest[open + 1..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        if matches!(parts.last(), Some(Part::Var(_))) {
            return None; // two variables in a row cannot be told apart
        }
        parts.push(Part::Var(name.to_string()));
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return None;
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    Some(parts)
}

/// Matches `uri` against a template: each variable takes a non-empty run of characters other
/// than `/` (level-1 expansion percent-encodes everything else), percent-decoded. With `tail`,
/// a variable that ends the template takes the rest of the URI, `/` included (a file in a
/// subdirectory of a directory template).
pub(super) fn match_template(
    parts: &[Part],
    tail: bool,
    uri: &str,
) -> Option<HashMap<String, String>> {
    let mut vars = HashMap::new();
    let mut rest = uri;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
            Part::Var(name) => {
                let end = match parts.get(i + 1) {
                    Some(Part::Literal(next)) => rest.find(next.as_str())?,
                    _ => rest.len(),
                };
                let value = &rest[..end];
                let spans = tail && i + 1 == parts.len();
                if value.is_empty() || (value.contains('/') && !spans) {
                    return None;
                }
                vars.insert(name.clone(), percent_decode(value));
                rest = &rest[end..];
            }
        }
    }
    rest.is_empty().then_some(vars)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_level_one() {
        let p = parse_template("test://template/{id}/data").unwrap();
        let v = match_template(&p, false, "test://template/123/data").unwrap();
        assert_eq!(v["id"], "123");
        assert!(match_template(&p, false, "test://template//data").is_none());
        assert!(match_template(&p, false, "test://template/1/2/data").is_none());
        assert!(match_template(&p, false, "test://template/123/data/x").is_none());
        let p = parse_template("file:///{dir}/{name}.txt").unwrap();
        let v = match_template(&p, false, "file:///logs/a%20b.txt").unwrap();
        assert_eq!((v["dir"].as_str(), v["name"].as_str()), ("logs", "a b"));
        assert!(parse_template("x://{a}{b}").is_none());
        assert!(parse_template("x://{a").is_none());
        assert!(parse_template("x://{a-b}").is_none());
    }

    #[test]
    fn a_tail_variable_spans_segments_only_when_asked() {
        let p = parse_template("file:///docs/{path}").unwrap();
        assert!(match_template(&p, false, "file:///docs/sub/a.md").is_none());
        let v = match_template(&p, true, "file:///docs/sub/a.md").unwrap();
        assert_eq!(v["path"], "sub/a.md");
        let v = match_template(&p, true, "file:///docs/sub%2Fa.md").unwrap();
        assert_eq!(v["path"], "sub/a.md");
        // Only a variable that ends the template spans `/`.
        let p = parse_template("x://{a}/{b}.txt").unwrap();
        assert!(match_template(&p, true, "x://1/2/3.txt").is_none());
    }
}
