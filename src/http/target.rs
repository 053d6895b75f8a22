//! The parts of a request target the transports route on: its path and its query parameters.

/// The path of a request target, without query or fragment.
pub fn path(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or("")
}

/// The value of `key` in the query string, percent-decoded.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
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
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query() {
        assert_eq!(
            query_param("/mcp?a=1&session_id=ab%2Dc&x", "session_id").as_deref(),
            Some("ab-c")
        );
        assert_eq!(
            query_param("/mcp?session_id=%zz", "session_id").as_deref(),
            Some("%zz")
        );
        assert_eq!(
            query_param("/mcp?session_id=%4", "session_id").as_deref(),
            Some("%4")
        );
        assert_eq!(query_param("/mcp", "session_id"), None);
        assert_eq!(path("/mcp?x=1"), "/mcp");
    }
}
