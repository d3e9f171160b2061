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
        }
    }
}
