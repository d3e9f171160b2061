//! A relying party and a resource server in one small web app, built on the `openidconnect` crate:
//! it signs a user in at one Airlock environment (code flow with PKCE), shows the ID token's
//! claims, then calls its own protected API route, which accepts the access token only if it was
//! signed by that environment, names the API as audience and carries the scope.
//!
//! ```sh
//! cargo run --example rp -- --issuer http://127.0.0.1:8080/demo/sandbox \
//!     --client-id cl_… --client-secret acs_test_… --api https://api.demo.test --scope read:orders
//! ```
//! then open http://localhost:3000. The client must have `http://localhost:3000/callback` as a
//! redirect URI, and be granted the scope of the API (see the README's walk-through).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use clap::Parser;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsVerifier, RS256};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use serde_json::{Value, json};

#[derive(Parser, Clone)]
struct Args {
    /// The environment's issuer, e.g. http://127.0.0.1:8080/demo/sandbox
    #[arg(long)]
    issuer: String,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    client_secret: Option<String>,
    /// The API (resource server) this app calls, by identifier.
    #[arg(long, default_value = "https://api.demo.test")]
    api: String,
    /// The scope the API route requires.
    #[arg(long, default_value = "read:orders")]
    scope: String,
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Where the browser reaches this app.
    #[arg(long, default_value = "http://localhost:3000")]
    base_url: String,
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct App {
    args: Args,
    client: Client,
    jwks_uri: String,
    http: reqwest::Client,
    /// Sign-ins under way, by `state`: their PKCE verifier and nonce.
    pending: Mutex<HashMap<String, (PkceCodeVerifier, Nonce)>>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The OAuth client never follows redirects (an SSRF guard the openidconnect docs ask for).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(args.issuer.clone())?, &http).await?;
    let jwks_uri = metadata.jwks_uri().url().to_string();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(args.client_id.clone()),
        args.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{}/callback", args.base_url))?);
    let app = Arc::new(App {
        args: args.clone(),
        client,
        jwks_uri,
        http,
        pending: Mutex::default(),
    });
    let router = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/api/orders", get(orders))
        .with_state(app);
    println!("relying party of {} on {}", args.issuer, args.base_url);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1>{body}"
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn home(State(app): State<Arc<App>>) -> Html<String> {
    page(
        "Airlock relying party",
        &format!(
            "<p>Issuer: {}</p><p><a href=/login>Sign in</a></p>",
            escape(&app.args.issuer)
        ),
    )
}

async fn login(State(app): State<Arc<App>>) -> Response {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = app
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new(app.args.scope.clone()))
        .add_extra_param("resource", app.args.api.clone())
        .set_pkce_challenge(challenge)
        .url();
    if let Ok(mut pending) = app.pending.lock() {
        pending.insert(state.secret().clone(), (verifier, nonce));
    }
    Redirect::to(url.as_str()).into_response()
}

async fn callback(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match signed_in(&app, &query).await {
        Ok(body) => page("Signed in", &body).into_response(),
        Err(why) => (
            StatusCode::BAD_REQUEST,
            page("Sign-in failed", &format!("<p>{}</p>", escape(&why))),
        )
            .into_response(),
    }
}

/// The code exchanged, the ID token verified, and the API called with the access token.
async fn signed_in(app: &App, query: &HashMap<String, String>) -> Result<String, String> {
    if let Some(error) = query.get("error") {
        return Err(format!("the provider answered {error}"));
    }
    let (code, state) = match (query.get("code"), query.get("state")) {
        (Some(code), Some(state)) => (code, state),
        _ => return Err("no code or state".into()),
    };
    let (verifier, nonce) = app
        .pending
        .lock()
        .map_err(|_| "lock poisoned".to_string())?
        .remove(state)
        .ok_or("unknown state")?;
    let tokens = app
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .map_err(|e| e.to_string())?
        .set_pkce_verifier(verifier)
        .add_extra_param("resource", app.args.api.clone())
        .request_async(&app.http)
        .await
        .map_err(|e| format!("token request: {e}"))?;
    let id_token = tokens.id_token().ok_or("no ID token")?;
    let claims = id_token
        .claims(&app.client.id_token_verifier(), &nonce)
        .map_err(|e| format!("ID token: {e}"))?;
    let claims = serde_json::to_string_pretty(claims).map_err(|e| e.to_string())?;
    let api = app
        .http
        .get(format!("{}/api/orders", app.args.base_url))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .map_err(|e| format!("API call: {e}"))?;
    let status = api.status();
    let answer = api.text().await.unwrap_or_default();
    Ok(format!(
        "<h2>ID token claims</h2><pre>{}</pre><h2>GET /api/orders: {status}</h2><pre>{}</pre>",
        escape(&claims),
        escape(&answer)
    ))
}

/// The protected API route: a resource server's checks of a JWT access token (RFC 9068 §4).
async fn orders(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return (StatusCode::UNAUTHORIZED, "a bearer token is required").into_response();
    };
    match accept(&app, token).await {
        Ok(claims) => axum::Json(json!({
            "orders": [],
            "for": claims["sub"],
            "scope": claims["scope"],
        }))
        .into_response(),
        Err(why) => (StatusCode::UNAUTHORIZED, why).into_response(),
    }
}

async fn accept(app: &App, token: &str) -> Result<Value, String> {
    let header = josekit::jwt::decode_header(token).map_err(|e| e.to_string())?;
    if header.claim("typ").and_then(Value::as_str) != Some("at+jwt") {
        return Err("not an access token (typ)".into());
    }
    let kid = header
        .claim("kid")
        .and_then(Value::as_str)
        .ok_or("no kid")?;
    let jwks: Value = app
        .http
        .get(&app.jwks_uri)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|key| key["kid"] == kid))
        .and_then(|key| key.as_object().cloned())
        .ok_or("signed by a key the issuer does not publish")?;
    let key = Jwk::from_map(key).map_err(|e| e.to_string())?;
    let verifier: Box<dyn JwsVerifier> = match header.claim("alg").and_then(Value::as_str) {
        Some("RS256") => Box::new(RS256.verifier_from_jwk(&key).map_err(|e| e.to_string())?),
        Some("ES256") => Box::new(ES256.verifier_from_jwk(&key).map_err(|e| e.to_string())?),
        _ => return Err("unexpected algorithm".into()),
    };
    let (payload, _) = josekit::jwt::decode_with_verifier(token, verifier.as_ref())
        .map_err(|_| "bad signature".to_string())?;
    let claims: Value = serde_json::from_str(&payload.to_string()).map_err(|e| e.to_string())?;
    if claims["iss"] != app.args.issuer.as_str() {
        return Err("another issuer's token".into());
    }
    if claims["aud"] != app.args.api.as_str() {
        return Err(format!("a token for {}, not this API", claims["aud"]));
    }
    if claims["exp"].as_i64().unwrap_or(0) <= airlock::clock::now() {
        return Err("expired".into());
    }
    let scopes = claims["scope"].as_str().unwrap_or_default();
    if !scopes.split(' ').any(|s| s == app.args.scope) {
        return Err(format!("the scope {:?} lacks {}", scopes, app.args.scope));
    }
    Ok(claims)
}
