//! HTTP adapters only: extract, call one service function, shape the response.
//!
//! Route table: `edge` (the one middleware) first decides what the request's host addresses. On the
//! public host, per-environment routes live under `/{project}/{environment}` (the path issuer),
//! the admin API under `/admin/v1` and the console under `/console`; on a custom domain the same
//! per-environment routes sit at the root. The `current_env` extractor resolves the environment once, from either. Probes
//! (`/healthz`, `/readyz`) answer on any host.

mod admin;
mod console;
mod cookies;
mod cors;
mod current_env;
mod edge;
mod error;
mod extract;
mod headers;
mod host;
mod listener;
mod metrics;
mod oidc;
mod pages;
mod probes;
mod request_meta;
mod respond;
mod tls;

/// The forwarded-header reading, public for the fuzz target that feeds it arbitrary headers.
pub use host::{ProxyTrust, effective as effective_host_and_client};

pub use tls::serve_tls;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;

use crate::config::Config;
use crate::service::Airlock;

pub use current_env::CurrentEnvironment;

/// Shared application state, built once: the service context, and the process configuration the
/// adapters need (listeners, trusted proxies, the public URL).
#[derive(Debug, Clone)]
pub struct AppState {
    pub airlock: Arc<Airlock>,
    pub config: Arc<Config>,
    /// The issuers `airlock quickstart` seeded: its demo callback page is served only when there
    /// are some, and names only these as places to redeem a code.
    pub demo_issuers: Arc<[String]>,
}

/// Handlers call use cases straight on the state.
impl Deref for AppState {
    type Target = Airlock;

    fn deref(&self) -> &Airlock {
        &self.airlock
    }
}

/// Request bodies above this size are refused with 413 before any parsing.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let mut public_only = Router::new()
        .nest("/admin/v1", admin::routes())
        .merge(console::routes());
    if !state.demo_issuers.is_empty() {
        public_only = public_only.route(
            crate::service::quickstart::CALLBACK_PATH,
            get(pages::quickstart_callback),
        );
    }
    let public_only = public_only.layer(middleware::from_fn(host::public_host_only));
    Router::new()
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .merge(public_only)
        .merge(oidc::routes())
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), edge::edge))
        .with_state(state)
}

/// Serves `app` on `listener` (and on the TLS listener, when configured) until the process is stopped.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    state.airlock.spawn_sweeper();
    state.airlock.spawn_change_listener();
    state.airlock.spawn_purger();
    state.airlock.spawn_delivery_worker();
    state.airlock.spawn_mail_worker();
    state.airlock.spawn_usage_flusher();
    if let Some(address) = &state.config.metrics_listen {
        let handle = crate::telemetry::install().map_err(std::io::Error::other)?;
        let metrics_listener = tokio::net::TcpListener::bind(address).await?;
        let bound = metrics_listener.local_addr()?;
        tracing::info!(listen = %bound, "airlock serving metrics");
        // For supervisors and tests, like the main address.
        eprintln!("airlock metrics on {bound}");
        // Histograms keep their samples until upkeep folds them in: done here, not only on scrape.
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                ticks.tick().await;
                upkeep.run_upkeep();
            }
        });
        tokio::spawn(metrics::serve(state.clone(), metrics_listener, handle));
    }
    if let Some(address) = &state.config.tls_listen {
        let tls_listener = tokio::net::TcpListener::bind(address).await?;
        tracing::info!(listen = %tls_listener.local_addr()?, "airlock serving custom domains over TLS");
        tokio::spawn(tls::serve_tls(state.clone(), tls_listener));
    }
    let limits = listener::ConnectionLimits::of(&state.config);
    listener::serve(listener, app(state), limits, None).await;
    Ok(())
}
