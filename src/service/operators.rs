//! Operator accounts: people who sign in to the console through Airlock's own OIDC code flow with
//! PKCE, as users of the installation's operators zone (`admin/operators`), instead of pasting an
//! admin token. The console is that zone's first-party public client, and redeems its codes and
//! checks its ID tokens as any relying party would. What an operator may reach and do is an
//! admin-token record held by their subject, so revoking it ends their sessions at once.

use serde::Serialize;
use subtle::ConstantTimeEq;

use super::admin::clients::{ClientChanges, NewClient};
use super::admin::users::NewUser;
use super::{Airlock, Call, Caller, Error};
use crate::audit::AuditEvent;
use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{ClientId, EnvKind, Environment, OPERATORS_ZONE, Project, Secret, SigningAlg};
use crate::oidc::client_auth::{AuthMethod, PresentedClient};
use crate::oidc::endpoints::Endpoint;
use crate::oidc::token_request::{GrantRequest, TokenRequest};
use crate::oidc::{pkce, redirect};
use crate::store::{AdminTokenRecord, EnvStore};

pub const PROJECT: &str = OPERATORS_ZONE.0;
pub const ENVIRONMENT: &str = OPERATORS_ZONE.1;
/// The console's client in the operators zone.
const CONSOLE_CLIENT: &str = "console";
/// Where the operators zone sends the browser back to: the console's sign-in page.
pub const CALLBACK_PATH: &str = "/console/signin";

pub struct NewOperator {
    pub email: String,
    pub password: Secret,
    /// The one environment the operator reaches; every one when `None`.
    pub reach: Option<Environment>,
    pub read_only: bool,
}

