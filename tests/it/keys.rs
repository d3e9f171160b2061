//! Key rotation per environment: staged, active, retired, removed; old tokens keep validating during
//! the overlap, and no other environment's JWKS moves.

use airlock::model::{EnvKind, KeyState, SigningAlg};
use airlock::service::Caller;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::Nonce;
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::flow;
use crate::harness::rp;
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, TestServer};

async fn jwks_kids(zone: &Seeded) -> Vec<String> {
    let jwks = flow::jwks(zone).await;
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect();
    kids.sort();
    kids
}

fn header_kid(jwt: &str) -> String {
    let header = jwt.split('.').next().expect("header");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("json");
    header["kid"].as_str().expect("kid").to_string()
}

async fn rotation_overlaps_old_and_new_keys(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let production_kids = jwks_kids(&production).await;
    let before = flow::sign_in(&sandbox, &Browser::new()).await;
    let old_kid = header_kid(&before.id_token);

    // Staged through the admin API: published at once, not yet signing.
    let token = server.admin_token(&sandbox.environment).await;
    let response = http()
        .post(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/keys/rotate",
            server.base
        ))
        .bearer_auth(&token)
        .json(&json!({"alg": "RS256", "publish_delay": 3600}))
        .send()
        .await
        .expect("rotate");
    assert_eq!(response.status().as_u16(), 201);
    let staged: Value = response.json().await.expect("json");
    assert_eq!(staged["state"], "staged");
    let staged_kid = staged["kid"].as_str().expect("kid").to_string();
    assert!(jwks_kids(&sandbox).await.contains(&staged_kid));
    let during = flow::sign_in(&sandbox, &Browser::new()).await;
    assert_eq!(
        header_kid(&during.id_token),
        old_kid,
        "a staged key does not sign"
    );
    assert_eq!(jwks_kids(&production).await, production_kids);

    // Rotated again with no delay (as the CLI would): the newest key signs from now on.
    let rotated_at = server.now();
    let active = server
        .airlock
        .keys()
        .rotate(
            &sandbox.environment,
            SigningAlg::RS256,
            Some(0),
            &Caller::cli(),
            rotated_at,
        )
        .await
        .expect("rotate");
    assert_eq!(active.state, KeyState::Active);
    let after = flow::sign_in(&sandbox, &Browser::new()).await;
    assert_eq!(header_kid(&after.id_token), active.kid);
    assert_eq!(header_kid(&after.access_token), active.kid);
    let kids = jwks_kids(&sandbox).await;
    assert!(kids.contains(&old_kid) && kids.contains(&active.kid) && kids.contains(&staged_kid));
    assert_eq!(jwks_kids(&production).await, production_kids);

    // A relying party discovering now accepts tokens of both sides of the rotation.
    let relying_party = rp::for_issuer(
        &sandbox.issuer,
        &sandbox.client_id,
        Some(&sandbox.client_secret),
        &sandbox.redirect_uri,
    )
    .await;
    for tokens in [&before, &after] {
        let id_token: openidconnect::core::CoreIdToken = tokens.id_token.parse().expect("parse");
        id_token
            .claims(&relying_party.id_token_verifier(), |_: Option<&Nonce>| {
                Ok(())
            })
            .expect("valid during the overlap");
        assert_eq!(
            flow::userinfo_status(&sandbox, &tokens.access_token).await,
            200
        );
    }

    // States and dates, then the future: the replaced keys leave once their tokens have expired.
    let now = server.now();
    let keys = server
        .airlock
        .keys()
        .list(&sandbox.environment, now)
        .await
        .expect("keys");
    let state_of = |keys: &[airlock::service::admin::keys::KeyView], kid: &str| {
        keys.iter().find(|k| k.kid == kid).expect("listed").state
    };
    assert_eq!(state_of(&keys, &old_kid), KeyState::Retired);
    assert_eq!(state_of(&keys, &staged_kid), KeyState::Retired);
    assert_eq!(state_of(&keys, &active.kid), KeyState::Active);
    let old = keys.iter().find(|k| k.kid == old_kid).expect("old");
    let unpublish_at = old.schedule.unpublish_at.expect("scheduled to leave");
    assert!(unpublish_at >= rotated_at + sandbox.environment.policy.id_token_ttl);
    let later = server
        .airlock
        .keys()
        .list(&sandbox.environment, unpublish_at)
        .await
        .expect("keys");
    assert_eq!(state_of(&later, &old_kid), KeyState::Removed);
    assert_eq!(state_of(&later, &active.kid), KeyState::Active);

    // The CLI lists the same keys with their states.
    let (ok, stdout, stderr) = server.cli(&["keys", "list", "acme/sandbox", "--json"]);
    assert!(ok, "{stderr}");
    let listed: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(listed.as_array().expect("array").len(), 4);
    assert!(stdout.contains("\"retired\"") && stdout.contains("\"active\""));

    // Transitions are audited once each, in the sandbox log only.
    server
        .airlock
        .keys()
        .sweep(unpublish_at)
        .await
        .expect("sweep");
    server
        .airlock
        .keys()
        .sweep(unpublish_at)
        .await
        .expect("sweep twice");
    let entries = server
        .airlock
        .audit_trail()
        .list(&sandbox.environment, Default::default())
        .await
        .expect("audit");
    let count = |event: &str| entries.iter().filter(|e| e.entry.event == event).count();
    let events: Vec<&str> = entries.iter().map(|e| e.entry.event.as_str()).collect();
    assert_eq!(count("key.staged"), 2, "{events:?}");
    assert_eq!(count("key.activated"), 1, "{events:?}");
    assert_eq!(count("key.retired"), 2);
    assert_eq!(count("key.removed"), 2);
    let production_entries = server
        .airlock
        .audit_trail()
        .list(&production.environment, Default::default())
        .await
        .expect("audit");
    assert!(
        production_entries
            .iter()
            .all(|e| !e.entry.event.starts_with("key."))
    );
}
// With no node cache, a rotation without delay signs at once (the delay never undercuts the cache).
backend_test!(
    rotation_overlaps_old_and_new_keys,
    crate::harness::Options {
        cache_seconds: Some(0),
        ..crate::harness::Options::default()
    }
);

async fn es256_rotation_and_cli(server: &TestServer) {
    let zone = server
        .seed_with("acme", "sandbox", EnvKind::Test, SigningAlg::ES256, true)
        .await;
    let before = jwks_kids(&zone).await;
    let (ok, stdout, stderr) = server.cli(&[
        "keys",
        "rotate",
        "acme/sandbox",
        "--alg",
        "ES256",
        "--publish-delay",
        "0",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let rotated: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(rotated["alg"], "ES256");
    let kid = rotated["kid"].as_str().expect("kid").to_string();
    assert!(!before.contains(&kid));
    // This node learns of another process's rotation within its key cache bound; force it here.
    let keys = server
        .airlock
        .key_ring()
        .keys(
            &zone.environment,
            server.now() + server.config.cache_seconds,
        )
        .await
        .expect("keys");
    assert!(String::from_utf8_lossy(&keys.jwks).contains(&kid));
    let (ok, _, stderr) = server.cli(&["keys", "rotate", "acme/sandbox", "--alg", "HS256"]);
    assert!(!ok && stderr.contains("HS256"), "{stderr}");
    let (ok, _, _) = server.cli(&["keys", "rotate", "acme/nowhere"]);
    assert!(!ok);
}
backend_test!(es256_rotation_and_cli);
