//! The access table's tests: callers, scopes, reloads and the sweep of forgotten OAuth subjects.

use super::*;

fn hex(token: &str) -> String {
    digest(token).iter().map(|b| format!("{b:02x}")).collect()
}

fn grant(name: &str, token: &str, tools: &[&str]) -> TokenGrant {
    let tools = tools.iter().map(|t| t.to_string()).collect();
    TokenGrant::new(name, &hex(token), tools).unwrap()
}

#[test]
fn only_a_server_left_with_no_token_at_all_locks_everyone_out() {
    let g = [grant("ci", "t", &["*"])];
    assert!(Access::new(None, &g).locks_everyone_out(&[]));
    assert!(
        !Access::new(None, &g).locks_everyone_out(&g),
        "a grant is left"
    );
    assert!(
        !Access::new(Some("s"), &g).locks_everyone_out(&[]),
        "the static token is left"
    );
    assert!(
        !Access::new(None, &[]).locks_everyone_out(&[]),
        "no token was ever required"
    );
    // And it is closed for real, not only said to be.
    let a = Access::new(None, &g);
    a.set_grants(&[]);
    assert!(a.identify(None).is_err() && a.identify(Some("t")).is_err());
}

#[test]
fn token_compare() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    // Several differing bytes must not cancel out (an `acc ^ (x ^ y)` fold accepts these).
    assert!(!constant_time_eq(b"ab", b"ba"));
    assert!(!constant_time_eq(b"secret-token", b"terces-token"));
    assert!(!constant_time_eq(b"\x01\x02\x03", b"\x02\x01\x03"));
}

#[test]
fn callers_and_scopes() {
    let a = Access::new(
        Some("static"),
        &[
            grant("ci", "t-ci", &["journal", "disk_*"]),
            grant("ops", "t-ops", &["echo"]),
        ],
    );
    assert_eq!(a.identify(None).unwrap_err(), Unauthorized);
    assert_eq!(a.identify(Some("")).unwrap_err(), Unauthorized);
    assert_eq!(a.identify(Some("t-c")).unwrap_err(), Unauthorized);
    let stat = a.identify(Some("static")).unwrap().unwrap();
    assert_eq!(stat.name(), STATIC_TOKEN_NAME);
    assert!(a.scope(Some(&stat)).allows_tool("anything"));
    let ci = a.identify(Some("t-ci")).unwrap().unwrap();
    assert_eq!(ci.name(), "ci");
    let scope = a.scope(Some(&ci));
    assert!(scope.allows_tool("journal") && scope.allows_tool("disk_usage"));
    assert!(!scope.allows_tool("echo") && !scope.allows_tool("journalx"));
    let ops = a.identify(Some("t-ops")).unwrap().unwrap();
    assert!(!ops.is(&ci) && ci.is(&ci.clone()));
    assert!(same_caller(None, None) && !same_caller(Some(&ci), None));
    assert!(!same_caller(None, Some(&ci)) && !same_caller(Some(&ops), Some(&ci)));

    // Reloaded: "ci" sees another tool, "ops" is gone, the static token stays.
    a.set_grants(&[grant("ci", "t-ci", &["echo"])]);
    assert!(a.scope(Some(&ci)).allows_tool("echo"));
    assert!(!a.scope(Some(&ci)).allows_tool("journal"));
    assert!(
        !a.scope(Some(&ops)).allows_tool("echo"),
        "a removed grant sees nothing"
    );
    assert_eq!(a.identify(Some("t-ops")).unwrap_err(), Unauthorized);
    assert!(a.identify(Some("static")).unwrap().is_some());
}

