//! A whole sign-in over raw HTTP, for tests that need a fresh set of tokens rather than the flow itself.

use serde_json::Value;

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, TokenResponse};

use super::Browser;
use super::TestServer;
use super::rp;
use super::server::{Seeded, http};

/// The token response of a completed code flow (scope `openid email profile offline_access`).
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub id_token: String,
}

pub fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The authorization URL of the zone's confidential client, with extra query parameters.
pub fn authorize_url(zone: &Seeded, extra: &[(&str, &str)]) -> String {
    let mut url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20email%20profile%20offline_access&state=st&nonce=nn",
        zone.issuer,
        zone.client_id,
        urlencode(&zone.redirect_uri)
    );
    for (name, value) in extra {
        url.push_str(&format!("&{name}={}", urlencode(value)));
    }
    url
}

/// Redeems a code with the confidential client.
pub async fn redeem(zone: &Seeded, code: &str) -> Value {
    http()
        .post(format!("{}/token", zone.issuer))
        .basic_auth(&zone.client_id, Some(&zone.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", zone.redirect_uri.as_str()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json")
}

/// Signs `browser` in at `zone` and redeems the code.
pub async fn sign_in(zone: &Seeded, browser: &Browser) -> Tokens {
    let back = browser
        .sign_in(&authorize_url(zone, &[]), &zone.email, &zone.password)
        .await;
    let code = back.redirect_params()["code"].clone();
    let body = redeem(zone, &code).await;
    let field = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {body}"))
            .to_string()
    };
    Tokens {
        access_token: field("access_token"),
        refresh_token: field("refresh_token"),
        id_token: field("id_token"),
    }
}

/// A form POST with Basic client authentication; status and JSON body (Null when empty).
pub async fn client_post(
    url: &str,
    client_id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = http()
        .post(url)
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Introspects `token` at `zone` as its confidential client.
pub async fn introspect(zone: &Seeded, token: &str) -> (u16, Value) {
    client_post(
        &format!("{}/introspect", zone.issuer),
        &zone.client_id,
        &zone.client_secret,
        &[("token", token)],
    )
    .await
}

/// Status of a userinfo call with `token`.
pub async fn userinfo_status(zone: &Seeded, token: &str) -> u16 {
    http()
        .get(format!("{}/userinfo", zone.issuer))
        .bearer_auth(token)
        .send()
        .await
        .expect("userinfo")
        .status()
        .as_u16()
}

/// The zone's JWKS document.
pub async fn jwks(zone: &Seeded) -> Value {
    http()
        .get(format!("{}/jwks", zone.issuer))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json")
}

/// Sets `zone`'s rate limits through the admin API.
pub async fn set_limits(server: &TestServer, zone: &Seeded, limits: Value) {
    let token = server.admin_token(&zone.environment).await;
    let response = http()
        .put(format!(
            "{}/admin/v1/projects/{}/environments/{}/limits",
            server.base, zone.environment.project, zone.environment.name
        ))
        .bearer_auth(token)
        .json(&limits)
        .send()
        .await
        .expect("limits");
    assert_eq!(response.status().as_u16(), 200);
}

/// The login form of an authorization page (as received), with the CSRF cookie it set.
pub struct LoginForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub csrf_cookie: String,
}

impl LoginForm {
    pub async fn read(page: reqwest::Response) -> LoginForm {
        let csrf = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.strip_prefix("airlock_csrf="))
            .and_then(|value| value.split(';').next())
            .expect("csrf cookie")
            .to_string();
        let html = page.text().await.expect("page");
        let (action, fields) = super::browser::parse_form(&html).expect("login form");
        LoginForm {
            action,
            fields,
            csrf_cookie: format!("airlock_csrf={csrf}"),
        }
    }

    /// The form's fields with these credentials.
    pub fn filled(&self, email: &str, password: &str) -> Vec<(String, String)> {
        let mut fields = self.fields.clone();
        fields.push(("airlock_email".into(), email.into()));
        fields.push(("airlock_password".into(), password.into()));
        fields
    }
}

/// Signs `email` in through the confidential client `(id, secret)` of `issuer` with the
/// `openidconnect` relying party (code flow with PKCE, consent given), and checks the ID token.
pub async fn rp_sign_in(
    issuer: &str,
    (id, secret): (&str, &str),
    redirect: &str,
    (email, password): (&str, &str),
) {
    let client = rp::for_issuer(issuer, id, Some(secret), redirect).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let browser = Browser::new();
    let login = browser.get(url.as_str()).await;
    let consent = browser.login(&login, email, password).await;
    let back = browser.consent(&consent, true).await;
    assert!(back.location().starts_with(redirect), "{}", back.location());
    let code = back.redirect_params()["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("the client redeems its code");
    let claims = tokens
        .id_token()
        .expect("id token")
        .claims(&client.id_token_verifier(), &nonce)
        .expect("ID token verifies");
    assert_eq!(claims.issuer().as_str(), issuer);
    assert_eq!(claims.audiences()[0].as_str(), id);
}
