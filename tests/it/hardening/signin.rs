//! Sign-in guessing: the lockout across nodes (item 1), keyed account digests (item 12), folded
//! refusals (item 5).

use airlock::model::EnvKind;
use airlock::service::admin::audit::AuditFilter;
use serde_json::json;

use crate::backend_test;
use crate::harness::flow;
use crate::harness::server::{Seeded, http};
use crate::harness::{Node, TestServer};

/// Item 12: what the audit log keeps of a failed sign-in's typed name is a keyed digest: a
/// password typed into the name field cannot be confirmed by hashing guesses.
async fn a_typed_account_name_is_logged_under_a_key(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let typed = "hunter2-typed-in-the-wrong-field";
    for _ in 0..2 {
        crate::limits::attempt(&zone, typed, "whatever").await;
    }
    let filter = AuditFilter {
        event: Some("signin.failed".into()),
        ..Default::default()
    };
    let trail = server.airlock.audit_trail();
    let entries = trail.list(&zone.environment, filter).await.expect("audit");
    let accounts: Vec<&str> = entries
        .iter()
        .map(|entry| entry.details["account"].as_str().expect("account"))
        .collect();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        accounts[0], accounts[1],
        "one name, one digest: the lockout still counts"
    );
    let unkeyed = airlock::crypto::secrets::digest(typed);
    assert_ne!(
        accounts[0], unkeyed,
        "a plain SHA-256 would confirm the guess"
    );
    assert_eq!(accounts[0].len(), 64);
}
backend_test!(a_typed_account_name_is_logged_under_a_key);

/// Item 1: the lockout bounds how many passwords are checked per account name and lock period,
/// across nodes: a burst of parallel guesses shared between two nodes gets `lockout_threshold`
/// passwords checked, no more, and the right password afterwards finds the name locked.
async fn parallel_guesses_across_nodes_are_bounded_by_the_lockout(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    flow::set_limits(
        server,
        &zone,
        json!({"lockout_threshold": 5, "signin_failures_per_minute": 0}),
    )
    .await;
    let node = Node::start(server, "serve", &[("AIRLOCK_CACHE_SECONDS", "1")]).await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..31 {
        let base = if i % 2 == 0 {
            server.base.clone()
        } else {
            node.base.clone()
        };
        let (zone, public) = (zone.clone(), server.base.clone());
        guesses.spawn(async move { guess(&base, &public, &zone, &format!("guess {i}")).await });
    }
    let statuses = guesses.join_all().await;
    assert!(
        statuses.iter().all(|s| [200, 429].contains(s)),
        "{statuses:?}"
    );
    let right = guess(&node.base, &server.base, &zone, &zone.password).await;
    assert_eq!(right, 429, "the name is locked");

    let filter = AuditFilter {
        event: Some("signin.failed".into()),
        limit: Some(1000),
        ..Default::default()
    };
    let trail = server.airlock.audit_trail();
    let entries = trail.list(&zone.environment, filter).await.expect("audit");
    let checked = entries
        .iter()
        .filter(|entry| entry.details["reason"] == "wrong_password")
        .count();
    assert!(checked <= 5, "{checked} passwords were checked");
}
backend_test!(parallel_guesses_across_nodes_are_bounded_by_the_lockout);

/// One sign-in attempt through the server at `base` (serving the public URL `public`): fetch the
/// login form, post it with its CSRF cookie; the status of the answer.
async fn guess(base: &str, public: &str, zone: &Seeded, password: &str) -> u16 {
    let host = public.trim_start_matches("http://");
    let url = flow::authorize_url(zone, &[]).replacen(public, base, 1);
    let page = http()
        .get(url)
        .header("host", host)
        .send()
        .await
        .expect("authorize");
    let form = flow::LoginForm::read(page).await;
    let answer = http()
        .post(form.action.replacen(public, base, 1))
        .header("host", host)
        .header("cookie", &form.csrf_cookie)
        .form(&form.filled(&zone.email, password))
        .send()
        .await
        .expect("login");
    answer.status().as_u16()
}

/// Item 5: refused sign-ins cost the attacker nothing, so they must not cost a durable row each:
/// a window's refusals of one name are one entry as they start and one with the count when the
/// window closes, every attempt accounted for.
async fn refused_sign_ins_are_folded_per_window(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    flow::set_limits(
        server,
        &zone,
        json!({"lockout_threshold": 1, "signin_failures_per_minute": 0}),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..41 {
        let (status, _) = crate::limits::attempt(&zone, &zone.email, &format!("guess {i}")).await;
        statuses.push(status);
    }
    assert_eq!(statuses[0], 200);
    assert!(statuses[1..].iter().all(|s| *s == 429), "{statuses:?}");
    let entries = || async {
        let filter = AuditFilter {
            event: Some("signin.failed".into()),
            ..Default::default()
        };
        let trail = server.airlock.audit_trail();
        trail.list(&zone.environment, filter).await.expect("audit")
    };
    assert_eq!(
        entries().await.len(),
        2,
        "a checked failure and the first refusal"
    );
    let window_closed = server.now() + 61;
    let folded = server.airlock.log_folded_refusals(window_closed).await;
    assert_eq!(folded.expect("folded"), 1);
    let logged = entries().await;
    assert_eq!(logged.len(), 3);
    let summary = &logged[2].details;
    assert_eq!(summary["reason"], "account_locked");
    assert_eq!(summary["repeated"], 39, "{summary}");
    assert!(summary["first_at"].as_i64() <= summary["last_at"].as_i64());
}
backend_test!(refused_sign_ins_are_folded_per_window);

/// The reservation counts attempts in flight, yet parallel sign-ins with the right password are
/// never locked out: past the threshold they wait for the others rather than being refused.
async fn parallel_right_passwords_are_not_locked_out(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    flow::set_limits(
        server,
        &zone,
        json!({"lockout_threshold": 2, "signin_failures_per_minute": 0}),
    )
    .await;
    let mut sign_ins = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let zone = zone.clone();
        sign_ins.spawn(async move {
            crate::limits::attempt(&zone, &zone.email, &zone.password)
                .await
                .0
        });
    }
    let statuses = sign_ins.join_all().await;
    assert!(statuses.iter().all(|s| *s != 429), "{statuses:?}");
}
backend_test!(parallel_right_passwords_are_not_locked_out);
