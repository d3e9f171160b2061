//! Client authentication with JWTs (RFC 7523, OIDC Core §9): `private_key_jwt` with inline keys
//! and a `jwks_uri`, `client_secret_jwt`, and the assertions that must fail: replayed, for another
//! audience or zone, signed by another key, `alg: none`, HS256 against a key-based client.

use std::sync::{Arc, Mutex};

use airlock::model::EnvKind;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, HS256, JwsHeader, JwsSigner, RS256};
use josekit::jwt::JwtPayload;
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::server::{Seeded, http};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client's key pair: the private JWK that signs, the public one it registers.
struct ClientKey {
    private: Jwk,
    public: Jwk,
}

fn es256_key(kid: &str) -> ClientKey {
    let pair = ES256.generate_key_pair().expect("EC key");
    let (mut private, mut public) = (pair.to_jwk_key_pair(), pair.to_jwk_public_key());
    private.set_key_id(kid);
    public.set_key_id(kid);
    ClientKey { private, public }
}

fn rs256_key(kid: &str) -> ClientKey {
    let pair = RS256.generate_key_pair(2048).expect("RSA key");
    let (mut private, mut public) = (pair.to_jwk_key_pair(), pair.to_jwk_public_key());
    private.set_key_id(kid);
    public.set_key_id(kid);
    ClientKey { private, public }
}

fn jwks(keys: &[&ClientKey]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|key| serde_json::to_value(key.public.as_ref()).expect("jwk"))
        .collect();
    json!({ "keys": keys })
}

fn claims(client_id: &str, aud: &str) -> JwtPayload {
    let now = airlock::clock::now();
    let mut payload = JwtPayload::new();
    payload.set_issuer(client_id);
    payload.set_subject(client_id);
    payload.set_audience(vec![aud]);
    payload.set_jwt_id(format!("jti-{}", rand_suffix()));
    let at = |seconds: i64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds as u64);
    // A fraction of a second, as some libraries write it (RFC 7519 allows it).
    payload.set_issued_at(&(at(now) + std::time::Duration::from_millis(250)));
    payload.set_expires_at(&at(now + 120));
    payload
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn sign(payload: &JwtPayload, kid: Option<&str>, signer: &dyn JwsSigner) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    if let Some(kid) = kid {
        header.set_key_id(kid);
    }
    josekit::jwt::encode_with_signer(payload, &header, signer).expect("sign")
}

fn signed_by(key: &ClientKey, payload: &JwtPayload) -> String {
    let kid = key.private.key_id();
    match key.private.curve() {
        Some(_) => sign(
            payload,
            kid,
            &ES256.signer_from_jwk(&key.private).expect("signer"),
        ),
        None => sign(
            payload,
            kid,
            &RS256.signer_from_jwk(&key.private).expect("signer"),
        ),
    }
}

