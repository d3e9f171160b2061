//! End users of one environment.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::{AdminJson, AdminResult, AdminZone, created};
use crate::http::AppState;
use crate::model::{Secret, User, UserId};
use crate::service::admin::users::{NewUser, UserChanges};

/// The user named in the path (after its project and environment).
#[derive(Deserialize)]
pub struct UserPath {
    user_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    email: String,
    password: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    email: Option<String>,
    name: Option<String>,
    email_verified: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

#[derive(Serialize)]
struct UserResponse {
    sub: String,
    email: String,
    email_verified: bool,
    name: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        UserResponse {
            sub: user.user_id.into(),
            email: user.email,
            email_verified: user.email_verified,
            name: user.name,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// `POST …/users`
pub async fn create_user(
    State(state): State<AppState>,
    zone: AdminZone,
    AdminJson(body): AdminJson<UserBody>,
) -> AdminResult {
    let new = NewUser {
        email: body.email,
        password: Secret::new(body.password),
        name: body.name,
    };
    let now = crate::clock::now();
    let user = state
        .users()
        .create(&zone.environment, new, &zone.caller, now)
        .await?;
    Ok(created(UserResponse::from(user)))
}

/// `GET …/users`
pub async fn list_users(State(state): State<AppState>, zone: AdminZone) -> AdminResult {
    let users: Vec<UserResponse> = state
        .users()
        .list(&zone.environment)
        .await?
        .into_iter()
        .map(UserResponse::from)
        .collect();
    Ok(Json(json!({ "users": users })).into_response())
}

/// `GET …/users/{user_id}`
pub async fn show_user(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<UserPath>,
) -> AdminResult {
    let user_id = UserId::from(path.user_id);
    let user = state.users().find(&zone.environment, &user_id).await?;
    Ok(Json(UserResponse::from(user)).into_response())
}

/// `PATCH …/users/{user_id}`
pub async fn update_user(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<UserPath>,
    AdminJson(patch): AdminJson<UserPatch>,
) -> AdminResult {
    let changes = UserChanges {
        email: patch.email,
        name: patch.name,
        email_verified: patch.email_verified,
    };
    let user_id = UserId::from(path.user_id);
    let now = crate::clock::now();
    let user = state
        .users()
        .update(&zone.environment, &user_id, changes, &zone.caller, now)
        .await?;
    Ok(Json(UserResponse::from(user)).into_response())
}

/// `DELETE …/users/{user_id}`
pub async fn delete_user(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<UserPath>,
) -> AdminResult {
    let user_id = UserId::from(path.user_id);
    let now = crate::clock::now();
    state
        .users()
        .delete(&zone.environment, &user_id, &zone.caller, now)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST …/users/{user_id}/password`
pub async fn set_password(
    State(state): State<AppState>,
    zone: AdminZone,
    Path(path): Path<UserPath>,
    AdminJson(body): AdminJson<PasswordBody>,
) -> AdminResult {
    let user_id = UserId::from(path.user_id);
    let password = Secret::new(body.password);
    let now = crate::clock::now();
    state
        .users()
        .set_password(&zone.environment, &user_id, password, &zone.caller, now)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
