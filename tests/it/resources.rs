//! Resource servers (APIs): RFC 8707 `resource` picks the audience, scopes must be defined and
//! granted, and a resource server that checks `aud` and `scope` accepts exactly the right tokens.

use airlock::model::EnvKind;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, OAuth2TokenResponse, Scope};
use serde_json::{Value, json};

use crate::backend_test;
use crate::harness::flow::{authorize_url, client_post, urlencode, userinfo_status};
use crate::harness::resource_server::{accept, part};
use crate::harness::server::{Seeded, http};
use crate::harness::{Browser, TestServer, rp};

const ORDERS: &str = "https://api.acme.test/orders";
const OTHER: &str = "https://api.other.test";

async fn admin(
    server: &TestServer,
    zone: &Seeded,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let token = server.admin_token(&zone.environment).await;
    let mut request = http()
        .request(
            method,
            format!(
                "{}/admin/v1/projects/acme/environments/{}{path}",
                server.base, zone.environment.name
            ),
        )
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("admin");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn token(zone: &Seeded, form: &[(&str, &str)]) -> (u16, Value) {
    let url = format!("{}/token", zone.issuer);
    client_post(&url, &zone.client_id, &zone.client_secret, form).await
}

/// The authorization URL of the zone's confidential client asking for `scope`.
fn authorization(zone: &Seeded, scope: &str, extra: &[(&str, &str)]) -> String {
    authorize_url(zone, extra).replace(
        "scope=openid%20email%20profile%20offline_access",
        &format!("scope={}", urlencode(scope)),
    )
}

/// The error `/authorize` sends back at once for this request.
async fn refusal(zone: &Seeded, scope: &str, extra: &[(&str, &str)]) -> Option<String> {
    let back = Browser::new().get(&authorization(zone, scope, extra)).await;
    back.redirect_params().get("error").cloned()
}

async fn apis_scopes_and_audiences(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let post = reqwest::Method::POST;

    // An API in sandbox (admin API), and one with the same identifier in production (CLI): two APIs.
    let body = json!({
        "identifier": ORDERS,
        "scopes": ["read:orders", "write:orders"],
        "access_token_ttl": 120,
        "signing_alg": "ES256",
    });
    let (status, created) =
        admin(server, &sandbox, post.clone(), "/apis", Some(body.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created["api_id"]
            .as_str()
            .expect("api_id")
            .starts_with("api_")
    );
    let (status, _) = admin(server, &sandbox, post.clone(), "/apis", Some(body)).await;
    assert_eq!(
        status, 409,
        "an identifier is unique within its environment"
    );
    for bad in [
        json!({ "identifier": "not a uri", "scopes": ["a"] }),
        json!({ "identifier": "https://x.test/#f", "scopes": ["a"] }),
        json!({ "identifier": "https://x.test", "scopes": ["openid"] }),
        json!({ "identifier": "https://x.test", "scopes": ["a b"] }),
        json!({ "identifier": "https://x.test", "access_token_ttl": 5 }),
        json!({ "identifier": "https://x.test", "unknown": 1 }),
    ] {
        let (status, answer) =
            admin(server, &sandbox, post.clone(), "/apis", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad} refused: {answer}");
    }
    let (ok, out, err) = server.cli(&[
        "api",
        "create",
        "acme/production",
        "--identifier",
        ORDERS,
        "--scope",
        "read:orders",
    ]);
    assert!(ok, "{out}{err}");

    // Nothing granted yet: the API is no target of this client.
    let resource = [("grant_type", "client_credentials"), ("resource", ORDERS)];
    let (status, refused) = token(&sandbox, &resource).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (_, never_existed) = token(
        &sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("resource", "https://nope.test"),
        ],
    )
    .await;
    assert_eq!(
        refused, never_existed,
        "an ungranted API reads like a missing one"
    );

    let (ok, out, err) = server.cli(&[
        "client",
        "grant",
        "acme/sandbox",
        &sandbox.client_id,
        "--api",
        ORDERS,
        "--scope",
        "read:orders",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("read:orders"), "{out}");

    // client_credentials through the certified client library, with the resource and a scope.
    let rp = rp::for_issuer(
        &sandbox.issuer,
        &sandbox.client_id,
        Some(&sandbox.client_secret),
        &sandbox.redirect_uri,
    )
    .await;
    let machine = rp
        .exchange_client_credentials()
        .expect("token url")
        .add_extra_param("resource", ORDERS)
        .add_scope(Scope::new("read:orders".into()))
        .request_async(&http())
        .await
        .expect("client_credentials for the API");
    let machine_token = machine.access_token().secret();
    let claims = accept(&sandbox.issuer, ORDERS, "read:orders", machine_token)
        .await
        .expect("the API accepts its token");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert_eq!(
        part(machine_token, 0).unwrap()["alg"],
        "ES256",
        "the API's algorithm"
    );
    assert_eq!(machine.expires_in().map(|d| d.as_secs()), Some(120));
    assert!(
        accept(&sandbox.issuer, ORDERS, "write:orders", machine_token)
            .await
            .is_err(),
        "a scope not in the token is refused by the API"
    );
    assert!(
        accept(&production.issuer, ORDERS, "read:orders", machine_token)
            .await
            .is_err(),
        "production's API refuses a sandbox token for the same identifier"
    );
    // No scope asked: every granted scope.
    let (status, all) = token(&sandbox, &resource).await;
    assert_eq!((status, all["scope"].as_str()), (200, Some("read:orders")));
    for (scope, why) in [
        ("write:orders", "defined but not granted"),
        ("delete:orders", "not defined"),
        ("openid", "a user scope"),
    ] {
        let (status, answer) = token(
            &sandbox,
            &[
                ("grant_type", "client_credentials"),
                ("resource", ORDERS),
                ("scope", scope),
            ],
        )
        .await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some("invalid_scope")),
            "{why}"
        );
    }
    let (status, answer) = token(
        &sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "read:orders"),
        ],
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_scope")),
        "an API scope without its resource"
    );
    let (status, answer) = token(
        &sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("resource", ORDERS),
            ("resource", ORDERS),
        ],
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_target"))
    );

    // The code flow: the access token is the API's, the ID token the client's.
    let (url, _, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("read:orders".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_extra_param("resource", ORDERS)
        .url();
    let back = Browser::new()
        .sign_in(url.as_str(), &sandbox.email, &sandbox.password)
        .await
        .redirect_params();
    let code = back.get("code").unwrap_or_else(|| panic!("code: {back:?}"));
    let (status, tokens) = token(
        &sandbox,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &sandbox.redirect_uri),
            ("resource", ORDERS),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access token");
    let claims = accept(&sandbox.issuer, ORDERS, "read:orders", access)
        .await
        .expect("the API accepts the user's token");
    assert_eq!(claims["sub"], sandbox.sub);
    assert_eq!(tokens["expires_in"], 120);
    let id_token = part(tokens["id_token"].as_str().expect("id token"), 1).unwrap();
    assert_eq!(
        id_token["aud"], sandbox.client_id,
        "the ID token stays the client's"
    );
    assert_eq!(
        userinfo_status(&sandbox, access).await,
        401,
        "a token for an API is not userinfo's"
    );

    // Refresh: the same API, another one is refused.
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token");
    let (status, answer) = token(
        &sandbox,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("resource", "https://other.test"),
        ],
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, refreshed) = token(
        &sandbox,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let access = refreshed["access_token"].as_str().expect("access token");
    accept(&sandbox.issuer, ORDERS, "read:orders", access)
        .await
        .expect("a refreshed token is still the API's");

    // /authorize refuses what it cannot grant, back at the client.
    let refused = refusal(&sandbox, "openid write:orders", &[("resource", ORDERS)]).await;
    assert_eq!(refused.as_deref(), Some("invalid_scope"));
    let refused = refusal(&sandbox, "openid", &[("resource", "https://nope.test")]).await;
    assert_eq!(refused.as_deref(), Some("invalid_target"));

    // Without a resource, tokens are the client's as before; unknown scopes are refused, the
    // OIDC scopes this provider has no claims for ignored.
    let url = authorization(&sandbox, "openid phone", &[]);
    let plain = Browser::new()
        .sign_in(&url, &sandbox.email, &sandbox.password)
        .await
        .redirect_params();
    assert!(plain.contains_key("code"), "{plain:?}");
    let refused = refusal(&sandbox, "openid read:orders", &[]).await;
    assert_eq!(refused.as_deref(), Some("invalid_scope"));

    // Consent to one API's `read:orders` is not consent to another API's scope of that name.
    let (ok, out, err) = server.cli(&[
        "api",
        "create",
        "acme/sandbox",
        "--identifier",
        OTHER,
        "--scope",
        "read:orders",
    ]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = server.cli(&[
        "client",
        "grant",
        "acme/sandbox",
        &sandbox.client_id,
        "--api",
        OTHER,
    ]);
    assert!(ok, "{err}");
    let browser = Browser::new();
    let first = authorization(&sandbox, "openid read:orders", &[("resource", ORDERS)]);
    let back = browser
        .sign_in(&first, &sandbox.email, &sandbox.password)
        .await;
    assert!(back.redirect_params().contains_key("code"));
    let silent = |resource: &str| {
        authorization(
            &sandbox,
            "openid read:orders",
            &[("resource", resource), ("prompt", "none")],
        )
    };
    let again = browser.get(&silent(ORDERS)).await.redirect_params();
    assert!(again.contains_key("code"), "consented to ORDERS: {again:?}");
    let other = browser.get(&silent(OTHER)).await.redirect_params();
    assert_eq!(
        other.get("error").map(String::as_str),
        Some("consent_required"),
        "{other:?}"
    );

    // Taking the grant back: the refresh family can no longer mint tokens for the API.
    let (status, held) = admin(
        server,
        &sandbox,
        post.clone(),
        &format!("/clients/{}/api-grants/revoke", sandbox.client_id),
        Some(json!({ "api": ORDERS })),
    )
    .await;
    assert_eq!((status, held["scopes"].clone()), (200, json!([])), "{held}");
    let next = refreshed["refresh_token"].as_str().expect("refresh token");
    let (status, answer) = token(
        &sandbox,
        &[("grant_type", "refresh_token"), ("refresh_token", next)],
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = token(&sandbox, &resource).await;
    assert_eq!(status, 400);

    // A used code presented again, even for another resource, revokes what it gave.
    let replayed_code = code.clone();
    let (status, replayed) = token(
        &sandbox,
        &[
            ("grant_type", "authorization_code"),
            ("code", &replayed_code),
            ("redirect_uri", &sandbox.redirect_uri),
            ("resource", OTHER),
        ],
    )
    .await;
    assert_eq!(
        (status, replayed["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (_, introspected) = client_post(
        &format!("{}/introspect", sandbox.issuer),
        &sandbox.client_id,
        &sandbox.client_secret,
        &[("token", refreshed["access_token"].as_str().expect("token"))],
    )
    .await;
    assert_eq!(introspected["active"], false, "the grant was revoked");

    // The audit log names the changes.
    let (ok, out, err) = server.cli(&["audit", "list", "acme/sandbox", "--json"]);
    assert!(ok, "{err}");
    for kind in ["api.created", "client.api_granted", "client.api_revoked"] {
        assert!(out.contains(kind), "{kind} audited");
    }
    let (ok, out, _) = server.cli(&["api", "list", "acme/production"]);
    assert!(
        ok && out.contains(ORDERS) && !out.contains("write:orders"),
        "{out}"
    );
}
backend_test!(apis_scopes_and_audiences);
