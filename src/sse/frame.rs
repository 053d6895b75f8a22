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
pub fn format_frame(frame: &Frame, message_event: Option<&'static str>) -> String {
    let mut s = String::new();
    let (name, data): (Option<&str>, &str) = match frame {
        Frame::Message(m) | Frame::Final(m) => (message_event, &*m.json),
        Frame::Event { name, data } => (*name, data.as_str()),
        Frame::Comment(c) => {
            s.push_str(": ");
            s.push_str(c);
            s.push_str("\n\n");
            return s;
        }
        Frame::Priming { id, retry_ms } => {
            s.push_str(&format!("id: {id}\nretry: {retry_ms}\ndata: \n\n"));
            return s;
        }
        Frame::Close | Frame::Resume => return s,
    };
    if let Some(n) = name {
        s.push_str("event: ");
        s.push_str(n);
        s.push('\n');
    }
    if let Frame::Message(Msg { id: Some(id), .. }) | Frame::Final(Msg { id: Some(id), .. }) = frame
    {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    // One `data:` line per line of payload; compact JSON never has raw newlines, but a greeting
    // or user-supplied text might.
    for line in data.split('\n') {
        s.push_str("data: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    s
}

/// Appends one frame as its own chunk (or raw, for HTTP/1.0).
pub(super) fn append_frame(
    buf: &mut Vec<u8>,
    chunked: bool,
    frame: &Frame,
    message_event: Option<&'static str>,
) {
    let text = format_frame(frame, message_event);
    if text.is_empty() {
        return;
    }
    if chunked {
        buf.extend_from_slice(format!("{:x}\r\n", text.len()).as_bytes());
    }
    buf.extend_from_slice(text.as_bytes());
    if chunked {
        buf.extend_from_slice(b"\r\n");
    }
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
    fn chunk_framing() {
        let mut buf = Vec::new();
        append_frame(&mut buf, true, &Frame::Comment("k"), None);
        assert_eq!(buf, b"5\r\n: k\n\n\r\n");
        let mut buf = Vec::new();
        append_frame(&mut buf, false, &Frame::Comment("k"), None);
        assert_eq!(buf, b": k\n\n", "HTTP/1.0: the raw event");
    }
}
