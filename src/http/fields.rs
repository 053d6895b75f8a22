//! A request head's target and header fields, kept as one copy of the head's text.

use std::sync::Arc;

/// Where a piece of [`Fields::text`] is: start and end byte.
type Span = (usize, usize);

/// A request head's target and header fields, kept as one copy of the head's text with spans
/// into it: a request costs two allocations for its whole head instead of two per field, and a
/// clone of the target's path (for counting the answer) is a reference count, not a copy.
pub(crate) struct Fields {
    text: Arc<str>,
    target: Span,
    /// Name and (trimmed) value of each header field, in order.
    headers: Vec<(Span, Span)>,
}

impl Fields {
    fn get(&self, (start, end): Span) -> &str {
        self.text.get(start..end).unwrap_or("")
    }

    /// The request target as sent.
    pub fn target(&self) -> &str {
        self.get(self.target)
    }

    /// The target, kept alive without a copy: the head's shared text and where the target is.
    pub fn shared_target(&self) -> (Arc<str>, std::ops::Range<usize>) {
        (self.text.clone(), self.target.0..self.target.1)
    }

    /// Every field, name and value, in order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers
            .iter()
            .map(|&(k, v)| (self.get(k), self.get(v)))
    }

    /// The values of every field called `name` (case-insensitive), in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| self.is(*k, name))
            .map(|&(_, v)| self.get(v))
    }

    /// The value of the first field called `name` (case-insensitive).
    pub fn first(&self, name: &str) -> Option<&str> {
        let &(_, v) = self.headers.iter().find(|(k, _)| self.is(*k, name))?;
        Some(self.get(v))
    }

    /// Whether the field name at `span` is `name`: lengths first, then bytes (a request's
    /// headers are looked up about ten times, so this is kept cheap).
    fn is(&self, (start, end): Span, name: &str) -> bool {
        end.wrapping_sub(start) == name.len()
            && self
                .text
                .as_bytes()
                .get(start..end)
                .is_some_and(|k| k.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// A target and fields from their text (tests, and heads that are not valid UTF-8).
    pub(crate) fn from_parts<'a>(
        target: &str,
        headers: impl IntoIterator<Item = (&'a str, std::borrow::Cow<'a, str>)>,
    ) -> Fields {
        let mut text = String::with_capacity(256);
        let mut push = |s: &str| {
            let start = text.len();
            text.push_str(s);
            (start, text.len())
        };
        let target = push(target);
        let headers = headers
            .into_iter()
            .map(|(k, v)| (push(k), push(v.trim_ascii())))
            .collect();
        Fields {
            text: text.into(),
            target,
            headers,
        }
    }

    /// The target and fields of a parsed head as spans into one copy of its text. Values are
    /// trimmed; bytes that are not UTF-8 (obsolete text in a value) become U+FFFD.
    pub(super) fn parsed(bytes: &[u8], target: &str, headers: &[httparse::Header<'_>]) -> Fields {
        let Ok(text) = std::str::from_utf8(bytes) else {
            let pairs = headers
                .iter()
                .map(|h| (h.name, String::from_utf8_lossy(h.value)));
            return Fields::from_parts(target, pairs);
        };
        // Every slice httparse hands back lies within `bytes`, so its offset is its span.
        let span = |s: &str| {
            let start = (s.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
            (start, start.wrapping_add(s.len()))
        };
        Fields {
            text: text.into(),
            target: span(target),
            headers: headers
                .iter()
                .map(|h| {
                    // A value is a slice of the text checked above: taken from it, not checked
                    // again (`get` only looks at its two ends).
                    let start = (h.value.as_ptr() as usize).wrapping_sub(bytes.as_ptr() as usize);
                    let value = text
                        .get(start..start.wrapping_add(h.value.len()))
                        .map_or(&text[..0], str::trim_ascii);
                    (span(h.name), span(value))
                })
                .collect(),
        }
    }
}