/// Presents `assertion` at `endpoint` (`token`, `introspect`) of `zone`; status and body.
async fn present(
    zone: &Seeded,
    endpoint: &str,
    assertion: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    let response = http()
        .post(format!("{}/{endpoint}", zone.issuer))
        .form(&form)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn token(zone: &Seeded, assertion: &str) -> (u16, Value) {
    present(
        zone,
        "token",
        assertion,
        &[("grant_type", "client_credentials")],
    )
    .await
}

async fn create_client(server: &TestServer, zone: &Seeded, body: Value) -> (u16, Value) {
    let token = server.admin_token(&zone.environment).await;
    let response = http()
        .post(format!(
            "{}/admin/v1/projects/acme/environments/{}/clients",
            server.base, zone.environment.name
        ))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("admin");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A JWKS served over plain HTTP on this machine, swappable, counting its fetches.
struct JwksServer {
    url: String,
    document: Arc<Mutex<Value>>,
    fetches: Arc<Mutex<usize>>,
}

impl JwksServer {
    async fn start(document: Value) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
        let (document, fetches) = (Arc::new(Mutex::new(document)), Arc::new(Mutex::new(0)));
        let (served, counted) = (document.clone(), fetches.clone());
        let app = axum::Router::new().route(
            "/jwks.json",
            get(move || {
                let (served, counted) = (served.clone(), counted.clone());
                async move {
                    *counted.lock().expect("lock") += 1;
                    axum::Json(served.lock().expect("lock").clone())
                }
            }),
        );
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        JwksServer {
            url,
            document,
            fetches,
        }
    }
}

async fn private_key_jwt(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let key = es256_key("k1");
    let token_endpoint = format!("{}/token", sandbox.issuer);

    let (status, created) = create_client(
        server,
        &sandbox,
        json!({
            "name": "backend",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": jwks(&[&key]),
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created.get("client_secret").is_none(),
        "no secret for a key-based client"
    );
    assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
    let client_id = created["client_id"]
        .as_str()
        .expect("client_id")
        .to_string();

    // Success, with the token endpoint as audience; a replay of the same assertion fails.
    let assertion = signed_by(&key, &claims(&client_id, &token_endpoint));
    let (status, body) = token(&sandbox, &assertion).await;
    assert_eq!(status, 200, "{body}");
    let (status, replayed) = token(&sandbox, &assertion).await;
    assert_eq!(
        (status, replayed["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // The issuer is an audience too (OIDC conformance prefers that it works).
    let (status, body) = token(
        &sandbox,
        &signed_by(&key, &claims(&client_id, &sandbox.issuer)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // At introspection, with the client id also in the body.
    let assertion = signed_by(
        &key,
        &claims(&client_id, &format!("{}/introspect", sandbox.issuer)),
    );
    let access = body["access_token"].as_str().expect("token");
    let (status, introspected) = present(
        &sandbox,
        "introspect",
        &assertion,
        &[("token", access), ("client_id", &client_id)],
    )
    .await;
    assert_eq!(
        (status, introspected["active"].clone()),
        (200, json!(true)),
        "{introspected}"
    );

    // Everything else reads exactly like an unknown client.
    let unknown = token(
        &sandbox,
        &signed_by(&key, &claims("cl_unknown", &token_endpoint)),
    )
    .await;
    assert_eq!(unknown.0, 401);
    let other_key = rs256_key("k1");
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_payload = URL_SAFE_NO_PAD.encode(claims(&client_id, &token_endpoint).to_string());
    let public_bytes = serde_json::to_vec(key.public.as_ref()).expect("jwk bytes");
    let hs256_with_public_key = sign(
        &claims(&client_id, &token_endpoint),
        Some("k1"),
        &HS256.signer_from_bytes(&public_bytes).expect("hmac"),
    );
    let refused = [
        (
            "another zone's audience",
            signed_by(
                &key,
                &claims(&client_id, &format!("{}/token", production.issuer)),
            ),
        ),
        (
            "a key the client never registered",
            signed_by(&other_key, &claims(&client_id, &token_endpoint)),
        ),
        ("alg none", format!("{none_header}.{none_payload}.")),
        ("HS256 keyed with the public key", hs256_with_public_key),
        ("not a JWT", "garbage".to_string()),
    ];
    for (why, assertion) in refused {
        let answer = token(&sandbox, &assertion).await;
        assert_eq!(answer, unknown, "{why} is refused like an unknown client");
    }

    // A production client's key and assertion mean nothing in sandbox.
    let production_key = es256_key("p1");
    let (status, created) = create_client(
        server,
        &production,
        json!({
            "name": "backend",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": jwks(&[&production_key]),
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let production_id = created["client_id"].as_str().expect("client_id");
    let production_assertion = signed_by(
        &production_key,
        &claims(production_id, &format!("{}/token", production.issuer)),
    );
    assert_eq!(token(&sandbox, &production_assertion).await.0, 401);
    assert_eq!(token(&production, &production_assertion).await.0, 200);
    let cross = signed_by(&production_key, &claims(&client_id, &token_endpoint));
    assert_eq!(
        token(&sandbox, &cross).await,
        unknown,
        "another zone's client key"
    );

    // Registration refuses what cannot work.
    for (body, why) in [
        (
            json!({ "name": "x", "token_endpoint_auth_method": "private_key_jwt" }),
            "no keys",
        ),
        (
            json!({ "name": "x", "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": { "keys": [serde_json::to_value(key.private.as_ref()).unwrap()] } }),
            "a private key in the JWKS",
        ),
        (
            json!({ "name": "x", "token_endpoint_auth_method": "private_key_jwt",
                    "jwks_uri": "http://127.0.0.1:9/jwks.json" }),
            "a loopback jwks_uri in a live zone",
        ),
        (
            json!({ "name": "x", "jwks": jwks(&[&key]) }),
            "keys for a secret-based client",
        ),
    ] {
        let (status, answer) = create_client(server, &production, body).await;
        assert_eq!(status, 400, "{why}: {answer}");
    }

    // Keys by URL: fetched, and fetched again when the client signs with a new key.
    let served = JwksServer::start(jwks(&[&key])).await;
    let (status, created) = create_client(
        server,
        &sandbox,
        json!({
            "name": "by-url",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": served.url,
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let by_url = created["client_id"]
        .as_str()
        .expect("client_id")
        .to_string();
    let (status, body) = token(
        &sandbox,
        &signed_by(&key, &claims(&by_url, &token_endpoint)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rotated = rs256_key("k2");
    *served.document.lock().expect("lock") = jwks(&[&rotated]);
    tokio::time::sleep(std::time::Duration::from_millis(5_100)).await;
    let (status, body) = token(
        &sandbox,
        &signed_by(&rotated, &claims(&by_url, &token_endpoint)),
    )
    .await;
    assert_eq!(status, 200, "the rotated key is fetched: {body}");
    assert_eq!(*served.fetches.lock().expect("lock"), 2);

    // A URL serving no usable keys is fetched at most once in a while, however many assertions
    // name its client.
    let broken = JwksServer::start(json!({ "not": "a jwks" })).await;
    let (status, created) = create_client(
        server,
        &sandbox,
        json!({
            "name": "broken-url",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": broken.url,
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let broken_id = created["client_id"]
        .as_str()
        .expect("client_id")
        .to_string();
    for _ in 0..3 {
        let assertion = signed_by(&key, &claims(&broken_id, &token_endpoint));
        assert_eq!(token(&sandbox, &assertion).await.0, 401);
    }
    assert_eq!(*broken.fetches.lock().expect("lock"), 1);

    // client_secret_jwt: an HS256 assertion made with the client secret, and only that.
    let (ok, out, err) = server.cli(&[
        "--json",
        "client",
        "create",
        "acme/sandbox",
        "--name",
        "hmac",
        "--token-endpoint-auth-method",
        "client_secret_jwt",
    ]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).expect("json");
    let (hmac_id, secret) = (
        created["client_id"].as_str().expect("id"),
        created["client_secret"].as_str().expect("secret"),
    );
    let hmac = HS256.signer_from_bytes(secret.as_bytes()).expect("hmac");
    let (status, body) = token(
        &sandbox,
        &sign(&claims(hmac_id, &token_endpoint), None, &hmac),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let wrong = HS256
        .signer_from_bytes(b"not the secret, but as long as one")
        .expect("hmac");
    assert_eq!(
        token(
            &sandbox,
            &sign(&claims(hmac_id, &token_endpoint), None, &wrong)
        )
        .await,
        unknown
    );
    let basic = http()
        .post(&token_endpoint)
        .basic_auth(hmac_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("post");
    assert_eq!(
        basic.status().as_u16(),
        401,
        "a JWT client does not authenticate with Basic"
    );

    let discovery: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            sandbox.issuer
        ))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let methods = discovery["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("private_key_jwt") && methods.contains("client_secret_jwt"));
    assert!(
        discovery["token_endpoint_auth_signing_alg_values_supported"]
            .to_string()
            .contains("ES256")
    );
}
backend_test!(private_key_jwt);
