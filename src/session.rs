//! Sessions and the one path by which every message reaches a client.
//!
//! Whatever the transport, a message for a client goes through [`Session::send`]. A session's
//! *general* streams (the seed's `/notifications`, the legacy `/sse`, the Streamable HTTP GET
//! stream) receive messages that are not tied to one HTTP exchange; while none is open they wait
//! in a bounded outbox and are delivered, in order, when a stream attaches. Messages that answer a
//! particular HTTP exchange (Streamable HTTP POSTs) go to that exchange instead.

use crate::cancellation::Cancellation;
use crate::jsonrpc::RequestId;
use crate::logging::LogLevel;
use crate::protocol::Revision;
use crate::sse::{Frame, Msg, Push, StreamHandle};
use crossbeam_channel::{Receiver, Sender};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A request of ours waiting for the client's answer: where the answer goes, and the client
/// request it was made for.
type Waiter = (Sender<Result<Value, Value>>, Option<RequestId>);

/// Which transport created the session; it decides how the session's messages are framed and
/// when the session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// `GET /notifications` + `POST /mcp` (202, answers on the stream).
    Seed,
    /// MCP Streamable HTTP on `/mcp`.
    Streamable,
    /// MCP 2024-11-05 HTTP+SSE (`/sse` + `/messages`); the session lives as long as its stream.
    Legacy,
    /// One stateless request of revision 2026-07-28 on `/mcp`: the "session" exists only while
    /// the request runs, is never registered, and holds what the request's `_meta` said.
    Stateless,
}

/// A message on its way to a client, serialised once and shared by every stream it goes to.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub json: Arc<str>,
    /// Set when the message is the response to this request id.
    pub answers: Option<RequestId>,
    /// The error code when the message is an error response (an exchange may map it to an HTTP
    /// status).
    pub error: Option<i64>,
}

impl Outgoing {
    /// The response to request `id`.
    pub fn answer(id: &RequestId, response: &crate::jsonrpc::Response) -> Outgoing {
        Outgoing {
            json: response.to_json().into(),
            answers: Some(id.clone()),
            error: response.error.as_ref().map(|e| e.code),
        }
    }

    /// A notification or a request of ours.
    pub fn message(json: Arc<str>) -> Outgoing {
        Outgoing {
            json,
            answers: None,
            error: None,
        }
    }
}

/// A single HTTP exchange waiting for messages (a Streamable HTTP POST answered with JSON or an
/// SSE stream).
pub trait Exchange: Send + Sync {
    /// Takes one message for this exchange; returns false if the exchange can no longer deliver.
    fn deliver(&self, msg: &Outgoing) -> bool;
    /// The request `id` of this exchange was cancelled: it gets no result. The exchange still
    /// ends properly (an SSE stream ends; a JSON body, which cannot stay silent, says why).
    fn cancelled(&self, id: &RequestId);
    /// Whether messages other than the answers can travel on this exchange (an SSE stream can;
    /// a JSON body cannot).
    fn streams(&self) -> bool;
    /// Ends the exchange's SSE stream early without ending the request (SSE polling); false if
    /// it has none or cannot be resumed.
    fn end_stream(&self) -> bool {
        false
    }
    /// Whether a client can resume this exchange's stream (`Last-Event-ID`).
    fn can_resume(&self) -> bool {
        false
    }
    /// Resumes the exchange's stream after event `after` on a stream `open` opens with the
    /// replayed events as its first frames.
    fn resume(
        &self,
        _after: u64,
        _open: &mut dyn FnMut(Vec<Frame>) -> Option<StreamHandle>,
    ) -> Result<usize, crate::replay::Gap> {
        Err(crate::replay::Gap::Unknown)
    }
}

/// The stream number of a session's general channel in event ids (`0-<seq>`).
pub const GENERAL_STREAM: u64 = 0;

/// How many recent POST streams of a session can be resumed.
const RESUMABLE_STREAMS: usize = 16;

/// Where a message should go.
#[derive(Clone)]
pub enum Route {
    /// The session's general streams, or its outbox while none is open.
    Session,
    /// One HTTP exchange.
    Exchange(Arc<dyn Exchange>),
}

