//! A fake authorization server for tests that need no real one: a std listener serving fixed
//! JSON documents (metadata, JWKS, introspection answers) that the test can change, counting
//! requests per path, and Ed25519 keys made in the test to sign tokens with. It signs nothing
//! itself: the test builds each token, good or bad, with `jsonwebtoken`.

#![allow(dead_code)]

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Documents by path, and how often each was asked for.
#[derive(Default)]
pub struct Docs {
    pub routes: HashMap<String, (u16, String)>,
    pub hits: HashMap<String, usize>,
    /// Accept connections and never answer.
    pub hang: bool,
}

pub struct FakeIdp {
    pub url: String,
    pub docs: Arc<Mutex<Docs>>,
}

impl FakeIdp {
    /// Serves `/.well-known/oauth-authorization-server` naming itself and `/jwks`.
    pub fn start() -> FakeIdp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let docs = Arc::new(Mutex::new(Docs::default()));
        let d = docs.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let d = d.clone();
                std::thread::spawn(move || serve(&mut conn, &d));
            }
        });
        let idp = FakeIdp { url, docs };
        idp.set(
            "/.well-known/oauth-authorization-server",
            200,
            json!({"issuer": idp.url, "jwks_uri": format!("{}/jwks", idp.url),
                   "introspection_endpoint": format!("{}/introspect", idp.url)}),
        );
        idp.set("/jwks", 200, json!({"keys": []}));
        idp
    }

    pub fn set(&self, path: &str, status: u16, body: Value) {
        self.set_text(path, status, body.to_string());
    }

    pub fn set_text(&self, path: &str, status: u16, body: String) {
        let mut d = self.docs.lock().unwrap();
        d.routes.insert(path.to_string(), (status, body));
    }

    pub fn hits(&self, path: &str) -> usize {
        *self.docs.lock().unwrap().hits.get(path).unwrap_or(&0)
    }

    pub fn hang(&self, on: bool) {
        self.docs.lock().unwrap().hang = on;
    }

    pub fn set_keys(&self, keys: &[&Key]) {
        let keys: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
        self.set("/jwks", 200, json!({ "keys": keys }));
    }
}

fn serve(conn: &mut std::net::TcpStream, docs: &Mutex<Docs>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (hang, answer) = {
        let mut d = docs.lock().unwrap();
        *d.hits.entry(path.clone()).or_default() += 1;
        (d.hang, d.routes.get(&path).cloned())
    };
    if hang {
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    let (status, body) = answer.unwrap_or((404, "{}".into()));
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// An Ed25519 signing key made in the test.
pub struct Key {
    pub kid: String,
    seed: [u8; 32],
}

impl Key {
    pub fn new(kid: &str) -> Key {
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Key {
            kid: kid.into(),
            seed,
        }
    }

    fn public(&self) -> [u8; 32] {
        ed25519_dalek::SigningKey::from_bytes(&self.seed)
            .verifying_key()
            .to_bytes()
    }

    pub fn jwk(&self) -> Value {
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.public());
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA", "use": "sig"})
    }

    /// The raw public key, as an attacker would use it for an HMAC secret.
    pub fn public_bytes(&self) -> Vec<u8> {
        self.public().to_vec()
    }

    /// A token of `claims` signed with this key (EdDSA, this kid).
    pub fn sign(&self, claims: &Value) -> String {
        // PKCS#8 v1 of an Ed25519 seed: a fixed prefix, then the 32 bytes (RFC 8410 §7).
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&self.seed);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der)).unwrap()
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token with `header` and `claims` as given and a made-up signature (`alg: none` and such).
pub fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{signature}", b(header), b(claims))
}
