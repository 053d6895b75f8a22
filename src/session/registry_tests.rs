//! Tests of `registry.rs`: caps, eviction of pending sessions, expiry, per-client limits.
use super::super::outgoing::Outgoing;
use super::super::send::Route;
use super::*;
use crate::jsonrpc::RequestId;

use crate::protocol::Revision;

fn used(s: &Session) {
    s.mark_initialized(Revision::V2025_06_18, None, None);
    let id = RequestId::Number(7.into());
    s.begin_request(&id);
    s.end_request(&id);
}

fn peer(ip: &str) -> Option<SocketAddr> {
    Some(SocketAddr::new(ip.parse().unwrap(), 1234))
}

#[test]
fn session_cap_and_expiry() {
    let store = Sessions::new(1, 8);
    let s = store.create(TransportKind::Seed, None, None).unwrap();
    used(&s);
    assert_eq!(
        store.create(TransportKind::Seed, None, None).err(),
        Some(TooManySessions::Table),
        "a used session is never evicted"
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
    assert!(store.get(&s.id, None).is_none());
    assert!(s.is_ended());
}

#[test]
fn on_end_hooks_run_once_when_removed_expired_or_added_late() {
    use std::sync::atomic::AtomicUsize;
    let store = Sessions::new(4, 8);
    let runs = Arc::new(AtomicUsize::new(0));
    let hook = |runs: &Arc<AtomicUsize>| {
        let r = runs.clone();
        move || {
            r.fetch_add(1, Ordering::SeqCst);
        }
    };
    let a = store.create(TransportKind::Streamable, None, None).unwrap();
    a.on_end(hook(&runs));
    store.remove(&a.id);
    store.remove(&a.id);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "removed once, run once");
    a.on_end(hook(&runs));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "added after the end: runs at once"
    );
    let b = store.create(TransportKind::Streamable, None, None).unwrap();
    used(&b);
    b.on_end(hook(&runs));
    assert_eq!(store.expire(Duration::ZERO), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 3, "expiry ends it too");
}

#[test]
fn a_full_table_evicts_its_oldest_pending_session() {
    let store = Sessions::new(3, 8);
    let create = || store.create(TransportKind::Streamable, None, None).unwrap();
    let (a, b, c) = (create(), create(), create());
    used(&b);
    c.mark_initialized(Revision::V2025_06_18, None, None);
    // a: never initialized; b: used; c: initialized, never used since.
    let d = create();
    assert!(
        store.get(&a.id, None).is_none() && a.is_ended(),
        "the oldest pending"
    );
    let e = create();
    assert!(store.get(&c.id, None).is_none(), "b is used: c is next");
    assert!(store.get(&b.id, None).is_some());
    // d is busy (its initialize is running): stepped over, e goes.
    let id = RequestId::Number(1.into());
    d.begin_request(&id);
    let f = create();
    assert!(store.get(&e.id, None).is_none() && store.get(&d.id, None).is_some());
    used(&f);
    assert_eq!(
        store.create(TransportKind::Streamable, None, None).err(),
        Some(TooManySessions::Table),
        "nothing left to evict"
    );
    d.end_request(&id);
    let _g = create();
    assert!(store.get(&d.id, None).is_none(), "d idle again: evictable");
    assert_eq!(store.evicted.load(Ordering::Relaxed), 4);
    assert_eq!(store.len(), 3);
}

#[test]
fn the_per_client_cap_evicts_that_clients_own_pending_sessions_first() {
    let store = Sessions::new(100, 8).with_flood_limits(Duration::from_secs(60), 2);
    let create = |ip| store.create(TransportKind::Streamable, peer(ip), None);
    let a1 = create("192.0.2.1").unwrap();
    let a2 = create("192.0.2.1").unwrap();
    let b1 = create("198.51.100.7").unwrap();
    used(&a1);
    let a3 = create("192.0.2.1").unwrap();
    assert!(
        store.get(&a2.id, None).is_none(),
        "its own oldest pending one"
    );
    assert!(store.get(&b1.id, None).is_some(), "never another client's");
    used(&a3);
    let refused = create("192.0.2.1").err();
    assert_eq!(refused, Some(TooManySessions::Client(2)));
    assert!(
        refused
            .and_then(|e| e.per_client())
            .is_some_and(|m| m.contains("--max-sessions-per-client 2"))
    );
    // IPv4-mapped IPv6 is the IPv4 address; IPv6 counts per /64.
    assert_eq!(
        create("::ffff:192.0.2.1").err(),
        Some(TooManySessions::Client(2))
    );
    used(&create("2001:db8:1:2::1").unwrap());
    used(&create("2001:db8:1:2:ffff::9").unwrap());
    assert!(create("2001:db8:1:2::3").is_err(), "the same /64");
    assert!(create("2001:db8:1:3::1").is_ok(), "another /64");
    // A removed session frees its address's slot.
    store.remove(&a3.id);
    assert!(create("192.0.2.1").is_ok());
}

#[test]
fn pending_sessions_expire_after_the_pending_ttl() {
    let store = Sessions::new(10, 8).with_flood_limits(Duration::ZERO, 0);
    let never = store.create(TransportKind::Streamable, None, None).unwrap();
    let unused = store.create(TransportKind::Streamable, None, None).unwrap();
    unused.mark_initialized(Revision::V2025_06_18, None, None);
    let busy = store.create(TransportKind::Streamable, None, None).unwrap();
    busy.begin_request(&RequestId::Number(1.into()));
    let s = store.create(TransportKind::Streamable, None, None).unwrap();
    used(&s);
    assert_eq!(store.expire(Duration::from_secs(1800)), 2);
    assert!(store.get(&never.id, None).is_none() && store.get(&unused.id, None).is_none());
    assert!(store.get(&busy.id, None).is_some() && store.get(&s.id, None).is_some());
}

#[test]
fn sessions_count_on_the_instance_metrics() {
    let metrics = Arc::new(Metrics::new());
    let store = Sessions::new(10, 3).with_metrics(metrics.clone());
    let s = store.create(TransportKind::Seed, None, None).unwrap();
    for i in 0..5 {
        s.send(&Route::Session, Outgoing::message(format!("{i}").into()));
    }
    assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 2);
    let client = StatelessClient {
        client_info: None,
        capabilities: serde_json::json!({}),
        log_level: None,
    };
    let stateless = store.stateless(client, None);
    stateless.send(&Route::Session, Outgoing::message("x".into()));
    assert_eq!(metrics.events_dropped.load(Ordering::Relaxed), 3);
}
