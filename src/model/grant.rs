use super::{ClientId, GrantId, UserId};

/// A browser sign-in at one environment.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: UserId,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// What an authorization code was issued for; the code itself is only stored as a digest.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub grant_id: GrantId,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub expires_at: i64,
    pub consumed: bool,
    /// The issuer the code was minted under ('' before codes were bound to one).
    pub issuer: String,
    /// The API (RFC 8707 `resource`) its access tokens are for; `None`: the zone's userinfo.
    pub resource: Option<String>,
}

/// One refresh token of a grant's rotation family.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub grant_id: GrantId,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub scope: String,
    pub auth_time: i64,
    /// This token's own end; never past `family_expires_at`.
    pub expires_at: i64,
    pub rotated: bool,
    pub grant_revoked: bool,
    /// The grant's: the issuer it was opened under ('' before grants were bound to one), and the
    /// absolute end of its refresh family, however often it rotates.
    pub issuer: String,
    pub family_expires_at: i64,
    /// The API its access tokens are for, as on the code that opened the grant.
    pub resource: Option<String>,
}
