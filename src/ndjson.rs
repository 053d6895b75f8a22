//! Newline-delimited JSON-RPC, the framing of MCP's stdio transport: one message per line, no
//! embedded newlines. It knows nothing of MCP or of who is on the other end, so the same reader
//! and writer serve our own stdin/stdout and, later, a gateway talking to stdio children.
//!
//! Reading is bounded: a line is collected only up to a cap, and a longer one is skipped in
//! chunks without keeping it, so a peer that never sends a newline costs one chunk of memory,
//! not everything it sends.

use std::io::{self, BufRead, BufReader, Read, Write};

/// Bytes read from the peer at a time.
const CHUNK: usize = 64 * 1024;

/// What the next line of the stream was.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its `\n` (or `\r\n`), not blank.
    Message(Vec<u8>),
    /// A line longer than the cap; `bytes` were skipped (up to and including its newline, or to
    /// the end of the stream).
    TooLong { bytes: usize },
}

/// Reads lines of at most `max` bytes from a byte stream.
pub struct LineReader<R> {
    inner: BufReader<R>,
    max: usize,
}

impl<R: Read> LineReader<R> {
    /// Lines longer than `max` bytes (without the newline) are reported as [`Line::TooLong`].
    pub fn new(inner: R, max: usize) -> LineReader<R> {
        LineReader {
            inner: BufReader::with_capacity(CHUNK, inner),
            max,
        }
    }

    /// The next non-blank line; `None` at the end of the stream. A last line without its
    /// newline still counts (a peer that wrote it and closed meant it).
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        loop {
            let Some(line) = self.read_raw()? else {
                return Ok(None);
            };
            match line {
                Line::Message(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => continue,
                other => return Ok(Some(other)),
            }
        }
    }

    /// One line, blank or not.
    fn read_raw(&mut self) -> io::Result<Option<Line>> {
        let mut line = Vec::new();
        let mut skipped: Option<usize> = None;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(match skipped {
                    Some(bytes) => Some(Line::TooLong { bytes }),
                    None if line.is_empty() => None,
                    None if line.len() > self.max => Some(Line::TooLong { bytes: line.len() }),
                    None => Some(Line::Message(trim_cr(line))),
                });
            }
            let (part, found) = match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => (&chunk[..at], true),
                None => (chunk, false),
            };
            let used = part.len() + usize::from(found);
            match skipped.as_mut() {
                Some(n) => *n += used,
                // `\r\n` endings: the `\r` does not count against the cap.
                None if line.len() + part.len() > self.max + usize::from(found) => {
                    skipped = Some(line.len() + used);
                    line = Vec::new();
                }
                None => line.extend_from_slice(part),
            }
            self.inner.consume(used);
            if found {
                return Ok(Some(match skipped {
                    Some(bytes) => Line::TooLong { bytes },
                    None => {
                        let bytes = line.len() + 1;
                        let line = trim_cr(line);
                        if line.len() > self.max {
                            Line::TooLong { bytes }
                        } else {
                            Line::Message(line)
                        }
                    }
                }));
            }
        }
    }
}

fn trim_cr(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

/// Writes `json` as one line. serde_json never writes a raw newline inside a value (a newline in
/// a string is `\n`, escaped), so a message serialised by it is always one line; anything else
/// carrying one is refused rather than split into two broken messages.
pub fn write_line(w: &mut impl Write, json: &str) -> io::Result<()> {
    if json.contains('\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a message with an embedded newline cannot be sent as one line",
        ));
    }
    let mut buf = Vec::with_capacity(json.len() + 1);
    buf.extend_from_slice(json.as_bytes());
    buf.push(b'\n');
    w.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut r = LineReader::new(input, max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l);
        }
        out
    }

    fn msg(s: &str) -> Line {
        Line::Message(s.as_bytes().to_vec())
    }

    #[test]
    fn splits_lines_and_skips_blank_ones() {
        assert_eq!(
            lines(b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}", 100),
            vec![msg("{\"a\":1}"), msg("{\"b\":2}"), msg("{\"c\":3}")]
        );
    }

    #[test]
    fn a_line_at_the_cap_passes_and_one_over_it_is_skipped() {
        let at = "x".repeat(10);
        let over = "y".repeat(11);
        let input = format!("{at}\n{over}\n{at}\r\nz\n");
        assert_eq!(
            lines(input.as_bytes(), 10),
            vec![msg(&at), Line::TooLong { bytes: 12 }, msg(&at), msg("z")]
        );
    }

    #[test]
    fn a_long_line_spanning_many_chunks_is_skipped_without_being_kept() {
        let long = vec![b'x'; 5 * CHUNK + 17];
        let mut input = long.clone();
        input.extend_from_slice(b"\n{}\n");
        let mut r = LineReader::new(&input[..], 1000);
        assert_eq!(
            r.next_line().unwrap(),
            Some(Line::TooLong {
                bytes: long.len() + 1
            })
        );
        // Never more than one chunk buffered while skipping.
        assert!(r.inner.capacity() <= CHUNK);
        assert_eq!(r.next_line().unwrap(), Some(msg("{}")));
        assert_eq!(r.next_line().unwrap(), None);
    }

    #[test]
    fn an_unterminated_long_tail_is_reported_too() {
        assert_eq!(
            lines(b"{}\nxxxxxxxx", 4),
            vec![msg("{}"), Line::TooLong { bytes: 8 }]
        );
    }

    #[test]
    fn write_line_refuses_embedded_newlines() {
        let mut out = Vec::new();
        write_line(&mut out, "{\"a\":\"b\\nc\"}").unwrap();
        assert_eq!(out, b"{\"a\":\"b\\nc\"}\n");
        assert!(write_line(&mut out, "{\n}").is_err());
    }
}
