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
mod operators;
mod registration;
mod users;
mod webhooks;

mod openapi;

use std::sync::LazyLock;

use axum::Router;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use super::AppState;

/// Where one environment's resources live; each resource file has its routes below it.
const ZONE: &str = "/projects/{project}/environments/{environment}";

/// The admin API's routes with their OpenAPI description: a handler is routed only through its
/// `#[utoipa::path]`, so no route is left out of the document.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let zone = OpenApiRouter::new()
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
    let (router, mut document) = OpenApiRouter::new()
        .merge(environments::routes())
        .merge(lifecycle::routes())
        .merge(operators::routes())
        .merge(domains::installation_routes())
        .nest(ZONE, zone)
        .split_for_parts();
    openapi::describe(&mut document);
    (router, document)
}

/// The admin API's OpenAPI 3.1 document, as served at `/admin/v1/openapi.json` and checked in as
/// `openapi.json`.
pub fn openapi_json() -> &'static str {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        let (_, document) = documented();
        document.to_pretty_json().unwrap_or_default()
    });
    &DOCUMENT
}

pub fn routes() -> Router<AppState> {
    let (router, _) = documented();
    router.route(
        "/openapi.json",
        get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                openapi_json(),
            )
        }),
    )
}

/// `RS256` or `ES256`, as admins write it.
fn parse_alg(alg: Option<&str>) -> Result<Option<crate::model::SigningAlg>, extract::AdminError> {
    alg.map(|alg| {
        crate::model::SigningAlg::parse(alg)
            .ok_or_else(|| crate::service::Error::Invalid("alg is RS256 or ES256".into()).into())
    })
    .transpose()
}
