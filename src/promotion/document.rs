//! An environment's configuration as a document (TOML or JSON): clients by name, APIs, policy and
//! limits, webhook endpoints, domain declarations. Never a secret, a user, a session, a grant, a key
//! or an audit entry.

use serde::{Deserialize, Serialize};

/// The document's format version.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    pub version: u32,
    pub policy: PolicyConfig,
    pub accounts: AccountsConfig,
    pub limits: LimitsConfig,
    #[serde(default)]
    pub apis: Vec<ApiConfig>,
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    #[serde(default)]
    pub domains: Vec<DomainConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub refresh_family_ttl: i64,
    pub session_ttl: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    pub signup: bool,
    pub require_verified_email: bool,
    pub password_min_length: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub token_requests_per_minute: i64,
    pub signin_failures_per_minute: i64,
    pub lockout_threshold: i64,
}

/// A client, matched by name between environments (its id and secret are each zone's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub first_party: bool,
    pub id_token_signed_response_alg: String,
    pub token_endpoint_auth_method: String,
    /// `private_key_jwt`: its public keys, inline (a JWKS document) or by URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_grants: Vec<ApiGrantConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiGrantConfig {
    /// The API's identifier.
    pub api: String,
    pub scopes: Vec<String>,
}

/// An API, matched by identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    pub identifier: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    pub signing_alg: String,
}

/// A webhook endpoint, matched by URL (its signing secret is each zone's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A custom domain the environment answers on: a declaration (its proof is each zone's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    pub host: String,
}

/// How a document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// The format a file name implies: `.json` is JSON, anything else TOML.
    pub fn of_file(name: &str) -> Self {
        match name.to_ascii_lowercase().ends_with(".json") {
            true => Format::Json,
            false => Format::Toml,
        }
    }
}

impl EnvConfig {
    pub fn render(&self, format: Format) -> Result<String, String> {
        match format {
            Format::Toml => toml::to_string_pretty(self).map_err(|e| e.to_string()),
            Format::Json => serde_json::to_string_pretty(self).map_err(|e| e.to_string()),
        }
    }

    /// Parses a document; an error names the line (and column) or the key that is wrong.
    pub fn parse(text: &str, format: Format) -> Result<Self, String> {
        let config: EnvConfig = match format {
            Format::Toml => toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?,
            Format::Json => serde_json::from_str(text).map_err(|e| e.to_string())?,
        };
        if config.version != VERSION {
            return Err(format!(
                "version: this Airlock reads version {VERSION} documents"
            ));
        }
        config.check_unique()?;
        Ok(config)
    }

    /// Names must identify: one client per name, one API per identifier, one webhook per URL.
    fn check_unique(&self) -> Result<(), String> {
        fn first_repeat<'a>(mut names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
            let mut seen = std::collections::BTreeSet::new();
            names.find(|name| !seen.insert(*name))
        }
        let repeated = [
            (
                "clients",
                first_repeat(self.clients.iter().map(|c| c.name.as_str())),
            ),
            (
                "apis",
                first_repeat(self.apis.iter().map(|a| a.identifier.as_str())),
            ),
            (
                "webhooks",
                first_repeat(self.webhooks.iter().map(|w| w.url.as_str())),
            ),
            (
                "domains",
                first_repeat(self.domains.iter().map(|d| d.host.as_str())),
            ),
        ];
        match repeated
            .into_iter()
            .find_map(|(section, name)| Some((section, name?)))
        {
            Some((section, name)) => Err(format!("{section}: {name} appears twice")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> EnvConfig {
        EnvConfig {
            version: VERSION,
            policy: PolicyConfig {
                access_token_ttl: 600,
                id_token_ttl: 600,
                refresh_token_ttl: 86_400,
                refresh_family_ttl: 2_592_000,
                session_ttl: 86_400,
            },
            accounts: AccountsConfig {
                signup: false,
                require_verified_email: false,
                password_min_length: 8,
                mail_from: None,
                product_name: None,
            },
            limits: LimitsConfig {
                token_requests_per_minute: 600,
                signin_failures_per_minute: 10,
                lockout_threshold: 5,
            },
            apis: vec![ApiConfig {
                identifier: "https://api.acme.test".into(),
                scopes: vec!["read:orders".into()],
                access_token_ttl: None,
                signing_alg: "RS256".into(),
            }],
            clients: vec![ClientConfig {
                name: "web".into(),
                redirect_uris: vec!["http://localhost:3000/callback".into()],
                post_logout_redirect_uris: vec![],
                public: false,
                first_party: true,
                id_token_signed_response_alg: "RS256".into(),
                token_endpoint_auth_method: "client_secret_basic".into(),
                jwks: None,
                jwks_uri: None,
                api_grants: vec![ApiGrantConfig {
                    api: "https://api.acme.test".into(),
                    scopes: vec!["read:orders".into()],
                }],
            }],
            webhooks: vec![],
            domains: vec![],
        }
    }

    #[test]
    fn both_formats_round_trip() {
        let mut config = sample();
        let mut keyed = config.clients[0].clone();
        keyed.name = "backend".into();
        keyed.token_endpoint_auth_method = "private_key_jwt".into();
        keyed.jwks = Some(serde_json::json!({
            "keys": [{ "kty": "EC", "crv": "P-256", "x": "eA", "y": "eQ", "kid": "k1" }]
        }));
        config.clients.push(keyed);
        for format in [Format::Toml, Format::Json] {
            let text = config.render(format).unwrap();
            assert_eq!(EnvConfig::parse(&text, format).unwrap(), config, "{text}");
        }
    }

    #[test]
    fn errors_name_where() {
        let text = sample().render(Format::Toml).unwrap();
        let unknown = text.replace("signup = false", "signup = false\nsign_up = true");
        let error = EnvConfig::parse(&unknown, Format::Toml).unwrap_err();
        assert!(
            error.contains("line") && error.contains("sign_up"),
            "{error}"
        );
        let error =
            EnvConfig::parse("{\"version\": 1,\n \"policy\": 3}", Format::Json).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        let mut twice = sample();
        twice.clients.push(twice.clients[0].clone());
        let text = twice.render(Format::Json).unwrap();
        assert!(
            EnvConfig::parse(&text, Format::Json)
                .unwrap_err()
                .contains("web appears twice")
        );
        let future = text.replace("\"version\": 1", "\"version\": 2");
        assert!(EnvConfig::parse(&future, Format::Json).is_err());
    }
}
