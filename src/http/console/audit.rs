//! A zone's audit log: filtered by type, outcome, client, actor and time, newest first, and the
//! check of its hash chain with the result shown.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::pages::{Chrome, ConsoleError, ConsoleResult, render, timestamp};
use super::session::ConsoleZone;
use super::zone_chrome;
use crate::http::AppState;
use crate::service::admin::audit::{AuditFilter, AuditView, ChainReport};

/// Entries shown at most: the newest that match.
const SHOWN: i64 = 200;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(rename = "type")]
    event: Option<String>,
    outcome: Option<String>,
    client_id: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

struct EntryRow {
    entry: AuditView,
    at: String,
    details: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    filter: AuditQuery,
    rows: Vec<EntryRow>,
    shown: i64,
    verify_href: String,
    report: Option<ChainReport>,
}

/// `2026-12-02`, `2026-12-02T19:18` (as a `datetime-local` field sends it) or with seconds, in
/// UTC, as seconds since the epoch; `end_of_day` picks the last second of a bare date.
fn parse_time(text: &str, end_of_day: bool) -> Option<i64> {
    let (date, clock) = match text.split_once('T') {
        Some((date, clock)) => (date, Some(clock)),
        None => (text, None),
    };
    let mut date_parts = date.split('-').map(str::parse::<i32>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day)), None) = (
        date_parts.next(),
        date_parts.next(),
        date_parts.next(),
        date_parts.next(),
    ) else {
        return None;
    };
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let clock = match clock {
        Some(clock) => {
            let parts: Vec<u8> = clock
                .split(':')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            match parts[..] {
                [hour, minute] => time::Time::from_hms(hour, minute, 0).ok()?,
                [hour, minute, second] => time::Time::from_hms(hour, minute, second).ok()?,
                _ => return None,
            }
        }
        None if end_of_day => time::Time::from_hms(23, 59, 59).ok()?,
        None => time::Time::MIDNIGHT,
    };
    Some(date.with_time(clock).assume_utc().unix_timestamp())
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

async fn audit_page(
    state: &AppState,
    zone: &ConsoleZone,
    filter: AuditQuery,
    report: Option<ChainReport>,
) -> ConsoleResult {
    let bad_time = || {
        ConsoleError::from(crate::service::Error::Invalid(
            "times are YYYY-MM-DD or YYYY-MM-DDTHH:MM, in UTC".into(),
        ))
    };
    let since = match present(&filter.since) {
        Some(text) => Some(parse_time(&text, false).ok_or_else(bad_time)?),
        None => None,
    };
    let until = match present(&filter.until) {
        Some(text) => Some(parse_time(&text, true).ok_or_else(bad_time)?),
        None => None,
    };
    let query = AuditFilter {
        since,
        until,
        event: present(&filter.event),
        outcome: present(&filter.outcome),
        client_id: present(&filter.client_id),
        actor: present(&filter.actor),
        limit: Some(SHOWN),
    };
    let chrome = zone_chrome(state, zone, "audit").await?;
    let mut entries = state.audit_trail().list(&zone.environment, query).await?;
    entries.reverse();
    let rows = entries
        .into_iter()
        .map(|entry| EntryRow {
            at: timestamp(entry.entry.at),
            details: entry.details.to_string(),
            entry,
        })
        .collect();
    let page = AuditPage {
        chrome,
        filter,
        rows,
        shown: SHOWN,
        verify_href: format!("/console/{}/audit/verify", zone.environment.slug()),
        report,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `GET …/audit?type=&outcome=&client_id=&actor=&since=&until=`
pub async fn list(
    State(state): State<AppState>,
    zone: ConsoleZone,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ConsoleResult {
    let Query(filter) = query.map_err(|_| ConsoleError::status(StatusCode::BAD_REQUEST))?;
    audit_page(&state, &zone, filter, None).await
}

/// `GET …/audit/verify`: checks the whole chain and shows the result above the latest entries.
pub async fn verify(State(state): State<AppState>, zone: ConsoleZone) -> ConsoleResult {
    let report = state.audit_trail().verify(&zone.environment).await?;
    audit_page(&state, &zone, AuditQuery::default(), Some(report)).await
}
