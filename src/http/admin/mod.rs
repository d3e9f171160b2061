//! The admin API (`/admin/v1`): the CLI's operations over HTTP, behind a bearer admin token, one
//! file per resource with its request and response bodies. Who may act on which environment is
//! decided by the service (`service::admin`); these handlers only translate.

mod apis;
mod audit;
mod clients;
mod domains;
mod environments;
mod extract;
mod inbox;
mod keys;
mod lifecycle;
mod registration;
mod users;
mod webhooks;

use axum::Router;

use super::AppState;

/// Where one environment's resources live; each resource file has its routes below it.
const ZONE: &str = "/projects/{project}/environments/{environment}";

pub fn routes() -> Router<AppState> {
    let zone = Router::new()
        .merge(environments::zone_routes())
        .merge(domains::routes())
        .merge(clients::routes())
        .merge(apis::routes())
        .merge(registration::routes())
        .merge(users::routes())
        .merge(keys::routes())
        .merge(audit::routes())
        .merge(webhooks::routes())
        .merge(inbox::routes());
    Router::new()
        .merge(environments::routes())
        .merge(lifecycle::routes())
        .merge(domains::installation_routes())
        .nest(ZONE, zone)
}

/// `RS256` or `ES256`, as admins write it.
fn parse_alg(alg: Option<&str>) -> Result<Option<crate::model::SigningAlg>, extract::AdminError> {
    alg.map(|alg| {
        crate::model::SigningAlg::parse(alg)
            .ok_or_else(|| crate::service::Error::Invalid("alg is RS256 or ES256".into()).into())
    })
    .transpose()
}
