//! A connection's read side: one buffer that never grows past the limit the caller names, and reads
//! that give up at a deadline rather than waiting on a silent client forever.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a read ended other than with data.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The deadline passed with nothing new.
    Timeout,
    /// The buffer holds as much as the caller allows.
    Full,
    /// The peer closed the connection or it failed.
    Closed,
}

/// First allocation for a connection's buffer; most request heads and JSON-RPC bodies fit.
const INITIAL: usize = 4096;
/// A buffer that grew past this for one large request is given back after it.
const KEEP: usize = 16 * 1024;

pub(crate) struct Input {
    /// Shared with a stream writer started before its handler returned (`request::Launch`).
    stream: Arc<TcpStream>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The read timeout currently set on the socket, to skip redundant `setsockopt` calls.
    timeout: Option<Duration>,
}

impl Input {
    pub fn new(stream: TcpStream) -> Input {
        Input {
            stream: Arc::new(stream),
            buf: Vec::new(),
            start: 0,
            end: 0,
            timeout: None,
        }
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// The connection, shared: a writer may run on another thread, and a stream's writer lets its
    /// producers write to it directly.
    pub fn shared(&self) -> &Arc<TcpStream> {
        &self.stream
    }

    /// Bytes read but not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Returns memory a large request needed, and all of it while the connection only writes (a
    /// long-lived SSE stream needs no read buffer).
    pub fn shrink(&mut self, to_nothing: bool) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if to_nothing || self.buf.len() > KEEP {
                self.buf = Vec::new();
            }
        }
    }

    /// Reads more bytes, keeping at most `max` unconsumed bytes buffered; returns how many arrived
    /// (0 never: a closed connection is [`ReadError::Closed`]).
    pub fn fill(&mut self, deadline: Instant, max: usize) -> Result<usize, ReadError> {
        if self.end - self.start >= max {
            return Err(ReadError::Full);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let want = (self.end + INITIAL).min(max).max(self.end + 1);
        if self.buf.len() < want {
            let grown = want.max(self.buf.len() * 2).min(max.max(want));
            self.buf.resize(grown, 0);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ReadError::Timeout);
        }
        // Only touch the socket option when the deadline moved noticeably.
        let stale = self
            .timeout
            .is_none_or(|t| remaining < t || remaining > t + Duration::from_secs(1));
        if stale {
            if self.stream.set_read_timeout(Some(remaining)).is_err() {
                return Err(ReadError::Closed);
            }
            self.timeout = Some(remaining);
        }
        let limit = (self.start + max).min(self.buf.len());
        loop {
            match (&*self.stream).read(&mut self.buf[self.end..limit]) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(ReadError::Timeout);
                }
                Err(_) => return Err(ReadError::Closed),
            }
        }
    }

    /// Reads until the buffer holds a line (ending in `\n`) of at most `max` bytes; returns its
    /// length including the newline.
    pub fn line(&mut self, deadline: Instant, max: usize) -> Result<usize, ReadError> {
        let mut scanned = 0;
        loop {
            let buf = self.buffered();
            if let Some(i) = buf[scanned..].iter().position(|&b| b == b'\n') {
                return Ok(scanned + i + 1);
            }
            scanned = buf.len();
            if scanned >= max {
                return Err(ReadError::Full);
            }
            self.fill(deadline, max)?;
        }
    }

    /// Moves exactly `n` bytes of the stream into `out`.
    pub fn take_exact(
        &mut self,
        out: &mut Vec<u8>,
        mut n: usize,
        deadline: Instant,
    ) -> Result<(), ReadError> {
        while n > 0 {
            if self.start == self.end {
                self.fill(deadline, n.min(64 * 1024))?;
            }
            let take = n.min(self.end - self.start);
            out.extend_from_slice(&self.buf[self.start..self.start + take]);
            self.consume(take);
            n -= take;
        }
        Ok(())
    }
}
