//! One connection, one thread: read a request, have the service handle it (on this thread), write
//! its outcome, and read the next request on the same connection.
//! When the outcome is a hand-over (an event stream), this thread becomes its writer, so an open
//! stream costs exactly one thread; after one that ends (a POST answered as SSE), the connection
//! goes back to reading requests.

use super::body::{self, BodyError, Framing, Refusal};
use super::head::{self, HeadError, HeadLimits};
use super::input::Input;
use super::request::{Answer, AnswerSlot, AnswerTx, Method, Outcome, Reply, Request, reason};
use super::service::{ListenerStats, Service};
use super::target;
use crate::decimal::push_decimal;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

/// Every bound the HTTP layer enforces on a client (each one a command-line flag).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request head (request line and header fields); larger → 431.
    pub max_header_bytes: usize,
    /// Longest request target; longer → 414.
    pub max_url_bytes: usize,
    /// Time a request head may take from its first byte; slower → 408 and closed.
    pub header_timeout: Duration,
    /// Time a kept-alive connection may sit without a request before it is closed.
    pub idle_timeout: Duration,
    /// Time a request body may take to arrive; slower → 408 and closed.
    pub body_timeout: Duration,
    /// Largest request body; larger → 413, before any of it is read.
    pub max_body_bytes: usize,
    /// A write the client does not accept within this time fails and the connection ends.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_header_bytes: 16 * 1024,
            max_url_bytes: 8 * 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            max_body_bytes: 4 * 1024 * 1024,
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// How long a connection closed after an error keeps reading (and discarding) what the client
/// still sends, so that closing does not reset the connection before the client read the answer.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

