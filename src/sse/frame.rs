//! The frames a stream writes and their text on the wire.

use std::sync::Arc;

/// A JSON-RPC message with its per-session sequence number (0 when not session-wide).
#[derive(Debug, Clone)]
pub struct Msg {
    pub seq: u64,
    pub json: Arc<str>,
    /// The SSE event id (`<stream>-<seq>`) of a message a client can resume after.
    pub id: Option<Arc<str>>,
}

/// What a stream thread can be asked to write.
#[derive(Debug, Clone)]
pub enum Frame {
    /// A JSON-RPC message; the stream decides the `event:` name its transport uses.
    Message(Msg),
    /// A non-message event such as the seed's greeting or the legacy `endpoint` event.
    Event {
        name: Option<&'static str>,
        data: String,
    },
    /// An SSE comment (`: keepalive`); invisible to clients, keeps proxies from timing out.
    Comment(&'static str),
    /// The event that opens a resumable stream (revision 2025-11-25): an id and empty data, so
    /// a client cut off before the first message can still resume, and how long to wait first.
    Priming { id: Arc<str>, retry_ms: u64 },
    /// Write the final event(s) already queued, then end the HTTP response.
    Close,
    /// A message that is the last of its stream: written and the response ended in one write,
    /// so a client never waits between the answer it needs and the end of the stream.
    Final(Msg),
    /// Writes nothing itself: wakes the writer to finish a frame that a direct write (see
    /// `direct`) could only partly send.
    Resume,
}

/// Formats one frame as SSE text (without chunk framing).
#[cfg(test)]
pub fn format_frame(frame: &Frame, message_event: Option<&'static str>) -> String {
    let mut buf = Vec::new();
    write_text(&mut buf, frame, message_event);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Appends one frame's SSE text (without chunk framing) to `buf`.
fn write_text(buf: &mut Vec<u8>, frame: &Frame, message_event: Option<&'static str>) {
    let (name, data): (Option<&str>, &str) = match frame {
        Frame::Message(m) | Frame::Final(m) => (message_event, &*m.json),
        Frame::Event { name, data } => (*name, data.as_str()),
        Frame::Comment(c) => {
            buf.extend_from_slice(b": ");
            buf.extend_from_slice(c.as_bytes());
            buf.extend_from_slice(b"\n\n");
            return;
        }
        Frame::Priming { id, retry_ms } => {
            buf.extend_from_slice(b"id: ");
            buf.extend_from_slice(id.as_bytes());
            buf.extend_from_slice(b"\nretry: ");
            buf.extend_from_slice(retry_ms.to_string().as_bytes());
            buf.extend_from_slice(b"\ndata: \n\n");
            return;
        }
        Frame::Close | Frame::Resume => return,
    };
    if let Some(n) = name {
        buf.extend_from_slice(b"event: ");
        buf.extend_from_slice(n.as_bytes());
        buf.push(b'\n');
    }
    if let Frame::Message(Msg { id: Some(id), .. }) | Frame::Final(Msg { id: Some(id), .. }) = frame
    {
        buf.extend_from_slice(b"id: ");
        buf.extend_from_slice(id.as_bytes());
        buf.push(b'\n');
    }
    // One `data:` line per line of payload; compact JSON never has raw newlines, but a greeting
    // or user-supplied text might.
    for line in data.split('\n') {
        buf.extend_from_slice(b"data: ");
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
    }
    buf.push(b'\n');
}

/// Appends one frame as its own chunk (or raw, for HTTP/1.0), written straight into `buf`: the
/// text goes in first and its chunk-size line is put in front of it once its length is known (a
/// move of the text, where formatting it apart cost two allocations per event).
pub(super) fn append_frame(
    buf: &mut Vec<u8>,
    chunked: bool,
    frame: &Frame,
    message_event: Option<&'static str>,
) {
    let start = buf.len();
    write_text(buf, frame, message_event);
    let len = buf.len() - start;
    if !chunked || len == 0 {
        return;
    }
    let mut size = [0u8; 18];
    let n = chunk_size_line(len, &mut size);
    buf.splice(start..start, size[..n].iter().copied());
    buf.extend_from_slice(b"\r\n");
}

/// Writes `len` in hex followed by CRLF into `out`; returns the bytes used.
fn chunk_size_line(len: usize, out: &mut [u8; 18]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in 0..digits {
        out[digits - 1 - i] = HEX[(len >> (4 * i)) & 0xf];
    }
    out[digits] = b'\r';
    out[digits + 1] = b'\n';
    digits + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(
            format_frame(
                &Frame::Message(Msg {
                    seq: 1,
                    json: "{\"a\":1}".into(),
                    id: Some("3-1".into()),
                }),
                Some("message")
            ),
            "event: message\nid: 3-1\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            format_frame(
                &Frame::Message(Msg {
                    seq: 1,
                    json: "{}".into(),
                    id: None,
                }),
                None
            ),
            "data: {}\n\n"
        );
        assert_eq!(
            format_frame(
                &Frame::Event {
                    name: None,
                    data: "a\nb".into()
                },
                None
            ),
            "data: a\ndata: b\n\n"
        );
        assert_eq!(
            format_frame(&Frame::Comment("keepalive"), None),
            ": keepalive\n\n"
        );
        assert_eq!(
            format_frame(
                &Frame::Priming {
                    id: "4-0".into(),
                    retry_ms: 500
                },
                None
            ),
            "id: 4-0\nretry: 500\ndata: \n\n"
        );
    }

    #[test]
    fn chunk_size_lines() {
        for (len, want) in [
            (1usize, "1\r\n"),
            (15, "f\r\n"),
            (16, "10\r\n"),
            (255, "ff\r\n"),
            (4096, "1000\r\n"),
            (0x1234_5678, "12345678\r\n"),
        ] {
            let mut out = [0u8; 18];
            let n = chunk_size_line(len, &mut out);
            assert_eq!(&out[..n], want.as_bytes(), "{len}");
        }
        let mut buf = b"before".to_vec();
        let text = "x".repeat(300);
        append_frame(
            &mut buf,
            true,
            &Frame::Event {
                name: None,
                data: text.clone(),
            },
            None,
        );
        assert_eq!(
            buf,
            format!("before134\r\ndata: {text}\n\n\r\n").into_bytes()
        );
    }

    #[test]
    fn chunk_framing() {
        let mut buf = Vec::new();
        append_frame(&mut buf, true, &Frame::Comment("k"), None);
        assert_eq!(buf, b"5\r\n: k\n\n\r\n");
        let mut buf = Vec::new();
        append_frame(&mut buf, false, &Frame::Comment("k"), None);
        assert_eq!(buf, b": k\n\n", "HTTP/1.0: the raw event");
    }
}
