//! Which transport a request belongs to, and the one edge where handlers' answers and refusals
//! are written: three transports share `/mcp`, so the choice needs the method, the session id
//! and sometimes the protocol revision, not only the path.

use super::incoming::Ctx;
use super::refusal::{Handled, Outcome, Refusal};
use super::{legacy, seed, streamable};
use crate::dispatch::Core;
use crate::http::{self, Method, Request};
use crate::protocol::Revision;
use crate::session::TransportKind;
use std::sync::Arc;

/// Serves one request (on a worker; access was checked at admission).
pub fn route(core: &Arc<Core>, req: Request) {
    log::debug!("{} {}", req.method(), req.url());
    let cors = http::cors_headers(req.header("Origin"), &core.config.cors_origins);
    // Admission checked the token; asked again for who it is (grants may have been replaced since).
    let auth = crate::security::needs_token(&req, core.config.public_health);
    let caller = match core.guard.caller(&req, &cors, auth) {
        Ok(caller) => caller,
        Err(reply) => return reply.send(req),
    };
    // An OAuth token must hold the scope of every tool its POST calls: refused here, before any
    // transport opens an exchange or answers 202, so the client sees the 403 and can step up.
    if req.method() == Method::Post && core.guard.oauth().is_some() {
        for scope in core.scopes_called(req.body()) {
            if let Some(reply) = core
                .guard
                .tool_scope_refusal(caller.as_ref(), &scope, &cors)
            {
                return reply.send(req);
            }
        }
    }
    let ctx = Ctx { cors, caller };
    match serve(core, req, &ctx) {
        Ok(Handled::Done) => {}
        Ok(Handled::Answer(req, reply)) => reply.send(*req),
        Err(refused) => {
            let (req, reply) = refused.into_reply(&ctx.cors);
            reply.send(req)
        }
    }
}

fn serve(core: &Arc<Core>, req: Request, ctx: &Ctx) -> Outcome {
    let method = req.method();
    if method == Method::Options {
        return Ok(Handled::answer(req, http::preflight(ctx.cors.clone())));
    }
    let path = req.path().to_string();
    if path.starts_with(crate::security::METADATA_PREFIX) {
        return resource_metadata(core, req, &path, ctx);
    }
    match (path.as_str(), method) {
        ("/notifications", Method::Get) => seed::open_stream(core, req, ctx),
        ("/notifications", _) => Err(Refusal::method_not_allowed("GET, OPTIONS").answering(req)),
        ("/mcp", Method::Post) => post_mcp(core, req, ctx),
        // Revision 2026-07-28 is POST only: its GET stream became `subscriptions/listen`.
        ("/mcp", Method::Get | Method::Delete) if stateless_non_post(&req) => Err(Refusal::invalid(
            405,
            "Method not allowed: revision 2026-07-28 is POST only (listen for changes with POST subscriptions/listen)",
        )
        .header("Allow", "POST")
        .answering(req)),
        ("/mcp", Method::Get) => {
            let sid = session_id(&req);
            streamable::open_stream(core, req, sid, ctx)
        }
        ("/mcp", Method::Delete) => {
            let sid = session_id(&req);
            streamable::delete(core, req, sid, ctx)
        }
        ("/mcp", _) => Err(Refusal::method_not_allowed("GET, POST, DELETE, OPTIONS").answering(req)),
        ("/sse", Method::Get) => legacy::open_stream(core, req, ctx),
        ("/sse", _) => Err(Refusal::method_not_allowed("GET, OPTIONS").answering(req)),
        ("/messages", Method::Post) => {
            let mut req = req;
            let body = req.take_body();
            legacy::post(core, req, &body, ctx)
        }
        ("/messages", _) => Err(Refusal::method_not_allowed("POST, OPTIONS").answering(req)),
        ("/health", Method::Get) => {
            let reply = crate::ops::health(core).headers(&ctx.cors);
            Ok(Handled::answer(req, reply))
        }
        ("/metrics", Method::Get) => Ok(Handled::answer(req, crate::ops::metrics(core))),
        ("/health" | "/metrics", _) => Err(Refusal::method_not_allowed("GET").answering(req)),
        _ => Err(Refusal::invalid(
            404,
            format!("Not found: {path} (endpoints: /mcp, /notifications, /sse, /messages)"),
        )
        .answering(req)),
    }
}

/// The Protected Resource Metadata (RFC 9728) at the bare well-known path, its `/mcp` form and
/// the form derived from the resource's own path; 404 when OAuth is off.
fn resource_metadata(core: &Arc<Core>, req: Request, path: &str, ctx: &Ctx) -> Outcome {
    let not_found = |req| Err(Refusal::invalid(404, format!("Not found: {path}")).answering(req));
    let Some(oauth) = core.guard.oauth() else {
        return not_found(req);
    };
    let bare = crate::security::METADATA_PREFIX;
    let own = crate::oauth::metadata::metadata_path(oauth.resource());
    if path != bare && path != format!("{bare}/mcp") && path != own {
        return not_found(req);
    }
    if req.method() != Method::Get {
        return Err(Refusal::method_not_allowed("GET, OPTIONS").answering(req));
    }
    let mut scopes = oauth.required_scopes().to_vec();
    for s in core.tool_scopes() {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    let doc = crate::oauth::metadata::document(oauth.resource(), oauth.issuer_urls(), &scopes);
    let reply = http::Reply::json(200, doc.to_string()).headers(&ctx.cors);
    Ok(Handled::answer(req, reply))
}

/// `POST /mcp` is the seed transport's when it names a seed session, Streamable HTTP's (or the
/// stateless revision's) otherwise.
fn post_mcp(core: &Arc<Core>, mut req: Request, ctx: &Ctx) -> Outcome {
    let body = req.take_body();
    let sid = session_id(&req);
    // Looked up once: Streamable HTTP takes the session found here.
    let found = sid
        .as_deref()
        .and_then(|id| core.sessions.get(id, ctx.caller.as_ref()));
    match found {
        Some(s) if s.kind == TransportKind::Seed => seed::post(core, req, s, &body, ctx),
        // `?session_id=` is the seed's spelling (Streamable HTTP uses the header): an unknown id
        // there is a 404 whatever else is wrong with the request.
        None if http::query_param(req.url(), "session_id").is_some() => Err(Refusal::invalid(
            404,
            format!(
                "Unknown session: {} (expired or never existed)",
                sid.unwrap_or_default()
            ),
        )
        .answering(req)),
        found => streamable::post(core, req, &body, (sid, found), ctx),
    }
}

/// The session id of a request: `Mcp-Session-Id` header, else the `session_id` query parameter.
pub fn session_id(req: &Request) -> Option<String> {
    req.header("Mcp-Session-Id")
        .map(str::to_owned)
        .or_else(|| http::query_param(req.url(), "session_id"))
        .filter(|s| !s.is_empty())
}

/// A GET or DELETE without a session whose `MCP-Protocol-Version` names a stateless revision.
fn stateless_non_post(req: &Request) -> bool {
    session_id(req).is_none()
        && req
            .header("MCP-Protocol-Version")
            .is_some_and(|v| Revision::parse_any(v.trim_ascii()).is_some_and(|r| r.is_stateless()))
}
