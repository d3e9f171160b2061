//! What applying a configuration would change: per setting, and per client, API, webhook and
//! domain (matched by name, identifier, URL and host).

use serde::Serialize;
use serde_json::Value;

use super::document::EnvConfig;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    /// The fields that change.
    Update(Vec<String>),
    /// A change of these fields makes a new item in place of the old one: a client that turns
    /// public or confidential, or authenticates otherwise, gets a new id and new credentials (the
    /// old one's tokens and consents go with it).
    Replace(Vec<String>),
    Delete,
}

/// One change: a setting (`policy.access_token_ttl`) or an item (`client web`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub section: &'static str,
    pub name: String,
    pub action: Action,
    /// For a setting: the value before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<(Value, Value)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// One line per change: `+` create, `~` update, `-` delete.
    pub fn render(&self) -> String {
        if self.changes.is_empty() {
            return "no changes".into();
        }
        let lines: Vec<String> = self
            .changes
            .iter()
            .map(|change| match (&change.action, &change.values) {
                (Action::Update(_), Some((before, after))) => {
                    format!("~ {}.{}: {before} -> {after}", change.section, change.name)
                }
                (Action::Create, _) => format!("+ {} {}", change.section, change.name),
                (Action::Delete, _) => format!("- {} {}", change.section, change.name),
                (Action::Replace(fields), _) => format!(
                    "-/+ {} {} ({}: replaced by a new one with new credentials; its tokens and \
                     consents go)",
                    change.section,
                    change.name,
                    fields.join(", ")
                ),
                (Action::Update(fields), None) => format!(
                    "~ {} {} ({})",
                    change.section,
                    change.name,
                    fields.join(", ")
                ),
            })
            .collect();
        lines.join("\n")
    }
}

fn as_object(value: impl Serialize) -> serde_json::Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// The settings of one section that differ, with their values.
fn settings(
    section: &'static str,
    current: impl Serialize,
    desired: impl Serialize,
) -> Vec<Change> {
    let (current, desired) = (as_object(current), as_object(desired));
    let mut names: Vec<&String> = current.keys().chain(desired.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let before = current.get(name).cloned().unwrap_or(Value::Null);
            let after = desired.get(name).cloned().unwrap_or(Value::Null);
            (before != after).then(|| Change {
                section,
                name: name.clone(),
                action: Action::Update(vec![name.clone()]),
                values: Some((before, after)),
            })
        })
        .collect()
}

/// Items of one section matched by `key`: created, updated (with the fields), replaced (when one
/// of `replacing` changes), deleted.
fn items<T: Serialize>(
    section: &'static str,
    (current, desired): (&[T], &[T]),
    key: impl Fn(&T) -> &str,
    replacing: &[&str],
) -> Vec<Change> {
    let mut changes = Vec::new();
    for wanted in desired {
        let change = match current.iter().find(|item| key(item) == key(wanted)) {
            None => Some(Action::Create),
            Some(existing) => {
                let (before, after) = (as_object(existing), as_object(wanted));
                let mut fields: Vec<String> = before
                    .keys()
                    .chain(after.keys())
                    .filter(|field| before.get(*field) != after.get(*field))
                    .cloned()
                    .collect();
                fields.sort();
                fields.dedup();
                let replaced = fields
                    .iter()
                    .any(|field| replacing.contains(&field.as_str()));
                match (fields.is_empty(), replaced) {
                    (true, _) => None,
                    (false, true) => Some(Action::Replace(fields)),
                    (false, false) => Some(Action::Update(fields)),
                }
            }
        };
        if let Some(action) = change {
            changes.push(Change {
                section,
                name: key(wanted).to_string(),
                action,
                values: None,
            });
        }
    }
    for existing in current {
        if !desired.iter().any(|item| key(item) == key(existing)) {
            changes.push(Change {
                section,
                name: key(existing).to_string(),
                action: Action::Delete,
                values: None,
            });
        }
    }
    changes
}

/// What turning `current` into `desired` changes.
pub fn plan(current: &EnvConfig, desired: &EnvConfig) -> Plan {
    let mut changes = Vec::new();
    changes.extend(settings("policy", &current.policy, &desired.policy));
    changes.extend(settings("accounts", &current.accounts, &desired.accounts));
    changes.extend(settings("limits", &current.limits, &desired.limits));
    let apis = (current.apis.as_slice(), desired.apis.as_slice());
    changes.extend(items("api", apis, |a| &a.identifier, &[]));
    let clients = (current.clients.as_slice(), desired.clients.as_slice());
    let replacing = ["public", "token_endpoint_auth_method"];
    changes.extend(items("client", clients, |c| &c.name, &replacing));
    let webhooks = (current.webhooks.as_slice(), desired.webhooks.as_slice());
    changes.extend(items("webhook", webhooks, |w| &w.url, &[]));
    let domains = (current.domains.as_slice(), desired.domains.as_slice());
    changes.extend(items("domain", domains, |d| &d.host, &[]));
    Plan { changes }
}

#[cfg(test)]
mod tests {
    use super::super::document::tests::sample;
    use super::*;

    #[test]
    fn nothing_to_change() {
        assert!(plan(&sample(), &sample()).is_empty());
    }

    #[test]
    fn settings_and_items() {
        let current = sample();
        let mut desired = sample();
        desired.policy.access_token_ttl = 300;
        desired.clients[0].redirect_uris = vec!["https://app.acme.com/callback".into()];
        desired.clients.push(super::super::document::ClientConfig {
            name: "admin".into(),
            ..desired.clients[0].clone()
        });
        desired.apis.clear();
        let planned = plan(&current, &desired);
        let rendered = planned.render();
        assert!(
            rendered.contains("~ policy.access_token_ttl: 600 -> 300"),
            "{rendered}"
        );
        assert!(
            rendered.contains("~ client web (redirect_uris)"),
            "{rendered}"
        );
        assert!(rendered.contains("+ client admin"), "{rendered}");
        assert!(
            rendered.contains("- api https://api.acme.test"),
            "{rendered}"
        );
        assert_eq!(planned.changes.len(), 4);
    }

    #[test]
    fn a_client_that_authenticates_otherwise_is_replaced() {
        let mut desired = sample();
        desired.clients[0].token_endpoint_auth_method = "private_key_jwt".into();
        let rendered = plan(&sample(), &desired).render();
        assert!(
            rendered.starts_with("-/+ client web (token_endpoint_auth_method: replaced"),
            "{rendered}"
        );
    }
}
