//! The handle every handler receives (tools, resources, prompts, completions): who is asking
//! (revision, client info and capabilities), and the ways to talk back to that client while the
//! request runs: log messages, progress, whether it was cancelled, and requests to the client
//! (sampling, elicitation, roots). Features are added here as methods, so handler signatures
//! never change.

use crate::cancellation::Cancellation;
use crate::error::ClientRequestError;
use crate::features::ServerHandle;
use crate::jsonrpc::{OutNotification, OutRequest, RequestId};
use crate::logging::{LogLevel, LogMessage};
use crate::mrtr::{Conclusion, InputRequest, InputRound};
use crate::protocol::Revision;
use crate::runtime::Runtime;
use crate::session::{Outgoing, Route, Session};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The handle every handler gets (see the module docs): cheap to clone, and may be moved to another thread with the work.
#[derive(Clone)]
pub struct Context {
    runtime: Arc<Runtime>,
    server: ServerHandle,
    session: Arc<Session>,
    route: Route,
    request_id: Option<RequestId>,
    progress_token: Option<RequestId>,
    cancel: Arc<Cancellation>,
    /// Set once the request is answered: nothing about it is sent after its response.
    finished: Arc<AtomicBool>,
    /// Last progress sent, as f64 bits, so progress only ever increases.
    last_progress: Arc<AtomicU64>,
    /// A stateless request's input round (revision 2026-07-28): asks are answered from it or
    /// become an `input_required` result instead of requests to the client.
    round: Option<Arc<InputRound>>,
}

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq)]
pub enum Elicitation<T> {
    /// The user submitted the form: its content.
    Accept(T),
    /// The user said no.
    Decline,
    /// The user dismissed the form without choosing.
    Cancel,
}

/// An `elicitation/create` result as the client sends it.
#[derive(Deserialize)]
struct ElicitAnswer {
    action: ElicitAction,
    #[serde(default)]
    content: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ElicitAction {
    Accept,
    Decline,
    Cancel,
}

/// A JSON-RPC error object from the client; a malformed one still counts as a refusal.
#[derive(Default, Deserialize)]
#[serde(default)]
struct RpcError {
    code: i64,
    message: String,
}

/// The params of `notifications/progress`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Progress<'a> {
    progress_token: &'a RequestId,
    progress: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// Where a request runs: everything a [`Context`] is made of, gathered by the dispatcher.
pub(crate) struct Origin {
    pub runtime: Arc<Runtime>,
    pub server: ServerHandle,
    pub session: Arc<Session>,
    pub route: Route,
    pub request_id: Option<RequestId>,
    pub progress_token: Option<RequestId>,
    pub cancel: Arc<Cancellation>,
}

impl Context {
    pub(crate) fn new(o: Origin) -> Context {
        Context {
            runtime: o.runtime,
            server: o.server,
            session: o.session,
            route: o.route,
            request_id: o.request_id,
            progress_token: o.progress_token,
            cancel: o.cancel,
            finished: Arc::new(AtomicBool::new(false)),
            last_progress: Arc::new(AtomicU64::new(f64::NEG_INFINITY.to_bits())),
            round: None,
        }
    }

    /// Gives a stateless request its input round.
    pub(crate) fn with_round(mut self, round: Option<Arc<InputRound>>) -> Context {
        self.round = round;
        self
    }

    /// Applies what the handler's asks came to in a stateless request: open questions replace
    /// its result with `input_required`, an ask the client could not take is -32021. Session
    /// revisions pass the result through.
    pub(crate) fn conclude(
        &self,
        result: Result<Value, crate::jsonrpc::ErrorObject>,
    ) -> Result<Value, crate::jsonrpc::ErrorObject> {
        let Some(round) = &self.round else {
            return result;
        };
        match round.conclude(&self.runtime.state_key) {
            Conclusion::Complete => result,
            Conclusion::MissingCapability(c) => Err(crate::stateless::missing_capability(c)),
            Conclusion::InputRequired(r) => Ok(r),
        }
    }

    /// The protocol revision negotiated with this client.
    pub fn revision(&self) -> Revision {
        self.session.revision().unwrap_or(Revision::LATEST)
    }

