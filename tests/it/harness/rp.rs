//! The relying party: the certified-library view of an issuer (`openidconnect`, configured from
//! discovery alone).

use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, RedirectUrl,
};

pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub async fn discover(issuer: &str) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(
        IssuerUrl::new(issuer.to_string()).expect("issuer url"),
        &super::server::http(),
    )
    .await
    .expect("discovery succeeds")
}

pub fn client(
    metadata: CoreProviderMetadata,
    client_id: &str,
    secret: Option<&str>,
    redirect: &str,
) -> Rp {
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_string()),
        secret.map(|s| ClientSecret::new(s.to_string())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.to_string()).expect("redirect url"))
}

/// A relying party of `issuer` for the given client, configured from discovery.
pub async fn for_issuer(issuer: &str, client_id: &str, secret: Option<&str>, redirect: &str) -> Rp {
    client(discover(issuer).await, client_id, secret, redirect)
}
