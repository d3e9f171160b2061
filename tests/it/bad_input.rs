//! Hostile input: every malformed request gets a clear 4xx in the OAuth error language, never a 500.

use airlock::model::EnvKind;
use serde_json::Value;

use crate::backend_test;
use crate::harness::TestServer;
use crate::harness::server::http;

async fn token_endpoint_rejects_malformed_requests(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let url = format!("{}/token", zone.issuer);
    let basic = |body: &'static [u8], content_type: &'static str| {
        http()
            .post(&url)
            .basic_auth(&zone.client_id, Some(&zone.client_secret))
            .header("content-type", content_type)
            .body(body)
    };
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (basic(b"grant_type=client_credentials&grant_type=client_credentials", form), 400, "invalid_request"),
        (basic(b"grant_type=client_credentials&x=%ff%fe", form), 400, "invalid_request"),
        (basic(b"grant_type=client_credentials", "application/json"), 400, "invalid_request"),
        (basic(b"{\"grant_type\":\"client_credentials\"}", "application/json"), 400, "invalid_request"),
        (basic(b"grant_type=password&username=a&password=b", form), 400, "unsupported_grant_type"),
        (basic(b"code=abc", form), 400, "invalid_request"),
        (basic(b"grant_type=authorization_code", form), 400, "invalid_request"),
        (basic(b"grant_type=authorization_code&code=x'%20OR%201=1--&redirect_uri=a", form), 400, "invalid_grant"),
        (basic(b"grant_type=refresh_token&refresh_token=%00%01", form), 400, "invalid_request"),
        (basic(b"grant_type=client_credentials&scope=openid", form), 400, "invalid_scope"),
        (
            http().post(&url).header("authorization", "Basic %%%not-base64").header("content-type", form).body("grant_type=client_credentials"),
            401,
            "invalid_client",
        ),
        (
            http().post(&url).header("authorization", "Basic Og==").header("content-type", form).body("grant_type=client_credentials"),
            401,
            "invalid_client",
        ),
        (
            http().post(&url).header("content-type", form).body("grant_type=client_credentials&client_id=%27%3B%20DROP%20TABLE%20clients%3B--&client_secret=x"),
            401,
            "invalid_client",
        ),
        (
            http().post(&url).basic_auth(&zone.client_id, Some(&zone.client_secret)).header("content-type", form).body(format!("grant_type=client_credentials&client_secret={}", zone.client_secret)),
            400,
            "invalid_request",
        ),
    ];
    for (index, (request, status, error)) in cases.into_iter().enumerate() {
        let response = request.send().await.expect("send");
        assert_eq!(response.status().as_u16(), status, "case {index}");
        let body: Value = response.json().await.expect("json error body");
        assert_eq!(body["error"], error, "case {index}");
        let description = body["error_description"].as_str().unwrap_or("");
        assert!(
            description
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
            "case {index}: error_description uses the RFC 6749 character set"
        );
    }
    // Oversized bodies are refused before parsing.
    let huge = format!(
        "grant_type=client_credentials&pad={}",
        "a".repeat(200 * 1024)
    );
    let response = http()
        .post(&url)
        .basic_auth(&zone.client_id, Some(&zone.client_secret))
        .header("content-type", form)
        .body(huge)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 413);
    // The tables are intact after the SQL-ish inputs.
    let response = http()
        .post(&url)
        .basic_auth(&zone.client_id, Some(&zone.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 200);
}
backend_test!(token_endpoint_rejects_malformed_requests);

async fn userinfo_rejects_bad_tokens(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let url = format!("{}/userinfo", zone.issuer);
    let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.";
    let hs256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2ln";
    for token in [
        "garbage",
        "a.b.c",
        "e30.e30.",
        unsigned,
        hs256,
        "....",
        "eyJ",
        &"A".repeat(5000),
    ] {
        let response = http()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status().as_u16(), 401, "{token}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii");
        assert!(challenge.starts_with("Bearer ") && challenge.contains("invalid_token"));
    }
    let response = http().get(&url).send().await.expect("send");
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"airlock\""
    );
    let response = http()
        .get(&url)
        .header("authorization", "Basic abc")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 401);
    let response = http()
        .get(&url)
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("header"),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 401);
}
backend_test!(userinfo_rejects_bad_tokens);

