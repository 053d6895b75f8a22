//! The vocabulary of transport handlers. Checks return `Result<_, Refusal>` and compose with `?`;
//! a handler ends in an [`Outcome`], and the router writes whatever is left to write in one place
//! (`transport::router::route`), so no check has to own the request just to answer it.

use crate::http::{Reply, Request};
use crate::jsonrpc::{ErrorObject, INVALID_REQUEST, Rejection, RequestId, Response};
use crate::sse::OpenError;

/// An HTTP error answer whose body is a JSON-RPC error. The edge adds the request's CORS
/// headers after `headers`, so no refusal can forget them.
#[derive(Debug)]
pub struct Refusal {
    status: u16,
    /// Boxed: refusals travel in `Err`, and the rarely taken path should not widen every `Ok`.
    body: Box<Response>,
    headers: Vec<(String, String)>,
}

impl Refusal {
    /// A refusal with JSON-RPC error `error` as its body.
    pub fn rpc(status: u16, error: ErrorObject) -> Refusal {
        Refusal::answer(status, Response::error(None, error))
    }

    fn answer(status: u16, body: Response) -> Refusal {
        Refusal {
            status,
            body: Box::new(body),
            headers: Vec::new(),
        }
    }

    /// -32600: what every refusal of the HTTP exchange itself (rather than of the message) says.
    pub fn invalid(status: u16, message: impl Into<String>) -> Refusal {
        Refusal::rpc(status, ErrorObject::new(INVALID_REQUEST, message))
    }

    /// A body that is not JSON-RPC: 400, echoing the id when one could be read.
    pub fn rejected(rejection: Rejection) -> Refusal {
        Refusal::answer(400, rejection.to_response())
    }

    /// `--max-sessions` reached.
    pub fn too_many_sessions() -> Refusal {
        Refusal::invalid(503, "Too many sessions (--max-sessions); retry later")
            .header("Retry-After", "5")
    }

    /// A method this path does not serve; `allow` lists the ones it does.
    pub fn method_not_allowed(allow: &str) -> Refusal {
        Refusal::invalid(405, "Method not allowed").header("Allow", allow)
    }

    /// Echoes the request's id once the body has been read far enough to know it.
    pub fn id(mut self, id: Option<RequestId>) -> Refusal {
        self.body.id = id;
        self
    }

    /// Adds a header field (written before the CORS headers).
    pub fn header(mut self, k: impl Into<String>, v: impl Into<String>) -> Refusal {
        self.headers.push((k.into(), v.into()));
        self
    }

    /// The HTTP answer, with the request's CORS headers last.
    pub fn reply(self, cors: &[(String, String)]) -> Reply {
        Reply::json(self.status, self.body.to_json())
            .headers(&self.headers)
            .headers(cors)
    }

    /// Pairs the refusal with the request it answers, for the edge to write.
    pub fn answering(self, req: Request) -> Refused {
        Refused {
            req: Box::new(req),
            refusal: self,
        }
    }
}

/// A refusal on its way to the edge with the request it answers. The request is boxed because
/// a refused stream (`sse::OpenError`) hands it back boxed, and it keeps `Outcome` small.
#[derive(Debug)]
pub struct Refused {
    req: Box<Request>,
    refusal: Refusal,
}

impl Refused {
    /// A request handed back boxed (by `sse::open`) and why it is refused.
    pub fn boxed(req: Box<Request>, refusal: Refusal) -> Refused {
        Refused { req, refusal }
    }

    /// The request to answer and its answer.
    pub fn into_reply(self, cors: &[(String, String)]) -> (Request, Reply) {
        (*self.req, self.refusal.reply(cors))
    }
}

/// `--max-streams` reached: the stream's request is refused with 503.
impl From<OpenError> for Refused {
    fn from(err: OpenError) -> Refused {
        let OpenError::Busy(req) = err;
        Refused::boxed(
            req,
            Refusal::invalid(503, "Too many open streams (--max-streams); retry later")
                .header("Retry-After", "5"),
        )
    }
}

/// What became of a request that was not refused.
#[derive(Debug)]
pub enum Handled {
    /// Nothing left to write here: a stream or an exchange answers it, or its 202 has gone out.
    Done,
    /// Answer now with this reply, exactly as it is.
    Answer(Box<Request>, Reply),
}

impl Handled {
    /// An immediate answer.
    pub fn answer(req: Request, reply: Reply) -> Handled {
        Handled::Answer(Box::new(req), reply)
    }
}

/// What a transport handler returns to the router.
pub type Outcome = Result<Handled, Refused>;

/// Runs checks that only read the request; a refusal takes the request along to the edge, success
/// hands it back for the step that consumes it.
pub fn checked<T>(
    req: Request,
    check: impl FnOnce(&Request) -> Result<T, Refusal>,
) -> Result<(Request, T), Refused> {
    match check(&req) {
        Ok(t) => Ok((req, t)),
        Err(refusal) => Err(refusal.answering(req)),
    }
}
