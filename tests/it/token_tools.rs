//! `airlock token inspect` and `airlock token verify`: a relying party's view of sandbox and
//! production tokens, fetched over real HTTP from the running server.

use airlock::model::{EnvKind, SigningAlg};
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::flow::client_post;
use crate::harness::server::Seeded;

async fn machine_token(zone: &Seeded) -> String {
    let (status, body) = client_post(
        &format!("{}/token", zone.issuer),
        &zone.client_id,
        &zone.client_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("token").to_string()
}

/// `zone`'s current key signing `claims`, as the server would, but with the lifetime the test
/// chooses.
async fn signed_by_zone(server: &TestServer, zone: &Seeded, claims: Value) -> String {
    let found = server
        .airlock
        .zones()
        .path_zone(&zone.environment.project, &zone.environment.name)
        .await
        .expect("zone")
        .expect("a path zone");
    let keys = server
        .airlock
        .key_ring()
        .keys(&found, server.now())
        .await
        .expect("keys");
    let signer = keys.signer(SigningAlg::RS256).expect("signer");
    signer.sign("at+jwt", &claims).expect("sign")
}

async fn inspect_and_verify(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox_token = machine_token(&sandbox).await;
    let production_token = machine_token(&production).await;

    // inspect: decoded only, and the zone named.
    let (ok, out, err) = server.cli(&["--json", "token", "inspect", &sandbox_token]);
    assert!(ok, "{err}");
    let inspected: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(inspected["verified"], false);
    assert_eq!(inspected["issuer"], sandbox.issuer);
    assert_eq!(inspected["zone"]["environment"], "sandbox");
    assert_eq!(inspected["zone"]["kind"], "test");
    let (ok, out, _) = server.cli(&["token", "inspect", &production_token]);
    assert!(
        ok && out.contains("NOT VERIFIED") && out.contains("acme/production (live)"),
        "{out}"
    );
    let (ok, _, err) = server.cli(&["token", "inspect", "not.a-jwt"]);
    assert!(!ok && err.contains("not a JWT"), "{err}");

    // verify: against each token's own issuer it holds, with the zone printed.
    let (ok, out, err) = server.cli(&[
        "--json",
        "token",
        "verify",
        &sandbox_token,
        "--issuer",
        &sandbox.issuer,
    ]);
    assert!(ok, "{err}");
    let verified: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["claims"]["client_id"], sandbox.client_id);
    assert_eq!(verified["zone"]["environment"], "sandbox");
    let (ok, out, err) = server.cli(&[
        "token",
        "verify",
        &production_token,
        "--issuer",
        &production.issuer,
        "--audience",
        &production.client_id,
    ]);
    assert!(ok && out.starts_with("valid"), "{out}{err}");

    // …and refused, with the reason and a failing exit, otherwise.
    let (ok, _, err) = server.cli(&[
        "token",
        "verify",
        &production_token,
        "--issuer",
        &sandbox.issuer,
    ]);
    assert!(
        !ok && err.contains("issued by") && err.contains("production"),
        "{err}"
    );
    let (ok, _, err) = server.cli(&[
        "token",
        "verify",
        &sandbox_token,
        "--issuer",
        &sandbox.issuer,
        "--audience",
        "https://api.other.test",
    ]);
    assert!(!ok && err.contains("audience"), "{err}");
    let mut parts: Vec<String> = sandbox_token.split('.').map(str::to_string).collect();
    let mut claims: Value =
        crate::harness::resource_server::part(&sandbox_token, 1).expect("claims");
    claims["client_id"] = json!("cl_someone_else");
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims.to_string(),
    );
    let tampered = parts.join(".");
    let (ok, _, err) = server.cli(&["token", "verify", &tampered, "--issuer", &sandbox.issuer]);
    assert!(!ok && err.contains("bad signature"), "{err}");
    let now = server.now();
    let expired = signed_by_zone(
        server,
        &sandbox,
        json!({ "iss": sandbox.issuer, "sub": "x", "aud": "x", "client_id": "x", "scope": "",
                "jti": "j", "iat": now - 600, "exp": now - 60 }),
    )
    .await;
    let (ok, _, err) = server.cli(&["token", "verify", &expired, "--issuer", &sandbox.issuer]);
    assert!(!ok && err.contains("expired"), "{err}");
}
backend_test!(inspect_and_verify);
