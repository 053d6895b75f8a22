//! A session's general stream (Streamable HTTP `GET /mcp`, seed `/notifications`): the one place
//! that decides between resuming after `Last-Event-ID` and starting fresh with the outbox, so
//! both transports lose nothing across a reconnect in the same way.

use super::refusal::{Handled, Outcome};
use crate::dispatch::Core;
use crate::http::Request;
use crate::session::{GENERAL_STREAM, Session};

use crate::sse::{self, StreamHandle, StreamSpec};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Opens a general stream of `session`, resuming the general channel after `Last-Event-ID` when
/// the request names one of its events: the client then gets exactly what followed. Without an
/// id, or when it cannot be resumed (the gap is logged and counted), the stream starts fresh with
/// the outbox. `replace` closes the session's other general streams (Streamable HTTP has one; the
/// seed transport allows several).
pub fn open(
    core: &Arc<Core>,
    req: Request,
    session: &Arc<Session>,
    spec: StreamSpec,
    replace: bool,
) -> Outcome {
    let resume_after = resume_point(core, &req, session);
    let s2 = session.clone();
    let on_end: sse::OnEnd = Box::new(move |id, left| s2.detach(id, left));
    // The writer asks for the rest of the backlog as it drains its queue.
    let s3 = session.clone();
    let refill: sse::Refill = Box::new(move |id| s3.refill(id));
    let target = Target {
        core,
        session,
        replace,
    };
    let hooks = Hooks { on_end, refill };
    match resume_after {
        Some(after) => target.resume(req, spec, hooks, after),
        None => target.attach_fresh(req, spec, hooks),
    }
}

/// What a general stream's writer calls back: when it ends, and when it has room for more.
struct Hooks {
    on_end: sse::OnEnd,
    refill: sse::Refill,
}

fn open_paced(
    core: &Core,
    req: Request,
    spec: StreamSpec,
    hooks: Hooks,
) -> Result<StreamHandle, sse::OpenError> {
    StreamHandle::open_paced(req, spec, &core.streams, hooks.on_end, hooks.refill)
}

/// The general-channel event a request's `Last-Event-ID` names; an id of anything else is a gap.
fn resume_point(core: &Core, req: &Request, session: &Session) -> Option<u64> {
    let last = req.header("Last-Event-ID")?;
    let own = session.own_event_id(last);
    match own.and_then(crate::replay::parse_event_id) {
        Some((GENERAL_STREAM, after)) => Some(after),
        _ => {
            gap(core, session, last, "unknown, or no longer kept");
            None
        }
    }
}

/// Where a general stream goes once it is open.
struct Target<'a> {
    core: &'a Arc<Core>,
    session: &'a Arc<Session>,
    replace: bool,
}

impl Target<'_> {
    fn resume(self, req: Request, spec: StreamSpec, hooks: Hooks, after: u64) -> Outcome {
        // The resumed stream's priming event names where the client said it was; the replayed
        // messages follow it as the stream's first frames.
        let mut spec = spec;
        for f in &mut spec.first {
            if let sse::Frame::Priming { id, .. } = f {
                *id = self.session.general_event_id(after);
            }
        }
        let last = req.header("Last-Event-ID").unwrap_or("").to_string();
        // Moved into the opener only when the resume goes ahead; a gap hands them back.
        let mut parts = Some((req, spec, hooks));
        let resumed = self.session.resume_general(after, |replay| {
            let Some((req, mut spec, hooks)) = parts.take() else {
                return Err(None);
            };
            spec.first.extend(replay);
            open_paced(self.core, req, spec, hooks).map_err(Some)
        });
        match resumed {
            Ok(Ok((n, id))) => {
                self.core
                    .runtime
                    .metrics
                    .streams_resumed
                    .fetch_add(1, Ordering::Relaxed);
                log::debug!(
                    "session {}: general stream {id} resumed, {n} event(s) replayed",
                    self.session.id
                );
                self.opened(id);
                Ok(Handled::Done)
            }
            Ok(Err(Some(e))) => Err(e.into()),
            Ok(Err(None)) => Ok(Handled::Done),
            Err(_) => {
                gap(
                    self.core,
                    self.session,
                    &last,
                    "the events after it are no longer kept",
                );
                match parts.take() {
                    Some((req, spec, hooks)) => self.attach_fresh(req, spec, hooks),
                    None => Ok(Handled::Done),
                }
            }
        }
    }

    /// Opens a general stream that starts fresh with the session's outbox.
    fn attach_fresh(self, req: Request, spec: StreamSpec, hooks: Hooks) -> Outcome {
        let handle = open_paced(self.core, req, spec, hooks)?;
        let id = handle.id;
        self.session.attach(handle);
        log::debug!("session {}: stream {id} opened", self.session.id);
        self.opened(id);
        Ok(Handled::Done)
    }

    fn opened(&self, id: u64) {
        if self.replace {
            self.session.close_streams_except(id);
        }
    }
}

/// A `Last-Event-ID` that cannot be resumed: logged and counted; a fresh stream starts.
fn gap(core: &Core, session: &Session, last: &str, why: &str) {
    core.runtime
        .metrics
        .resume_gaps
        .fetch_add(1, Ordering::Relaxed);
    log::info!(
        "session {}: cannot resume after event {:?} ({why}); a fresh stream starts",
        session.id,
        crate::replay::redacted_event_id(last)
    );
}
