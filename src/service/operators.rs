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
use crate::model::{ClientId, EnvKind, Environment, Project, Secret, SigningAlg};
use crate::oidc::client_auth::{AuthMethod, PresentedClient};
use crate::oidc::endpoints::Endpoint;
use crate::oidc::token_request::{GrantRequest, TokenRequest};
use crate::oidc::{pkce, redirect};
use crate::store::AdminTokenRecord;

/// The operators zone: under the reserved project name, so no project of users can take it.
pub const PROJECT: &str = "admin";
pub const ENVIRONMENT: &str = "operators";
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
    let zone = ensure_zone(airlock, now).await?;
    console_client(airlock, &zone, now).await?;
    let users = airlock.users();
    let existing = users
        .list(&zone)
        .await?
        .into_iter()
        .find(|user| user.email.eq_ignore_ascii_case(&new.email));
    let user_id = match existing {
        Some(user) => {
            if airlock
                .db
                .find_operator(user.user_id.as_str(), now)
                .await?
                .is_some()
            {
                return Err(Error::Invalid(format!(
                    "{} is already an operator: remove them first to change what they reach",
                    new.email
                )));
            }
            users
                .set_password(&zone, &user.user_id, new.password, false, caller, now)
                .await?;
            user.user_id
        }
        None => {
            let user = NewUser {
                email: new.email.clone(),
                password: new.password,
                name: None,
            };
            users.create(&zone, user, caller, now).await?.user_id
        }
    };
    let record = AdminTokenRecord {
        token_id: format!("op_{}", secrets::random_id()),
        env_id: new.reach.as_ref().map(|environment| environment.id.clone()),
        name: new.email.clone(),
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
/// node) and their account in the operators zone is deleted.
pub async fn remove(
    airlock: &Airlock,
    email: &str,
    caller: &Caller,
    now: i64,
) -> Result<(), Error> {
    caller.require_installation()?;
    let zone = airlock
        .db
        .find_environment(PROJECT, ENVIRONMENT)
        .await?
        .ok_or(Error::NotFound)?;
    let user = airlock
        .users()
        .list(&zone)
        .await?
        .into_iter()
        .find(|user| user.email.eq_ignore_ascii_case(email))
        .ok_or(Error::NotFound)?;
    if let Some(record) = airlock.db.find_operator(user.user_id.as_str(), now).await? {
        airlock
            .admin_tokens()
            .revoke(&record.token_id, caller, now)
            .await?;
    }
    airlock
        .users()
        .delete(&zone, &user.user_id, caller, now)
        .await
}

/// Where an operator's sign-in goes, and what the browser keeps until it comes back.
pub struct OperatorSignIn {
    pub authorization_url: String,
    /// `state.nonce.code_verifier`, kept in an `HttpOnly` cookie of the console.
    pub flow: String,
}

/// Starts an operator's sign-in; `None` when the installation has no operators zone yet.
pub async fn start_sign_in(airlock: &Airlock, now: i64) -> Result<Option<OperatorSignIn>, Error> {
    let Some(zone) = airlock.zones().path_zone(PROJECT, ENVIRONMENT).await? else {
        return Ok(None);
    };
    let client_id = console_client(airlock, &zone, now).await?;
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
    let client_id = console_client(airlock, &zone, now).await?;
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
        });
    let Some(claims) = claims else {
        return Ok(SignInOutcome::Refused(FAILED));
    };
    let Some(record) = airlock.db.find_operator(&claims.sub, now).await? else {
        return Ok(SignInOutcome::Refused(
            "That account is not an operator of this installation (any more).",
        ));
    };
    let session = airlock.console_sessions().open(&record, now).await?;
    Ok(SignInOutcome::Session(session))
}

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

/// The console's client in the operators zone, registered (or its redirect URI brought up to
/// date with the public URL) when needed.
async fn console_client(
    airlock: &Airlock,
    zone: &Environment,
    now: i64,
) -> Result<ClientId, Error> {
    let callback = callback(airlock);
    let clients = airlock.clients();
    let existing = clients
        .list(zone)
        .await?
        .into_iter()
        .find(|client| client.name == CONSOLE_CLIENT);
    match existing {
        Some(client) if client.redirect_uris.contains(&callback) => Ok(client.client_id),
        Some(client) => {
            let changes = ClientChanges {
                redirect_uris: Some(vec![callback]),
                ..ClientChanges::default()
            };
            clients
                .update(zone, &client.client_id, changes, &Caller::cli(), now)
                .await?;
            Ok(client.client_id)
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
            let issued = clients.create(zone, request, &Caller::cli(), now).await?;
            Ok(issued.client.client_id)
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
