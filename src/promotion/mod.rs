//! Configuration as data, pure: an environment's configuration as a document, the plan of what
//! applying one changes, promotion from one environment to another (`--map` rewrites URIs), and
//! the go-live check a live environment must pass.

pub mod document;
pub mod go_live;
pub mod plan;

pub use document::{EnvConfig, Format};
pub use go_live::{Check, TargetFacts};
pub use plan::{Plan, plan};

/// A `--map FROM=TO` rule: URIs that start with `from` start with `to` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriMap {
    pub from: String,
    pub to: String,
}

impl UriMap {
    pub fn parse(rule: &str) -> Result<Self, String> {
        match rule.split_once('=') {
            Some((from, to)) if !from.is_empty() && !to.is_empty() => Ok(UriMap {
                from: from.to_string(),
                to: to.to_string(),
            }),
            _ => Err(format!("--map {rule}: write FROM=TO")),
        }
    }

    fn apply(maps: &[UriMap], uri: &str) -> String {
        maps.iter()
            .find_map(|map| {
                uri.strip_prefix(map.from.as_str())
                    .map(|rest| format!("{}{rest}", map.to))
            })
            .unwrap_or_else(|| uri.to_string())
    }
}

/// The configuration promoting `source` into `target` asks for: the source's settings, APIs and
/// clients (their URIs rewritten by `maps`), with the target's own webhook endpoints and domains,
/// which are registered separately in each zone.
pub fn promoted(source: &EnvConfig, target: &EnvConfig, maps: &[UriMap]) -> EnvConfig {
    let mut desired = source.clone();
    for client in &mut desired.clients {
        let rewrite = |uris: &mut Vec<String>| {
            for uri in uris.iter_mut() {
                *uri = UriMap::apply(maps, uri);
            }
        };
        rewrite(&mut client.redirect_uris);
        rewrite(&mut client.post_logout_redirect_uris);
        if let Some(uri) = &client.jwks_uri {
            client.jwks_uri = Some(UriMap::apply(maps, uri));
        }
    }
    desired.webhooks = target.webhooks.clone();
    desired.domains = target.domains.clone();
    desired
}

#[cfg(test)]
mod tests {
    use super::document::tests::sample;
    use super::*;

    #[test]
    fn promotion_rewrites_uris_and_keeps_the_targets_own() {
        let source = sample();
        let mut target = sample();
        target.clients.clear();
        target.webhooks.push(document::WebhookConfig {
            url: "https://hooks.acme.com/airlock".into(),
            events: vec!["*".into()],
            description: None,
        });
        let maps = [UriMap::parse("http://localhost:3000=https://app.acme.com").unwrap()];
        let desired = promoted(&source, &target, &maps);
        assert_eq!(
            desired.clients[0].redirect_uris,
            ["https://app.acme.com/callback"]
        );
        assert_eq!(desired.webhooks, target.webhooks);
        assert!(UriMap::parse("no-equals").is_err());
    }
}
