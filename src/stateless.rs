//! Revision 2026-07-28: stateless requests. There is no handshake and no session; every request
//! names its revision, client capabilities and client info in `params._meta`, mirrors its method
//! (and tool, prompt or resource) in HTTP headers, and every result says what kind it is
//! (`resultType`) and how long it may be cached.
//!
//! This module owns what the revision adds to the protocol: reading the request metadata,
//! checking the mirrored headers against the body, `server/discover`, and shaping results. The
//! HTTP side (which requests are stateless, the order of checks, the answer) is in
//! `transport::stateless`.

use crate::jsonrpc::{ErrorObject, INVALID_PARAMS, METHOD_NOT_FOUND, Request, quote};
use crate::logging::LogLevel;
use crate::protocol::{Implementation, Revision, ServerCapabilities};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// HTTP headers missing, malformed, or disagreeing with the body.
pub const HEADER_MISMATCH: i64 = -32020;
/// The request needs a client capability its `_meta` did not declare.
pub const MISSING_CAPABILITY: i64 = -32021;
/// The request's revision is not one we serve.
pub const UNSUPPORTED_VERSION: i64 = -32022;

const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
const CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
#[cfg(test)]
const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
/// Where results name the server.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
/// Where listen streams name their subscription.
pub const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";

/// The methods a stateless request may call. Everything else, including what the revision
/// removed (`initialize`, `ping`, `logging/setLevel`, `resources/subscribe`...), is unknown.
pub const METHODS: [&str; 10] = [
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "subscriptions/listen",
];

/// The revision's version string as a request's `_meta` carries it, if it has one: what decides
/// which era a POST on `/mcp` belongs to.
pub fn requested_version(params: &Map<String, Value>) -> Option<&str> {
    #[derive(Deserialize)]
    struct Params<'a> {
        #[serde(rename = "_meta", borrow)]
        meta: Option<VersionOnly<'a>>,
    }
    #[derive(Deserialize)]
    struct VersionOnly<'a> {
        #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow)]
        version: Option<&'a str>,
    }
    Params::deserialize(params).ok()?.meta?.version
}

/// What a stateless request says about its sender.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// As sent; checked against what we serve only after the headers (GUIDE §3.7 order).
    pub version: String,
    pub capabilities: Value,
    pub client_info: Option<Value>,
    /// Log messages at or above this level go on the request's stream; none without it.
    pub log_level: Option<LogLevel>,
}

/// `params._meta` of a stateless request.
#[derive(Deserialize)]
struct MetaParams {
    #[serde(rename = "_meta")]
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion")]
    version: String,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities")]
    capabilities: Map<String, Value>,
    /// Informational only: a malformed one is ignored rather than refused.
    #[serde(rename = "io.modelcontextprotocol/clientInfo", default)]
    client_info: Option<Value>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", default)]
    log_level: Option<LogLevel>,
}

impl RequestMeta {
    /// Reads `params._meta`; a missing or mistyped required key is -32602's message.
    pub fn parse(params: &Map<String, Value>) -> Result<RequestMeta, String> {
        let p: MetaParams = crate::params::parse(params).map_err(|e| e.message)?;
        let Some(meta) = p.meta else {
            return Err(format!(
                "Invalid params: missing params._meta (revision 2026-07-28 requires \
                 {VERSION_KEY} and {CAPABILITIES_KEY} on every request)"
            ));
        };
        Ok(RequestMeta {
            version: meta.version,
            capabilities: Value::Object(meta.capabilities),
            client_info: meta.client_info.filter(Value::is_object),
            log_level: meta.log_level,
        })
    }
}

/// -32022 naming what we serve and echoing what was asked for.
pub fn unsupported_version(requested: &str) -> ErrorObject {
    ErrorObject {
        code: UNSUPPORTED_VERSION,
        message: format!(
            "Unsupported protocol version: {} (supported: {})",
            quote(requested),
            Revision::SUPPORTED.map(Revision::as_str).join(", ")
        ),
        data: Some(json!({
            "supported": Revision::SUPPORTED.map(Revision::as_str),
            "requested": requested,
        })),
    }
}

/// -32601 for a method the revision does not have; says so when it was removed.
pub fn unknown_method(method: &str) -> ErrorObject {
    let removed = matches!(
        method,
        "initialize"
            | "notifications/initialized"
            | "ping"
            | "logging/setLevel"
            | "resources/subscribe"
            | "resources/unsubscribe"
    );
    ErrorObject::new(
        METHOD_NOT_FOUND,
        if removed {
            format!(
                "Method not found: {} (not part of revision 2026-07-28; supported versions: {})",
                quote(method),
                Revision::SUPPORTED.map(Revision::as_str).join(", ")
            )
        } else {
            format!("Method not found: {}", quote(method))
        },
    )
}

/// -32021 naming the capability (`{"sampling": {}}`).
pub fn missing_capability(capability: &str) -> ErrorObject {
    ErrorObject {
        code: MISSING_CAPABILITY,
        message: format!(
            "Missing required client capability: {capability} (declare it in _meta[\"{CAPABILITIES_KEY}\"])"
        ),
        data: Some(json!({ "requiredCapabilities": { capability: {} } })),
    }
}