/// An operator as listed: never a password.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorView {
    pub operator_id: String,
    pub email: String,
    pub sub: String,
    /// `PROJECT/ENV` when bound to one environment.
    pub environment: Option<String>,
    pub read_only: bool,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Makes `email` an operator: a user of the operators zone (created with it and its console client
/// when missing) holding an authority with the given reach and access.
pub async fn add(
    airlock: &Airlock,
    new: NewOperator,
    caller: &Caller,
    now: i64,
) -> Result<OperatorView, Error> {
    caller.require_installation()?;
    let email = normalised(&new.email);
    if new.reach.as_ref().is_some_and(is_operators_zone) {
        return Err(Error::Invalid(OWN_ZONE.into()));
    }
    let zone = ensure_zone(airlock, now).await?;
    register_console(airlock, &zone, now).await?;
    let users = airlock.users();
    let existing = EnvStore::new(&airlock.db, &zone.id)
        .find_user_by_email(&email)
        .await?;
    let user_id = match existing {
        Some(user) => {
            if airlock
                .db
                .find_operator(user.user_id.as_str(), now)
                .await?
                .is_some()
            {
                return Err(Error::Invalid(format!(
                    "{email} is already an operator: remove them first to change what they reach"
                )));
            }
            users
                .set_password(&zone, &user.user_id, new.password, false, caller, now)
                .await?;
            user.user_id
        }
        None => {
            let user = NewUser {
                email: email.clone(),
                password: new.password,
                name: None,
            };
            users.create(&zone, user, caller, now).await?.user_id
        }
    };
    let record = AdminTokenRecord {
        token_id: format!("op_{}", secrets::random_id()),
        env_id: new.reach.as_ref().map(|environment| environment.id.clone()),
        name: email,
        read_only: new.read_only,
        created_at: now,
        expires_at: None,
        revoked_at: None,
    };
    let unissued = secrets::digest(&secrets::random_token());
    airlock
        .db
        .insert_operator(&record, &unissued, user_id.as_str())
        .await?;
    match &new.reach {
        Some(environment) => {
            let event = AuditEvent::AdminTokenCreated {
                token_id: record.token_id.clone(),
                name: record.name.clone(),
            };
            airlock
                .audit
                .record_by(environment, caller, event, now)
                .await?;
        }
        None => tracing::info!(operator_id = %record.token_id, "installation-wide operator added"),
    }
    view(airlock, record, user_id.to_string()).await
}

/// Every operator, removed ones included.
pub async fn list(airlock: &Airlock, caller: &Caller) -> Result<Vec<OperatorView>, Error> {
    caller.require_installation()?;
    let mut operators = Vec::new();
    for (record, sub) in airlock.db.list_operators().await? {
        operators.push(view(airlock, record, sub).await?);
    }
    Ok(operators)
}

/// Ends an operator: their authority is revoked (their console sessions end at once, on every
/// node) and their account in the operators zone, if it is still there, is deleted.
pub async fn remove(
    airlock: &Airlock,
    email: &str,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    caller.require_installation()?;
    let email = normalised(email);
    let zone = airlock.db.find_environment(PROJECT, ENVIRONMENT).await?;
    let account = match &zone {
        Some(zone) => {
            EnvStore::new(&airlock.db, &zone.id)
                .find_user_by_email(&email)
                .await?
        }
        None => None,
    };
    let sub = account.as_ref().map(|user| user.user_id.to_string());
    // By subject, or by the address it was added with (the account may be gone already).
    let held: Vec<AdminTokenRecord> = airlock
        .db
        .list_operators()
        .await?
        .into_iter()
        .filter(|(record, held_by)| {
            record.revoked_at.is_none() && (Some(held_by) == sub.as_ref() || record.name == email)
        })
        .map(|(record, _)| record)
        .collect();
    if held.is_empty() && account.is_none() {
        return Err(Error::NotFound);
    }
    for record in held {
        airlock
            .admin_tokens()
            .revoke(&record.token_id, caller, now)
            .await?;
    }
    match (zone, account) {
        (Some(zone), Some(user)) => {
            airlock
                .users()
                .delete(&zone, &user.user_id, caller, now)
                .await
        }
        _ => Ok(()),
    }
}

/// Where an operator's sign-in goes, and what the browser keeps until it comes back.
pub struct OperatorSignIn {
    pub authorization_url: String,
    /// `state.nonce.code_verifier`, kept in an `HttpOnly` cookie of the console.
    pub flow: String,
}

/// Starts an operator's sign-in; `None` when there is no operators zone yet, or its console client
/// does not know this public URL's callback.
pub async fn start_sign_in(airlock: &Airlock) -> Result<Option<OperatorSignIn>, Error> {
    let Some(zone) = airlock.zones().path_zone(PROJECT, ENVIRONMENT).await? else {
        return Ok(None);
    };
    let Some(client_id) = console_client(airlock, &zone).await? else {
        return Ok(None);
    };
    let (state, nonce, verifier) = (
        secrets::random_token(),
        secrets::random_token(),
        secrets::random_token(),
    );
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id.as_str())
        .append_pair("redirect_uri", &callback(airlock))
        .append_pair("scope", "openid email")
        // The password every time: a console sign-out must not leave a session in the operators
        // zone that lets the next person at this browser straight back in.
        .append_pair("prompt", "login")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &pkce::s256_challenge(&verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    Ok(Some(OperatorSignIn {
        authorization_url: format!(
            "{}?{query}",
            zone.issuer.endpoint(Endpoint::Authorization.path())
        ),
        flow: format!("{state}.{nonce}.{verifier}"),
    }))
}

/// How an operator's return from the operators zone ended.
pub enum SignInOutcome {
    /// A console session: the value of its cookie.
    Session(String),
    /// Refused, with what to tell the person.
    Refused(&'static str),
}

/// Finishes an operator's sign-in: the returned `state` must be the one the browser kept, the
/// code is redeemed with the PKCE verifier, and the ID token must verify against the operators
/// zone's keys, name the console as its audience and carry the nonce sent.
pub async fn finish_sign_in(
    airlock: &Airlock,
    flow: &str,
    (returned_state, code): (&str, &str),
    origin: &Origin,
    now: i64,
) -> Result<SignInOutcome, Error> {
    const FAILED: &str = "The operator sign-in did not complete. Try again.";
    let mut parts = flow.splitn(3, '.');
    let (Some(state), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(SignInOutcome::Refused(FAILED));
    };
    if !bool::from(state.as_bytes().ct_eq(returned_state.as_bytes())) {
        return Ok(SignInOutcome::Refused(FAILED));
    }
    let Some(zone) = airlock.zones().path_zone(PROJECT, ENVIRONMENT).await? else {
        return Ok(SignInOutcome::Refused(FAILED));
    };
    let Some(client_id) = console_client(airlock, &zone).await? else {
        return Ok(SignInOutcome::Refused(FAILED));
    };
    let presented = PresentedClient {
        client_id: client_id.to_string(),
        secret: None,
        assertion: None,
        method: AuthMethod::None,
    };
    let request = TokenRequest {
        grant: GrantRequest::AuthorizationCode {
            code: code.to_string(),
            redirect_uri: Some(callback(airlock)),
            code_verifier: Some(verifier.to_string()),
        },
        resource: None,
    };
    let call = Call {
        zone: &zone,
        origin,
        now,
    };
    let issued = match airlock
        .token_endpoint()
        .exchange(&call, presented, request)
        .await
    {
        Ok(issued) => issued,
        Err(Error::OAuth(_)) => return Ok(SignInOutcome::Refused(FAILED)),
        Err(other) => return Err(other),
    };
    let Some(id_token) = issued.id_token else {
        return Ok(SignInOutcome::Refused(FAILED));
    };
    let claims = airlock
        .tokens()
        .id_token_hint(&zone, id_token.expose(), now)
        .await?
        .filter(|claims| {
            claims.aud == client_id.as_str()
                && claims.exp > now
                && claims.nonce.as_deref() == Some(nonce)
                && claims.auth_time >= now - FRESH_SIGN_IN_SECONDS
        });
    let Some(claims) = claims else {
        return Ok(SignInOutcome::Refused(FAILED));
    };
    let Some(record) = airlock.db.find_operator(&claims.sub, now).await? else {
        return Ok(SignInOutcome::Refused(
            "That account is not an operator of this installation (any more).",
        ));
    };
    // The operators zone keeps no session of its own: signing out of the console leaves nothing
    // there that would let the next person at this browser back in without the password.
    EnvStore::new(&airlock.db, &zone.id)
        .delete_user_sessions(&claims.sub)
        .await?;
    let session = airlock.console_sessions().open(&record, now).await?;
    Ok(SignInOutcome::Session(session))
}

/// Whether `environment` is the operators zone: no token or operator may be bound to it, and its
/// captured mail (reset links of operators) is not shown to them.
pub fn is_operators_zone(environment: &Environment) -> bool {
    environment.project == PROJECT && environment.name == ENVIRONMENT
}

pub const OWN_ZONE: &str =
    "admin/operators is the installation's own zone: nothing may be bound to it alone";

/// How an address is kept: trimmed, lower case (as the users of every zone are).
fn normalised(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// An ID token older than this was not signed in for this sign-in (`prompt=login` is only asked
/// for; a browser may drop it and ride a session of the operators zone).
const FRESH_SIGN_IN_SECONDS: i64 = 120;

fn callback(airlock: &Airlock) -> String {
    format!("{}{CALLBACK_PATH}", airlock.public_url())
}

/// The operators zone, created when missing: live when the console's callback is fit for a live
/// zone (https, not loopback), a test zone otherwise (a local installation).
async fn ensure_zone(airlock: &Airlock, now: i64) -> Result<Environment, Error> {
    if let Some(environment) = airlock.db.find_environment(PROJECT, ENVIRONMENT).await? {
        return Ok(environment);
    }
    if airlock.db.find_project(PROJECT).await?.is_none() {
        let project = Project {
            id: secrets::random_id(),
            name: PROJECT.to_string(),
            created_at: now,
        };
        airlock.db.insert_project(&project).await?;
    }
    let kind = match redirect::check_registrable(&callback(airlock), EnvKind::Live) {
        Ok(()) => EnvKind::Live,
        Err(_) => EnvKind::Test,
    };
    airlock
        .environments()
        .create(PROJECT, ENVIRONMENT, kind, &Caller::cli(), now)
        .await
}

/// The console's client in the operators zone, if it knows this node's callback. Read only: the
/// sign-in pages anyone may open write nothing.
async fn console_client(airlock: &Airlock, zone: &Environment) -> Result<Option<ClientId>, Error> {
    let callback = callback(airlock);
    Ok(airlock
        .clients()
        .list(zone)
        .await?
        .into_iter()
        .find(|client| client.name == CONSOLE_CLIENT && client.redirect_uris.contains(&callback))
        .map(|client| client.client_id))
}

/// Registers the console's client in the operators zone, or adds this public URL's callback to
/// its redirect URIs (nodes moving to a new URL keep the old one working meanwhile).
async fn register_console(airlock: &Airlock, zone: &Environment, now: i64) -> Result<(), Error> {
    let callback = callback(airlock);
    let clients = airlock.clients();
    let existing = clients
        .list(zone)
        .await?
        .into_iter()
        .find(|client| client.name == CONSOLE_CLIENT);
    match existing {
        Some(client) if client.redirect_uris.contains(&callback) => Ok(()),
        Some(client) => {
            let mut redirect_uris = client.redirect_uris.clone();
            redirect_uris.push(callback);
            let changes = ClientChanges {
                redirect_uris: Some(redirect_uris),
                ..ClientChanges::default()
            };
            clients
                .update(zone, &client.client_id, changes, &Caller::cli(), now)
                .await?;
            Ok(())
        }
        None => {
            let request = NewClient {
                name: CONSOLE_CLIENT.into(),
                redirect_uris: vec![callback],
                post_logout_redirect_uris: Vec::new(),
                public: true,
                first_party: true,
                id_token_signed_response_alg: SigningAlg::ES256,
                token_endpoint_auth_method: None,
                jwks: None,
                jwks_uri: None,
            };
            clients.create(zone, request, &Caller::cli(), now).await?;
            Ok(())
        }
    }
}

async fn view(
    airlock: &Airlock,
    record: AdminTokenRecord,
    sub: String,
) -> Result<OperatorView, Error> {
    let environment = match &record.env_id {
        Some(env_id) => airlock
            .db
            .find_environment_by_id(env_id)
            .await?
            .map(|environment| environment.slug()),
        None => None,
    };
    Ok(OperatorView {
        operator_id: record.token_id,
        email: record.name,
        sub,
        environment,
        read_only: record.read_only,
        created_at: record.created_at,
        revoked_at: record.revoked_at,
    })
}
