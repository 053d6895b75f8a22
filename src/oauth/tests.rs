//! Tests of the resource server: tokens made here with keys made here, against a fake issuer
//! that serves fixed metadata and JWKS documents (it signs nothing).

#[path = "../../tests/common/idp.rs"]
mod idp;

use super::settings::{Introspection, OAuthSettings};
use super::{OAuth, Reason, Refusal};
use idp::{FakeIdp, Key, now, unsigned};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const RESOURCE: &str = "http://127.0.0.1:9/mcp";

fn oauth(idp: &FakeIdp, tune: impl FnOnce(&mut OAuthSettings)) -> OAuth {
    let mut s = OAuthSettings {
        issuers: vec![idp.url.clone()],
        fetch_timeout: Duration::from_secs(2),
        ..OAuthSettings::default()
    };
    tune(&mut s);
    OAuth::new(s, RESOURCE.into()).unwrap()
}

fn claims(idp: &FakeIdp) -> Value {
    json!({"iss": idp.url, "aud": RESOURCE, "sub": "alice", "client_id": "app",
           "exp": now() + 300, "iat": now(), "scope": "mcp tools:admin"})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn reason(o: &OAuth, token: &str) -> Reason {
    match o.authenticate(token) {
        Err(Refusal::Invalid(r, why)) => {
            assert!(!why.contains(token), "a refusal never echoes the token");
            r
        }
        other => panic!("expected a 401 refusal, got {other:?}"),
    }
}

#[test]
fn a_good_token_grants_its_subject_client_and_scopes() {
    let idp = FakeIdp::start();
    let key = Key::new("k1");
    idp.set_keys(&[&key]);
    let o = oauth(&idp, |s| s.required_scopes = vec!["mcp".into()]);
    let g = o.authenticate(&key.sign(&claims(&idp))).unwrap();
    assert_eq!(g.subject.as_deref(), Some("alice"));
    assert_eq!(g.client_id.as_deref(), Some("app"));
    assert_eq!(g.scopes, ["mcp", "tools:admin"]);
    assert_eq!(g.issuer, idp.url);
    // `aud` as a list naming this resource among others is for this resource too.
    let listed = with(claims(&idp), "aud", json!(["https://other", RESOURCE]));
    assert!(o.authenticate(&key.sign(&listed)).is_ok());
    // A required scope missing: 403, not 401.
    let narrow = with(claims(&idp), "scope", json!("tools:admin"));
    assert_eq!(
        o.authenticate(&key.sign(&narrow)),
        Err(Refusal::InsufficientScope(vec!["mcp".into()]))
    );
}

#[test]
fn bad_tokens_are_refused_each_for_its_reason() {
    let idp = FakeIdp::start();
    let key = Key::new("k1");
    idp.set_keys(&[&key]);
    let o = oauth(&idp, |_| {});
    let c = claims(&idp);
    let expired = with(c.clone(), "exp", json!(now() - 120));
    assert_eq!(reason(&o, &key.sign(&expired)), Reason::Expired);
    // Within the leeway (30 s) an expired token still passes.
    assert!(
        o.authenticate(&key.sign(&with(c.clone(), "exp", json!(now() - 5))))
            .is_ok()
    );
    let early = with(c.clone(), "nbf", json!(now() + 600));
    assert_eq!(reason(&o, &key.sign(&early)), Reason::NotYetValid);
    let other_aud = with(c.clone(), "aud", json!("https://other.example/mcp"));
    assert_eq!(reason(&o, &key.sign(&other_aud)), Reason::WrongAudience);
    let no_aud = c
        .as_object()
        .unwrap()
        .clone()
        .into_iter()
        .filter(|(k, _)| k != "aud");
    let no_aud = Value::Object(no_aud.collect());
    assert_eq!(reason(&o, &key.sign(&no_aud)), Reason::MissingClaim);
    let other_iss = with(c.clone(), "iss", json!("https://evil.example"));
    assert_eq!(reason(&o, &key.sign(&other_iss)), Reason::UnknownIssuer);
    // alg none, written by hand (no library makes one).
    let none = unsigned(&json!({"alg": "none", "typ": "JWT"}), &c, "");
    assert_eq!(reason(&o, &none), Reason::AlgNotAllowed);
    let none = unsigned(&json!({"alg": "NONE", "kid": "k1"}), &c, "x");
    assert_eq!(reason(&o, &none), Reason::AlgNotAllowed);
    // A signature of another token's: tampered.
    let good = key.sign(&c);
    let other = key.sign(&with(c.clone(), "sub", json!("mallory")));
    let (head, _) = other.rsplit_once('.').unwrap();
    let (_, sig) = good.rsplit_once('.').unwrap();
    assert_eq!(reason(&o, &format!("{head}.{sig}")), Reason::BadSignature);
    // The same claims signed by a key the issuer does not publish under that kid.
    let impostor = Key::new("k1");
    assert_eq!(reason(&o, &impostor.sign(&c)), Reason::BadSignature);
    // Alg confusion: HS256 with the issuer's public key as the HMAC secret.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("k1".into());
    let secret = jsonwebtoken::EncodingKey::from_secret(&key.public_bytes());
    let hs = jsonwebtoken::encode(&h, &c, &secret).unwrap();
    assert_eq!(reason(&o, &hs), Reason::AlgNotAllowed);
    // Not a JWT, and no introspection.
    assert_eq!(reason(&o, "opaque-token"), Reason::Malformed);
    let counts = o.refusal_counts();
    let count = |r: &str| counts.iter().find(|(l, _)| *l == r).unwrap().1;
    assert_eq!(count("alg_not_allowed"), 3);
    assert_eq!(count("bad_signature"), 2);
}

#[test]
fn an_unknown_kid_refetches_once_per_gap() {
    let idp = FakeIdp::start();
    let (a, b, c) = (Key::new("a"), Key::new("b"), Key::new("c"));
    idp.set_keys(&[&a]);
    let o = oauth(&idp, |s| s.jwks_refresh = Duration::from_secs(60));
    assert!(o.authenticate(&a.sign(&claims(&idp))).is_ok());
    assert_eq!(idp.hits("/jwks"), 1);
    // The issuer rotates in key b: the first token of b makes the one refetch.
    idp.set_keys(&[&a, &b]);
    // The fetch of a moment ago counts against the gap...
    assert_eq!(reason(&o, &b.sign(&claims(&idp))), Reason::UnknownKey);
    assert_eq!(idp.hits("/jwks"), 1, "no fetch within the gap");
    // ...and once it has passed, one fetch finds it.
    idp.set_keys(&[&a]);
    let o = oauth(&idp, |s| s.jwks_refresh = Duration::from_millis(200));
    assert!(o.authenticate(&a.sign(&claims(&idp))).is_ok());
    idp.set_keys(&[&a, &b]);
    std::thread::sleep(Duration::from_millis(250));
    let before = idp.hits("/jwks");
    assert!(o.authenticate(&b.sign(&claims(&idp))).is_ok());
    assert_eq!(idp.hits("/jwks"), before + 1);
    // A flood of made-up kids right after costs no fetch at all.
    for _ in 0..20 {
        assert_eq!(reason(&o, &c.sign(&claims(&idp))), Reason::UnknownKey);
    }
    assert_eq!(idp.hits("/jwks"), before + 1);
    // Cached keys need no fetch.
    assert!(o.authenticate(&a.sign(&claims(&idp))).is_ok());
    assert_eq!(idp.hits("/jwks"), before + 1);
    assert!(o.has_keys());
}

#[test]
fn an_oversized_jwks_is_refused_and_the_request_gets_503() {
    let idp = FakeIdp::start();
    let key = Key::new("k1");
    let mut keys: Vec<Value> = vec![key.jwk()];
    keys.extend((0..200).map(
        |i| json!({"kty": "OKP", "crv": "Ed25519", "x": "A".repeat(43), "kid": format!("pad{i}")}),
    ));
    idp.set("/jwks", 200, json!({ "keys": keys }));
    let o = oauth(&idp, |s| s.max_document_bytes = 4096);
    match o.authenticate(&key.sign(&claims(&idp))) {
        Err(Refusal::Unavailable(retry, _)) => assert!(retry >= Duration::from_secs(1)),
        other => panic!("{other:?}"),
    }
    let st = &o.status()[0];
    assert_eq!((st.keys, st.last_fetch_ok), (0, Some(false)));
    assert!(!o.has_keys());
    // With room for it, the same document is fine.
    let o = oauth(&idp, |_| {});
    assert!(o.authenticate(&key.sign(&claims(&idp))).is_ok());
}

#[test]
fn an_issuer_that_never_answers_costs_one_bounded_wait() {
    let idp = FakeIdp::start();
    let key = Key::new("k1");
    idp.hang(true);
    let o = oauth(&idp, |s| s.fetch_timeout = Duration::from_secs(1));
    let t = Instant::now();
    assert!(matches!(
        o.authenticate(&key.sign(&claims(&idp))),
        Err(Refusal::Unavailable(..))
    ));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // Within the gap, the next one is told at once.
    let t = Instant::now();
    assert!(matches!(
        o.authenticate(&key.sign(&claims(&idp))),
        Err(Refusal::Unavailable(..))
    ));
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    let st = &o.status()[0];
    assert_eq!(st.last_fetch_ok, Some(false));
    assert!(st.last_error.is_some());
}

#[test]
fn opaque_tokens_are_introspected_and_cached() {
    let idp = FakeIdp::start();
    let o = oauth(&idp, |s| {
        s.introspection = Some(Introspection {
            url: format!("{}/introspect", idp.url),
            client_id: "rs".into(),
            secret: "s3cret".into(),
        })
    });
    idp.set(
        "/introspect",
        200,
        json!({"active": true, "iss": idp.url, "aud": [RESOURCE], "sub": "bob",
               "client_id": "cli", "scope": "mcp", "exp": now() + 300}),
    );
    let g = o.authenticate("opaque-1").unwrap();
    assert_eq!(
        (g.subject.as_deref(), g.scopes.as_slice()),
        (Some("bob"), &["mcp".to_string()][..])
    );
    assert!(o.authenticate("opaque-1").is_ok());
    assert_eq!(idp.hits("/introspect"), 1, "the answer is cached");
    idp.set("/introspect", 200, json!({"active": false}));
    assert_eq!(reason(&o, "opaque-2"), Reason::Inactive);
    idp.set(
        "/introspect",
        200,
        json!({"active": true, "aud": "https://other/mcp", "exp": now() + 300}),
    );
    assert_eq!(reason(&o, "opaque-3"), Reason::WrongAudience);
    idp.set(
        "/introspect",
        200,
        json!({"active": true, "aud": RESOURCE, "exp": now() - 100}),
    );
    assert_eq!(reason(&o, "opaque-4"), Reason::Expired);
    idp.set("/introspect", 500, json!({}));
    assert!(matches!(
        o.authenticate("opaque-5"),
        Err(Refusal::Unavailable(..))
    ));
}

#[test]
fn settings_refuse_what_cannot_be_safe() {
    let base = OAuthSettings {
        issuers: vec!["https://idp.example".into()],
        ..OAuthSettings::default()
    };
    assert!(base.check().is_ok());
    for (what, s) in [
        (
            "none",
            OAuthSettings {
                algorithms: vec!["none".into()],
                ..base.clone()
            },
        ),
        (
            "HS256",
            OAuthSettings {
                algorithms: vec!["RS256".into(), "HS256".into()],
                ..base.clone()
            },
        ),
        (
            "http",
            OAuthSettings {
                issuers: vec!["http://idp.example".into()],
                ..base.clone()
            },
        ),
        (
            "issuer",
            OAuthSettings {
                issuers: vec![],
                ..base.clone()
            },
        ),
    ] {
        let e = s.check().unwrap_err();
        assert!(e.contains(what), "{what}: {e}");
    }
    let loopback = OAuthSettings {
        issuers: vec!["http://127.0.0.1:8080".into(), "http://[::1]:1/x".into()],
        ..base
    };
    assert!(loopback.check().is_ok());
}

#[test]
fn a_fetch_under_way_holds_up_only_the_tokens_that_need_it() {
    let idp = FakeIdp::start();
    let (a, b) = (Key::new("a"), Key::new("b"));
    idp.set_keys(&[&a]);
    let o = std::sync::Arc::new(oauth(&idp, |s| {
        s.fetch_timeout = Duration::from_secs(2);
        s.jwks_refresh = Duration::from_millis(1);
    }));
    assert!(o.authenticate(&a.sign(&claims(&idp))).is_ok());
    std::thread::sleep(Duration::from_millis(5));
    idp.hang(true);
    // Key b is unknown: this request fetches, and the issuer hangs for the whole timeout.
    let (o2, token_b) = (o.clone(), b.sign(&claims(&idp)));
    let slow = std::thread::spawn(move || {
        let t = Instant::now();
        let r = o2.authenticate(&token_b);
        (r, t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    // Meanwhile a token of the cached key a passes at once.
    let t = Instant::now();
    assert!(o.authenticate(&a.sign(&claims(&idp))).is_ok());
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    // A second token of b waits for the fetch under way rather than starting another.
    let t = Instant::now();
    assert!(matches!(
        o.authenticate(&b.sign(&claims(&idp))),
        Err(Refusal::Unavailable(..))
    ));
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    let (r, took) = slow.join().unwrap();
    assert!(matches!(r, Err(Refusal::Unavailable(..))), "{r:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(o.status()[0].fetches_failed, 1, "one fetch for both");
}
