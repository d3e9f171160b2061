//! The admin API (`/admin/v1`): the CLI's operations over HTTP, behind a bearer admin token. A token
//! bound to one environment sees only that environment; everything else is 404 to it.

use axum::extract::rejection::JsonRejection;
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
use crate::clock;
use crate::model::{EnvKind, Environment, SigningAlg};
use crate::service::Error;
use crate::service::admin::NewClient;
use crate::store::AdminTokenRecord;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", post(create_project))
        .route("/projects/{project}/environments", post(create_environment))
        .route(
            "/projects/{project}/environments/{environment}",
            get(show_environment),
        )
        .route(
            "/projects/{project}/environments/{environment}/clients",
            post(create_client),
        )
        .route(
            "/projects/{project}/environments/{environment}/clients/{client_id}/rotate-secret",
            post(rotate_secret),
        )
        .route(
            "/projects/{project}/environments/{environment}/users",
            post(create_user),
        )
}

/// The authenticated admin token of the request.
pub struct Admin(AdminTokenRecord);

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
        match state.authenticate_admin(&token).await {
            Ok(Some(record)) => Ok(Admin(record)),
            Ok(None) => Err(unauthorized()),
            Err(error) => Err(HttpError::admin(error).into_response()),
        }
    }
}

impl Admin {
    fn installation_wide(&self) -> Result<(), HttpError> {
        match self.0.env_id {
            None => Ok(()),
            Some(_) => Err(HttpError::admin(Error::Forbidden(
                "this admin token is bound to one environment".into(),
            ))),
        }
    }

    /// The environment, if this token may see it; otherwise the same 404 as a missing one.
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
        match &self.0.env_id {
            Some(bound) if *bound != environment.id => Err(HttpError::admin(Error::NotFound)),
            _ => Ok(environment),
        }
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

#[derive(Deserialize)]
struct ClientBody {
    name: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
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
    let alg = match request.id_token_signed_response_alg.as_deref() {
        None => SigningAlg::RS256,
        Some(alg) => SigningAlg::parse(alg)
            .ok_or_else(|| HttpError::admin(Error::Invalid("alg is RS256 or ES256".into())))?,
    };
    let issued = state
        .create_client(
            &environment,
            NewClient {
                name: request.name,
                redirect_uris: request.redirect_uris,
                public: request.public,
                first_party: request.first_party,
                id_token_signed_response_alg: alg,
            },
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(created(issued))
}

async fn rotate_secret(
    State(state): State<AppState>,
    admin: Admin,
    Path((project, name, client_id)): Path<(String, String, String)>,
) -> Result<Response, HttpError> {
    let environment = admin.environment(&state, &project, &name).await?;
    let secret = state
        .rotate_client_secret(&environment, &client_id)
        .await
        .map_err(HttpError::admin)?;
    Ok(Json(json!({ "client_id": client_id, "client_secret": secret })).into_response())
}

#[derive(Deserialize)]
struct UserBody {
    email: String,
    password: String,
    name: Option<String>,
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
            clock::now(),
        )
        .await
        .map_err(HttpError::admin)?;
    Ok(created(
        json!({ "sub": user.user_id, "email": user.email, "name": user.name }),
    ))
}
