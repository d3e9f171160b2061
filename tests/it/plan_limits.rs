//! Plan limits per project: environments, users of test zones, and monthly active users of live
//! zones, each refused with a clear message; a test zone never spends a live zone's allowance.

use airlock::model::{EnvKind, Secret};
use airlock::service::Caller;
use airlock::service::admin::users::NewUser;

use crate::backend_test;
use crate::harness::flow::authorize_url;
use crate::harness::server::Seeded;
use crate::harness::{Browser, Step, TestServer};

const PASSWORD: &str = "a long enough password 1";

async fn add_user(server: &TestServer, zone: &Seeded, email: &str) -> Result<(), String> {
    let new = NewUser {
        email: email.into(),
        password: Secret::new(PASSWORD),
        name: None,
    };
    server
        .airlock
        .users()
        .create(&zone.environment, new, &Caller::cli(), server.now())
        .await
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// Signs `email` in at `zone`: whether a code came back, and the last page otherwise.
async fn signs_in(zone: &Seeded, email: &str, password: &str) -> (bool, String) {
    let step = Browser::new()
        .sign_in(&authorize_url(zone, &[]), email, password)
        .await;
    let signed_in =
        matches!(&step, Step::Redirect(_)) && step.redirect_params().contains_key("code");
    (signed_in, step.html().to_string())
}

async fn limits_bind_where_they_should(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let (ok, out, _) = server.cli(&["project", "limits", "acme"]);
    assert!(ok && out.contains("max-live-mau: none"), "{out}");

    // Environments.
    let (ok, _, err) = server.cli(&["project", "limits", "acme", "--max-environments", "2"]);
    assert!(ok, "{err}");
    let (ok, _, err) = server.cli(&["env", "create", "acme/staging", "--kind", "test"]);
    assert!(!ok && err.contains("allows 2 environments"), "{err}");

    // Test users: the sandbox's one user fills an allowance of one; live users do not count.
    let (ok, _, err) = server.cli(&["project", "limits", "acme", "--max-test-users", "1"]);
    assert!(ok, "{err}");
    let refused = add_user(server, &sandbox, "second@sandbox.test")
        .await
        .unwrap_err();
    assert!(
        refused.contains("users across its test environments"),
        "{refused}"
    );
    add_user(server, &production, "bob@acme.test")
        .await
        .expect("a live user");

    // Live monthly actives: one. The first user active this month keeps signing in, a second is
    // refused, and a test zone's sign-ins count for nothing.
    let (ok, _, err) = server.cli(&["project", "limits", "acme", "--max-live-mau", "1"]);
    assert!(ok, "{err}");
    let (signed_in, page) = signs_in(&production, &production.email, &production.password).await;
    assert!(signed_in, "{page}");
    server.airlock.flush_usage().await.expect("flush");
    let (signed_in, page) = signs_in(&production, "bob@acme.test", PASSWORD).await;
    assert!(
        !signed_in && page.contains("limit of monthly active users"),
        "{page}"
    );
    let (signed_in, _) = signs_in(&production, &production.email, &production.password).await;
    assert!(signed_in, "an active user keeps signing in");
    let (signed_in, _) = signs_in(&sandbox, &sandbox.email, &sandbox.password).await;
    assert!(signed_in, "test zones have no monthly allowance");

    // Lifting the limit lets the second one in.
    let (ok, out, err) = server.cli(&["project", "limits", "acme", "--max-live-mau", "none"]);
    assert!(ok && out.contains("max-live-mau: none"), "{out}{err}");
    let (signed_in, page) = signs_in(&production, "bob@acme.test", PASSWORD).await;
    assert!(signed_in, "{page}");
    let (ok, _, err) = server.cli(&["project", "limits", "acme", "--max-live-mau=-3"]);
    assert!(!ok && err.contains("0 or more"), "{err}");
}
backend_test!(limits_bind_where_they_should);