    /// The session's id (`Mcp-Session-Id` on Streamable HTTP; empty for a stateless request).
    pub fn session_id(&self) -> &str {
        &self.session.id
    }

    /// Who is calling: the name of the bearer token's grant (`[[auth.token]]`), `auth-token-file`
    /// for the `--auth-token-file` token, `None` when the server requires no token. A session is
    /// bound to the token that opened it, so this is the same for every request of a session.
    /// (For audit logs; access to tools is already enforced before a handler runs.)
    pub fn caller(&self) -> Option<&str> {
        self.session.caller().map(|c| c.name())
    }

    /// The OAuth access token's subject (`sub`), when the caller presented one. `caller()` is
    /// this too (or the client id when the token has no subject).
    pub fn subject(&self) -> Option<&str> {
        self.session.caller().and_then(|c| c.subject())
    }

    /// The OAuth client the access token was issued to (`client_id`, else `azp`).
    pub fn client_id(&self) -> Option<&str> {
        self.session.caller().and_then(|c| c.client_id())
    }

    /// The scopes of the caller's OAuth access token (the subject's latest one: a client that
    /// stepped up keeps its session and gains the scopes); empty without OAuth. Tools that
    /// declare a scope are already refused to tokens without it; this is for finer checks.
    pub fn scopes(&self) -> std::sync::Arc<[String]> {
        self.session
            .caller()
            .and_then(|c| c.scopes())
            .unwrap_or_else(|| std::sync::Arc::from(Vec::new()))
    }

    /// The id of the request being handled.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    /// `clientInfo` from `initialize`, or from the request's `_meta` in revision 2026-07-28.
    pub fn client_info(&self) -> Option<Value> {
        self.session.client_info()
    }

    /// `capabilities` the client declared in `initialize`, or in the request's `_meta`.
    pub fn client_capabilities(&self) -> Option<Value> {
        self.session.client_capabilities()
    }

    /// Whether the client declared a capability (`"sampling"`, `"elicitation"`, `"roots"`, ...).
    pub fn client_supports(&self, capability: &str) -> bool {
        self.session.supports(capability)
    }

    /// Sends a log message (`notifications/message`) to the client if `level` is at or above
    /// the level the client set (`info` until it sets one; in revision 2026-07-28 nothing unless
    /// the request's `_meta` names a level). On Streamable HTTP it travels on the request's own
    /// SSE stream.
    pub fn log(&self, level: LogLevel, data: impl Into<Value>) {
        self.log_as(level, None, data)
    }

    /// As [`Context::log`], naming the logger.
    pub fn log_as(&self, level: LogLevel, logger: Option<&str>, data: impl Into<Value>) {
        if !self.session.log_enabled(level) {
            return;
        }
        let params = LogMessage {
            level,
            logger,
            data: data.into(),
        };
        self.notify(
            "notifications/message",
            serde_json::to_value(params).unwrap_or_default(),
        );
    }

    /// Reports progress if the client asked for it (`_meta.progressToken`); otherwise does
    /// nothing. Progress that does not increase is not sent (the protocol requires it to).
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        if self.finished.load(Ordering::Acquire) || self.is_cancelled() {
            return;
        }
        let last = f64::from_bits(self.last_progress.load(Ordering::Acquire));
        if !progress.is_finite() || progress <= last {
            return;
        }
        self.last_progress
            .store(progress.to_bits(), Ordering::Release);
        let params = Progress {
            progress_token: token,
            progress,
            total,
            message: message.filter(|_| self.revision() >= Revision::V2025_03_26),
        };
        self.notify(
            "notifications/progress",
            serde_json::to_value(params).unwrap_or_default(),
        );
    }

    /// The running server, to change what it offers or announce a changed resource from inside
    /// a handler (`ctx.server().resource_updated(uri)`).
    pub fn server(&self) -> ServerHandle {
        self.server.clone()
    }

    /// Whether the client cancelled this request (`notifications/cancelled`). A long handler
    /// polls this, or waits with [`Context::wait_cancelled`]; its result is not sent either way.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Waits up to `timeout`, waking early if the request is cancelled; true if it was.
    pub fn wait_cancelled(&self, timeout: Duration) -> bool {
        self.cancel.wait(timeout)
    }

