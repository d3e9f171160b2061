//! Malformed and forged JWTs at every place a token is accepted: userinfo, introspection,
//! `id_token_hint` at authorize and at logout. Each gets the protocol's refusal, never a 500.

use airlock::model::{EnvKind, SigningAlg};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::backend_test;
use crate::harness::flow::{self, introspect};
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, TestServer};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

fn hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A token signed with the zone's real RS256 key, with the given `typ` and claims.
async fn signed_by_zone(server: &TestServer, zone: &Seeded, typ: &str, claims: &Value) -> String {
    let keys = server
        .airlock
        .key_ring()
        .keys(&zone.environment, server.now())
        .await
        .expect("keys");
    keys.signer(SigningAlg::RS256)
        .expect("signer")
        .sign(typ, claims)
        .expect("sign")
}

async fn userinfo_error(zone: &Seeded, token: &str) -> (u16, String) {
    let response = http()
        .get(format!("{}/userinfo", zone.issuer))
        .bearer_auth(token)
        .send()
        .await
        .expect("userinfo");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (response.status().as_u16(), challenge)
}

async fn forged_and_malformed_tokens_are_refused(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let browser = Browser::new();
    let tokens = flow::sign_in(&zone, &browser).await;
    let genuine = claims_of(&tokens.access_token);
    let kid = {
        let header = tokens.access_token.split('.').next().expect("header");
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("json");
        header["kid"].as_str().expect("kid").to_string()
    };
    let jwks = flow::jwks(&zone).await;
    let public_key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("published")
        .to_string();
    let now = server.now();
    let with = |changes: Value| {
        let mut claims = genuine.clone();
        for (k, v) in changes.as_object().expect("object") {
            claims[k] = v.clone();
        }
        claims
    };

    let truncated = tokens.access_token[..tokens.access_token.len() - 12].to_string();
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})),
        b64(&genuine)
    );
    let hmac_with_public_key = hs256(
        &json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
        &genuine,
        public_key.as_bytes(),
    );
    let unknown_kid = {
        let mut parts: Vec<String> = tokens.access_token.split('.').map(str::to_string).collect();
        parts[0] = b64(&json!({"alg": "RS256", "typ": "at+jwt", "kid": "not-a-kid"}));
        parts.join(".")
    };
    let wrong_typ = signed_by_zone(server, &zone, "JWT", &genuine).await;
    let expired = signed_by_zone(
        server,
        &zone,
        "at+jwt",
        &with(json!({"exp": now - 10, "iat": now - 700, "jti": "expired-1"})),
    )
    .await;
    let not_yet_valid = signed_by_zone(
        server,
        &zone,
        "at+jwt",
        &with(json!({"iat": now + 3600, "exp": now + 7200, "jti": "future-1"})),
    )
    .await;
    let other_issuer = signed_by_zone(
        server,
        &zone,
        "at+jwt",
        &with(json!({"iss": "https://evil.example", "jti": "iss-1"})),
    )
    .await;
    let bad_json = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "kid": kid})),
        URL_SAFE_NO_PAD.encode("not json"),
        URL_SAFE_NO_PAD.encode("sig")
    );
    let forged = [
        ("truncated", truncated),
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hmac_with_public_key),
        ("unknown kid", unknown_kid),
        ("wrong typ", wrong_typ),
        ("expired", expired),
        ("not yet valid", not_yet_valid),
        ("another issuer", other_issuer),
        ("bad json", bad_json),
        ("ID token as access token", tokens.id_token.clone()),
        ("four parts", format!("{}.x", tokens.access_token)),
        ("not base64", "%%%.^^^.***".to_string()),
    ];
    // The genuine one works, so each refusal below is about the forgery.
    assert_eq!(userinfo_error(&zone, &tokens.access_token).await.0, 200);
    for (what, token) in &forged {
        let (status, challenge) = userinfo_error(&zone, token).await;
        assert_eq!(status, 401, "{what}");
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
        assert_eq!(
            introspect(&zone, token).await,
            (200, json!({"active": false})),
            "{what}"
        );
    }

    // As id_token_hint: an error redirect at authorize, a refusal page at logout.
    let id_claims = claims_of(&tokens.id_token);
    let id_hints = [
        format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&id_claims)),
        hs256(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &id_claims,
            zone.client_secret.as_bytes(),
        ),
        tokens.access_token.clone(),
        "garbage".to_string(),
    ];
    for hint in &id_hints {
        let step = browser
            .get(&flow::authorize_url(&zone, &[("id_token_hint", hint)]))
            .await;
        assert_eq!(step.redirect_params()["error"], "invalid_request");
        let step = browser
            .get(&format!(
                "{}/logout?id_token_hint={}",
                zone.issuer,
                flow::urlencode(hint)
            ))
            .await;
        assert_eq!(step.status().as_u16(), 400);
    }
}
backend_test!(forged_and_malformed_tokens_are_refused);