struct State {
    last_activity: Instant,
    initialized: bool,
    revision: Option<Revision>,
    client_info: Option<Value>,
    client_capabilities: Option<Value>,
    /// Set by `logging/setLevel`; until then [`crate::logging::DEFAULT_LEVEL`].
    log_level: Option<LogLevel>,
    /// No log messages at all (a stateless request that named no level).
    muted: bool,
    /// URIs of resources this client subscribed to.
    subscriptions: HashSet<String>,
    /// General streams, each with the sequence number of the first message broadcast after it
    /// attached (it got earlier ones only from the outbox, if at all).
    streams: Vec<(StreamHandle, u64)>,
    outbox: VecDeque<Msg>,
    /// The general channel's recent messages (stream 0 of the session's event ids).
    general_log: VecDeque<Msg>,
    /// General streams attached by a resume: they got everything before their attach point
    /// from the log, so messages a dead stream hands back are not theirs to receive again.
    resumed_streams: HashSet<u64>,
    next_seq: u64,
    /// SSE streams answering single HTTP exchanges; tracked only for keepalives and shutdown.
    exchange_streams: Vec<StreamHandle>,
    in_flight: usize,
    /// Client requests running, by id, for `notifications/cancelled`.
    running: HashMap<RequestId, Arc<Cancellation>>,
    /// Our requests to the client (sampling, elicitation, roots) waiting for its response, with
    /// the client request they serve (cancelling that one abandons them).
    awaiting: HashMap<RequestId, Waiter>,
    next_request: u64,
    /// Numbers the session's resumable streams (event ids are `<stream>-<seq>`).
    next_stream: u64,
    /// The most recent resumable streams, oldest first.
    resumable: VecDeque<(u64, Arc<dyn Exchange>)>,
    ended: bool,
}

pub struct Session {
    pub id: String,
    pub kind: TransportKind,
    outbox_limit: usize,
    /// Messages of the general channel kept for `Last-Event-ID` (0: none, the legacy transport).
    replay: usize,
    /// Requests running across all sessions (for graceful shutdown).
    active: Arc<AtomicUsize>,
    state: Mutex<State>,
}

impl Session {
    fn new(
        kind: TransportKind,
        outbox_limit: usize,
        replay: usize,
        active: Arc<AtomicUsize>,
    ) -> Session {
        // A stateless request's stand-in has no id: drawing a random one costs a syscall.
        let id = if kind == TransportKind::Stateless {
            String::new()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        Session {
            id,
            kind,
            outbox_limit,
            replay,
            active,
            state: Mutex::new(State {
                last_activity: Instant::now(),
                initialized: false,
                revision: None,
                client_info: None,
                client_capabilities: None,
                log_level: None,
                muted: false,
                subscriptions: HashSet::new(),
                streams: Vec::new(),
                outbox: VecDeque::new(),
                general_log: VecDeque::new(),
                resumed_streams: HashSet::new(),
                next_seq: 1,
                exchange_streams: Vec::new(),
                in_flight: 0,
                running: HashMap::new(),
                awaiting: HashMap::new(),
                next_request: 1,
                next_stream: 1,
                resumable: VecDeque::new(),
                ended: false,
            }),
        }
    }

    /// A poisoned lock only means another thread panicked mid-update of plain data; the state is
    /// still usable, and refusing service would turn one bug into an outage.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn touch(&self) {
        self.state().last_activity = Instant::now();
    }

    pub fn is_initialized(&self) -> bool {
        self.state().initialized
    }

    pub fn revision(&self) -> Option<Revision> {
        self.state().revision
    }

    pub fn mark_initialized(
        &self,
        rev: Revision,
        client_info: Option<Value>,
        capabilities: Option<Value>,
    ) {
        let mut s = self.state();
        s.initialized = true;
        s.revision = Some(rev);
        s.client_info = client_info;
        s.client_capabilities = capabilities;
    }

    pub fn client_info(&self) -> Option<Value> {
        self.state().client_info.clone()
    }

    pub fn client_capabilities(&self) -> Option<Value> {
        self.state().client_capabilities.clone()
    }

    /// Whether a log message at `level` goes to this client.
    pub fn log_enabled(&self, level: LogLevel) -> bool {
        let s = self.state();
        !s.muted && level >= s.log_level.unwrap_or(crate::logging::DEFAULT_LEVEL)
    }

    /// Whether the client asked for log messages (`logging/setLevel`); its tool calls are then
    /// answered as SSE streams on Streamable HTTP, so the messages have a way to it.
    pub fn wants_logs(&self) -> bool {
        self.state().log_level.is_some()
    }

