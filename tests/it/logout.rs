//! RP-Initiated Logout 1.0 at `end_session_endpoint`, checked as the OpenID certification suite does.

use airlock::model::EnvKind;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::backend_test;
use crate::harness::flow::{self, urlencode};
use crate::harness::server::{POST_LOGOUT_URI, Seeded};
use crate::harness::{Browser, Step, TestServer};

fn logout_url(zone: &Seeded, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(name, value)| format!("{name}={}", urlencode(value)))
        .collect();
    format!("{}/logout?{}", zone.issuer, query.join("&"))
}

/// Whether `browser` still has a session at `zone` (a `prompt=none` request succeeds).
async fn signed_in(zone: &Seeded, browser: &Browser) -> bool {
    let step = browser
        .get(&flow::authorize_url(zone, &[("prompt", "none")]))
        .await;
    let params = step.redirect_params();
    match params.get("error").map(String::as_str) {
        None => params.contains_key("code"),
        Some("login_required") => false,
        Some(other) => panic!("unexpected {other}"),
    }
}

/// The confirmation page's form: its action and fields.
fn confirmation_form(step: &Step) -> (String, Vec<(String, String)>) {
    let Step::Form { action, fields, .. } = step else {
        panic!("a confirmation page expected: {step:?}");
    };
    assert!(
        fields.iter().any(|(name, _)| name == "airlock_confirm"),
        "{fields:?}"
    );
    (action.clone(), fields.clone())
}

fn assert_no_redirect(step: &Step) {
    assert!(
        !matches!(step, Step::Redirect(_)),
        "must not redirect: {step:?}"
    );
}

async fn logout_with_hint_redirects_and_ends_the_session(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let browser = Browser::new();
    let tokens = flow::sign_in(&zone, &browser).await;
    assert!(signed_in(&zone, &browser).await);
    // The certification suite's state: letters, digits and punctuation.
    let state = "abcXYZ0123456789!\"#$%&'()*,-./:<=>?@[\\]^_`{|}~";
    let step = browser
        .get(&logout_url(
            &zone,
            &[
                ("id_token_hint", &tokens.id_token),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", state),
            ],
        ))
        .await;
    let location = url::Url::parse(step.location()).expect("location");
    assert_eq!(
        format!(
            "{}://{}{}",
            location.scheme(),
            location.host_str().unwrap_or(""),
            location.path()
        ),
        POST_LOGOUT_URI
    );
    let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs, vec![("state".to_string(), state.to_string())]);
    assert!(!signed_in(&zone, &browser).await);

    // Without state: back with no parameters at all. POST works like GET.
    let tokens = flow::sign_in(&zone, &browser).await;
    let step = browser
        .post_form(
            &format!("{}/logout", zone.issuer),
            &[
                ("id_token_hint".to_string(), tokens.id_token.clone()),
                (
                    "post_logout_redirect_uri".to_string(),
                    POST_LOGOUT_URI.to_string(),
                ),
            ],
        )
        .await;
    assert_eq!(step.location(), POST_LOGOUT_URI);
    assert!(!signed_in(&zone, &browser).await);
}
backend_test!(logout_with_hint_redirects_and_ends_the_session);

