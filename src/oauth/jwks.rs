//! An issuer's signing keys as published in its JWKS: parsed once per fetch into verification
//! keys, each with its `kid` and the algorithm it is pinned to, if the JWK names one. Symmetric
//! (`oct`) keys and encryption keys are dropped: a resource server verifies signatures by public
//! keys only, so no JWKS entry can turn into an HMAC secret.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use std::str::FromStr;

/// Keys kept from one JWKS at most; the rest are ignored (logged).
pub const MAX_KEYS: usize = 64;

/// One verification key.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    /// The JWK's `alg`: a token signed with another algorithm is not verified with this key.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

/// The keys of one JWKS document.
#[derive(Clone, Default)]
pub struct Keys {
    pub keys: Vec<Key>,
}

impl Keys {
    /// Parses `{"keys": [...]}`; unusable entries are skipped, not fatal (an IdP may publish
    /// key types this server does not use beside the ones it does).
    pub fn parse(doc: &Value) -> Result<Keys, String> {
        let list = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("JWKS has no \"keys\" array")?;
        let mut keys = Vec::new();
        for raw in list {
            if keys.len() == MAX_KEYS {
                log::warn!("oauth: JWKS has more than {MAX_KEYS} keys; the rest are ignored");
                break;
            }
            if raw.get("use").and_then(Value::as_str) == Some("enc") {
                continue;
            }
            let Ok(jwk) = serde_json::from_value::<Jwk>(raw.clone()) else {
                continue;
            };
            if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(&jwk) else {
                continue;
            };
            let alg = raw
                .get("alg")
                .and_then(Value::as_str)
                .and_then(|a| Algorithm::from_str(a).ok());
            keys.push(Key {
                kid: raw.get("kid").and_then(Value::as_str).map(str::to_owned),
                alg,
                key,
            });
        }
        Ok(Keys { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys that may have signed a token with header `kid` and `alg`: the one of that id
    /// (a token without `kid` may be signed by any key), of the algorithm's family and not
    /// pinned to another algorithm.
    pub fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Vec<DecodingKey> {
        self.keys
            .iter()
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .filter(|k| k.alg.is_none_or(|a| a == alg))
            .filter(|k| k.key.family() == alg.family())
            .map(|k| k.key.clone())
            .collect()
    }

    /// Whether a key of id `kid` is here (whatever its type).
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}