pub(crate) fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    service: &dyn Service,
    limits: &Limits,
    stats: &ListenerStats,
) {
    let hl = HeadLimits {
        max_bytes: limits.max_header_bytes,
        max_url: limits.max_url_bytes,
        idle: limits.idle_timeout,
        timeout: limits.header_timeout,
    };
    let mut input = Input::new(stream);
    loop {
        let head = match head::read_head(&mut input, &hl) {
            Ok(h) => h,
            Err(HeadError::Closed) => return,
            Err(HeadError::Idle) => {
                stats.idle_closed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                let (status, why) = match e {
                    HeadError::Timeout => {
                        stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
                        (
                            408,
                            "Request head arrived too slowly (--header-timeout-secs)",
                        )
                    }
                    HeadError::TooLarge => (
                        431,
                        "Request head too large (--max-header-bytes, at most 64 fields)",
                    ),
                    HeadError::UriTooLong => (414, "Request target too long (--max-url-bytes)"),
                    HeadError::Version => (505, "Only HTTP/1.0 and HTTP/1.1 are served"),
                    HeadError::Bad(why) => (400, why),
                    HeadError::Closed | HeadError::Idle => return,
                };
                stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                let reply = service.error(None, status, why);
                return fail(service, input, None, reply);
            }
        };
        let framing = body::framing(&head);
        let keep_alive = head.keep_alive();
        let http10 = head.minor == 0;
        let expect_continue = head.has_token("Expect", "100-continue") && !http10;
        let mut req = Request {
            method: head.method,
            head: head.fields,
            body: Vec::new(),
            peer: Some(peer),
            answer: None,
        };
        let framing = match framing {
            Ok(f) => f,
            Err(Refusal(status, why)) => {
                stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                let reply = service.error(Some(&req), status, why);
                return fail(service, input, Some(&req), reply);
            }
        };
        if let Err(reply) = service.admit(&req) {
            return fail(service, input, Some(&req), reply);
        }
        if let Framing::Length(n) = framing
            && n > limits.max_body_bytes as u64
        {
            return fail(service, input, Some(&req), too_large(service, &req, limits));
        }
        if expect_continue && framing != Framing::None && input.buffered().is_empty() {
            let _ = input.stream().write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let deadline = Instant::now() + limits.body_timeout;
        match body::read(&mut input, &framing, limits.max_body_bytes, deadline) {
            Ok(b) => req.body = b,
            Err(BodyError::TooLarge) => {
                return fail(service, input, Some(&req), too_large(service, &req, limits));
            }
            Err(BodyError::Timeout) => {
                let reply = service.error(
                    Some(&req),
                    408,
                    "Request body arrived too slowly (--body-timeout-secs)",
                );
                return fail(service, input, Some(&req), reply);
            }
            Err(BodyError::Bad(why)) => {
                stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                let reply = service.error(Some(&req), 400, why);
                return fail(service, input, Some(&req), reply);
            }
            Err(BodyError::Closed) => return,
        }
        let method = req.method;
        // The head's text outlives the request (a reference, not a copy) for counting the answer.
        let (text, target) = req.head.shared_target();
        let path = target::path(text.get(target).unwrap_or(""));
        let slot = AnswerSlot::new();
        req.answer = Some(AnswerTx::new(&slot).launchable(input.shared().clone(), !http10));
        let answer = match service.dispatch(req) {
            Err(reply) => Answer::Outcome(Some(Outcome::Reply(reply))),
            Ok(()) => slot.wait(),
        };
        let outcome = match answer {
            Answer::Outcome(Some(o)) => o,
            // Every answer path sends exactly once; a handler that lost its request gets 500.
            Answer::Outcome(None) => {
                Outcome::Reply(service.error(None, 500, "Internal error: no answer was produced"))
            }
            Answer::Ran(clean) => {
                // A stream started before its handler returned, and written by its own thread.
                service.answered(path, method, 200);
                if !clean || !keep_alive || http10 || stats.stopping() {
                    return;
                }
                input.shrink(false);
                continue;
            }
        };
        let (outcome, then) = match outcome {
            Outcome::ReplyThen(reply, then) => (Outcome::Reply(reply), Some(then)),
            o => (o, None),
        };
        match outcome {
            Outcome::Reply(reply) | Outcome::ReplyThen(reply, _) => {
                service.answered(path, method, reply.status);
                let close = !keep_alive || reply.closes() || stats.stopping();
                let head_only = method == Method::Head;
                let written = write_reply(input.stream(), &reply, close, http10, head_only);
                // Work accepted by the reply is done even if the client is gone: its requests
                // are registered and must end.
                if let Some(then) = then {
                    then();
                }
                if written.is_err() || close {
                    return;
                }
            }
            Outcome::Handover(job) => {
                service.answered(path, method, 200);
                // A long-lived stream (a GET) needs no read buffer while it writes; a POST's
                // stream usually ends with its answer, and the next request would only allocate
                // (and zero) the buffer again.
                input.shrink(method != Method::Post);
                let clean = job.run(input.shared(), !http10);
                if !clean || !keep_alive || http10 || stats.stopping() {
                    return;
                }
            }
        }
        input.shrink(false);
    }
}

fn too_large(service: &dyn Service, req: &Request, limits: &Limits) -> Reply {
    service.error(
        Some(req),
        413,
        &format!(
            "Request body too large: the limit is {} bytes (--max-body-bytes)",
            limits.max_body_bytes
        ),
    )
}

/// Answers an error, then closes the connection without resetting it: the client may still be
/// sending a body we will not read, and closing with unread data would send a reset that can
/// destroy our answer in the client's receive buffer before it is read.
fn fail(service: &dyn Service, input: Input, req: Option<&Request>, reply: Reply) {
    service.answered(
        req.map(|r| r.path()).unwrap_or(""),
        req.map(|r| r.method).unwrap_or(Method::Other),
        reply.status,
    );
    let stream = input.stream();
    if write_reply(stream, &reply, true, false, false).is_err() {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let start = Instant::now();
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let left = LINGER.saturating_sub(start.elapsed());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match (&*stream).read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Writes a complete reply in one `write` (head and body together), with no temporary strings:
/// numbers and the date go straight into the buffer, since this runs once per request.
pub(crate) fn write_reply(
    mut w: &TcpStream,
    reply: &Reply,
    close: bool,
    http10: bool,
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(256 + reply.body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(&mut out, u64::from(reply.status));
    out.push(b' ');
    out.extend_from_slice(reason(reply.status).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    push_date(&mut out, SystemTime::now());
    out.extend_from_slice(b"\r\n");
    for (k, v) in &reply.headers {
        let (k, v): (&str, &str) = (k, v);
        if k.eq_ignore_ascii_case("Connection") || k.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        // Values we build are single-line; a stray newline must never split a header.
        let breaks = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n');
        if breaks(k) || breaks(v) {
            continue;
        }
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // RFC 9110 §8.6: no Content-Length on 1xx and 204.
    let no_body = reply.status < 200 || reply.status == 204;
    if !no_body {
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(&mut out, reply.body.len() as u64);
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !no_body && !head_only {
        out.extend_from_slice(&reply.body);
    }
    w.write_all(&out)?;
    w.flush()
}

/// The length of an IMF-fixdate.
const DATE_LEN: usize = 29;

thread_local! {
    /// The last `Date` this thread wrote and its second: a connection thread answering many
    /// requests a second formats the date once per second, not once per request.
    static DATE: std::cell::Cell<(u64, [u8; DATE_LEN])> = const { std::cell::Cell::new((u64::MAX, [0; DATE_LEN])) };
}

/// Appends the IMF-fixdate of `t`, formatted at most once per second per thread.
fn push_date(out: &mut Vec<u8>, t: SystemTime) {
    let secs = unix_secs(t);
    let (cached, mut text) = DATE.get();
    if cached != secs {
        let formatted = http_date(t);
        if formatted.len() == DATE_LEN {
            text.copy_from_slice(formatted.as_bytes());
            DATE.set((secs, text));
        } else {
            // A year past 9999 (or before 1000): not worth caching.
            out.extend_from_slice(formatted.as_bytes());
            return;
        }
    }
    out.extend_from_slice(&text);
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for the `Date` header.
pub(crate) fn http_date(t: SystemTime) -> String {
    let secs = unix_secs(t);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        h,
        m,
        s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            http_date(SystemTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(http_date(leap), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn cached_dates_follow_the_clock() {
        let mut out = Vec::new();
        push_date(
            &mut out,
            SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777),
        );
        push_date(
            &mut out,
            SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777),
        );
        push_date(
            &mut out,
            SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_778),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMTSun, 06 Nov 1994 08:49:37 GMTSun, 06 Nov 1994 08:49:38 GMT"
        );
    }
}
