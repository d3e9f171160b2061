//! Seeds a database with many environments (each with its own keys and one ES256 client) for the scale
//! case of `bench/run.sh`, and writes the token endpoint and Basic credentials of the first 100.
//!
//! Usage: seed_environments DATABASE_URL KEK_FILE PUBLIC_URL COUNT OUT_FILE

use std::sync::Arc;

use airlock::config::Config;
use airlock::model::{EnvKind, SigningAlg};
use airlock::service::admin::clients::NewClient;
use airlock::service::{Airlock, Caller};
use base64::Engine;
use tokio::task::JoinSet;

const CONCURRENCY: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, database_url, kek_file, public_url, count, out_file] = args.as_slice() else {
        anyhow::bail!("usage: seed_environments DATABASE_URL KEK_FILE PUBLIC_URL COUNT OUT_FILE");
    };
    let count: usize = count.parse()?;
    let config =
        Config::new(database_url.as_str(), public_url.as_str(), kek_file.into()).validate()?;
    let airlock = Airlock::start(Arc::new(config)).await?;
    let now = airlock::clock::now();
    airlock
        .projects()
        .create("scale", &Caller::cli(), now)
        .await?;
    let mut targets = Vec::new();
    let mut running = JoinSet::new();
    for index in 0..count {
        if running.len() >= CONCURRENCY
            && let Some(done) = running.join_next().await
        {
            targets.extend(done??);
        }
        let airlock: Arc<Airlock> = airlock.clone();
        running.spawn(async move { seed_one(&airlock, index, now).await });
    }
    while let Some(done) = running.join_next().await {
        targets.extend(done??);
    }
    targets.sort();
    let lines: Vec<String> = targets
        .into_iter()
        .take(100)
        .map(|(_, line)| line)
        .collect();
    std::fs::write(out_file, lines.join("\n") + "\n")?;
    Ok(())
}

/// Creates environment `e{index}` with one ES256 client; returns its wrk target line for the first 100.
async fn seed_one(
    airlock: &Airlock,
    index: usize,
    now: i64,
) -> anyhow::Result<Option<(usize, String)>> {
    let name = format!("e{index}");
    let environment = airlock
        .environments()
        .create("scale", &name, EnvKind::Test, &Caller::cli(), now)
        .await?;
    let client = NewClient {
        name: "bench".into(),
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        public: false,
        first_party: true,
        id_token_signed_response_alg: SigningAlg::ES256,
        token_endpoint_auth_method: None,
        jwks: None,
        jwks_uri: None,
    };
    let issued = airlock
        .clients()
        .create(&environment, client, &Caller::cli(), now)
        .await?;
    if index >= 100 {
        return Ok(None);
    }
    let secret = issued
        .client_secret
        .map(|secret| secret.expose().to_string())
        .unwrap_or_default();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{secret}", issued.client.client_id));
    Ok(Some((index, format!("/scale/{name}/token Basic {basic}"))))
}
