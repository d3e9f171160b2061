//! A zone's mail. In a test zone, the captured inbox: each message whole, with its links (what a
//! sandbox user would have received). In a live zone, the log of what was sent, without bodies.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::pages::{Chrome, ConsoleError, ConsoleResult, render, timestamp};
use super::session::ConsoleZone;
use super::zone_chrome;
use crate::http::AppState;
use crate::model::{EnvKind, MailMessage};

/// Messages listed at most.
const SHOWN: i64 = 200;

struct MessageRow {
    message: MailMessage,
    href: String,
    created: String,
}

#[derive(Deserialize)]
pub struct InboxQuery {
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "console/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    rows: Vec<MessageRow>,
    to: String,
    test: bool,
}

/// `GET …/inbox?to=`
pub async fn list(
    State(state): State<AppState>,
    zone: ConsoleZone,
    query: Result<Query<InboxQuery>, QueryRejection>,
) -> ConsoleResult {
    let Query(query) = query.map_err(|_| ConsoleError::status(StatusCode::BAD_REQUEST))?;
    let to = query.to.unwrap_or_default();
    let chrome = zone_chrome(&state, &zone, "inbox").await?;
    let wanted = Some(to.trim()).filter(|to| !to.is_empty());
    let base = format!("/console/{}/inbox", zone.environment.slug());
    let rows = state
        .inbox()
        .list(&zone.environment, wanted, SHOWN)
        .await?
        .into_iter()
        .map(|message| MessageRow {
            href: format!("{base}/{}", message.message_id),
            created: timestamp(message.created_at),
            message,
        })
        .collect();
    let page = InboxPage {
        chrome,
        rows,
        to,
        test: zone.environment.kind == EnvKind::Test,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    chrome: Chrome,
    message: MailMessage,
    created: String,
    back: String,
}

#[derive(Deserialize)]
pub struct MessagePath {
    message_id: String,
}

/// `GET …/inbox/{message_id}`
pub async fn show(
    State(state): State<AppState>,
    zone: ConsoleZone,
    Path(path): Path<MessagePath>,
) -> ConsoleResult {
    let chrome = zone_chrome(&state, &zone, "inbox").await?;
    let message = state
        .inbox()
        .show(&zone.environment, &path.message_id)
        .await?;
    let page = MessagePage {
        chrome,
        created: timestamp(message.created_at),
        back: format!("/console/{}/inbox", zone.environment.slug()),
        message,
    };
    Ok(render(StatusCode::OK, &page))
}
