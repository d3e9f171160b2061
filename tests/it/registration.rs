//! Dynamic client registration (RFC 7591) and its management (RFC 7592): the `openidconnect`
//! relying party registers itself with an initial access token and signs in; live zones refuse
//! local redirect URIs; exhausted, revoked and other zones' initial tokens register nothing.

use airlock::model::EnvKind;
use openidconnect::core::{CoreAuthenticationFlow, CoreClientRegistrationRequest};
use openidconnect::registration::EmptyAdditionalClientMetadata;
use openidconnect::{AccessToken, CsrfToken, Nonce, RedirectUrl, RegistrationUrl};
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, TestServer, rp};

const LOCAL_CALLBACK: &str = "http://localhost:3000/callback";

/// Registers `metadata` at `zone` with `token` (if any); status and body.
async fn register(zone: &Seeded, token: Option<&str>, metadata: Value) -> (u16, Value) {
    let mut request = http()
        .post(format!("{}/register", zone.issuer))
        .json(&metadata);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("register");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn manage(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http().request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("manage");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An initial access token for `slug` from the CLI.
fn initial_token(server: &TestServer, slug: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["--json", "env", "registration-token", "create", slug];
    args.extend_from_slice(extra);
    let (ok, out, err) = server.cli(&args);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).expect("json");
    (
        created["token"]["token_id"]
            .as_str()
            .expect("id")
            .to_string(),
        created["initial_access_token"]
            .as_str()
            .expect("token")
            .to_string(),
    )
}

async fn dynamic_registration(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let metadata = rp::discover(&sandbox.issuer).await;
    let endpoint = metadata
        .registration_endpoint()
        .expect("registration_endpoint in discovery")
        .clone();
    assert_eq!(endpoint.as_str(), format!("{}/register", sandbox.issuer));

    let request = json!({ "redirect_uris": [LOCAL_CALLBACK], "client_name": "my app" });
    let (status, refused) = register(&sandbox, None, request.clone()).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, _) = register(&sandbox, Some("rit_test_made_up"), request.clone()).await;
    assert_eq!(status, 401);

    // The certified client library registers itself and then signs in with what it was given.
    let (_, token) = initial_token(server, "acme/sandbox", &["--max-uses", "2"]);
    let registered = CoreClientRegistrationRequest::new(
        vec![RedirectUrl::new(LOCAL_CALLBACK.into()).expect("url")],
        EmptyAdditionalClientMetadata {},
    )
    .set_initial_access_token(Some(AccessToken::new(token.clone())))
    .register_async(
        &RegistrationUrl::new(endpoint.to_string()).expect("url"),
        &http(),
    )
    .await
    .expect("registration");
    let client_id = registered.client_id().as_str().to_string();
    let secret = registered
        .client_secret()
        .expect("a secret")
        .secret()
        .clone();
    let client = rp::client(metadata.clone(), &client_id, Some(&secret), LOCAL_CALLBACK);
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let back = Browser::new()
        .sign_in(url.as_str(), &sandbox.email, &sandbox.password)
        .await
        .redirect_params();
    let code = back.get("code").unwrap_or_else(|| panic!("{back:?}"));
    let tokens = client
        .exchange_code(openidconnect::AuthorizationCode::new(code.clone()))
        .expect("token url")
        .request_async(&http())
        .await
        .expect("the registered client redeems its code");
    assert!(openidconnect::TokenResponse::id_token(&tokens).is_some());

    // RFC 7592: read and update with the registration access token, and only with it.
    let access = registered
        .registration_access_token()
        .expect("registration access token")
        .secret()
        .clone();
    let config_uri = registered
        .registration_client_uri()
        .expect("registration_client_uri")
        .to_string();
    let (status, read) = manage(reqwest::Method::GET, &config_uri, &access, None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["client_id"], client_id);
    assert!(
        read.get("client_secret").is_none(),
        "a secret is never shown again"
    );
    for wrong in ["", "rat_test_wrong", token.as_str()] {
        let (status, _) = manage(reqwest::Method::GET, &config_uri, wrong, None).await;
        assert_eq!(status, 401, "token {wrong:?}");
    }
    let update = json!({
        "client_id": client_id,
        "client_name": "renamed",
        "redirect_uris": [LOCAL_CALLBACK, "http://localhost:3000/other"],
    });
    let (status, updated) = manage(reqwest::Method::PUT, &config_uri, &access, Some(update)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["client_name"], "renamed");
    assert_eq!(updated["redirect_uris"].as_array().map(Vec::len), Some(2));
    let (status, refused) = manage(
        reqwest::Method::PUT,
        &config_uri,
        &access,
        Some(json!({ "client_id": "cl_other", "redirect_uris": [LOCAL_CALLBACK] })),
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_client_metadata"))
    );

    // The second use is the last; the third registration is refused.
    let (status, second) = register(&sandbox, Some(&token), request.clone()).await;
    assert_eq!(status, 201, "{second}");
    let (status, _) = register(&sandbox, Some(&token), request.clone()).await;
    assert_eq!(status, 401, "an exhausted token");

    // Live zones refuse local and fragment redirect URIs, before spending a use.
    let (_, live_token) = initial_token(server, "acme/production", &["--max-uses", "1"]);
    for (uri, why) in [
        (LOCAL_CALLBACK, "loopback in a live zone"),
        ("https://app.acme.test/cb#frag", "a fragment"),
    ] {
        let (status, refused) = register(
            &production,
            Some(&live_token),
            json!({ "redirect_uris": [uri] }),
        )
        .await;
        assert_eq!(
            (status, refused["error"].as_str()),
            (400, Some("invalid_redirect_uri")),
            "{why}: {refused}"
        );
    }
    // Refused by the client rules (keys) as well: still no use spent.
    let (status, refused) = register(
        &production,
        Some(&live_token),
        json!({ "redirect_uris": ["https://app.acme.test/cb"], "token_endpoint_auth_method": "private_key_jwt" }),
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_client_metadata")),
        "{refused}"
    );
    let (status, _) = register(
        &production,
        Some(&token),
        json!({ "redirect_uris": ["https://app.acme.test/cb"] }),
    )
    .await;
    assert_eq!(
        status, 401,
        "a sandbox token registers nothing in production"
    );
    let (status, live) = register(
        &production,
        Some(&live_token),
        json!({ "redirect_uris": ["https://app.acme.test/cb"], "token_endpoint_auth_method": "none" }),
    )
    .await;
    assert_eq!(status, 201, "{live}");
    assert!(
        live.get("client_secret").is_none(),
        "a public client gets no secret"
    );

    // A revoked token registers nothing more.
    let (token_id, revocable) = initial_token(server, "acme/sandbox", &[]);
    let admin = server.admin_token(&sandbox.environment).await;
    let revoked = http()
        .delete(format!(
            "{}/admin/v1/projects/acme/environments/sandbox/registration-tokens/{token_id}",
            server.base
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status().as_u16(), 204);
    let (status, _) = register(&sandbox, Some(&revocable), request.clone()).await;
    assert_eq!(status, 401, "a revoked token");

    // Deleting the registration deletes the client: its secret and its token stop working.
    let (status, _) = manage(reqwest::Method::DELETE, &config_uri, &access, None).await;
    assert_eq!(status, 204);
    let (status, _) = manage(reqwest::Method::GET, &config_uri, &access, None).await;
    assert_eq!(status, 401);
    let token_call = http()
        .post(format!("{}/token", sandbox.issuer))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(token_call.status().as_u16(), 401);

    let (ok, out, _) = server.cli(&[
        "--json",
        "audit",
        "list",
        "acme/sandbox",
        "--type",
        "client.created",
    ]);
    assert!(
        ok && out.contains("\"dynamically_registered\": true"),
        "{out}"
    );
}
backend_test!(dynamic_registration);
