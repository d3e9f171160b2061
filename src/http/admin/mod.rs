//! The admin API (`/admin/v1`): the CLI's operations over HTTP, behind a bearer admin token, one
//! file per resource with its request and response bodies. Who may act on which environment is
//! decided by the service (`service::admin`); these handlers only translate.

mod audit;
mod clients;
mod domains;
mod environments;
mod extract;
mod keys;
mod users;

use axum::Router;
use axum::routing::{delete, get, post};

use super::AppState;

/// Where one environment's resources live.
const ZONE: &str = "/projects/{project}/environments/{environment}";

pub fn routes() -> Router<AppState> {
    let zone = |path: &str| format!("{ZONE}{path}");
    Router::new()
        .route("/projects", post(environments::create_project))
        .route(
            "/projects/{project}/environments",
            post(environments::create_environment),
        )
        .route(
            ZONE,
            get(environments::show_environment).patch(environments::update_environment),
        )
        .route(
            &zone("/limits"),
            get(environments::show_limits).put(environments::set_limits),
        )
        .route(
            &zone("/domains"),
            get(domains::list_domains).post(domains::add_domain),
        )
        .route(&zone("/domains/{host}"), delete(domains::remove_domain))
        .route(
            &zone("/domains/{host}/verify"),
            post(domains::verify_domain),
        )
        .route(
            &zone("/clients"),
            post(clients::create_client).get(clients::list_clients),
        )
        .route(
            &zone("/clients/{client_id}"),
            get(clients::show_client)
                .patch(clients::update_client)
                .delete(clients::delete_client),
        )
        .route(
            &zone("/clients/{client_id}/rotate-secret"),
            post(clients::rotate_secret),
        )
        .route(
            &zone("/users"),
            post(users::create_user).get(users::list_users),
        )
        .route(
            &zone("/users/{user_id}"),
            get(users::show_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .route(
            &zone("/users/{user_id}/password"),
            post(users::set_password),
        )
        .route(&zone("/keys"), get(keys::list_keys))
        .route(&zone("/keys/rotate"), post(keys::rotate_key))
        .route(&zone("/audit"), get(audit::list_audit))
        .route(&zone("/audit/verify"), get(audit::verify_audit))
}

/// `RS256` or `ES256`, as admins write it.
fn parse_alg(alg: Option<&str>) -> Result<Option<crate::model::SigningAlg>, extract::AdminError> {
    alg.map(|alg| {
        crate::model::SigningAlg::parse(alg)
            .ok_or_else(|| crate::service::Error::Invalid("alg is RS256 or ES256".into()).into())
    })
    .transpose()
}