#[test]
fn what_a_caller_says_of_itself() {
    // The audit line and the handlers' context name the subject and the client: pin what
    // each kind of caller answers.
    let a = Access::new(Some("static"), &[grant("ci", "t-ci", &["*"])]);
    for token in ["static", "t-ci"] {
        let c = a.identify(Some(token)).unwrap().unwrap();
        assert_eq!((c.subject(), c.client_id()), (None, None), "{token}");
        assert!(c.scopes().is_none(), "{token}");
    }
    let iss = "https://idp.example";
    let both = a.oauth_caller(iss, Some("alice"), Some("app"), vec!["read".into()]);
    assert_eq!(both.name(), "alice");
    assert_eq!(both.subject(), Some("alice"));
    assert_eq!(both.client_id(), Some("app"));
    assert_eq!(both.scopes().as_deref(), Some(&["read".to_string()][..]));
    let subject_only = a.oauth_caller(iss, Some("bob"), None, vec![]);
    assert_eq!(subject_only.subject(), Some("bob"));
    assert_eq!(subject_only.client_id(), None);
    let client_only = a.oauth_caller(iss, None, Some("robot"), vec![]);
    assert_eq!(client_only.name(), "robot");
    assert_eq!(client_only.subject(), None);
    assert_eq!(client_only.client_id(), Some("robot"));
    // A token that names nobody (neither `sub` nor `client_id`).
    let anonymous = a.oauth_caller(iss, None, None, vec![]);
    assert_eq!(anonymous.name(), "oauth");
    assert_eq!((anonymous.subject(), anonymous.client_id()), (None, None));
    assert!(!anonymous.is(&client_only) && !client_only.is(&subject_only));
    // No token required: no caller at all.
    assert!(Access::new(None, &[]).identify(None).unwrap().is_none());
}

#[test]
fn forgotten_subjects_are_swept_once_the_table_doubles() {
    let a = Access::new(None, &[]);
    let iss = "https://idp.example";
    let call = |sub: &str| a.oauth_caller(iss, Some(sub), None, vec!["s".into()]);
    // A small table is never swept: a forgotten subject stays until the table reaches 64.
    let first = call("first");
    drop(call("gone"));
    drop(call("third"));
    assert_eq!(a.identities_held(), 3, "no sweep below 64 subjects");
    drop(first);

    // 64 subjects, 3 of them forgotten above, then 29 more forgotten.
    let mut held: Vec<Caller> = (3..64).map(|i| call(&format!("s{i}"))).collect();
    assert_eq!(a.identities_held(), 64);
    held.truncate(32);
    // The 65th sweeps the 32 forgotten and keeps the 32 held.
    let newest = call("newest");
    assert_eq!(a.identities_held(), 33, "a sweep at 64 keeps only the held");
    // The held subjects were kept: a new token of one still updates its sessions' scopes.
    let again = a.oauth_caller(iss, Some("s3"), None, vec!["wider".into()]);
    assert_eq!(a.identities_held(), 33, "s3 was still known");
    assert_eq!(
        held[0].scopes().as_deref(),
        Some(&["wider".to_string()][..])
    );
    drop((again, newest));

    // The next sweep waits for 64 again: forgotten subjects stay in between (each sweep
    // is paid for by as many new subjects as the table held).
    drop(call("between"));
    assert_eq!(a.identities_held(), 34, "no sweep at 33");
    let more: Vec<Caller> = (0..30).map(|i| call(&format!("m{i}"))).collect();
    assert_eq!(a.identities_held(), 64);
    let last = call("last");
    assert_eq!(a.identities_held(), 32 + 30 + 1, "swept at 64 again");
    drop((held, more, last));
}

#[test]
fn no_token_configured_means_open() {
    let a = Access::new(None, &[]);
    assert!(a.identify(None).unwrap().is_none());
    assert!(a.identify(Some("whatever")).unwrap().is_none());
    assert!(a.scope(None).allows_tool("echo"));
    // Grants set at run time close it.
    a.set_grants(&[grant("ci", "t-ci", &["*"])]);
    assert!(a.identify(None).is_err());
    assert!(a.identify(Some("t-ci")).unwrap().is_some());
    a.set_grants(&[]);
    assert!(a.identify(None).unwrap().is_none());
}
