//! End users of one environment.

use axum::extract::Path;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminJson, AdminResult, AdminZone, created, listed, no_content, ok};
use crate::http::AppState;
use crate::model::{ClientId, Secret, User, UserId};
use crate::service::admin::users::{NewUser, UserChanges};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(show_user, update_user, delete_user))
        .routes(routes!(set_password))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(revoke_consent))
}

/// The user named in the path (after its project and environment).
#[derive(Deserialize)]
pub struct UserPath {
    user_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    email: String,
    password: String,
    name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    email: Option<String>,
    name: Option<String>,
    email_verified: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
    /// Keep the user's grants (and so their refresh and access tokens); they are revoked otherwise.
    #[serde(default)]
    keep_grants: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
struct UserResponse {
    sub: String,
    email: String,
    email_verified: bool,
    name: Option<String>,
    created_at: i64,
    updated_at: i64,
    /// Seeded by `airlock env seed`.
    fixture: bool,
    /// Created by the person through sign-up.
    signed_up: bool,
    /// When an admin disabled the account; absent while it may sign in.
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_at: Option<i64>,
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
            fixture: user.fixture,
            signed_up: user.signed_up,
            disabled_at: user.disabled_at,
        }
    }
}

/// `POST …/users`
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = UserBody,
    responses((status = 201, description = "Created", body = UserResponse))
)]
pub async fn create_user(zone: AdminZone, AdminJson(body): AdminJson<UserBody>) -> AdminResult {
    let new = NewUser {
        email: body.email,
        password: Secret::new(body.password),
        name: body.name,
    };
    let user = zone
        .airlock
        .users()
        .create(&zone.environment, new, &zone.caller, zone.now)
        .await?;
    created(UserResponse::from(user))
}

/// `GET …/users`
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn list_users(zone: AdminZone) -> AdminResult {
    let users = zone.airlock.users().list(&zone.environment).await?;
    listed::<_, UserResponse>("users", users)
}

/// `GET …/users/{user_id}`
#[utoipa::path(
    get,
    path = "/users/{user_id}",
    tag = "users",
    responses((status = 200, description = "OK", body = UserResponse))
)]
pub async fn show_user(zone: AdminZone, Path(path): Path<UserPath>) -> AdminResult {
    let user_id = UserId::from(path.user_id);
    let user = zone
        .airlock
        .users()
        .find(&zone.environment, &user_id)
        .await?;
    ok(UserResponse::from(user))
}

/// `PATCH …/users/{user_id}`
#[utoipa::path(
    patch,
    path = "/users/{user_id}",
    tag = "users",
    request_body = UserPatch,
    responses((status = 200, description = "OK", body = UserResponse))
)]
pub async fn update_user(
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
    let user = zone
        .airlock
        .users()
        .update(&zone.environment, &user_id, changes, &zone.caller, zone.now)
        .await?;
    ok(UserResponse::from(user))
}

/// `DELETE …/users/{user_id}`
#[utoipa::path(
    delete,
    path = "/users/{user_id}",
    tag = "users",
    responses((status = 204, description = "Done"))
)]
pub async fn delete_user(zone: AdminZone, Path(path): Path<UserPath>) -> AdminResult {
    let user_id = UserId::from(path.user_id);
    zone.airlock
        .users()
        .delete(&zone.environment, &user_id, &zone.caller, zone.now)
        .await?;
    no_content()
}

/// `POST …/users/{user_id}/password`
#[utoipa::path(
    post,
    path = "/users/{user_id}/password",
    tag = "users",
    request_body = PasswordBody,
    responses((status = 204, description = "Done"))
)]
pub async fn set_password(
    zone: AdminZone,
    Path(path): Path<UserPath>,
    AdminJson(body): AdminJson<PasswordBody>,
) -> AdminResult {
    let user_id = UserId::from(path.user_id);
    let password = Secret::new(body.password);
    zone.airlock
        .users()
        .set_password(
            &zone.environment,
            &user_id,
            password,
            body.keep_grants,
            &zone.caller,
            zone.now,
        )
        .await?;
    no_content()
}

/// `POST …/users/{user_id}/disable`: the user cannot sign in; their sessions end and their grants
/// are revoked.
#[utoipa::path(
    post,
    path = "/users/{user_id}/disable",
    tag = "users",
    responses((status = 200, description = "OK", body = UserResponse))
)]
pub async fn disable_user(zone: AdminZone, Path(path): Path<UserPath>) -> AdminResult {
    set_disabled(zone, path, true).await
}

/// `POST …/users/{user_id}/enable`
#[utoipa::path(
    post,
    path = "/users/{user_id}/enable",
    tag = "users",
    responses((status = 200, description = "OK", body = UserResponse))
)]
pub async fn enable_user(zone: AdminZone, Path(path): Path<UserPath>) -> AdminResult {
    set_disabled(zone, path, false).await
}

async fn set_disabled(zone: AdminZone, path: UserPath, disabled: bool) -> AdminResult {
    let user = zone
        .airlock
        .users()
        .set_disabled(
            &zone.environment,
            &UserId::from(path.user_id),
            disabled,
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(UserResponse::from(user))
}

#[derive(Deserialize)]
pub struct ConsentPath {
    user_id: String,
    client_id: String,
}

/// `DELETE …/users/{user_id}/consents/{client_id}`
#[utoipa::path(
    delete,
    path = "/users/{user_id}/consents/{client_id}",
    tag = "users",
    responses((status = 200, description = "OK", body = Value))
)]
pub async fn revoke_consent(zone: AdminZone, Path(path): Path<ConsentPath>) -> AdminResult {
    let revoked_grants = zone
        .airlock
        .users()
        .revoke_consent(
            &zone.environment,
            &UserId::from(path.user_id),
            &ClientId::from(path.client_id),
            &zone.caller,
            zone.now,
        )
        .await?;
    ok(serde_json::json!({ "revoked_grants": revoked_grants }))
}
