//! The authorization request (OIDC Core §3.1.2), checked in one visible order:
//! 1. client and redirect URI (failures show a page, never redirect) → `VerifiedRedirect`;
//! 2. everything else (failures redirect back with `error`) → `ValidatedAuthorization`;
//! 3. then, with the browser's session and remembered consent, what happens next (`session_policy`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::params::ParamBag;
use super::pkce;
use super::redirect::{ResponseMode, VerifiedRedirect};
use super::resource;
use super::scope::Scope;
use super::{ErrorCode, OAuthError};
use crate::model::{Client, ClientId};

/// Why no redirect back to the client is possible: shown to the person on an error page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    MissingClientId,
    UnknownClient,
    MissingRedirectUri,
    UnregisteredRedirectUri,
    RepeatedParameter,
}

impl PageError {
    pub fn message(self) -> &'static str {
        match self {
            PageError::MissingClientId => "The request names no client (client_id is missing).",
            PageError::UnknownClient => "The client is not registered in this environment.",
            PageError::MissingRedirectUri => "The request has no redirect_uri.",
            PageError::UnregisteredRedirectUri => {
                "The redirect_uri is not registered for this client."
            }
            PageError::RepeatedParameter => "A parameter of the request was repeated.",
        }
    }
}

/// Step 1: the client id named by the request.
pub fn client_id(params: &ParamBag) -> Result<&str, PageError> {
    match params.get("client_id") {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(PageError::MissingClientId),
        Err(_) => Err(PageError::RepeatedParameter),
    }
}