    pub fn set_log_level(&self, level: LogLevel) {
        self.state().log_level = Some(level);
    }

    pub fn subscribe(&self, uri: &str) {
        self.state().subscriptions.insert(uri.to_string());
    }

    pub fn unsubscribe(&self, uri: &str) {
        self.state().subscriptions.remove(uri);
    }

    pub fn is_subscribed(&self, uri: &str) -> bool {
        self.state().subscriptions.contains(uri)
    }

    pub fn client_name(&self) -> Option<String> {
        self.state()
            .client_info
            .as_ref()
            .and_then(|c| c.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned)
    }

    #[cfg(test)]
    pub fn is_ended(&self) -> bool {
        self.state().ended
    }

    /// A running request keeps its session alive through expiry; its cancellation state is
    /// found by id until it ends.
    pub fn begin_request(&self, id: &RequestId) -> Arc<Cancellation> {
        self.active.fetch_add(1, Ordering::AcqRel);
        let cancel = Arc::new(Cancellation::default());
        let mut s = self.state();
        s.in_flight += 1;
        s.last_activity = Instant::now();
        s.running.insert(id.clone(), cancel.clone());
        cancel
    }

    pub fn end_request(&self, id: &RequestId) {
        self.active.fetch_sub(1, Ordering::AcqRel);
        let mut s = self.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.last_activity = Instant::now();
        s.running.remove(id);
    }

    /// `notifications/cancelled`: cancels the running request `id`; false if there is none
    /// (finished already, or never existed).
    pub fn cancel(&self, id: &RequestId) -> bool {
        let c = {
            let mut s = self.state();
            // Requests of ours made on its behalf are abandoned: their waiters wake at once.
            s.awaiting
                .retain(|_, (_, origin)| origin.as_ref() != Some(id));
            s.running.get(id).cloned()
        };
        c.is_some_and(|c| c.cancel())
    }