/// A header check that failed: -32020 with what was wrong.
pub fn header_mismatch(why: String) -> ErrorObject {
    ErrorObject::new(HEADER_MISMATCH, format!("Header mismatch: {why}"))
}

/// A mirrored header's value: trimmed of optional whitespace, and decoded when it is sent as
/// `=?base64?…?=` (values that are not plain printable ASCII). `Err` for invalid base64.
pub fn header_value(raw: &str) -> Result<String, String> {
    let v = raw.trim_matches([' ', '\t']);
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| format!("invalid base64 value {:?}", quote(v))),
        None => Ok(v.to_string()),
    }
}

/// Checks one mirrored header: present exactly once (when `expected` is set) and equal to the
/// body's value. `lookup` gives every value of a header, by case-insensitive name.
pub fn check_header(
    values: &[&str],
    name: &str,
    expected: Option<&str>,
) -> Result<(), ErrorObject> {
    match (values, expected) {
        ([], None) => Ok(()),
        ([], Some(e)) => Err(header_mismatch(format!(
            "missing {name} header (the body says {:?})",
            quote(e)
        ))),
        ([_, _, ..], _) => Err(header_mismatch(format!(
            "{name} header sent more than once"
        ))),
        ([v], None) => Err(header_mismatch(format!(
            "{name} header {:?} but the body has no such value",
            quote(v)
        ))),
        ([v], Some(e)) => match header_value(v) {
            Ok(got) if got == e => Ok(()),
            Ok(got) => Err(header_mismatch(format!(
                "{name} {:?} does not match the body's {:?}",
                quote(&got),
                quote(e)
            ))),
            Err(why) => Err(header_mismatch(format!("{name}: {why}"))),
        },
    }
}

/// What `Mcp-Name` must mirror for this request: the tool or prompt name, or the resource URI.
pub fn mirrored_name(req: &Request) -> Option<&str> {
    #[derive(Deserialize)]
    struct Target<'a> {
        #[serde(borrow, default)]
        name: Option<&'a str>,
        #[serde(borrow, default)]
        uri: Option<&'a str>,
    }
    let t = Target::deserialize(&req.params).ok()?;
    match req.method.as_str() {
        "tools/call" | "prompts/get" => t.name,
        "resources/read" => t.uri,
        _ => None,
    }
}

/// The `x-mcp-header` parameters of a tool's input schema: (header suffix, path of property
/// names), reachable through `properties` chains only, as the revision defines.
pub fn header_params(schema: &Value) -> Vec<(String, Vec<String>)> {
    fn walk(schema: &Value, path: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, prop) in props {
            path.push(name.clone());
            if let Some(h) = prop.get("x-mcp-header").and_then(Value::as_str) {
                out.push((h.to_string(), path.clone()));
            }
            if path.len() < 8 {
                walk(prop, path, out);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(schema, &mut Vec::new(), &mut out);
    out
}

/// The header form of an argument marked `x-mcp-header`: strings as they are, integers in
/// decimal, booleans as `true`/`false`; `None` when absent or null (then no header is expected).
pub fn header_param_value(args: &Map<String, Value>, path: &[String]) -> Option<ParamValue> {
    let (first, rest) = path.split_first()?;
    let mut v = args.get(first)?;
    for p in rest {
        v = v.get(p)?;
    }
    match v {
        Value::String(s) => Some(ParamValue::Text(s.clone())),
        Value::Number(n) => n.as_i64().map(ParamValue::Integer),
        Value::Bool(b) => Some(ParamValue::Text(b.to_string())),
        _ => None,
    }
}

/// An `x-mcp-header` argument's value as the header must carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Compared exactly (strings, booleans).
    Text(String),
    /// Compared as a number (`007` is 7).
    Integer(i64),
}

impl ParamValue {
    /// Checks the header's values against this argument (-32020 when they disagree).
    pub fn check(
        expected: Option<&ParamValue>,
        values: &[&str],
        name: &str,
    ) -> Result<(), ErrorObject> {
        match (expected, values) {
            (Some(ParamValue::Integer(n)), [v])
                if header_value(v).ok().and_then(|s| s.parse::<i64>().ok()) == Some(*n) =>
            {
                Ok(())
            }
            (Some(ParamValue::Integer(n)), _) => check_header(values, name, Some(&n.to_string())),
            (Some(ParamValue::Text(t)), _) => check_header(values, name, Some(t)),
            (None, _) => check_header(values, name, None),
        }
    }
}

/// How long results may be cached, per method; `None` for results that carry no caching hints.
fn cache_ttl(method: &str, list_ttl_ms: u64) -> Option<u64> {
    match method {
        "server/discover"
        | "tools/list"
        | "prompts/list"
        | "resources/list"
        | "resources/templates/list" => Some(list_ttl_ms),
        // Contents may change at any moment (listeners hear of it): revalidate every time.
        "resources/read" => Some(0),
        _ => None,
    }
}

/// Shapes a result for revision 2026-07-28: `resultType` (`complete` unless the result says
/// otherwise), the server's info in `_meta`, and caching hints on cacheable complete results.
pub fn shape_result(method: &str, mut result: Value, list_ttl_ms: u64) -> Value {
    let Some(obj) = result.as_object_mut() else {
        return result;
    };
    let complete = match obj.get("resultType") {
        None => {
            obj.insert("resultType".into(), "complete".into());
            true
        }
        Some(t) => t == "complete",
    };
    if complete && let Some(ttl) = cache_ttl(method, list_ttl_ms) {
        obj.entry("ttlMs").or_insert(ttl.into());
        // Nothing here depends on who asks: this server has no per-caller authorisation.
        obj.entry("cacheScope").or_insert("public".into());
    }
    let meta = obj
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        static INFO: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        meta.entry(SERVER_INFO_KEY).or_insert_with(|| {
            INFO.get_or_init(|| {
                serde_json::to_value(Implementation::this_server()).unwrap_or_default()
            })
            .clone()
        });
    }
    result
}

