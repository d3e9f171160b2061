//! The go-live check: what a live environment needs before a configuration is applied to it.
//! Each check has a name, so a deliberate exception can be accepted by name (`--accept NAME`).

use serde::Serialize;

use super::document::EnvConfig;
use crate::model::EnvKind;
use crate::oidc::redirect;

/// What the check needs to know of the target zone and of where the configuration comes from.
#[derive(Debug, Clone)]
pub struct TargetFacts {
    pub kind: EnvKind,
    /// Live zones send account mail over SMTP; test zones capture it.
    pub smtp_configured: bool,
    /// The target's own enabled webhook endpoints.
    pub webhook_urls: Vec<String>,
    /// The source's webhook endpoints (none of the target's may point at one).
    pub source_webhook_urls: Vec<String>,
    /// The target's active custom domains.
    pub active_domains: Vec<String>,
    /// Names of the clients `airlock env seed` makes: fixture data, never promoted.
    pub fixture_clients: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

fn check(name: &'static str, problems: Vec<String>, fine: &str) -> Check {
    Check {
        name,
        passed: problems.is_empty(),
        detail: match problems.is_empty() {
            true => fine.to_string(),
            false => problems.join("; "),
        },
    }
}

/// The checks of `desired` for the target described by `facts`.
pub fn go_live(desired: &EnvConfig, facts: &TargetFacts) -> Vec<Check> {
    let mut uris = Vec::new();
    for client in &desired.clients {
        for uri in client
            .redirect_uris
            .iter()
            .chain(&client.post_logout_redirect_uris)
        {
            if let Err(why) = redirect::check_registrable(uri, facts.kind) {
                uris.push(format!("client {}: {uri}: {why}", client.name));
            }
        }
    }
    let mut webhooks = Vec::new();
    if facts.kind == EnvKind::Live && facts.webhook_urls.is_empty() {
        webhooks.push("the target has no webhook endpoint of its own".to_string());
    }
    for url in &facts.webhook_urls {
        if facts.source_webhook_urls.contains(url) {
            webhooks.push(format!("{url} is also the source's endpoint"));
        }
    }
    let domains: Vec<String> = desired
        .domains
        .iter()
        .filter(|domain| !facts.active_domains.contains(&domain.host))
        .map(|domain| format!("{} is not a verified domain of the target", domain.host))
        .collect();
    let mut smtp = Vec::new();
    let mails = desired.accounts.signup || desired.accounts.require_verified_email;
    if facts.kind == EnvKind::Live && mails && !facts.smtp_configured {
        smtp.push(
            "sign-up or verified addresses need mail, and no SMTP server is configured".into(),
        );
    }
    let mut limits = Vec::new();
    if desired.limits.signin_failures_per_minute <= 0 {
        limits.push("the per-address sign-in failure limit is off".to_string());
    }
    if desired.limits.lockout_threshold <= 0 {
        limits.push("account lockout is off".to_string());
    }
    let fixtures: Vec<String> = desired
        .clients
        .iter()
        .filter(|client| facts.fixture_clients.contains(&client.name))
        .map(|client| format!("client {} is fixture data", client.name))
        .collect();
    vec![
        check(
            "redirect-uris",
            uris,
            "every redirect URI is valid for the target",
        ),
        check(
            "webhooks",
            webhooks,
            "the target has its own webhook endpoints",
        ),
        check(
            "domains",
            domains,
            "every declared domain is verified in the target",
        ),
        check("smtp", smtp, "mail is configured where the flows need it"),
        check("signin-limits", limits, "sign-in limits are on"),
        check("fixtures", fixtures, "no fixture data would be copied"),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::document::tests::sample;
    use super::*;

    fn facts(kind: EnvKind) -> TargetFacts {
        TargetFacts {
            kind,
            smtp_configured: false,
            webhook_urls: vec!["https://hooks.acme.com/airlock".into()],
            source_webhook_urls: vec!["http://localhost:4000/hooks".into()],
            active_domains: vec![],
            fixture_clients: vec!["fixture-web".into()],
        }
    }

    fn failed(checks: &[Check]) -> Vec<&'static str> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn a_sandbox_configuration_is_not_ready_for_live() {
        let mut config = sample();
        config.accounts.signup = true;
        config.limits.lockout_threshold = 0;
        config.clients.push(super::super::document::ClientConfig {
            name: "fixture-web".into(),
            ..config.clients[0].clone()
        });
        config.domains.push(super::super::document::DomainConfig {
            host: "login.acme.com".into(),
        });
        let checks = go_live(&config, &facts(EnvKind::Live));
        assert_eq!(
            failed(&checks),
            [
                "redirect-uris",
                "domains",
                "smtp",
                "signin-limits",
                "fixtures"
            ]
        );
        assert!(failed(&go_live(&config, &facts(EnvKind::Test))).contains(&"fixtures"));
    }

    #[test]
    fn webhooks_of_their_own() {
        let config = sample();
        let mut shared = facts(EnvKind::Live);
        shared
            .webhook_urls
            .push("http://localhost:4000/hooks".into());
        assert!(failed(&go_live(&config, &shared)).contains(&"webhooks"));
        let mut none = facts(EnvKind::Live);
        none.webhook_urls.clear();
        assert!(failed(&go_live(&config, &none)).contains(&"webhooks"));
    }
}