    /// Registers a request of ours to the client, made while serving the client's request
    /// `origin`; its response will arrive on the receiver.
    pub fn await_response(
        &self,
        origin: Option<RequestId>,
    ) -> (RequestId, Receiver<Result<Value, Value>>) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let mut s = self.state();
        let id = RequestId::String(format!("s-{}", s.next_request));
        s.next_request += 1;
        s.awaiting.insert(id.clone(), (tx, origin));
        (id, rx)
    }

    /// Forgets a request of ours (timed out or abandoned); a late response is then ignored.
    pub fn forget_request(&self, id: &RequestId) {
        self.state().awaiting.remove(id);
    }

    /// Routes the client's response to the request of ours that waits for it; false if none
    /// does (unknown, already answered, or given up on).
    pub fn resolve(&self, id: &RequestId, outcome: Result<Value, Value>) -> bool {
        let tx = self.state().awaiting.remove(id);
        tx.is_some_and(|(tx, _)| tx.try_send(outcome).is_ok())
    }

    pub fn next_stream_number(&self) -> u64 {
        let mut s = self.state();
        let n = s.next_stream;
        s.next_stream += 1;
        n
    }

    /// Keeps a resumable stream findable by its number (the most recent few only).
    pub fn keep_resumable(&self, stream: u64, x: Arc<dyn Exchange>) {
        let mut s = self.state();
        if s.resumable.len() >= RESUMABLE_STREAMS {
            s.resumable.pop_front();
        }
        s.resumable.push_back((stream, x));
    }

    pub fn resumable(&self, stream: u64) -> Option<Arc<dyn Exchange>> {
        self.state()
            .resumable
            .iter()
            .find(|(n, _)| *n == stream)
            .map(|(_, x)| x.clone())
    }

    /// Says a request was cancelled on the route its answer would take.
    pub fn send_cancelled(&self, route: &Route, id: &RequestId) {
        if let Route::Exchange(x) = route {
            x.cancelled(id);
        }
    }

    /// The one send path.
    pub fn send(&self, route: &Route, msg: Outgoing) {
        match route {
            // An answer to an exchange whose client is gone is dropped: responses must never be
            // diverted to the session's general stream.
            Route::Exchange(x) => {
                if !x.deliver(&msg) {
                    log::debug!("session {}: exchange gone; message dropped", self.id);
                }
            }
            Route::Session => self.send_general(msg.json),
        }
    }

    fn send_general(&self, json: Arc<str>) {
        let mut s = self.state();
        if s.ended {
            return;
        }
        let seq = s.next_seq;
        s.next_seq += 1;
        // The general channel is stream 0 of the session's event ids; the legacy transport's
        // session dies with its stream, so it keeps no log and sends no ids.
        let msg = Msg {
            seq,
            json,
            id: (self.replay > 0).then(|| crate::replay::event_id(GENERAL_STREAM, seq)),
        };
        if self.replay > 0 {
            if s.general_log.len() >= self.replay {
                s.general_log.pop_front();
            }
            s.general_log.push_back(msg.clone());
        }
        let mut delivered = false;
        let mut stuck = Vec::new();
        for (h, _) in &s.streams {
            match h.push(Frame::Message(msg.clone())) {
                Push::Queued => delivered = true,
                Push::Full => stuck.push(h.id),
                Push::Closed => {}
            }
        }
        if !delivered {
            self.enqueue(&mut s, msg);
        }
        for id in stuck {
            log::warn!(
                "session {}: stream {id} is not reading; closing it",
                self.id
            );
            self.drop_stream(&mut s, id);
        }
    }

    fn enqueue(&self, s: &mut State, msg: Msg) {
        if s.outbox.len() >= self.outbox_limit {
            s.outbox.pop_front();
            crate::metrics::METRICS
                .events_dropped
                .fetch_add(1, Ordering::Relaxed);
            log::warn!(
                "session {}: outbox full ({}); oldest message dropped",
                self.id,
                self.outbox_limit
            );
        }
        s.outbox.push_back(msg);
    }

    /// Removes a stuck stream and redelivers what it had not written.
    fn drop_stream(&self, s: &mut State, id: u64) {
        let Some(pos) = s.streams.iter().position(|(h, _)| h.id == id) else {
            return;
        };
        let (handle, _) = s.streams.remove(pos);
        let leftovers = handle.abandon();
        self.redeliver(s, leftovers);
    }

    /// Gives messages a dead stream may not have delivered to every open stream that attached
    /// after they were sent (the others got them already); with no open stream, back to the
    /// outbox in sequence order. Delivery is at-least-once: a client may see a message twice if it
    /// vanished just after reading it, and recognises it by its id.
    fn redeliver(&self, s: &mut State, leftovers: Vec<Msg>) {
        if leftovers.is_empty() || s.ended {
            return;
        }
        crate::metrics::METRICS
            .events_replayed
            .fetch_add(leftovers.len() as u64, Ordering::Relaxed);
        let open: Vec<&(StreamHandle, u64)> =
            s.streams.iter().filter(|(h, _)| !h.is_closed()).collect();
        if open.is_empty() {
            for m in leftovers {
                if !s.outbox.iter().any(|o| o.seq == m.seq) {
                    self.enqueue(s, m);
                }
            }
            s.outbox.make_contiguous().sort_by_key(|m| m.seq);
            return;
        }
        for m in leftovers {
            for (h, since) in &open {
                // A resumed stream was replayed everything before its resume point.
                if *since > m.seq && !s.resumed_streams.contains(&h.id) {
                    let _ = h.push(Frame::Message(m.clone()));
                }
            }
        }
    }

    /// What a priming event of a new general stream names (`0-<seq>`): the last event before
    /// anything this stream will be handed (the outbox's oldest message, else the next one), so
    /// a client that resumes after it never misses one.
    pub fn general_position(&self) -> Arc<str> {
        let s = self.state();
        let next = s.outbox.front().map_or(s.next_seq, |m| m.seq);
        crate::replay::event_id(GENERAL_STREAM, next - 1)
    }

    /// Opens (with `open`) and attaches a general stream that resumes after event `after` of the
    /// general channel: its first frames are exactly the logged messages that followed (written
    /// before anything queued, so a long replay is never cut by the stream's queue bound), and the
    /// outbox is dropped (everything in it either came before `after`, which the client has, or is
    /// in the log). Under the session's lock, so no message slips between replay and attach. A gap
    /// (the id is unknown, or its successors were evicted) opens nothing.
    pub fn resume_general<E>(
        &self,
        after: u64,
        open: impl FnOnce(Vec<Frame>) -> Result<StreamHandle, E>,
    ) -> Result<Result<(usize, u64), E>, crate::replay::Gap> {
        let mut s = self.state();
        if self.replay == 0 {
            return Err(crate::replay::Gap::Unknown);
        }
        let first_kept = s.general_log.front().map_or(s.next_seq, |m| m.seq);
        crate::replay::can_resume(after, first_kept, s.next_seq)?;
        let replay: Vec<Frame> = s
            .general_log
            .iter()
            .filter(|m| m.seq > after)
            .map(|m| Frame::Message(m.clone()))
            .collect();
        let n = replay.len();
        let handle = match open(replay) {
            Ok(h) => h,
            Err(e) => return Ok(Err(e)),
        };
        s.last_activity = Instant::now();
        s.streams.retain(|(h, _)| !h.is_closed());
        s.outbox.clear();
        let since = s.next_seq;
        let id = handle.id;
        s.resumed_streams.insert(id);
        s.streams.push((handle, since));
        Ok(Ok((n, id)))
    }

    /// Attaches a general stream and hands it the outbox, oldest first.
    pub fn attach(&self, handle: StreamHandle) {
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.streams.retain(|(h, _)| !h.is_closed());
        while let Some(m) = s.outbox.pop_front() {
            if handle.push(Frame::Message(m.clone())) != Push::Queued {
                s.outbox.push_front(m);
                break;
            }
        }
        let since = s.next_seq;
        s.streams.push((handle, since));
    }

    /// Called by a stream's thread when it ends; `leftovers` are messages it may not have
    /// delivered.
    pub fn detach(&self, stream_id: u64, leftovers: Vec<Msg>) {
        let mut s = self.state();
        s.last_activity = Instant::now();
        s.streams.retain(|(h, _)| h.id != stream_id);
        s.resumed_streams.remove(&stream_id);
        if !leftovers.is_empty() {
            log::debug!(
                "session {}: stream {stream_id} ended with {} undelivered message(s)",
                self.id,
                leftovers.len()
            );
        }
        self.redeliver(&mut s, leftovers);
    }

    /// Closes every general stream except `keep`; used when a new Streamable HTTP GET stream
    /// replaces the old one.
    pub fn close_streams_except(&self, keep: u64) {
        let s = self.state();
        for (h, _) in s.streams.iter().filter(|(h, _)| h.id != keep) {
            h.close();
        }
    }

    /// Registers the SSE stream of an exchange so it gets keepalives and ends with the session.
    pub fn track_exchange_stream(&self, handle: StreamHandle) {
        let mut s = self.state();
        s.exchange_streams.retain(|h| !h.is_closed());
        s.exchange_streams.push(handle);
    }

    /// Sends a keepalive comment on every stream; a stream whose queue is full is closed.
    pub fn keepalive(&self) {
        let mut s = self.state();
        s.exchange_streams.retain(|h| !h.is_closed());
        for h in &s.exchange_streams {
            if h.push(Frame::Comment("keepalive")) == Push::Full {
                h.close();
            }
        }
        let stuck: Vec<u64> = s
            .streams
            .iter()
            .filter(|(h, _)| h.push(Frame::Comment("keepalive")) == Push::Full)
            .map(|(h, _)| h.id)
            .collect();
        for id in stuck {
            log::warn!(
                "session {}: stream {id} is not reading; closing it",
                self.id
            );
            self.drop_stream(&mut s, id);
        }
    }

    /// Server shutdown: every stream gets `last` after what it already has queued, then ends.
    pub fn close_streams_with(&self, last: Frame) {
        let s = self.state();
        for h in s.streams.iter().map(|(h, _)| h).chain(&s.exchange_streams) {
            let _ = h.push(last.clone());
            h.close();
        }
    }

    /// Ends the session: closes its streams and drops its outbox; requests of ours still waiting
    /// for the client are abandoned.
    pub fn end(&self) {
        let mut s = self.state();
        s.ended = true;
        s.awaiting.clear();
        s.resumable.clear();
        for (h, _) in &s.streams {
            h.close();
        }
        for h in &s.exchange_streams {
            h.close();
        }
        s.streams.clear();
        s.exchange_streams.clear();
        s.outbox.clear();
    }

    fn expired(&self, now: Instant, ttl: Duration) -> bool {
        let s = self.state();
        s.streams.is_empty()
            && s.in_flight == 0
            && now.saturating_duration_since(s.last_activity) >= ttl
    }

    #[cfg(test)]
    fn outbox_len(&self) -> usize {
        self.state().outbox.len()
    }
}