/// The `server/discover` result (before [`shape_result`] adds the common fields).
#[derive(Serialize)]
pub struct DiscoverResult<'a> {
    #[serde(rename = "supportedVersions")]
    pub supported_versions: Vec<&'static str>,
    pub capabilities: ServerCapabilities,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<&'a str>,
}

/// The answer to `server/discover`.
pub fn discover(capabilities: ServerCapabilities, instructions: Option<&str>) -> Value {
    serde_json::to_value(DiscoverResult {
        supported_versions: Revision::SUPPORTED.map(Revision::as_str).to_vec(),
        capabilities,
        instructions,
    })
    .unwrap_or_default()
}

/// -32602 for malformed params the transport checks (`_meta`, a listen filter).
pub fn invalid_params(why: String) -> ErrorObject {
    ErrorObject::new(INVALID_PARAMS, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_trim_and_decode() {
        assert_eq!(header_value("  add \t").as_deref(), Ok("add"));
        assert_eq!(header_value("=?base64?w6nDqA==?=").as_deref(), Ok("éè"));
        assert!(header_value("=?base64?w6nDqA=?=").is_err());
        assert!(header_value("=?base64?***?=").is_err());
        // A value missing either marker is a literal.
        assert_eq!(header_value("=?base64?abc").as_deref(), Ok("=?base64?abc"));
    }

    #[test]
    fn header_checks() {
        assert!(check_header(&["tools/list"], "Mcp-Method", Some("tools/list")).is_ok());
        assert!(check_header(&["TOOLS/LIST"], "Mcp-Method", Some("tools/list")).is_err());
        assert!(check_header(&[], "Mcp-Name", Some("add")).is_err());
        assert!(check_header(&["a", "a"], "Mcp-Name", Some("a")).is_err());
        assert!(check_header(&[], "Mcp-Name", None).is_ok());
    }

    #[test]
    fn meta_requires_version_and_capabilities() {
        let p = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(RequestMeta::parse(&p(json!({}))).is_err());
        assert!(RequestMeta::parse(&p(json!({"_meta": {VERSION_KEY: "2026-07-28"}}))).is_err());
        let m = RequestMeta::parse(&p(
            json!({"_meta": {VERSION_KEY: "2026-07-28", CAPABILITIES_KEY: {}, LOG_LEVEL_KEY: "debug"}}),
        ));
        assert_eq!(m.map(|m| m.log_level), Ok(Some(LogLevel::Debug)));
    }

    #[test]
    fn header_params_follow_properties_chains() {
        let schema = json!({"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "opts":{"type":"object","properties":{"n":{"type":"integer","x-mcp-header":"N"}}}}});
        let mut found = header_params(&schema);
        found.sort();
        assert_eq!(
            found,
            vec![
                ("N".to_string(), vec!["opts".to_string(), "n".to_string()]),
                ("Region".to_string(), vec!["region".to_string()])
            ]
        );
        let args = json!({"opts":{"n":7}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let n = header_param_value(&args, &found[0].1);
        assert_eq!(n, Some(ParamValue::Integer(7)));
        assert!(ParamValue::check(n.as_ref(), &["007"], "Mcp-Param-N").is_ok());
        assert!(ParamValue::check(n.as_ref(), &["8"], "Mcp-Param-N").is_err());
        assert_eq!(header_param_value(&args, &found[1].1), None);
        let text = Some(ParamValue::Text("007".into()));
        assert!(ParamValue::check(text.as_ref(), &["7"], "Mcp-Param-R").is_err());
    }

    #[test]
    fn results_get_type_info_and_caching() {
        let r = shape_result("tools/list", json!({"tools": []}), 5000);
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["ttlMs"], 5000);
        assert_eq!(r["cacheScope"], "public");
        assert!(r["_meta"][SERVER_INFO_KEY]["name"].is_string());
        let r = shape_result("tools/call", json!({"resultType": "input_required"}), 5000);
        assert!(r.get("ttlMs").is_none());
    }
}
