//! Machine-to-machine tokens: client_credentials with Basic and post authentication, ES256 and RS256.

use airlock::model::{EnvKind, SigningAlg};
use openidconnect::{AuthType, OAuth2TokenResponse};
use serde_json::Value;

use crate::backend_test;
use crate::harness::server::http;
use crate::harness::{TestServer, rp};

fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("jwt part");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

async fn client_credentials(server: &TestServer) {
    for (name, alg, alg_name) in [
        ("m2m-es", SigningAlg::ES256, "ES256"),
        ("m2m-rs", SigningAlg::RS256, "RS256"),
    ] {
        let zone = server
            .seed_with("acme", name, EnvKind::Live, alg, false)
            .await;
        let basic = rp::for_issuer(
            &zone.issuer,
            &zone.client_id,
            Some(&zone.client_secret),
            &zone.redirect_uri,
        )
        .await;
        let tokens = basic
            .exchange_client_credentials()
            .expect("token url")
            .request_async(&http())
            .await
            .expect("client_credentials with client_secret_basic");
        let post = basic.clone().set_auth_type(AuthType::RequestBody);
        post.exchange_client_credentials()
            .expect("token url")
            .request_async(&http())
            .await
            .expect("client_credentials with client_secret_post");

        let token = tokens.access_token().secret();
        let header = jwt_part(token, 0);
        let claims = jwt_part(token, 1);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], alg_name);
        assert_eq!(claims["iss"], zone.issuer);
        assert_eq!(claims["client_id"], zone.client_id);
        assert_eq!(claims["sub"], zone.client_id);
        for claim in ["aud", "jti", "exp", "iat", "scope"] {
            assert!(claims.get(claim).is_some(), "RFC 9068 claim {claim}");
        }
        let jwks = crate::harness::flow::jwks(&zone).await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert!(
            kids.contains(&header["kid"].as_str().expect("kid")),
            "signed by a published key"
        );
        for key in jwks["keys"].as_array().expect("keys") {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(
                    key.get(private).is_none(),
                    "JWKS publishes no private member {private}"
                );
            }
        }

        // A machine token is no user token: userinfo refuses it.
        let status = http()
            .get(format!("{}/userinfo", zone.issuer))
            .bearer_auth(token)
            .send()
            .await
            .expect("userinfo")
            .status();
        assert_eq!(status.as_u16(), 403);

        // Public clients cannot use client_credentials; a wrong secret is invalid_client with a challenge.
        let response = http()
            .post(format!("{}/token", zone.issuer))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", zone.public_client_id.as_str()),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 400);
        let response = http()
            .post(format!("{}/token", zone.issuer))
            .basic_auth(&zone.client_id, Some("acs_live_wrong"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
    }
}
backend_test!(client_credentials);

async fn rotated_secret_replaces_the_old_one(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let new_secret = server
        .airlock
        .clients()
        .rotate_secret(
            &zone.environment,
            &zone.client_id.as_str().into(),
            &airlock::service::Caller::cli(),
            server.now(),
        )
        .await
        .expect("rotate")
        .expose()
        .to_string();
    assert!(new_secret.starts_with("acs_test_"));
    let status = |secret: String| {
        let zone = zone.clone();
        async move {
            http()
                .post(format!("{}/token", zone.issuer))
                .basic_auth(&zone.client_id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(zone.client_secret.clone()).await, 401);
    assert_eq!(status(new_secret).await, 200);
}
backend_test!(rotated_secret_replaces_the_old_one);
