use serde::Serialize;

use super::EnvironmentId;

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// A project's plan limits; `None` is no limit. Live and test zones never share an allowance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProjectLimits {
    /// Distinct users active (signed in or refreshed) in a month, across its live environments.
    pub max_live_mau: Option<i64>,
    /// Users across its test environments.
    pub max_test_users: Option<i64>,
    pub max_environments: Option<i64>,
}

/// Whether an environment holds test data (`test`) or real users (`live`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    Test,
    Live,
}

impl EnvKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Test => "test",
            EnvKind::Live => "live",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "test" => Some(EnvKind::Test),
            "live" => Some(EnvKind::Live),
            _ => None,
        }
    }
}

/// Token and session lifetimes of one environment, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EnvPolicy {
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    pub refresh_token_ttl: i64,
    /// The absolute lifetime of a refresh family: rotation slides `refresh_token_ttl`, not this.
    pub refresh_family_ttl: i64,
    pub code_ttl: i64,
    pub session_ttl: i64,
}

impl Default for EnvPolicy {
    fn default() -> Self {
        EnvPolicy {
            access_token_ttl: 600,
            id_token_ttl: 600,
            refresh_token_ttl: 30 * 24 * 3600,
            refresh_family_ttl: 90 * 24 * 3600,
            code_ttl: 60,
            session_ttl: 24 * 3600,
        }
    }
}

/// Rate limits of one environment; its buckets are its own, so one zone's load never spends another's
/// budget. 0 disables a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RateLimits {
    /// Token endpoint requests per client and minute, per node.
    pub token_requests_per_minute: i64,
    /// Failed sign-ins per client IP and minute, per node.
    pub signin_failures_per_minute: i64,
    /// Consecutive failed sign-ins after which an account name is locked, for a growing delay.
    pub lockout_threshold: i64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            token_requests_per_minute: 0,
            signin_failures_per_minute: 30,
            lockout_threshold: 5,
        }
    }
}

/// The installation's own zone, `(project, environment)`: its users are the console's operators.
/// The project name is reserved, so no project of users can take it.
pub const OPERATORS_ZONE: (&str, &str) = ("admin", "operators");

/// One trust zone: its own issuer, keys, clients, users and sessions.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub id: EnvironmentId,
    pub project_id: String,
    pub project: String,
    pub name: String,
    pub kind: EnvKind,
    pub policy: EnvPolicy,
    pub limits: RateLimits,
    /// Sign-up, verified addresses, password length, and how its mail is signed.
    pub accounts: super::AccountPolicy,
    /// Whether `{public_url}/{project}/{environment}` answers; off when only custom domains should.
    pub path_issuer_enabled: bool,
    pub created_at: i64,
}

impl Environment {
    /// `project/environment`, as admins write it.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.project, self.name)
    }
}

/// The installation's public URL, parsed once: where path issuers live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// Without a trailing slash.
    base: String,
    /// Its path, without a trailing slash (empty at the root).
    base_path: String,
    /// Its host name, lowercase.
    host: String,
}

impl PublicUrl {
    pub fn parse(public_url: &str) -> Self {
        let base = public_url.trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&base).ok();
        PublicUrl {
            base_path: parsed
                .as_ref()
                .map(|url| url.path().trim_end_matches('/').to_string())
                .unwrap_or_default(),
            host: parsed
                .as_ref()
                .and_then(|url| url.host_str())
                .map(|host| host.trim_end_matches('.').to_ascii_lowercase())
                .unwrap_or_default(),
            base,
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The URL itself, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.base
    }
}

/// The issuer identifier an environment answers under, and where its endpoints live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Exact `iss` value, no trailing slash.
    url: String,
    /// The path part of the issuer (`/acme/sandbox`), used as cookie path.
    path: String,
}

impl Issuer {
    /// The path-based issuer `{public_url}/{project}/{environment}`.
    pub fn for_path(public: &PublicUrl, environment: &Environment) -> Self {
        let suffix = format!("/{}/{}", environment.project, environment.name);
        Issuer {
            url: format!("{}{suffix}", public.base),
            path: format!("{}{suffix}", public.base_path),
        }
    }

    /// The issuer of a verified custom domain: `https://HOST`, endpoints at the root of the host.
    pub fn for_domain(host: &str) -> Self {
        Issuer {
            url: format!("https://{host}"),
            path: String::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The path of the issuer, `/` for a host's root: the `Path` of its cookies.
    pub fn path(&self) -> &str {
        if self.path.is_empty() {
            "/"
        } else {
            &self.path
        }
    }

    /// An endpoint URL below the issuer (`relative` starts with `/`).
    pub fn endpoint(&self, relative: &str) -> String {
        format!("{}{}", self.url, relative)
    }

    pub fn is_https(&self) -> bool {
        self.url.starts_with("https://")
    }
}

/// An environment as addressed by one of its issuers (its path issuer, or a custom domain): tokens
/// are minted for, and only accepted under, the issuer of the zone a request came in through.
/// Shared parts, so that handing a cached zone to a request costs two reference counts.
#[derive(Debug, Clone)]
pub struct Zone {
    pub environment: std::sync::Arc<Environment>,
    pub issuer: std::sync::Arc<Issuer>,
}

impl std::ops::Deref for Zone {
    type Target = Environment;

    fn deref(&self) -> &Environment {
        &self.environment
    }
}
