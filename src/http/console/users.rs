//! A zone's users: list and search, create, set a new password (ending their sessions), delete.
//! Fixture users (seeded in test zones) are marked.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::clients::{ListQuery, list_query};
use super::pages::{Chrome, ConsoleResult, Paging, refused_if, render, timestamp};
use super::session::{ConsoleZone, ZoneForm};
use super::zones::message_of;
use super::{confirm_notice, confirmed, zone_chrome};
use crate::http::AppState;
use crate::model::{EnvKind, Secret, User, UserId};
use crate::service::Error;
use crate::service::admin::users::NewUser;

struct UserRow {
    user: User,
    created: String,
    href: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    paging: Paging,
    action: String,
    live: bool,
    slug: String,
    test: bool,
    notice: Option<String>,
    /// The email typed in a refused creation, kept for the next try.
    email: String,
}

async fn users_page(
    state: &AppState,
    zone: &ConsoleZone,
    (q, page): (String, usize),
    notice: Option<String>,
    email: String,
) -> ConsoleResult {
    let chrome = zone_chrome(state, zone, "users").await?;
    let base = format!("/console/{}/users", zone.environment.slug());
    let users = state.users().list(&zone.environment).await?;
    let matches = |user: &User, needle: &str| {
        user.email.to_lowercase().contains(needle)
            || user.user_id.as_str().to_lowercase().contains(needle)
            || user
                .name
                .as_deref()
                .is_some_and(|name| name.to_lowercase().contains(needle))
    };
    let (users, paging) = Paging::of(users, &q, matches, page, &base);
    let rows = users
        .into_iter()
        .map(|user| UserRow {
            created: timestamp(user.created_at),
            href: format!("{base}/{}", user.user_id.as_str()),
            user,
        })
        .collect();
    let status = refused_if(&notice);
    let page = UsersPage {
        chrome,
        rows,
        paging,
        action: base,
        live: zone.environment.kind == EnvKind::Live,
        slug: zone.environment.slug(),
        test: zone.environment.kind == EnvKind::Test,
        notice,
        email,
    };
    Ok(render(status, &page))
}

/// `GET …/users?q=&page=`
pub async fn list(
    State(state): State<AppState>,
    zone: ConsoleZone,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ConsoleResult {
    let query = list_query(query)?;
    users_page(&state, &zone, query, None, String::new()).await
}

fn users_href(zone: &ConsoleZone) -> String {
    format!("/console/{}/users", zone.environment.slug())
}

/// `POST …/users`
pub async fn create(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let text = |name: &str| fields.get(name).ok().flatten().unwrap_or("").to_string();
    let email = text("email").trim().to_string();
    let name = Some(text("name").trim().to_string()).filter(|name| !name.is_empty());
    let new = NewUser {
        email: email.clone(),
        password: Secret::new(text("password")),
        name,
    };
    match state
        .users()
        .create(&zone.environment, new, zone.caller(), zone.now)
        .await
    {
        Ok(_) => Ok(Redirect::to(&users_href(&zone)).into_response()),
        Err(error @ (Error::Invalid(_) | Error::Conflict)) => {
            let query = (String::new(), 1);
            users_page(&state, &zone, query, Some(message_of(&error)), email).await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Deserialize)]
pub struct UserPath {
    user_id: String,
}

/// `POST …/users/{user_id}/password`: a new password; the user's sessions and grants end.
pub async fn set_password(
    State(state): State<AppState>,
    Path(path): Path<UserPath>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let password = fields.get("password").ok().flatten().unwrap_or("");
    let user_id = UserId::from(path.user_id);
    let changed = state
        .users()
        .set_password(
            &zone.environment,
            &user_id,
            Secret::new(password.to_string()),
            false,
            zone.caller(),
            zone.now,
        )
        .await;
    match changed {
        Ok(_) => Ok(Redirect::to(&users_href(&zone)).into_response()),
        Err(error @ Error::Invalid(_)) => {
            let query = (String::new(), 1);
            users_page(
                &state,
                &zone,
                query,
                Some(message_of(&error)),
                String::new(),
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST …/users/{user_id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    Path(path): Path<UserPath>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    if !confirmed(&zone, &fields) {
        let notice = confirm_notice(&zone);
        let query = (String::new(), 1);
        return users_page(&state, &zone, query, Some(notice), String::new()).await;
    }
    state
        .users()
        .delete(
            &zone.environment,
            &UserId::from(path.user_id),
            zone.caller(),
            zone.now,
        )
        .await?;
    Ok(Redirect::to(&users_href(&zone)).into_response())
}

/// `POST …/users/{user_id}/disable`: the user cannot sign in; their sessions and tokens end.
pub async fn disable(
    State(state): State<AppState>,
    Path(path): Path<UserPath>,
    form: ZoneForm,
) -> ConsoleResult {
    set_disabled(&state, path, form.zone, true).await
}

/// `POST …/users/{user_id}/enable`
pub async fn enable(
    State(state): State<AppState>,
    Path(path): Path<UserPath>,
    form: ZoneForm,
) -> ConsoleResult {
    set_disabled(&state, path, form.zone, false).await
}

async fn set_disabled(
    state: &AppState,
    path: UserPath,
    zone: ConsoleZone,
    disabled: bool,
) -> ConsoleResult {
    let user_id = UserId::from(path.user_id);
    state
        .users()
        .set_disabled(
            &zone.environment,
            &user_id,
            disabled,
            zone.caller(),
            zone.now,
        )
        .await?;
    Ok(Redirect::to(&users_href(&zone)).into_response())
}