/// Step 1, continued: the redirect URI must exactly match one registered for the (found) client.
pub fn verify_redirect(
    params: &ParamBag,
    client: &Client,
    issuer: &str,
) -> Result<VerifiedRedirect, PageError> {
    let requested = match params.get("redirect_uri") {
        Ok(Some(uri)) => uri,
        Ok(None) => return Err(PageError::MissingRedirectUri),
        Err(_) => return Err(PageError::RepeatedParameter),
    };
    // Request objects are refused (`request_not_supported`), but the refusal must still travel the
    // way the request asked, and `response_mode` and `state` may be given only inside the object
    // (OIDC Core §6.1: its members supersede the query's). They are read, unverified, for that
    // alone; the redirect URI stays the one checked above.
    let object = params
        .get("request")
        .ok()
        .flatten()
        .and_then(unverified_request_object);
    let member = |name: &str| object.as_ref()?.get(name)?.as_str();
    let query = |name: &str| params.get(name).ok().flatten();
    // A bad response_mode or state cannot prevent reporting the error: fall back to the query.
    let mode = match member("response_mode").or(query("response_mode")) {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let state = member("state").or(query("state"));
    VerifiedRedirect::verify(client, requested, mode, state, issuer)
        .ok_or(PageError::UnregisteredRedirectUri)
}

/// The members of a compact JWS or JWT's payload, without checking any signature.
fn unverified_request_object(object: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = object.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    /// OpenID Connect Prompt Create 1.0: show the sign-up form (where the zone offers it); a
    /// fresh authentication either way.
    pub create: bool,
}

/// An authorization request whose every parameter has been checked.
#[derive(Debug, Clone)]
pub struct ValidatedAuthorization {
    pub client_id: ClientId,
    pub redirect: VerifiedRedirect,
    /// The requested scope; which of it may be granted waits for the API `resource` names.
    pub scope: Scope,
    /// RFC 8707: the API the access token is for.
    pub resource: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
}

/// Step 2: every other parameter. Errors carry the redirect they must be reported through.
pub fn validate(
    params: &ParamBag,
    client: &Client,
    redirect: VerifiedRedirect,
) -> Result<ValidatedAuthorization, Box<(VerifiedRedirect, OAuthError)>> {
    match check_parameters(params, client) {
        Ok(parts) => Ok(ValidatedAuthorization {
            client_id: client.client_id.clone(),
            redirect,
            scope: parts.scope,
            resource: parts.resource,
            nonce: parts.nonce,
            code_challenge: parts.code_challenge,
            prompt: parts.prompt,
            max_age: parts.max_age,
            login_hint: parts.login_hint,
            id_token_hint: parts.id_token_hint,
        }),
        Err(error) => Err(Box::new((redirect, error))),
    }
}

struct Parts {
    scope: Scope,
    resource: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: Prompt,
    max_age: Option<i64>,
    login_hint: Option<String>,
    id_token_hint: Option<String>,
}

fn check_parameters(params: &ParamBag, client: &Client) -> Result<Parts, OAuthError> {
    for repeatable_never in ["state", "response_mode"] {
        params.get(repeatable_never)?;
    }
    if let Some(mode) = params.get("response_mode")?
        && mode != "query"
        && mode != "form_post"
    {
        return Err(OAuthError::invalid_request("unsupported response_mode"));
    }
    if params.get("request")?.is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri")?.is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    match params.get("response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    let scope = Scope::parse(params.get("scope")?)?;
    let resource = resource::requested_resource(params)?;
    let code_challenge = pkce::check_challenge(
        params.get("code_challenge")?,
        params.get("code_challenge_method")?,
    )?;
    if client.public && code_challenge.is_none() {
        return Err(OAuthError::invalid_request(
            "public clients must use PKCE with S256",
        ));
    }
    let prompt = parse_prompt(params.get("prompt")?)?;
    let max_age =
        match params.get("max_age")? {
            None => None,
            Some(raw) => Some(raw.parse::<i64>().ok().filter(|age| *age >= 0).ok_or_else(
                || OAuthError::invalid_request("max_age must be a non-negative integer"),
            )?),
        };
    let owned = |value: Option<&str>| value.map(str::to_string);
    Ok(Parts {
        scope,
        resource,
        nonce: owned(params.get("nonce")?),
        code_challenge,
        prompt,
        max_age,
        login_hint: owned(params.get("login_hint")?),
        id_token_hint: owned(params.get("id_token_hint")?),
    })
}

fn parse_prompt(raw: Option<&str>) -> Result<Prompt, OAuthError> {
    let mut prompt = Prompt::default();
    let mut count = 0;
    for value in raw.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
        count += 1;
        match value {
            "none" => prompt.none = true,
            "login" | "select_account" => prompt.login = true,
            "consent" => prompt.consent = true,
            "create" => prompt.create = true,
            _ => return Err(OAuthError::invalid_request("unsupported prompt value")),
        }
    }
    if prompt.none && count > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::SigningAlg;

    pub(crate) fn client(public: bool, first_party: bool) -> Client {
        Client {
            env_id: "e".into(),
            client_id: "c1".into(),
            name: "app".into(),
            secret_digest: None,
            public,
            first_party,
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            id_token_signed_response_alg: SigningAlg::RS256,
            token_endpoint_auth_method: crate::model::TokenAuthMethod::ClientSecretBasic,
            jwks: None,
            jwks_uri: None,
            secret_sealed: None,
            dynamically_registered: false,
            created_at: 0,
        }
    }

    pub(crate) fn request(
        query: &str,
        client: &Client,
    ) -> Result<ValidatedAuthorization, OAuthError> {
        let params = ParamBag::parse(query.as_bytes()).unwrap();
        let redirect = verify_redirect(&params, client, "https://op/p/e").unwrap();
        validate(&params, client, redirect).map_err(|rejected| rejected.1)
    }

    pub(crate) const BASE: &str =
        "client_id=c1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=openid";

    #[test]
    fn unregistered_redirect_uri_is_a_page_error() {
        let c = client(false, false);
        let params =
            ParamBag::parse(b"client_id=c1&redirect_uri=https%3A%2F%2Fevil.example%2F").unwrap();
        assert_eq!(
            verify_redirect(&params, &c, "i").unwrap_err(),
            PageError::UnregisteredRedirectUri
        );
        let params = ParamBag::parse(b"client_id=c1&redirect_uri=a&redirect_uri=b").unwrap();
        assert_eq!(
            verify_redirect(&params, &c, "i").unwrap_err(),
            PageError::RepeatedParameter
        );
    }

    #[test]
    fn public_clients_need_pkce() {
        let c = client(true, false);
        assert_eq!(
            request(BASE, &c).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let with_pkce = format!(
            "{BASE}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
        assert!(request(&with_pkce, &c).is_ok());
    }

    #[test]
    fn response_type_and_request_objects() {
        let c = client(false, false);
        let missing = BASE.replace("&response_type=code", "");
        assert_eq!(
            request(&missing, &c).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let token = BASE.replace("response_type=code", "response_type=token");
        assert_eq!(
            request(&token, &c).unwrap_err().code,
            ErrorCode::UnsupportedResponseType
        );
        let object = format!("{BASE}&request=eyJ");
        assert_eq!(
            request(&object, &c).unwrap_err().code,
            ErrorCode::RequestNotSupported
        );
        let repeated = format!("{BASE}&nonce=a&nonce=b");
        assert_eq!(
            request(&repeated, &c).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn a_refused_request_object_is_answered_the_way_it_asked() {
        let c = client(false, false);
        // {"response_mode":"form_post","state":"from-object"}, unsigned.
        let payload =
            URL_SAFE_NO_PAD.encode(br#"{"response_mode":"form_post","state":"from-object"}"#);
        let query = format!("{BASE}&state=from-query&request=eyJhbGciOiJub25lIn0.{payload}.");
        let params = ParamBag::parse(query.as_bytes()).unwrap();
        let redirect = verify_redirect(&params, &c, "https://op/p/e").unwrap();
        assert_eq!(redirect.mode(), ResponseMode::FormPost);
        assert_eq!(redirect.state(), Some("from-object"));
        assert_eq!(redirect.uri(), "https://app.example/cb");
        let rejected = validate(&params, &c, redirect).unwrap_err();
        assert_eq!(rejected.1.code, ErrorCode::RequestNotSupported);
        // Garbage in `request` leaves the query's own values in force.
        let garbage = format!("{BASE}&state=s&response_mode=form_post&request=not-a-jwt");
        let params = ParamBag::parse(garbage.as_bytes()).unwrap();
        let redirect = verify_redirect(&params, &c, "https://op/p/e").unwrap();
        assert_eq!(redirect.mode(), ResponseMode::FormPost);
        assert_eq!(redirect.state(), Some("s"));
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        let c = client(false, false);
        let extra =
            format!("{BASE}&extra=foobar&display=page&ui_locales=se&acr_values=1+2&claims=%7B%7D");
        assert!(request(&extra, &c).is_ok());
    }
}
