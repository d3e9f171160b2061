//! Custom domains: host names, their ownership challenge, and their state.

use serde::Serialize;

use super::EnvironmentId;

/// Where ownership is proven: a TXT record at `_airlock-challenge.{host}`.
pub const CHALLENGE_LABEL: &str = "_airlock-challenge";
const CHALLENGE_PREFIX: &str = "airlock-verify=";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainState {
    /// Added, ownership not proven: serves nothing.
    Pending,
    /// Verified: requests for the host resolve to its environment.
    Active,
}

impl DomainState {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::Pending => "pending",
            DomainState::Active => "active",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(DomainState::Pending),
            "active" => Some(DomainState::Active),
            _ => None,
        }
    }
}

/// A host bound to one environment.
#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    pub host: String,
    #[serde(skip)]
    pub env_id: EnvironmentId,
    #[serde(skip)]
    pub challenge: String,
    pub state: DomainState,
    /// `dns` or `manual`, once verified.
    pub verified_by: Option<String>,
    pub tls_cert_file: Option<String>,
    pub tls_key_file: Option<String>,
    pub created_at: i64,
    pub verified_at: Option<i64>,
}

impl Domain {
    /// The DNS name of the ownership record.
    pub fn challenge_name(&self) -> String {
        format!("{CHALLENGE_LABEL}.{}", self.host)
    }

    /// The TXT value that proves ownership.
    pub fn challenge_value(&self) -> String {
        format!("{CHALLENGE_PREFIX}{}", self.challenge)
    }
}

/// A host name as registered: lowercase, no trailing dot, no port, at least two labels of
/// letters, digits and inner dashes, and not an IP address.
pub fn normalize_host(input: &str) -> Option<String> {
    let host = input.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.len() > 253 || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    (labels.len() >= 2 && labels.iter().all(label_ok)).then_some(host)
}

/// The host part of a `Host` header value (`name`, `name:port`, `[v6]:port`), lowercased.
pub fn host_of_authority(authority: &str) -> String {
    let authority = authority.trim();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, port)| {
                if port.bytes().all(|b| b.is_ascii_digit()) {
                    host
                } else {
                    authority
                }
            })
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalized_and_checked() {
        assert_eq!(
            normalize_host("Login.Acme.COM."),
            Some("login.acme.com".into())
        );
        for bad in [
            "",
            "localhost",
            "127.0.0.1",
            "a..b",
            "-a.com",
            "a-.com",
            "a b.com",
            "a.com:443",
            "*.acme.com",
        ] {
            assert_eq!(normalize_host(bad), None, "{bad}");
        }
    }

    #[test]
    fn authorities_lose_their_port() {
        assert_eq!(host_of_authority("Login.Acme.com:8443"), "login.acme.com");
        assert_eq!(host_of_authority("login.acme.com"), "login.acme.com");
        assert_eq!(host_of_authority("[::1]:80"), "::1");
        assert_eq!(host_of_authority("127.0.0.1:8080"), "127.0.0.1");
    }
}
