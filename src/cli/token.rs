//! `airlock token …`: a relying party's tools. `inspect` decodes a token without trusting it and
//! says which issuer and zone it names; `verify` checks it as a relying party would, against the
//! issuer's discovery document and JWKS fetched over HTTP.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Subcommand;
use serde_json::{Value, json};

use super::Context;
use super::output::print;
use crate::crypto::jose;
use crate::oidc::relying_party;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Decode a JWT without verifying it, and say which issuer and zone it names.
    Inspect { token: String },
    /// Verify a JWT against an issuer's discovery document and JWKS; exits non-zero, with the
    /// reason, for another issuer's token, an expired one, or a bad signature.
    Verify {
        token: String,
        /// The issuer the token must come from, exactly as in its discovery document.
        #[arg(long)]
        issuer: String,
        /// An audience the token must name (an API identifier, or a client id).
        #[arg(long)]
        audience: Option<String>,
    },
}

/// Largest discovery document or JWKS read.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The header and payload of a compact JWT, unverified.
fn decode(token: &str) -> anyhow::Result<(Value, Value)> {
    let mut parts = token.trim().split('.');
    let mut part = |what: &str| -> anyhow::Result<Value> {
        let encoded = parts
            .next()
            .ok_or_else(|| anyhow!("not a JWT: no {what}"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| anyhow!("not a JWT: the {what} is not base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| anyhow!("not a JWT: the {what} is not JSON"))
    };
    Ok((part("header")?, part("payload")?))
}

/// What this installation knows of the zone behind `issuer`.
async fn zone_of(context: &Context, issuer: &str) -> anyhow::Result<Value> {
    let known = context.airlock.zones().zone_of_issuer(issuer).await?;
    Ok(match known {
        Some(zone) => json!({
            "project": zone.project,
            "environment": zone.name,
            "kind": zone.kind.as_str(),
            "installation": "this one",
        }),
        None => match relying_party::path_zone(issuer) {
            Some((project, environment)) => json!({
                "project": project,
                "environment": environment,
                "installation": "another one (read from the issuer's path)",
            }),
            None => json!({ "installation": "unknown (a custom domain of another installation)" }),
        },
    })
}

fn describe_zone(zone: &Value) -> String {
    match (zone["project"].as_str(), zone["environment"].as_str()) {
        (Some(project), Some(environment)) => {
            let kind = zone["kind"]
                .as_str()
                .map(|kind| format!(" ({kind})"))
                .unwrap_or_default();
            format!(
                "{project}/{environment}{kind}, {}",
                zone["installation"].as_str().unwrap_or("")
            )
        }
        _ => zone["installation"]
            .as_str()
            .unwrap_or("unknown")
            .to_string(),
    }
}

async fn fetch_json(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let mut response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot fetch {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_DOCUMENT_BYTES {
            bail!("{url} sent more than {MAX_DOCUMENT_BYTES} bytes");
        }
    }
    serde_json::from_slice(&body).with_context(|| format!("{url} did not send JSON"))
}

/// Verifies `token` as a relying party of `issuer`: its discovery document must name that issuer,
/// the token must be signed by a key of its JWKS, and its claims must hold now. The claims.
async fn verify(
    token: &str,
    issuer: &str,
    audience: Option<&str>,
    now: i64,
) -> anyhow::Result<Value> {
    let (_, unverified) = decode(token)?;
    // The claimed issuer first: another issuer's token says so plainly, whatever its signature.
    if let Some(iss) = unverified["iss"].as_str()
        && iss != issuer
    {
        bail!("issued by {iss}, not {issuer}");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let discovery_url = format!("{issuer}/.well-known/openid-configuration");
    let discovery = fetch_json(&http, &discovery_url).await?;
    if discovery["issuer"].as_str() != Some(issuer) {
        bail!(
            "{discovery_url} names issuer {}, not {issuer}",
            discovery["issuer"]
        );
    }
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .ok_or_else(|| anyhow!("the discovery document has no jwks_uri"))?;
    let jwks = fetch_json(&http, jwks_uri).await?;
    let keys = jose::jwks_keys(&jwks.to_string()).map_err(|e| anyhow!("the issuer's JWKS: {e}"))?;
    let parsed = jose::parse_compact(token.trim()).map_err(|_| anyhow!("not a compact JWS"))?;
    let claims: Value = parsed
        .verify_with_jwks(&keys)
        .map_err(|error| match error {
            jose::JoseError::UntrustedKey => anyhow!(
                "bad signature: alg {} and kid {:?} match no key the issuer publishes",
                parsed.alg,
                parsed.kid.as_deref().unwrap_or("")
            ),
            _ => anyhow!("bad signature: it does not verify with the issuer's key"),
        })?;
    relying_party::check_claims(&claims, issuer, audience, now).map_err(|why| anyhow!(why))?;
    Ok(claims)
}

pub async fn run(command: TokenCommand, context: &Context) -> anyhow::Result<()> {
    let json = context.json;
    match command {
        TokenCommand::Inspect { token } => {
            let (header, claims) = decode(&token)?;
            let issuer = claims["iss"].as_str().unwrap_or_default().to_string();
            let zone = zone_of(context, &issuer).await?;
            let expired = claims["exp"]
                .as_f64()
                .map(|exp| (exp as i64) <= context.now);
            let value = json!({
                "verified": false,
                "issuer": issuer,
                "zone": zone,
                "expired": expired,
                "header": header,
                "claims": claims,
            });
            print(json, &value, || {
                format!(
                    "NOT VERIFIED (decoded only)\nissuer: {issuer}\nzone: {}\nexpired: {}\nheader: {header}\nclaims: {}",
                    describe_zone(&zone),
                    expired.map_or("unknown".to_string(), |e| e.to_string()),
                    serde_json::to_string_pretty(&claims).unwrap_or_default()
                )
            });
        }
        TokenCommand::Verify {
            token,
            issuer,
            audience,
        } => {
            let issuer = issuer.trim_end_matches('/').to_string();
            let claims = verify(&token, &issuer, audience.as_deref(), context.now)
                .await
                .map_err(|why| anyhow!("not valid: {why}"))?;
            let zone = zone_of(context, &issuer).await?;
            let value =
                json!({ "verified": true, "issuer": issuer, "zone": zone, "claims": claims });
            print(json, &value, || {
                format!(
                    "valid\nissuer: {issuer}\nzone: {}\nclaims: {}",
                    describe_zone(&zone),
                    serde_json::to_string_pretty(&claims).unwrap_or_default()
                )
            });
        }
    }
    Ok(())
}
