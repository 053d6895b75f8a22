//! What a child wrote, kept up to one cap for stdout and stderr together.
//!
//! A child that writes more than the cap is not stopped: blocking it on a full pipe would turn
//! a chatty command into a timeout, so the excess is read and dropped, and only counted. Lines
//! are handed to the progress callback from the kept stdout only, so a flood of output costs at
//! most `cap` bytes of callbacks too.

/// Longest line handed to the callback; the rest of a longer line is not.
const MAX_LINE: usize = 4096;

/// Which pipe bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pipe {
    Stdout,
    Stderr,
}

/// Called with each complete stdout line, without its line ending.
pub(crate) type LineCallback = Box<dyn FnMut(&str) + Send>;

pub(crate) struct Collector {
    cap: usize,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    /// Bytes the child wrote, kept or not.
    pub(crate) total: u64,
    pub(crate) truncated: bool,
    on_line: Option<LineCallback>,
    /// Where the next unfinished line starts in `stdout`.
    line_start: usize,
}

impl Collector {
    pub(crate) fn new(cap: usize, on_line: Option<LineCallback>) -> Collector {
        Collector {
            cap,
            stdout: Vec::new(),
            stderr: Vec::new(),
            total: 0,
            truncated: false,
            on_line,
            line_start: 0,
        }
    }

    /// Takes what was just read from `pipe`.
    pub(crate) fn push(&mut self, pipe: Pipe, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.cap - (self.stdout.len() + self.stderr.len());
        let kept = &bytes[..bytes.len().min(room)];
        if kept.len() < bytes.len() {
            self.truncated = true;
        }
        match pipe {
            Pipe::Stdout => {
                self.stdout.extend_from_slice(kept);
                self.lines();
            }
            Pipe::Stderr => self.stderr.extend_from_slice(kept),
        }
    }

    /// Hands out the last line even without its newline (the child has finished writing it),
    /// unless the cap cut it.
    pub(crate) fn finish(&mut self) {
        self.lines();
        if self.line_start < self.stdout.len() && !self.truncated {
            let start = self.line_start;
            self.line_start = self.stdout.len();
            self.emit(start, self.stdout.len());
        }
    }

    fn lines(&mut self) {
        if self.on_line.is_none() {
            self.line_start = self.stdout.len();
            return;
        }
        while let Some(at) = self.stdout[self.line_start..]
            .iter()
            .position(|&b| b == b'\n')
        {
            let (start, end) = (self.line_start, self.line_start + at);
            self.line_start = end + 1;
            self.emit(start, end);
        }
    }

    fn emit(&mut self, start: usize, mut end: usize) {
        if end > start && self.stdout[end - 1] == b'\r' {
            end -= 1;
        }
        let end = end.min(start + MAX_LINE);
        if let Some(f) = self.on_line.as_mut() {
            f(&String::from_utf8_lossy(&self.stdout[start..end]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn recording() -> (Arc<Mutex<Vec<String>>>, LineCallback) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        (
            seen,
            Box::new(move |l: &str| sink.lock().unwrap().push(l.to_string())),
        )
    }

    #[test]
    fn keeps_up_to_the_cap_across_both_pipes_and_counts_everything() {
        let mut c = Collector::new(10, None);
        c.push(Pipe::Stdout, b"123456");
        c.push(Pipe::Stderr, b"abc");
        assert!(!c.truncated);
        c.push(Pipe::Stderr, b"defg");
        c.push(Pipe::Stdout, b"789");
        assert_eq!(c.stdout, b"123456");
        assert_eq!(c.stderr, b"abcd");
        assert!(c.truncated);
        assert_eq!(c.total, 16);
    }

    #[test]
    fn lines_split_across_reads_and_the_unterminated_last_one() {
        let (seen, cb) = recording();
        let mut c = Collector::new(1 << 20, Some(cb));
        c.push(Pipe::Stdout, b"one\ntw");
        c.push(Pipe::Stderr, b"not a line\n");
        c.push(Pipe::Stdout, b"o\r\n\nthr");
        assert_eq!(*seen.lock().unwrap(), ["one", "two", ""]);
        c.push(Pipe::Stdout, b"ee");
        c.finish();
        c.finish();
        assert_eq!(*seen.lock().unwrap(), ["one", "two", "", "three"]);
    }

    #[test]
    fn lines_beyond_the_cap_are_not_handed_out_and_long_lines_are_cut() {
        let (seen, cb) = recording();
        let mut c = Collector::new(MAX_LINE + 18, Some(cb));
        let long = vec![b'x'; MAX_LINE + 10];
        c.push(Pipe::Stdout, &long);
        c.push(Pipe::Stdout, b"\nab\ncd\nef\n");
        c.finish();
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.len(),
            3,
            "{:?}",
            seen.iter().map(|l| l.len()).collect::<Vec<_>>()
        );
        assert_eq!(seen[0].len(), MAX_LINE);
        assert_eq!(seen[1..], ["ab", "cd"]);
        assert!(c.truncated);
    }
}
