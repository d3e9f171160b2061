//! A zone's clients: list and search, register, edit URIs, rotate a secret (shown once), delete.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::pages::{Chrome, ConsoleError, ConsoleResult, Paging, refused_if, render, timestamp};
use super::session::{ConsoleZone, ZoneForm};
use super::zones::{ConfirmPage, message_of};
use super::{confirm_notice, confirmed, zone_chrome};
use crate::http::AppState;
use crate::model::{Client, ClientId, SigningAlg, TokenAuthMethod};
use crate::oidc::params::ParamBag;
use crate::service::Error;
use crate::service::admin::clients::{ClientChanges, NewClient};

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<usize>,
}

/// A list's query, or a 400 page.
pub(super) fn list_query(
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<(String, usize), ConsoleError> {
    let Query(query) = query.map_err(|_| ConsoleError::status(StatusCode::BAD_REQUEST))?;
    Ok((query.q.unwrap_or_default(), query.page.unwrap_or(1)))
}

struct ClientRow {
    client: Client,
    href: String,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    chrome: Chrome,
    rows: Vec<ClientRow>,
    paging: Paging,
    test: bool,
}

/// `GET …/clients?q=&page=`
pub async fn list(
    State(state): State<AppState>,
    zone: ConsoleZone,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ConsoleResult {
    let (q, page) = list_query(query)?;
    let chrome = zone_chrome(&state, &zone, "clients").await?;
    let base = format!("/console/{}/clients", zone.environment.slug());
    let clients = state.clients().list(&zone.environment).await?;
    let matches = |client: &Client, needle: &str| {
        client.name.to_lowercase().contains(needle)
            || client.client_id.as_str().to_lowercase().contains(needle)
    };
    let (clients, paging) = Paging::of(clients, &q, matches, page, &base);
    let rows = clients
        .into_iter()
        .map(|client| ClientRow {
            href: format!("{base}/{}", client.client_id.as_str()),
            client,
        })
        .collect();
    let page = ClientsPage {
        chrome,
        rows,
        paging,
        test: zone.environment.kind == crate::model::EnvKind::Test,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The registration form's fields, as typed.
#[derive(Default)]
struct ClientFields {
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    public: bool,
    first_party: bool,
    auth_method: String,
    alg: String,
}

impl ClientFields {
    fn read(fields: &ParamBag) -> Self {
        let text = |name: &str| fields.get(name).ok().flatten().unwrap_or("").to_string();
        ClientFields {
            name: text("name").trim().to_string(),
            redirect_uris: text("redirect_uris"),
            post_logout_redirect_uris: text("post_logout_redirect_uris"),
            public: text("type") == "public",
            first_party: text("first_party") == "on",
            auth_method: text("token_endpoint_auth_method"),
            alg: text("id_token_signed_response_alg"),
        }
    }
}

/// One URI per line; blank lines are ignored.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Template)]
#[template(path = "console/client_new.html")]
struct NewClientPage {
    chrome: Chrome,
    action: String,
    fields: ClientFields,
    notice: Option<String>,
}

/// `GET …/clients/new`
pub async fn new_page(State(state): State<AppState>, zone: ConsoleZone) -> ConsoleResult {
    let page = NewClientPage {
        chrome: zone_chrome(&state, &zone, "clients").await?,
        action: format!("/console/{}/clients", zone.environment.slug()),
        fields: ClientFields::default(),
        notice: None,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "console/client_secret.html")]
struct SecretPage {
    chrome: Chrome,
    client_id: String,
    name: String,
    secret: Option<String>,
    href: String,
    issuer: String,
}

/// `POST …/clients`: registers the client and shows its secret, once.
pub async fn create(State(state): State<AppState>, form: ZoneForm) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let typed = ClientFields::read(&fields);
    let method = match typed.auth_method.as_str() {
        "" => None,
        method => TokenAuthMethod::parse(method),
    };
    let request = NewClient {
        name: typed.name.clone(),
        redirect_uris: lines(&typed.redirect_uris),
        post_logout_redirect_uris: lines(&typed.post_logout_redirect_uris),
        public: typed.public,
        first_party: typed.first_party,
        id_token_signed_response_alg: SigningAlg::parse(&typed.alg).unwrap_or(SigningAlg::RS256),
        token_endpoint_auth_method: if typed.public {
            Some(TokenAuthMethod::None)
        } else {
            method
        },
        jwks: None,
        jwks_uri: None,
    };
    let created = state
        .clients()
        .create(&zone.environment, request, zone.caller(), zone.now)
        .await;
    let issued = match created {
        Ok(issued) => issued,
        Err(error @ (Error::Invalid(_) | Error::Conflict)) => {
            let page = NewClientPage {
                chrome: zone_chrome(&state, &zone, "clients").await?,
                action: format!("/console/{}/clients", zone.environment.slug()),
                fields: typed,
                notice: Some(message_of(&error)),
            };
            return Ok(render(StatusCode::BAD_REQUEST, &page));
        }
        Err(error) => return Err(error.into()),
    };
    let page = SecretPage {
        chrome: zone_chrome(&state, &zone, "clients").await?,
        href: client_href(&zone, &issued.client.client_id),
        client_id: issued.client.client_id.as_str().to_string(),
        name: issued.client.name,
        secret: issued
            .client_secret
            .map(|secret| secret.expose().to_string()),
        issuer: state.environments().view(&zone.environment).issuer,
    };
    Ok(render(StatusCode::OK, &page))
}

fn client_href(zone: &ConsoleZone, client_id: &ClientId) -> String {
    format!(
        "/console/{}/clients/{}",
        zone.environment.slug(),
        client_id.as_str()
    )
}

#[derive(Template)]
#[template(path = "console/client.html")]
struct ClientPage {
    chrome: Chrome,
    client: Client,
    href: String,
    created: String,
    has_secret: bool,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    notice: Option<String>,
}

async fn client_page(
    state: &AppState,
    zone: &ConsoleZone,
    client: Client,
    notice: Option<String>,
) -> ConsoleResult {
    let status = refused_if(&notice);
    let page = ClientPage {
        chrome: zone_chrome(state, zone, "clients").await?,
        href: client_href(zone, &client.client_id),
        created: timestamp(client.created_at),
        has_secret: client.token_endpoint_auth_method.has_secret(),
        redirect_uris: client.redirect_uris.join("\n"),
        post_logout_redirect_uris: client.post_logout_redirect_uris.join("\n"),
        client,
        notice,
    };
    Ok(render(status, &page))
}

#[derive(Deserialize)]
pub struct ClientPath {
    client_id: String,
}

/// `GET …/clients/{client_id}`
pub async fn show(
    State(state): State<AppState>,
    zone: ConsoleZone,
    Path(path): Path<ClientPath>,
) -> ConsoleResult {
    let client_id = ClientId::from(path.client_id);
    let client = state.clients().find(&zone.environment, &client_id).await?;
    client_page(&state, &zone, client, None).await
}

/// `POST …/clients/{client_id}`: name, URIs and first-party flag.
pub async fn update(
    State(state): State<AppState>,
    Path(path): Path<ClientPath>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let client_id = ClientId::from(path.client_id);
    let typed = ClientFields::read(&fields);
    let changes = ClientChanges {
        name: Some(typed.name),
        redirect_uris: Some(lines(&typed.redirect_uris)),
        post_logout_redirect_uris: Some(lines(&typed.post_logout_redirect_uris)),
        first_party: Some(typed.first_party),
        ..ClientChanges::default()
    };
    let updated = state
        .clients()
        .update(
            &zone.environment,
            &client_id,
            changes,
            zone.caller(),
            zone.now,
        )
        .await;
    match updated {
        Ok(_) => Ok(Redirect::to(&client_href(&zone, &client_id)).into_response()),
        Err(error @ Error::Invalid(_)) => {
            let client = state.clients().find(&zone.environment, &client_id).await?;
            client_page(&state, &zone, client, Some(message_of(&error))).await
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST …/clients/{client_id}/rotate`: a new secret, shown once; the old one stops at once.
pub async fn rotate(
    State(state): State<AppState>,
    Path(path): Path<ClientPath>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, .. } = form;
    let client_id = ClientId::from(path.client_id);
    let secret = state
        .clients()
        .rotate_secret(&zone.environment, &client_id, zone.caller(), zone.now)
        .await?;
    let client = state.clients().find(&zone.environment, &client_id).await?;
    let page = SecretPage {
        chrome: zone_chrome(&state, &zone, "clients").await?,
        href: client_href(&zone, &client_id),
        client_id: client_id.as_str().to_string(),
        name: client.name,
        secret: Some(secret.expose().to_string()),
        issuer: state.environments().view(&zone.environment).issuer,
    };
    Ok(render(StatusCode::OK, &page))
}

fn delete_confirmation(chrome: Chrome, zone: &ConsoleZone, client: &Client) -> ConfirmPage {
    ConfirmPage::new(
        chrome,
        &zone.environment,
        format!("Delete the client {}", client.name),
        format!("{}/delete", client_href(zone, &client.client_id)),
    )
}

/// `GET …/clients/{client_id}/delete`
pub async fn delete_page(
    State(state): State<AppState>,
    zone: ConsoleZone,
    Path(path): Path<ClientPath>,
) -> ConsoleResult {
    let client_id = ClientId::from(path.client_id);
    let client = state.clients().find(&zone.environment, &client_id).await?;
    let chrome = zone_chrome(&state, &zone, "clients").await?;
    let mut page = delete_confirmation(chrome, &zone, &client);
    page.message = format!(
        "Deleting {} ends every session, code and token issued to it. This cannot be undone.",
        client.name
    );
    Ok(render(StatusCode::OK, &page))
}

/// `POST …/clients/{client_id}/delete`
pub async fn delete(
    State(state): State<AppState>,
    Path(path): Path<ClientPath>,
    form: ZoneForm,
) -> ConsoleResult {
    let ZoneForm { zone, fields } = form;
    let client_id = ClientId::from(path.client_id);
    if !confirmed(&zone, &fields) {
        let client = state.clients().find(&zone.environment, &client_id).await?;
        let chrome = zone_chrome(&state, &zone, "clients").await?;
        let mut page = delete_confirmation(chrome, &zone, &client);
        page.notice = Some(confirm_notice(&zone));
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    }
    state
        .clients()
        .delete(&zone.environment, &client_id, zone.caller(), zone.now)
        .await?;
    Ok(Redirect::to(&format!("/console/{}/clients", zone.environment.slug())).into_response())
}
