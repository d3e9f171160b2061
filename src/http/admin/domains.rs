//! Custom domains of one environment.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{
    Admin, AdminJson, AdminResult, AdminZone, OptionalJson, created, listed, no_content, ok,
};
use crate::http::AppState;
use crate::model::{Domain, DomainState, Environment, Issuer};
use crate::service::Error;
use crate::service::admin::domains::{BoundDomain, TlsFiles};

/// The operator's route: a host released from every environment.
pub fn installation_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(release_domain))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_domains, add_domain))
        .routes(routes!(remove_domain))
        .routes(routes!(verify_domain))
}

/// The host named in the path (after its project and environment).
#[derive(Deserialize)]
pub struct DomainPath {
    host: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainBody {
    host: String,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[serde(default)]
    manual: bool,
}

/// A domain with the DNS record that proves ownership and the issuer it serves once active.
#[derive(Serialize, utoipa::ToSchema)]
struct DomainResponse {
    host: String,
    #[schema(value_type = String)]
    state: DomainState,
    verified_by: Option<String>,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
    created_at: i64,
    verified_at: Option<i64>,
    project: String,
    environment: String,
    issuer: String,
    /// Publish this TXT record, then verify.
    txt_record_name: String,
    txt_record_value: String,
}

impl From<BoundDomain> for DomainResponse {
    fn from(bound: BoundDomain) -> Self {
        DomainResponse::new(bound.domain, &bound.environment)
    }
}

impl DomainResponse {
    fn new(domain: Domain, environment: &Environment) -> Self {
        DomainResponse {
            issuer: Issuer::for_domain(&domain.host).as_str().to_string(),
            txt_record_name: domain.challenge_name(),
            txt_record_value: domain.challenge_value(),
            project: environment.project.clone(),
            environment: environment.name.clone(),
            host: domain.host,
            state: domain.state,
            verified_by: domain.verified_by,
            tls_cert_file: domain.tls_cert_file,
            tls_key_file: domain.tls_key_file,
            created_at: domain.created_at,
            verified_at: domain.verified_at,
        }
    }
}

/// `POST …/domains`
#[utoipa::path(
    post,
    path = "/domains",
    tag = "domains",
    request_body = DomainBody,
    responses((status = 201, description = "Created", body = DomainResponse))
)]
pub async fn add_domain(zone: AdminZone, AdminJson(body): AdminJson<DomainBody>) -> AdminResult {
    let tls = match (body.tls_cert_file, body.tls_key_file) {
        (Some(cert_file), Some(key_file)) => Some(TlsFiles {
            cert_file,
            key_file,
        }),
        (None, None) => None,
        _ => {
            let why = "give both tls_cert_file and tls_key_file, or neither";
            return Err(Error::Invalid(why.into()).into());
        }
    };
    let domain = zone
        .airlock
        .domains()
        .add(&zone.environment, &body.host, tls, &zone.caller, zone.now)
        .await?;
    created(DomainResponse::new(domain, &zone.environment))
}

/// `GET …/domains`
#[utoipa::path(
    get,
    path = "/domains",
    tag = "domains",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_domains(zone: AdminZone) -> AdminResult {
    let domains = zone
        .airlock
        .domains()
        .list(Some(&zone.environment), zone.now)
        .await?;
    listed::<_, DomainResponse>("domains", domains)
}

/// `POST …/domains/{host}/verify`
#[utoipa::path(
    post,
    path = "/domains/{host}/verify",
    tag = "domains",
    request_body = VerifyBody,
    responses((status = 200, description = "OK", body = DomainResponse))
)]
pub async fn verify_domain(
    zone: AdminZone,
    Path(path): Path<DomainPath>,
    OptionalJson(body): OptionalJson<VerifyBody>,
) -> AdminResult {
    let domain = zone
        .airlock
        .domains()
        .verify(
            &zone.environment,
            &path.host,
            body.manual,
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(DomainResponse::new(domain, &zone.environment))
}

/// `DELETE /admin/v1/domains/{host}`: every claim of the host, in every environment (an
/// installation-wide token only).
#[utoipa::path(
    delete,
    path = "/domains/{host}",
    tag = "domains",
    responses((status = 204, description = "Done"))
)]
pub async fn release_domain(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(path): Path<DomainPath>,
) -> AdminResult {
    let now = crate::clock::now();
    state.domains().release(&path.host, &caller, now).await?;
    no_content()
}

/// `DELETE …/domains/{host}`
#[utoipa::path(
    delete,
    path = "/domains/{host}",
    tag = "domains",
    responses((status = 204, description = "Done"))
)]
pub async fn remove_domain(zone: AdminZone, Path(path): Path<DomainPath>) -> AdminResult {
    zone.airlock
        .domains()
        .remove(&zone.environment, &path.host, &zone.caller, zone.now)
        .await?;
    no_content()
}
