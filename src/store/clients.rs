//! Client registrations of one environment.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::Params;
use super::{EnvStore, StoreError, flag};
use crate::model::{Client, ClientId, SigningAlg, TokenAuthMethod};

fn client_from_row(row: &AnyRow) -> Result<Client, StoreError> {
    let uris: String = row.try_get("redirect_uris")?;
    let logout_uris: String = row.try_get("post_logout_redirect_uris")?;
    let alg: String = row.try_get("id_token_alg")?;
    let method: String = row.try_get("token_endpoint_auth_method")?;
    let jwks: Option<String> = row.try_get("jwks")?;
    Ok(Client {
        env_id: super::text(row, "env_id")?,
        client_id: super::text(row, "client_id")?,
        name: row.try_get("name")?,
        secret_digest: row.try_get("secret_digest")?,
        public: row.try_get::<i64, _>("is_public")? != 0,
        first_party: row.try_get::<i64, _>("first_party")? != 0,
        redirect_uris: serde_json::from_str(&uris)
            .map_err(|_| StoreError::Corrupt("redirect_uris".into()))?,
        post_logout_redirect_uris: serde_json::from_str(&logout_uris)
            .map_err(|_| StoreError::Corrupt("post_logout_redirect_uris".into()))?,
        id_token_signed_response_alg: SigningAlg::parse(&alg)
            .ok_or_else(|| StoreError::Corrupt(format!("alg {alg}")))?,
        token_endpoint_auth_method: TokenAuthMethod::parse(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("auth method {method}")))?,
        jwks: jwks
            .map(|jwks| serde_json::from_str(&jwks))
            .transpose()
            .map_err(|_| StoreError::Corrupt("jwks".into()))?,
        jwks_uri: row.try_get("jwks_uri")?,
        secret_sealed: row.try_get("secret_sealed")?,
        dynamically_registered: row
            .try_get::<Option<String>, _>("registration_digest")?
            .is_some(),
        created_at: row.try_get("created_at")?,
    })
}

macro_rules! client_columns {
    () => {
        "env_id, client_id, name, secret_digest, is_public, first_party, redirect_uris, \
         post_logout_redirect_uris, id_token_alg, created_at, token_endpoint_auth_method, jwks, \
         jwks_uri, secret_sealed, registration_digest"
    };
}

const CLIENT_COLUMNS: &str = client_columns!();

pub(super) const INSERT_CLIENT: &str = concat!(
    "INSERT INTO clients (",
    client_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
);

pub(super) const UPDATE_CLIENT: &str = "UPDATE clients SET name = $3, first_party = $4, \
     redirect_uris = $5, post_logout_redirect_uris = $6, id_token_alg = $7, jwks = $8, jwks_uri = $9 \
     WHERE env_id = $1 AND client_id = $2";

/// What a client is deleted with: everything issued to it.
pub(super) const CLIENT_DEPENDENTS: [&str; 5] = [
    "refresh_tokens",
    "authorization_codes",
    "consents",
    "grants",
    "client_api_grants",
];

fn jwks_text(client: &Client) -> Result<Option<String>, StoreError> {
    client
        .jwks
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Other(e.to_string()))
}

fn uri_list(uris: &[String]) -> Result<String, StoreError> {
    serde_json::to_string(uris).map_err(|e| StoreError::Other(e.to_string()))
}

/// The values of `INSERT_CLIENT` after the environment id.
pub(super) fn insert_values<'q>(
    client: &'q Client,
    registration: Option<&'q str>,
) -> Result<impl Params<'q> + use<'q>, StoreError> {
    Ok((
        client.client_id.as_str(),
        &client.name,
        &client.secret_digest,
        flag(client.public),
        flag(client.first_party),
        uri_list(&client.redirect_uris)?,
        uri_list(&client.post_logout_redirect_uris)?,
        client.id_token_signed_response_alg.as_str(),
        client.created_at,
        client.token_endpoint_auth_method.as_str(),
        jwks_text(client)?,
        &client.jwks_uri,
        &client.secret_sealed,
        registration,
    ))
}

/// The values of `UPDATE_CLIENT` after the environment id.
pub(super) fn update_values(client: &Client) -> Result<impl Params<'_>, StoreError> {
    Ok((
        client.client_id.as_str(),
        &client.name,
        flag(client.first_party),
        uri_list(&client.redirect_uris)?,
        uri_list(&client.post_logout_redirect_uris)?,
        client.id_token_signed_response_alg.as_str(),
        jwks_text(client)?,
        &client.jwks_uri,
    ))
}

impl EnvStore<'_> {
    /// Stores a client; a dynamically registered one with the digest of its registration access
    /// token (`registration`).
    pub async fn insert_client(
        &self,
        client: &Client,
        registration: Option<&str>,
    ) -> Result<(), StoreError> {
        let values = insert_values(client, registration)?;
        self.execute(INSERT_CLIENT, values).await?;
        Ok(())
    }

    pub async fn find_client(&self, client_id: &ClientId) -> Result<Option<Client>, StoreError> {
        let sql =
            format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE env_id = $1 AND client_id = $2");
        let row = self.fetch_optional(&sql, (client_id.as_str(),)).await?;
        row.as_ref().map(client_from_row).transpose()
    }

    /// Replaces the secret of a client that has one (its digest, and for `client_secret_jwt` the
    /// sealed secret); false if there is no such client.
    pub async fn update_client_secret(
        &self,
        client_id: &ClientId,
        (digest, sealed): (&str, Option<&str>),
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE clients SET secret_digest = $3, secret_sealed = $4 \
             WHERE env_id = $1 AND client_id = $2 AND secret_digest IS NOT NULL";
        Ok(self
            .execute(sql, (client_id.as_str(), digest, sealed))
            .await?
            == 1)
    }

    /// The digest of a dynamically registered client's registration access token.
    pub async fn registration_digest(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<String>, StoreError> {
        let sql = "SELECT registration_digest FROM clients WHERE env_id = $1 AND client_id = $2";
        let row = self.fetch_optional(sql, (client_id.as_str(),)).await?;
        Ok(row
            .map(|row| row.try_get::<Option<String>, _>("registration_digest"))
            .transpose()?
            .flatten())
    }

    /// Remembers a client assertion's `jti` until `expires_at`; false if it was used already.
    pub async fn use_client_assertion(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO client_assertions (env_id, client_id, jti, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (env_id, client_id, jti) DO NOTHING";
        let values = (client_id.as_str(), jti, expires_at);
        Ok(self.execute(sql, values).await? == 1)
    }

    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE env_id = $1 ORDER BY created_at, client_id"
        );
        let rows = self.fetch_all(&sql, ()).await?;
        rows.iter().map(client_from_row).collect()
    }

    /// Rewrites a client's settings (not its secret); false if there is no such client.
    pub async fn update_client(&self, client: &Client) -> Result<bool, StoreError> {
        Ok(self.execute(UPDATE_CLIENT, update_values(client)?).await? == 1)
    }

    /// Deletes a client with everything issued to it, in one transaction; false if there is none.
    pub async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        let key = ("client_id", client_id.as_str());
        super::delete_with_dependents(self, "clients", key, &CLIENT_DEPENDENTS).await
    }
}
