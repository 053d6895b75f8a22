//! The parts of a request target the transports route on: its path and its query parameters.

use std::borrow::Cow;

/// The path of a request target, without query or fragment. Asked several times per request, so
/// it looks for the two ASCII bytes rather than running a `char` pattern.
pub fn path(url: &str) -> &str {
    let end = url
        .bytes()
        .position(|b| b == b'?' || b == b'#')
        .unwrap_or(url.len());
    // `?` and `#` are ASCII: `end` is a char boundary.
    url.get(..end).unwrap_or(url)
}

/// The value of `key` in the query string, percent-decoded.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v).into_owned())
    })
}

/// `s` itself when it has nothing to decode: a seed request's `session_id` is a plain UUID.
fn percent_decode(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query() {
        for (url, key, value) in [
            ("/mcp?a=1&session_id=ab%2Dc&x", "session_id", Some("ab-c")),
            ("/mcp?session_id=%zz", "session_id", Some("%zz")),
            ("/mcp?session_id=%4", "session_id", Some("%4")),
            ("/mcp", "session_id", None),
            ("/mcp?q=a+b%20c&session_id=plain", "q", Some("a b c")),
            ("/mcp?session%5Fid=x#session_id=y", "session_id", Some("x")),
            ("/mcp?x=1#?session_id=y", "session_id", None),
            ("/mcp?session_id=é%C3%A9", "session_id", Some("éé")),
        ] {
            assert_eq!(query_param(url, key).as_deref(), value, "{url}");
        }
        // Nothing to decode: the text itself, not a copy (a seed request's plain UUID).
        assert!(matches!(
            percent_decode("4b1e-x_y.z~"),
            Cow::Borrowed("4b1e-x_y.z~")
        ));
        assert!(matches!(percent_decode("a+b"), Cow::Owned(o) if o == "a b"));
        assert!(matches!(percent_decode("%41"), Cow::Owned(o) if o == "A"));
        for (url, p) in [
            ("/mcp?x=1", "/mcp"),
            ("/mcp#f?x", "/mcp"),
            ("/mcp", "/mcp"),
            ("", ""),
            ("?", ""),
            ("/é?x", "/é"),
        ] {
            assert_eq!(path(url), p, "{url}");
        }
    }
}
