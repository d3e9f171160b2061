//! A zone's policy (token and session lifetimes, account flows), limits and custom domains, as
//! changed from its overview page.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::pages::ConsoleResult;
use super::session::{ConsoleZone, ZoneForm};
use super::zones::{message_of, overview_page};
use super::{confirm_notice, confirmed};
use crate::http::AppState;
use crate::oidc::params::ParamBag;
use crate::service::Error;
use crate::service::admin::environments::{LimitChanges, PolicyChanges};

/// A number field: empty keeps the current value; anything else must be a whole number.
fn number(fields: &ParamBag, name: &str) -> Result<Option<i64>, Error> {
    match fields.get(name).ok().flatten().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| Error::Invalid(format!("{name} is a whole number"))),
    }
}

fn overview(zone: &ConsoleZone) -> Redirect {
    Redirect::to(&format!("/console/{}", zone.environment.slug()))
}

/// The overview again with the refusal's reason, or the error page for anything else.
async fn refused(state: &AppState, zone: &ConsoleZone, error: Error) -> ConsoleResult {
    match error {
        Error::Invalid(_) | Error::Conflict => {
            overview_page(state, zone, Some(message_of(&error))).await
        }
        error => Err(error.into()),
    }
}

/// `POST …/policy`
pub async fn policy(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let read = || -> Result<PolicyChanges, Error> {
        Ok(PolicyChanges {
            access_token_ttl: number(&fields, "access_token_ttl")?,
            id_token_ttl: number(&fields, "id_token_ttl")?,
            refresh_token_ttl: number(&fields, "refresh_token_ttl")?,
            refresh_family_ttl: number(&fields, "refresh_family_ttl")?,
            session_ttl: number(&fields, "session_ttl")?,
            signup: Some(fields.get("signup").ok().flatten().is_some()),
            require_verified_email: Some(
                fields
                    .get("require_verified_email")
                    .ok()
                    .flatten()
                    .is_some(),
            ),
            password_min_length: number(&fields, "password_min_length")?,
            mail_from: None,
            product_name: None,
        })
    };
    let changed = match read() {
        Ok(changes) => {
            state
                .environments()
                .set_policy(&zone.environment, changes, zone.caller(), zone.now)
                .await
        }
        Err(error) => Err(error),
    };
    match changed {
        Ok(_) => Ok(overview(&zone).into_response()),
        Err(error) => refused(&state, &zone, error).await,
    }
}

/// `POST …/limits`
pub async fn limits(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let read = || -> Result<LimitChanges, Error> {
        Ok(LimitChanges {
            token_requests_per_minute: number(&fields, "token_requests_per_minute")?,
            signin_failures_per_minute: number(&fields, "signin_failures_per_minute")?,
            lockout_threshold: number(&fields, "lockout_threshold")?,
        })
    };
    let changed = match read() {
        Ok(changes) => {
            state
                .environments()
                .set_limits(&zone.environment, changes, zone.caller(), zone.now)
                .await
        }
        Err(error) => Err(error),
    };
    match changed {
        Ok(_) => Ok(overview(&zone).into_response()),
        Err(error) => refused(&state, &zone, error).await,
    }
}

/// `POST …/domains`: a host claimed for this zone, pending until its TXT record proves it.
pub async fn add_domain(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let host = fields.get("host").ok().flatten().unwrap_or("").trim();
    let added = state
        .domains()
        .add(&zone.environment, host, None, zone.caller(), zone.now)
        .await;
    match added {
        Ok(_) => Ok(overview(&zone).into_response()),
        Err(error) => refused(&state, &zone, error).await,
    }
}

#[derive(Deserialize)]
pub struct DomainAction {
    host: String,
    action: String,
}

/// `POST …/domains/{host}/{verify|remove}`
pub async fn domain_action(
    State(state): State<AppState>,
    Path(DomainAction { host, action }): Path<DomainAction>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let (environment, caller, now) = (&zone.environment, zone.caller(), zone.now);
    let done = match action.as_str() {
        "verify" => state
            .domains()
            .verify(environment, &host, false, caller, now)
            .await
            .map(drop),
        "remove" if !confirmed(&zone, &fields) => Err(Error::Invalid(confirm_notice(&zone))),
        "remove" => {
            state
                .domains()
                .remove(environment, &host, caller, now)
                .await
        }
        _ => Err(Error::NotFound),
    };
    match done {
        Ok(()) => Ok(overview(&zone).into_response()),
        Err(error) => refused(&state, &zone, error).await,
    }
}
