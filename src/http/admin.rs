//! The admin API (`/admin/v1`): the CLI's operations over HTTP, behind a bearer admin token. A token
//! bound to one environment sees only that environment; everything else is 404 to it.

use axum::extract::Query;
use axum::extract::rejection::JsonRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::error::HttpError;
use super::request_meta::RequestOrigin;
use crate::clock;
use crate::model::{EnvKind, Environment, SigningAlg};
use crate::service::admin::{ClientChanges, LimitChanges, NewClient, UserChanges};
use crate::service::domains::TlsFiles;
use crate::service::{Caller, Error, Event};
use crate::store::AdminTokenRecord;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", post(create_project))
        .route("/projects/{project}/environments", post(create_environment))
        .route(
            "/projects/{project}/environments/{environment}",
            get(show_environment).patch(update_environment),
        )
        .route(
            "/projects/{project}/environments/{environment}/domains",
            get(list_domains).post(add_domain),
        )
        .route(
            "/projects/{project}/environments/{environment}/domains/{host}",
            axum::routing::delete(remove_domain),
        )
        .route(
            "/projects/{project}/environments/{environment}/domains/{host}/verify",
            post(verify_domain),
        )
        .route(
            "/projects/{project}/environments/{environment}/limits",
            get(show_limits).put(set_limits),
        )
        .route(
            "/projects/{project}/environments/{environment}/clients",
            post(create_client).get(list_clients),
        )
        .route(
            "/projects/{project}/environments/{environment}/clients/{client_id}",
            get(show_client).patch(update_client).delete(delete_client),
        )
        .route(
            "/projects/{project}/environments/{environment}/clients/{client_id}/rotate-secret",
            post(rotate_secret),
        )
        .route(
            "/projects/{project}/environments/{environment}/users",
            post(create_user).get(list_users),
        )
        .route(
            "/projects/{project}/environments/{environment}/users/{user_id}",
            get(show_user).patch(update_user).delete(delete_user),
        )
        .route(
            "/projects/{project}/environments/{environment}/users/{user_id}/password",
            post(set_password),
        )
        .route(
            "/projects/{project}/environments/{environment}/keys",
            get(list_keys),
        )
        .route(
            "/projects/{project}/environments/{environment}/keys/rotate",
            post(rotate_key),
        )
        .route(
            "/projects/{project}/environments/{environment}/audit",
            get(list_audit),
        )
        .route(
            "/projects/{project}/environments/{environment}/audit/verify",
            get(verify_audit),
        )
}

/// The authenticated admin token of the request, and where the request came from.
pub struct Admin {
    token: AdminTokenRecord,
    caller: Caller,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let unauthorized = || {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"airlock-admin\"")],
                Json(json!({ "error": "unauthorized" })),
            )
                .into_response()
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_string())
            .ok_or_else(unauthorized)?;
        let Ok(RequestOrigin(origin)) = RequestOrigin::from_request_parts(parts, state).await;
        match state.authenticate_admin(&token).await {
            Ok(Some(record)) => Ok(Admin {
                caller: Caller {
                    actor: Some(record.token_id.clone()),
                    origin,
                },
                token: record,
            }),
            Ok(None) => Err(unauthorized()),
            Err(error) => Err(HttpError::admin(error).into_response()),
        }
    }
}

impl Admin {
    fn installation_wide(&self) -> Result<(), HttpError> {
        match self.token.env_id {
            None => Ok(()),
            Some(_) => Err(HttpError::admin(Error::Forbidden(
                "this admin token is bound to one environment".into(),
            ))),
        }
    }

    /// The environment, if this token may see it; otherwise the same 404 as a missing one. Each use
    /// of a token on an environment is recorded in that environment's log.
    async fn environment(
        &self,
        state: &AppState,
        project: &str,
        name: &str,
    ) -> Result<Environment, HttpError> {
        let environment = state
            .db
            .find_environment(project, name)
            .await
            .map_err(|e| HttpError::admin(Error::from(e)))?
            .ok_or_else(|| HttpError::admin(Error::NotFound))?;
        if let Some(bound) = &self.token.env_id
            && *bound != environment.id
        {
            return Err(HttpError::admin(Error::NotFound));
        }
        let event =
            Event::success("admin_token.used").detail("token_id", self.token.token_id.clone());
        state
            .record_by(&environment, &self.caller, event, clock::now())
            .await
            .map_err(HttpError::admin)?;
        Ok(environment)
    }
}

fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, HttpError> {
    payload
        .map(|Json(value)| value)
        .map_err(|rejection| HttpError::admin(Error::Invalid(rejection.body_text())))
}

fn created(value: impl serde::Serialize) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

#[derive(Deserialize)]
struct ProjectBody {
    name: String,
}

async fn create_project(
    State(state): State<AppState>,
    admin: Admin,
    payload: Result<Json<ProjectBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    admin.installation_wide()?;
    let request = body(payload)?;
    let project = state
        .create_project(&request.name, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(created(project))
}

#[derive(Deserialize)]
struct EnvironmentBody {
    name: String,
    kind: String,
}

async fn create_environment(
    State(state): State<AppState>,
    admin: Admin,
    Path(project): Path<String>,
    payload: Result<Json<EnvironmentBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    admin.installation_wide()?;
    let request = body(payload)?;
    let kind = EnvKind::parse(&request.kind)
        .ok_or_else(|| HttpError::admin(Error::Invalid("kind is test or live".into())))?;
    let environment = state
        .create_environment(&project, &request.name, kind, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(created(state.environment_view(&environment)))
}

async fn show_environment(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    Ok(Json(state.environment_view(&environment)).into_response())
}

fn parse_alg(alg: Option<&str>) -> Result<Option<SigningAlg>, HttpError> {
    alg.map(|alg| {
        SigningAlg::parse(alg)
            .ok_or_else(|| HttpError::admin(Error::Invalid("alg is RS256 or ES256".into())))
    })
    .transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientBody {
    name: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    first_party: bool,
    id_token_signed_response_alg: Option<String>,
}

async fn create_client(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
    payload: Result<Json<ClientBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let request = body(payload)?;
    let alg = parse_alg(request.id_token_signed_response_alg.as_deref())?;
    let issued = state
        .create_client(
            &environment,
            NewClient {
                name: request.name,
                redirect_uris: request.redirect_uris,
                post_logout_redirect_uris: request.post_logout_redirect_uris,
                public: request.public,
                first_party: request.first_party,
                id_token_signed_response_alg: alg.unwrap_or(SigningAlg::RS256),
            },
            &admin.caller,
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(created(issued))
}

async fn list_clients(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let clients = state
        .list_clients(&environment)
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(json!({ "clients": clients })).into_response())
}

async fn show_client(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, client_id)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let client = state
        .find_client(&environment, &client_id)
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(client).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientPatch {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    first_party: Option<bool>,
    id_token_signed_response_alg: Option<String>,
}

async fn update_client(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, client_id)): Path<(String, String, String)>,
    payload: Result<Json<ClientPatch>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let patch = body(payload)?;
    let changes = ClientChanges {
        name: patch.name,
        redirect_uris: patch.redirect_uris,
        post_logout_redirect_uris: patch.post_logout_redirect_uris,
        first_party: patch.first_party,
        id_token_signed_response_alg: parse_alg(patch.id_token_signed_response_alg.as_deref())?,
    };
    let client = state
        .update_client(
            &environment,
            &client_id,
            changes,
            &admin.caller,
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(client).into_response())
}

async fn delete_client(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, client_id)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    state
        .delete_client(&environment, &client_id, &admin.caller, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rotate_secret(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, client_id)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let secret = state
        .rotate_client_secret(&environment, &client_id, &admin.caller, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(json!({ "client_id": client_id, "client_secret": secret })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    email: String,
    password: String,
    name: Option<String>,
}

fn user_json(user: &crate::model::User) -> serde_json::Value {
    json!({
        "sub": user.user_id,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    })
}

async fn create_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
    payload: Result<Json<UserBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let request = body(payload)?;
    let user = state
        .create_user(
            &environment,
            &request.email,
            request.password,
            request.name,
            &admin.caller,
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(created(user_json(&user)))
}

async fn list_users(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let users = state
        .list_users(&environment)
        .await
        .map_err(HttpError::admin)?;
    let users: Vec<_> = users.iter().map(user_json).collect();
    Ok(Json(json!({ "users": users })).into_response())
}

async fn show_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, user_id)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let user = state
        .find_user(&environment, &user_id)
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(user_json(&user)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    email: Option<String>,
    name: Option<String>,
    email_verified: Option<bool>,
}

async fn update_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, user_id)): Path<(String, String, String)>,
    payload: Result<Json<UserPatch>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let patch = body(payload)?;
    let changes = UserChanges {
        email: patch.email,
        name: patch.name,
        email_verified: patch.email_verified,
    };
    let user = state
        .update_user(&environment, &user_id, changes, &admin.caller, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(user_json(&user)).into_response())
}

