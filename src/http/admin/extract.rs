//! What every admin handler starts from: the caller behind the bearer token, the environment in the
//! path as that caller may see it, a JSON body, and errors in the admin API's language.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, RequestPartsExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::http::AppState;
use crate::http::error::HttpError;
use crate::http::headers::no_store;
use crate::http::request_meta::RequestOrigin;
use crate::model::{Environment, is_clean_text};
use crate::service::{Airlock, Caller, Error};

/// An admin handler's error, answered as admin JSON: the service's, or a body over the size limit.
pub enum AdminError {
    Service(Error),
    TooLarge,
}

impl From<Error> for AdminError {
    fn from(error: Error) -> Self {
        AdminError::Service(error)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            AdminError::Service(error) => HttpError::admin(error).into_response(),
            AdminError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({ "error": "the request body is too large" })),
            )
                .into_response(),
        }
    }
}

pub type AdminResult = Result<Response, AdminError>;

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"airlock-admin\"")],
        Json(json!({ "error": "unauthorized" })),
    )
        .into_response()
}

/// The caller behind `Authorization: Bearer ADMIN_TOKEN`.
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_string())
            .ok_or_else(unauthorized)?;
        let Ok(RequestOrigin(origin)) = parts.extract::<RequestOrigin>().await;
        match state.admin_access().authenticate(&token, origin).await {
            // A read-only token may look (GET), never change.
            Ok(Some(caller)) if caller.read_only && !parts.method.is_safe() => Err((
                StatusCode::FORBIDDEN,
                Json(json!({ "error": "forbidden", "error_description": "this admin token may only read" })),
            )
                .into_response()),
            Ok(Some(caller)) => Ok(Admin(caller)),
            Ok(None) => Err(unauthorized()),
            Err(error) => Err(AdminError::Service(error).into_response()),
        }
    }
}

/// The environment named by `/projects/{project}/environments/{environment}`, as the caller may
/// see it (the same 404 as a missing one otherwise), with the caller.
pub struct AdminZone {
    pub airlock: Arc<Airlock>,
    pub environment: Environment,
    pub caller: Caller,
    /// The time of the request.
    pub now: i64,
}

impl FromRequestParts<AppState> for AdminZone {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Admin(caller) = Admin::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AdminError::Service(Error::NotFound).into_response())?;
        let param = |wanted: &str| {
            params
                .iter()
                .find_map(|(key, value)| (key == wanted).then(|| value.to_string()))
        };
        let (Some(project), Some(name)) = (param("project"), param("environment")) else {
            return Err(AdminError::Service(Error::NotFound).into_response());
        };
        let now = crate::clock::now();
        let environment = state
            .admin_access()
            .environment(&caller, &project, &name, now)
            .await
            .map_err(|error| AdminError::Service(error).into_response())?;
        Ok(AdminZone {
            airlock: state.airlock.clone(),
            environment,
            caller,
            now,
        })
    }
}

/// A JSON body; malformed, mistyped or unknown fields are a 400 with the reason.
pub struct AdminJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AdminJson<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AdminError> {
        let Json(body) = Json::<Value>::from_request(request, state)
            .await
            .map_err(invalid_json)?;
        typed(body).map(AdminJson)
    }
}

/// A JSON body that may be left out altogether (no body, no content type): then the defaults.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AdminError> {
        match Json::<Value>::from_request(request, state).await {
            Ok(Json(body)) => typed(body).map(OptionalJson),
            Err(JsonRejection::MissingJsonContentType(_)) => Ok(OptionalJson(T::default())),
            Err(rejection) => Err(invalid_json(rejection)),
        }
    }
}

/// The body as `T`, once no string in it (keys included) holds a control character.
fn typed<T: DeserializeOwned>(body: Value) -> Result<T, AdminError> {
    if !is_clean_json(&body) {
        return Err(AdminError::Service(Error::Invalid(
            "strings must not contain control characters".into(),
        )));
    }
    // The error names the field: `redirect_uris[1]: invalid type: integer…`.
    serde_path_to_error::deserialize(body).map_err(|error| {
        let field = error.path().to_string();
        let why = error.into_inner().to_string();
        AdminError::Service(Error::Invalid(match field.as_str() {
            "." => why,
            _ => format!("{field}: {why}"),
        }))
    })
}

fn is_clean_json(value: &Value) -> bool {
    match value {
        Value::String(text) => is_clean_text(text),
        Value::Array(items) => items.iter().all(is_clean_json),
        Value::Object(fields) => fields
            .iter()
            .all(|(key, value)| is_clean_text(key) && is_clean_json(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
    }
}

fn invalid_json(rejection: JsonRejection) -> AdminError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AdminError::TooLarge;
    }
    AdminError::Service(Error::Invalid(rejection.body_text()))
}

/// `201 Created` with a JSON body.
pub fn created(value: impl serde::Serialize) -> AdminResult {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// An answer that carries a secret shown once: never stored by a cache on the way.
pub fn uncached(answer: AdminResult) -> AdminResult {
    let mut response = answer?;
    no_store(&mut response);
    Ok(response)
}

/// `200 OK` with a JSON body.
pub fn ok(value: impl serde::Serialize) -> AdminResult {
    Ok(Json(value).into_response())
}

/// `200 OK` with `{"<name>": [...]}`: each item as its response body.
pub fn listed<T, R: serde::Serialize + From<T>>(name: &str, items: Vec<T>) -> AdminResult {
    let items: Vec<R> = items.into_iter().map(R::from).collect();
    let mut body = serde_json::Map::new();
    body.insert(name.to_string(), serde_json::json!(items));
    ok(body)
}

/// `204 No Content`.
pub fn no_content() -> AdminResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A JSON field that is present, even as `null` (`Some(None)`); absent is `None` with
/// `#[serde(default)]`.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