/// Why a session could not be created.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManySessions;

/// All live sessions.
pub struct Sessions {
    map: Mutex<HashMap<String, Arc<Session>>>,
    max: usize,
    outbox_limit: usize,
    replay: usize,
    active: Arc<AtomicUsize>,
    pub created: AtomicUsize,
    pub expired: AtomicUsize,
}

impl Sessions {
    pub fn new(max: usize, outbox_limit: usize) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max,
            outbox_limit,
            replay: 256,
            active: Arc::new(AtomicUsize::new(0)),
            created: AtomicUsize::new(0),
            expired: AtomicUsize::new(0),
        }
    }

    /// Messages of each session's general channel kept for `Last-Event-ID` (`--replay-events`).
    pub fn with_replay(mut self, events: usize) -> Sessions {
        self.replay = events;
        self
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stand-in session of one stateless request (revision 2026-07-28): not registered (no
    /// session id reaches the client, nothing expires it), initialized from the request's
    /// `_meta`, and gone when the request is.
    pub fn stateless(&self, meta: &crate::stateless::RequestMeta) -> Arc<Session> {
        let session = Session::new(TransportKind::Stateless, 0, 0, self.active.clone());
        {
            let mut s = session.state();
            s.initialized = true;
            s.revision = Some(Revision::V2026_07_28);
            s.client_info = meta.client_info.clone();
            s.client_capabilities = Some(meta.capabilities.clone());
            s.log_level = meta.log_level;
            s.muted = meta.log_level.is_none();
        }
        Arc::new(session)
    }

    pub fn create(&self, kind: TransportKind) -> Result<Arc<Session>, TooManySessions> {
        let mut m = self.map();
        if m.len() >= self.max {
            return Err(TooManySessions);
        }
        let replay = if kind == TransportKind::Legacy {
            0
        } else {
            self.replay
        };
        let s = Arc::new(Session::new(
            kind,
            self.outbox_limit,
            replay,
            self.active.clone(),
        ));
        self.created.fetch_add(1, Ordering::Relaxed);
        m.insert(s.id.clone(), s.clone());
        log::info!("session {} opened ({kind:?})", s.id);
        Ok(s)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.map().get(id).cloned()
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let s = self.map().remove(id);
        if let Some(s) = &s {
            s.end();
        }
        s
    }

    /// Requests running in all sessions.
    pub fn active_requests(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn all(&self) -> Vec<Arc<Session>> {
        self.map().values().cloned().collect()
    }

    /// Removes sessions with no open stream and no running request that have been idle for
    /// `ttl`; returns how many.
    pub fn expire(&self, ttl: Duration) -> usize {
        let now = Instant::now();
        let expired: Vec<Arc<Session>> = {
            let mut m = self.map();
            let ids: Vec<String> = m
                .values()
                .filter(|s| s.expired(now, ttl))
                .map(|s| s.id.clone())
                .collect();
            ids.iter().filter_map(|id| m.remove(id)).collect()
        };
        self.expired.fetch_add(expired.len(), Ordering::Relaxed);
        for s in &expired {
            s.end();
            log::info!("session {} expired", s.id);
        }
        expired.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_is_bounded_and_ordered() {
        let store = Sessions::new(10, 3);
        let s = store.create(TransportKind::Seed).unwrap();
        for i in 0..5 {
            s.send(&Route::Session, Outgoing::message(format!("{i}").into()));
        }
        assert_eq!(s.outbox_len(), 3);
        let st = s.state();
        let v: Vec<&str> = st.outbox.iter().map(|m| &*m.json).collect();
        assert_eq!(v, vec!["2", "3", "4"]);
    }

    #[test]
    fn session_cap_and_expiry() {
        let store = Sessions::new(1, 8);
        let s = store.create(TransportKind::Seed).unwrap();
        assert_eq!(
            store.create(TransportKind::Seed).err(),
            Some(TooManySessions)
        );
        let id = RequestId::Number(1.into());
        s.begin_request(&id);
        assert_eq!(
            store.expire(Duration::ZERO),
            0,
            "a running request keeps it"
        );
        s.end_request(&id);
        assert_eq!(store.expire(Duration::ZERO), 1);
        assert!(store.get(&s.id).is_none());
        assert!(s.is_ended());
    }
}