async fn delete_user(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, user_id)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    state
        .delete_user(&environment, &user_id, &admin.caller, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

async fn set_password(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, user_id)): Path<(String, String, String)>,
    payload: Result<Json<PasswordBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let request = body(payload)?;
    state
        .set_user_password(
            &environment,
            &user_id,
            request.password,
            &admin.caller,
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn show_limits(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    Ok(Json(environment.limits).into_response())
}

async fn set_limits(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
    payload: Result<Json<LimitChanges>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let changes = body(payload)?;
    let limits = state
        .set_limits(&environment, changes, &admin.caller, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(limits).into_response())
}

async fn list_keys(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let keys = state
        .list_keys(&environment, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(json!({ "keys": keys })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    alg: Option<String>,
    publish_delay: Option<i64>,
}

async fn rotate_key(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
    payload: Result<Json<RotateBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let request = match payload {
        Err(JsonRejection::MissingJsonContentType(_)) => RotateBody::default(),
        other => body(other)?,
    };
    let alg = parse_alg(request.alg.as_deref())?.unwrap_or(SigningAlg::RS256);
    let key = state
        .rotate_key(
            &environment,
            alg,
            request.publish_delay,
            &admin.caller,
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(created(key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    since: Option<i64>,
    #[serde(rename = "type")]
    event: Option<String>,
    limit: Option<i64>,
}

async fn list_audit(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
    query: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    let Query(params) =
        query.map_err(|rejection| HttpError::admin(Error::Invalid(rejection.body_text())))?;
    let environment = admin.environment(&state, &project, &name).await?;
    let entries = state
        .audit_list(&environment, params.since, params.event, params.limit)
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(json!({
        "project": environment.project,
        "environment": environment.name,
        "kind": environment.kind,
        "label": crate::service::audit::zone_label(environment.kind),
        "entries": entries,
    }))
    .into_response())
}

async fn verify_audit(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let report = state
        .audit_verify(&environment)
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(report).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentPatch {
    path_issuer_enabled: Option<bool>,
}

async fn update_environment(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
    payload: Result<Json<EnvironmentPatch>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let patch = body(payload)?;
    if let Some(enabled) = patch.path_issuer_enabled {
        state
            .set_path_issuer(&environment, enabled, &admin.caller, clock::now())
            .await
            .map_err(HttpError::admin)?;
    }
    let environment = admin.environment(&state, &project, &name).await?;
    Ok(Json(state.environment_view(&environment)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainBody {
    host: String,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
}

async fn add_domain(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
    payload: Result<Json<DomainBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let request = body(payload)?;
    // Certificate paths name files on the server: the operator's call, not an environment admin's.
    if request.tls_cert_file.is_some() || request.tls_key_file.is_some() {
        admin.installation_wide()?;
    }
    let tls = match (request.tls_cert_file, request.tls_key_file) {
        (Some(cert_file), Some(key_file)) => Some(TlsFiles {
            cert_file,
            key_file,
        }),
        (None, None) => None,
        _ => {
            return Err(HttpError::admin(Error::Invalid(
                "give both tls_cert_file and tls_key_file, or neither".into(),
            )));
        }
    };
    let view = state
        .add_domain(
            &environment,
            &request.host,
            tls,
            &admin.caller,
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(created(view))
}

async fn list_domains(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let views = state
        .list_domains(Some(&environment))
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(json!({ "domains": views })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    #[serde(default)]
    manual: bool,
}

async fn verify_domain(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, host)): Path<(String, String, String)>,
    payload: Result<Json<VerifyBody>, JsonRejection>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let request = match payload {
        Err(JsonRejection::MissingJsonContentType(_)) => VerifyBody::default(),
        other => body(other)?,
    };
    // Vouching for a host without DNS proof is the operator's call, not an environment admin's.
    if request.manual {
        admin.installation_wide()?;
    }
    let view = state
        .verify_domain(
            &environment,
            &host,
            request.manual,
            &admin.caller,
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(view).into_response())
}

async fn remove_domain(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, host)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    state
        .remove_domain(&environment, &host, &admin.caller, clock::now())
        .await
        .map_err(HttpError::admin)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
