//! Custom domains of one environment.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::{AdminJson, AdminResult, AdminZone, OptionalJson, created};
use crate::http::AppState;
use crate::model::{Domain, DomainState, Environment, Issuer};
use crate::service::Error;
use crate::service::admin::domains::{BoundDomain, TlsFiles};

/// The host named in the path (after its project and environment).
#[derive(Deserialize)]
pub struct DomainPath {
    host: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainBody {
    host: String,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[serde(default)]
    manual: bool,
}

/// A domain with the DNS record that proves ownership and the issuer it serves once active.
#[derive(Serialize)]
struct DomainResponse {
    host: String,
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
pub async fn add_domain(
    State(state): State<AppState>,
    zone: AdminZone,
    AdminJson(body): AdminJson<DomainBody>,
) -> AdminResult {
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
    let now = crate::clock::now();
    let domain = state
        .domains()
        .add(&zone.environment, &body.host, tls, &zone.caller, now)
        .await?;
    Ok(created(DomainResponse::new(domain, &zone.environment)))
}

/// `GET …/domains`
pub async fn list_domains(State(state): State<AppState>, zone: AdminZone) -> AdminResult {
    let domains: Vec<DomainResponse> = state
        .domains()
        .list(Some(&zone.environment))
        .await?
        .into_iter()
        .map(
            |BoundDomain {
                 domain,
                 environment,
             }| DomainResponse::new(domain, &environment),
        )
        .collect();
    Ok(Json(json!({ "domains": domains })).into_response())
}

/// `POST …/domains/{host}/verify`
pub async fn verify_domain(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<DomainPath>,
    OptionalJson(body): OptionalJson<VerifyBody>,
) -> AdminResult {
    let now = crate::clock::now();
    let domain = state
        .domains()
        .verify(
            &zone.environment,
            &path.host,
            body.manual,
            &zone.caller,
            now,
        )
        .await?;
    Ok(Json(DomainResponse::new(domain, &zone.environment)).into_response())
}

/// `DELETE …/domains/{host}`
pub async fn remove_domain(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<DomainPath>,
) -> AdminResult {
    let now = crate::clock::now();
    state
        .domains()
        .remove(&zone.environment, &path.host, &zone.caller, now)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