async fn authorization_endpoint_never_redirects_to_unverified_uris(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let redirect = crate::code_flow::urlencode(&zone.redirect_uri);
    let authorize = |query: String| format!("{}/authorize?{query}", zone.issuer);
    let cases = [
        format!("response_type=code&scope=openid&redirect_uri={redirect}"),
        format!("response_type=code&scope=openid&client_id=cl_nope&redirect_uri={redirect}"),
        format!(
            "response_type=code&scope=openid&client_id={}",
            zone.client_id
        ),
        format!(
            "response_type=code&scope=openid&client_id={}&redirect_uri={redirect}%2Fextra",
            zone.client_id
        ),
        format!(
            "response_type=code&scope=openid&client_id={}&redirect_uri={redirect}%3Ffoo%3Dbar",
            zone.client_id
        ),
        format!(
            "response_type=code&scope=openid&client_id={}&redirect_uri={redirect}&redirect_uri={redirect}",
            zone.client_id
        ),
        format!(
            "response_type=code&client_id={0}&client_id={0}&redirect_uri={redirect}",
            zone.client_id
        ),
        format!("client_id={}&redirect_uri={redirect}&x=%ff", zone.client_id),
        "client_id=%27%20OR%20%271%27%3D%271&redirect_uri=x".to_string(),
    ];
    for query in cases {
        let response = http()
            .get(authorize(query.clone()))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status().as_u16(), 400, "{query}");
        assert!(response.headers().get("location").is_none(), "{query}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(
            response
                .text()
                .await
                .expect("html")
                .contains("cannot continue")
        );
    }
    // A repeated parameter other than client_id/redirect_uri goes back to the client as invalid_request.
    let response = http()
        .get(authorize(format!(
            "response_type=code&scope=openid&client_id={}&redirect_uri={redirect}&state=a&nonce=1&nonce=2",
            zone.client_id
        )))
        .send()
        .await
        .expect("send");
    let location = response.headers()["location"].to_str().expect("location");
    assert!(location.contains("error=invalid_request") && location.contains("state=a"));
}
backend_test!(authorization_endpoint_never_redirects_to_unverified_uris);

async fn live_environments_refuse_insecure_redirect_uris(server: &TestServer) {
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let attempt = |environment: &airlock::model::Environment, uri: &str| {
        let airlock = server.airlock.clone();
        let environment = environment.clone();
        let uri = uri.to_string();
        async move {
            airlock
                .clients()
                .create(
                    &environment,
                    airlock::service::admin::clients::NewClient {
                        name: "x".into(),
                        redirect_uris: vec![uri],
                        post_logout_redirect_uris: vec![],
                        public: false,
                        first_party: false,
                        id_token_signed_response_alg: airlock::model::SigningAlg::RS256,
                        token_endpoint_auth_method: None,
                        jwks: None,
                        jwks_uri: None,
                    },
                    &airlock::service::Caller::cli(),
                    0,
                )
                .await
                .is_ok()
        }
    };
    for uri in [
        "http://app.example/cb",
        "https://localhost/cb",
        "https://127.0.0.1/cb",
        "https://[::1]/cb",
    ] {
        assert!(
            !attempt(&production.environment, uri).await,
            "live refuses {uri}"
        );
    }
    assert!(attempt(&production.environment, "https://app.example/cb").await);
    assert!(attempt(&sandbox.environment, "http://localhost:3000/cb").await);
    assert!(!attempt(&sandbox.environment, "https://app.example/cb#frag").await);
}
backend_test!(live_environments_refuse_insecure_redirect_uris);