    /// Runs `hook` once when the request is cancelled (at once if it already is): how a handler
    /// stops work it cannot poll, such as a child process. The hook runs on the cancelling
    /// thread, so it should only signal, never block.
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        self.cancel.on_cancel(Box::new(hook));
    }

    /// Asks the client's model for a completion (`sampling/createMessage`; `params` holds
    /// `messages`, `maxTokens`, ...). Blocks the calling thread until the client answers, the
    /// request is cancelled, or `--client-request-timeout-secs` pass. Needs the client's
    /// `sampling` capability.
    pub fn sample(&self, params: Value) -> Result<Value, ClientRequestError> {
        self.ask_one("sampling", InputRequest::sampling(params))
    }

    /// Asks the user to fill in a form through the client (`elicitation/create`, form mode):
    /// the form is `T`'s schema (a flat struct of strings, numbers, booleans and enums; doc
    /// comments become the fields' descriptions), and an accepted answer arrives as a `T`.
    /// Blocks like [`Context::sample`]. Needs the client's `elicitation` capability.
    pub fn elicit<T: DeserializeOwned + schemars::JsonSchema>(
        &self,
        message: &str,
    ) -> Result<Elicitation<T>, ClientRequestError> {
        match self.elicit_with_schema(message, crate::schema::schema_of::<T>())? {
            Elicitation::Accept(content) => serde_json::from_value(Value::Object(content))
                .map(Elicitation::Accept)
                .map_err(|e| ClientRequestError::InvalidAnswer(e.to_string())),
            Elicitation::Decline => Ok(Elicitation::Decline),
            Elicitation::Cancel => Ok(Elicitation::Cancel),
        }
    }

    /// As [`Context::elicit`] with a hand-written `requested_schema` (defaults, enum titles and
    /// other schema features a derived type cannot say); the content comes back as JSON.
    pub fn elicit_with_schema(
        &self,
        message: &str,
        requested_schema: Value,
    ) -> Result<Elicitation<Map<String, Value>>, ClientRequestError> {
        let answer = self.ask_one(
            "elicitation",
            InputRequest::elicitation(message, requested_schema),
        )?;
        let answer: ElicitAnswer = serde_json::from_value(answer)
            .map_err(|e| ClientRequestError::InvalidAnswer(e.to_string()))?;
        Ok(match answer.action {
            ElicitAction::Accept => Elicitation::Accept(answer.content.unwrap_or_default()),
            ElicitAction::Decline => Elicitation::Decline,
            ElicitAction::Cancel => Elicitation::Cancel,
        })
    }

    /// Sends the user to a URL through the client (`elicitation/create` in URL mode, revision
    /// 2025-11-25, client capability `elicitation.url`).
    pub fn elicit_url(
        &self,
        message: &str,
        url: &str,
        elicitation_id: &str,
    ) -> Result<Value, ClientRequestError> {
        let url_mode = self.revision() >= Revision::V2025_11_25
            && self
                .client_capabilities()
                .is_some_and(|c| c.pointer("/elicitation/url").is_some());
        if !url_mode {
            return Err(ClientRequestError::NotSupported("elicitation.url"));
        }
        self.ask_one(
            "elicitation",
            InputRequest {
                method: "elicitation/create",
                params: json!({"mode": "url", "message": message, "url": url,
                    "elicitationId": elicitation_id}),
            },
        )
    }

    /// The client's roots (`roots/list`). Needs the client's `roots` capability.
    pub fn list_roots(&self) -> Result<Value, ClientRequestError> {
        self.ask_one("roots", InputRequest::roots())
    }

    /// Asks the client several things at once, each under a key of the caller's choosing, and
    /// returns the answers by key. In a session revision the requests go one after another; in
    /// a stateless request (2026-07-28) the open ones all go to the client in one
    /// `input_required` result, and this returns [`ClientRequestError::InputRequired`] (return
    /// from the handler then; it runs again with the answers). See `mrtr` for the rules.
    pub fn ask_client(
        &self,
        questions: &[(&str, InputRequest)],
    ) -> Result<Map<String, Value>, ClientRequestError> {
        if let Some(round) = &self.round {
            let questions: Vec<(String, InputRequest)> = questions
                .iter()
                .map(|(k, q)| (k.to_string(), q.clone()))
                .collect();
            return match round.ask(|c| self.client_supports(c), &questions) {
                Ok(Some(answers)) => Ok(answers),
                Ok(None) => Err(ClientRequestError::InputRequired),
                Err(c) => Err(ClientRequestError::NotSupported(c)),
            };
        }
        let mut answers = Map::new();
        for (key, q) in questions {
            answers.insert(key.to_string(), self.request(q.capability(), q)?);
        }
        Ok(answers)
    }

    /// One question under an automatic key (its kind and position among the handler's asks).
    fn ask_one(&self, kind: &str, q: InputRequest) -> Result<Value, ClientRequestError> {
        let Some(round) = &self.round else {
            return self.request(q.capability(), &q);
        };
        let key = round.next_key(kind);
        let mut answers = self.ask_client(&[(key.as_str(), q)])?;
        answers
            .remove(&key)
            .ok_or(ClientRequestError::InputRequired)
    }

    /// Sends a request to the client on this request's own stream (its SSE answer on
    /// Streamable HTTP, else the session's stream) and waits for the answer.
    fn request(
        &self,
        capability: &'static str,
        q: &InputRequest,
    ) -> Result<Value, ClientRequestError> {
        let (method, params) = (q.method, &q.params);
        if !self.client_supports(capability) {
            return Err(ClientRequestError::NotSupported(capability));
        }
        if self.is_cancelled() {
            return Err(ClientRequestError::Cancelled);
        }
        let (id, answer) = self.session.await_response(self.request_id.clone());
        let msg = OutRequest {
            jsonrpc: "2.0",
            id: &id,
            method,
            params,
        };
        let Ok(json) = serde_json::to_string(&msg) else {
            self.session.forget_request(&id);
            return Err(ClientRequestError::Closed);
        };
        let route = match &self.route {
            Route::Exchange(x) if !x.streams() => Route::Session,
            r => r.clone(),
        };
        self.session.send(&route, Outgoing::message(json.into()));
        match answer.recv_timeout(self.runtime.settings.client_request_timeout) {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => {
                let e: RpcError = serde_json::from_value(error).unwrap_or_default();
                Err(ClientRequestError::Rejected {
                    code: e.code,
                    message: e.message,
                })
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                self.session.forget_request(&id);
                Err(ClientRequestError::Timeout)
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) if self.is_cancelled() => {
                Err(ClientRequestError::Cancelled)
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                Err(ClientRequestError::Closed)
            }
        }
    }

    pub(crate) fn cancellation(&self) -> &Arc<Cancellation> {
        &self.cancel
    }

    /// Marks the request answered: no progress after its response.
    pub(crate) fn finish(&self) {
        self.finished.store(true, Ordering::Release);
    }

    pub(crate) fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Ends this request's SSE stream now without ending the request (SSE polling, revision
    /// 2025-11-25): the client reconnects with `Last-Event-ID` after the stream's `retry` hint and
    /// receives the rest, result included. False when the answer is not a resumable stream (a
    /// JSON answer, the seed and legacy transports).
    pub fn close_stream(&self) -> bool {
        match &self.route {
            Route::Exchange(x) if x.can_resume() => x.end_stream(),
            _ => false,
        }
    }

    /// Whether the client asked for progress on this request.
    pub fn wants_progress(&self) -> bool {
        self.progress_token.is_some()
    }

    /// Sends a notification related to this request, by the one send path.
    fn notify(&self, method: &str, params: Value) {
        let n = OutNotification {
            jsonrpc: "2.0",
            method: method.to_string(),
            params: Some(params),
        };
        let Ok(json) = serde_json::to_string(&n) else {
            return;
        };
        self.session
            .send(&self.route, Outgoing::message(json.into()));
    }

    pub(crate) fn route(&self) -> &Route {
        &self.route
    }

    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }
}
