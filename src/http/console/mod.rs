//! The admin console (`/console`, public host only): server-rendered pages over the same service
//! layer as the admin API. One file per section; `session` resolves the operator and the zone of
//! every request, and checks the CSRF token of every form; `pages` holds the frame and the page
//! types. The zone is part of every URL (`/console/{project}/{environment}/…`), so a tab never acts
//! on another zone than the one it shows.

mod assets;
mod audit;
mod clients;
mod inbox;
mod keys;
mod pages;
mod releases;
mod session;
mod settings;
mod signin;
mod users;
mod webhooks;
mod zones;

use axum::Router;
use axum::routing::{get, post};

use self::pages::{Chrome, ConsoleError, ZoneChrome};
use self::session::ConsoleZone;
use super::AppState;

/// The zone routes, below `/console/{project}/{environment}`.
const ZONE: &str = "/console/{project}/{environment}";

pub fn routes() -> Router<AppState> {
    let zone = |path: &str| format!("{ZONE}{path}");
    Router::new()
        .route("/console", get(zones::home))
        .route(
            pages::SIGN_IN_PATH,
            get(signin::sign_in_page).post(signin::sign_in),
        )
        .route("/console/signout", post(signin::sign_out))
        .route("/console/environments", post(zones::create))
        .route("/console/_assets/{file}", get(assets::serve))
        .route(ZONE, get(zones::overview))
        .route(
            &zone("/delete"),
            get(zones::delete_page).post(zones::delete),
        )
        .route(&zone("/policy"), post(settings::policy))
        .route(&zone("/limits"), post(settings::limits))
        .route(&zone("/domains"), post(settings::add_domain))
        .route(
            &zone("/domains/{host}/{action}"),
            post(settings::domain_action),
        )
        .route(&zone("/clients"), get(clients::list).post(clients::create))
        .route(&zone("/clients/new"), get(clients::new_page))
        .route(
            &zone("/clients/{client_id}"),
            get(clients::show).post(clients::update),
        )
        .route(&zone("/clients/{client_id}/rotate"), post(clients::rotate))
        .route(
            &zone("/clients/{client_id}/delete"),
            get(clients::delete_page).post(clients::delete),
        )
        .route(&zone("/users"), get(users::list).post(users::create))
        .route(
            &zone("/users/{user_id}/password"),
            post(users::set_password),
        )
        .route(&zone("/users/{user_id}/delete"), post(users::delete))
        .route(&zone("/users/{user_id}/disable"), post(users::disable))
        .route(&zone("/users/{user_id}/enable"), post(users::enable))
        .route(&zone("/keys"), get(keys::list))
        .route(&zone("/keys/rotate"), post(keys::rotate))
        .route(&zone("/audit"), get(audit::list))
        .route(&zone("/audit/verify"), get(audit::verify))
        .route(&zone("/webhooks"), get(webhooks::list).post(webhooks::add))
        .route(
            &zone("/webhooks/endpoints/{endpoint_id}/{action}"),
            post(webhooks::endpoint_action),
        )
        .route(
            &zone("/webhooks/deliveries/{delivery_id}"),
            get(webhooks::delivery),
        )
        .route(
            &zone("/webhooks/deliveries/{delivery_id}/replay"),
            post(webhooks::replay),
        )
        .route(&zone("/inbox"), get(inbox::list))
        .route(&zone("/inbox/{message_id}"), get(inbox::show))
        .route(&zone("/releases"), get(releases::list))
        .route(
            &zone("/releases/promote"),
            get(releases::promotion_plan).post(releases::promote),
        )
        .route(
            &zone("/releases/{number}/rollback"),
            get(releases::rollback_plan).post(releases::rollback),
        )
}

/// The frame of a page in `zone`, showing `section`.
async fn zone_chrome(
    state: &AppState,
    zone: &ConsoleZone,
    section: &'static str,
) -> Result<Chrome, ConsoleError> {
    let zones = state
        .environments()
        .list(Some(&zone.environment.project), zone.caller())
        .await?;
    Ok(Chrome {
        csrf: zone.operator.session.csrf.clone(),
        zone: Some(ZoneChrome::new(&zone.environment, section, &zones)),
        read_only: zone.caller().read_only,
        signed_in: true,
        operator: zone.caller().require_installation().is_ok(),
    })
}

/// Whether a dangerous action in `zone` is confirmed: in a live zone its full name must be typed,
/// in a test zone a ticked confirmation is enough.
fn confirmed(zone: &ConsoleZone, fields: &crate::oidc::params::ParamBag) -> bool {
    let typed = fields.get("confirm").ok().flatten().map(str::trim);
    match zone.environment.kind {
        crate::model::EnvKind::Live => typed == Some(zone.environment.slug().as_str()),
        crate::model::EnvKind::Test => typed.is_some(),
    }
}

/// What a refused confirmation asks for.
fn confirm_notice(zone: &ConsoleZone) -> String {
    match zone.environment.kind {
        crate::model::EnvKind::Live => format!(
            "This is a live zone: type {} to confirm.",
            zone.environment.slug()
        ),
        crate::model::EnvKind::Test => "Tick the confirmation to go ahead.".to_string(),
    }
}
