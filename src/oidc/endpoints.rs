//! Every endpoint of an issuer, with its path relative to the issuer: the single source for the router
//! and for discovery.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Authorization,
    Login,
    Consent,
    Token,
    UserInfo,
    Introspection,
    Revocation,
    EndSession,
    PasswordForgot,
    PasswordReset,
    VerifyEmail,
    ResendVerification,
    Signup,
    /// Dynamic client registration (RFC 7591), and each registered client's own configuration
    /// endpoint below it (RFC 7592).
    Registration,
    ClientConfiguration,
}

impl Endpoint {
    pub const fn path(self) -> &'static str {
        match self {
            Endpoint::Discovery => "/.well-known/openid-configuration",
            Endpoint::Jwks => "/jwks",
            Endpoint::Authorization => "/authorize",
            Endpoint::Login => "/login",
            Endpoint::Consent => "/consent",
            Endpoint::Token => "/token",
            Endpoint::UserInfo => "/userinfo",
            Endpoint::Introspection => "/introspect",
            Endpoint::Revocation => "/revoke",
            Endpoint::EndSession => "/logout",
            Endpoint::PasswordForgot => "/password/forgot",
            Endpoint::PasswordReset => "/password/reset",
            Endpoint::VerifyEmail => "/email/verify",
            Endpoint::ResendVerification => "/email/resend",
            Endpoint::Signup => "/signup",
            Endpoint::Registration => "/register",
            Endpoint::ClientConfiguration => "/register/{client_id}",
        }
    }
}
