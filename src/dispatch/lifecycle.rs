//! The methods that change a session's state rather than run a handler: `initialize`,
//! `logging/setLevel`, `resources/subscribe` and `resources/unsubscribe`.

use super::{Call, Outcome, read};
use crate::error::resource_not_found;
use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, INVALID_REQUEST};
use crate::params::{self, Initialize, ResourceUri, SetLevel};
use crate::protocol::{Implementation, InitializeResult, Revision};
use crate::session::TransportKind;
use serde_json::{Map, Value, json};

impl Call<'_> {
    /// `initialize`: negotiates the revision and records who the client is. The seed transport
    /// lets a client initialize again; the others refuse a second handshake.
    pub(super) fn initialize(&self) -> Outcome {
        let session = self.session;
        if session.is_initialized() && session.kind != TransportKind::Seed {
            return Err(ErrorObject::new(
                INVALID_REQUEST,
                "Invalid Request: session already initialized",
            ));
        }
        let hello: Initialize = params::parse(&self.req.params)?;
        let rev = Revision::negotiate(hello.protocol_version.as_deref());
        session.mark_initialized(
            rev,
            hello.client_info.map(Value::Object),
            hello.capabilities.map(Value::Object),
        );
        log::info!(
            "session {} initialized: protocol {} client {}",
            session.id,
            rev.as_str(),
            session.client_name().as_deref().unwrap_or("(unnamed)")
        );
        serde_json::to_value(InitializeResult {
            protocol_version: rev,
            capabilities: self.core.features.capabilities(rev),
            server_info: Implementation::this_server(),
            instructions: self.core.instructions.clone(),
        })
        .map_err(|e| ErrorObject::new(INTERNAL_ERROR, e.to_string()))
    }

    /// `logging/setLevel {level}` → `{}`.
    pub(super) fn set_level(&self) -> Outcome {
        let p: SetLevel = params::parse(&self.req.params)?;
        self.session.set_log_level(p.level);
        Ok(Value::Object(Map::new()))
    }

    /// `resources/subscribe` / `resources/unsubscribe {uri}` → `{}`; subscribing to an unknown
    /// URI is -32002.
    pub(super) fn subscribe(&self, on: bool) -> Outcome {
        let p: ResourceUri = params::parse(&self.req.params)?;
        if !on {
            self.session.unsubscribe(&p.uri);
        } else if read(&self.core.features.resources).exists(&p.uri) {
            self.session.subscribe(&p.uri);
        } else {
            return Err(resource_not_found(self.revision(), &p.uri));
        }
        Ok(json!({}))
    }
}