async fn untrusted_logout_requests_never_redirect(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let other = server.seed("acme", "staging", EnvKind::Test).await;
    let browser = Browser::new();
    let tokens = flow::sign_in(&zone, &browser).await;
    let foreign = flow::sign_in(&other, &Browser::new()).await;

    let payload = tokens.id_token.split('.').nth(1).expect("payload");
    let alg_none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
    // The suite's forged hint: HS256 with the client secret, iss = client_id, aud = issuer.
    let hs256 = {
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let now = server.now();
        let claims = serde_json::json!({
            "iss": zone.client_id, "aud": zone.issuer, "sub": zone.sub,
            "nonce": "flibble", "iat": now, "exp": now + 300,
        });
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = Hmac::<Sha256>::new_from_slice(zone.client_secret.as_bytes()).expect("key");
        mac.update(format!("{head}.{body}").as_bytes());
        format!(
            "{head}.{body}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    };

    let refused = [
        // Unregistered, or registered plus a query: exact match only.
        vec![
            ("id_token_hint", tokens.id_token.as_str()),
            (
                "post_logout_redirect_uri",
                "https://rp.example/bad_post_logout_redirect_uri",
            ),
        ],
        vec![
            ("id_token_hint", tokens.id_token.as_str()),
            (
                "post_logout_redirect_uri",
                "https://rp.example/signed-out?foo=bar",
            ),
        ],
        // Hints this issuer did not sign.
        vec![
            ("id_token_hint", alg_none.as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", "s"),
        ],
        vec![
            ("id_token_hint", hs256.as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", "s"),
        ],
        vec![
            ("id_token_hint", foreign.id_token.as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ],
        vec![
            ("id_token_hint", "garbage"),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ],
        // An access token is not an ID token.
        vec![
            ("id_token_hint", tokens.access_token.as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
        ],
        // client_id disagreeing with the hint.
        vec![
            ("id_token_hint", tokens.id_token.as_str()),
            ("client_id", zone.public_client_id.as_str()),
        ],
    ];
    for params in &refused {
        let step = browser.get(&logout_url(&zone, params)).await;
        assert_no_redirect(&step);
        assert_eq!(step.status().as_u16(), 400, "{params:?}");
        assert!(
            signed_in(&zone, &browser).await,
            "a refused request ends nothing: {params:?}"
        );
    }

    // A return address but nothing naming the client: refused, nothing redirects.
    let step = browser
        .get(&logout_url(
            &zone,
            &[
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
                ("state", "s"),
            ],
        ))
        .await;
    assert_no_redirect(&step);
    assert_eq!(step.status().as_u16(), 400);
    // The client named but no hint: anyone could have sent this (a link, an image), so the person
    // is asked first; confirmed, they are signed out but never sent anywhere.
    let step = browser
        .get(&logout_url(
            &zone,
            &[
                ("client_id", &zone.client_id),
                ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ],
        ))
        .await;
    assert_no_redirect(&step);
    let (action, fields) = confirmation_form(&step);
    assert!(
        signed_in(&zone, &browser).await,
        "nothing ends before the answer"
    );
    // Another signed-in browser cannot use this page's confirmation: it is asked again.
    let other = Browser::new();
    flow::sign_in(&zone, &other).await;
    let replayed = other.post_form(&action, &fields).await;
    confirmation_form(&replayed);
    assert!(signed_in(&zone, &other).await);
    let step = browser.post_form(&action, &fields).await;
    assert_no_redirect(&step);
    assert_eq!(step.status().as_u16(), 200);
    assert!(step.html().contains("signed out"));
    assert!(!signed_in(&zone, &browser).await);
    assert!(signed_in(&zone, &other).await);

    // No parameters, or only state: asked, then signed out on the answer.
    for params in [vec![], vec![("state", "s")]] {
        flow::sign_in(&zone, &browser).await;
        let step = browser.get(&logout_url(&zone, &params)).await;
        assert_no_redirect(&step);
        let (action, fields) = confirmation_form(&step);
        assert!(signed_in(&zone, &browser).await);
        let step = browser.post_form(&action, &fields).await;
        assert_no_redirect(&step);
        assert_eq!(step.status().as_u16(), 200);
        assert!(!signed_in(&zone, &browser).await);
    }
    // Without a session there is nothing to confirm: the signed-out page at once.
    let step = Browser::new().get(&logout_url(&zone, &[])).await;
    assert_eq!(step.status().as_u16(), 200);
    assert!(step.html().contains("signed out"));
    let tokens = flow::sign_in(&zone, &browser).await;
    let step = browser
        .get(&logout_url(
            &zone,
            &[("id_token_hint", &tokens.id_token), ("state", "s")],
        ))
        .await;
    assert_no_redirect(&step);
    assert!(!signed_in(&zone, &browser).await);

    // Repeated parameters are malformed.
    let step = browser
        .get(&format!("{}/logout?state=a&state=b", zone.issuer))
        .await;
    assert_eq!(step.status().as_u16(), 400);
}
backend_test!(untrusted_logout_requests_never_redirect);

async fn logout_ends_only_its_own_environment(server: &TestServer) {
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    let browser = Browser::new();
    let sandbox_tokens = flow::sign_in(&sandbox, &browser).await;
    flow::sign_in(&production, &browser).await;
    let step = browser
        .get(&logout_url(
            &sandbox,
            &[("id_token_hint", &sandbox_tokens.id_token)],
        ))
        .await;
    assert_eq!(step.status().as_u16(), 200);
    assert!(!signed_in(&sandbox, &browser).await);
    assert!(signed_in(&production, &browser).await);
}
backend_test!(logout_ends_only_its_own_environment);
