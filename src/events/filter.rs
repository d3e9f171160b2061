//! Which events an endpoint subscribes to: exact types, families (`user.*`) or everything (`*`).

use super::catalog;

/// A validated subscription list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter(Vec<String>);

impl EventFilter {
    /// Every published event.
    pub fn all() -> Self {
        EventFilter(vec!["*".to_string()])
    }

    /// A comma-separated list (`user.*,signin.succeeded`); an unknown type or family is an error
    /// naming it.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut patterns: Vec<String> = Vec::new();
        for pattern in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if !is_known(pattern) {
                return Err(format!(
                    "unknown event type {pattern:?} (known: *, a family such as user.*, or one of {})",
                    catalog::subscribable()
                        .map(|kind| kind.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !patterns.iter().any(|known| known == pattern) {
                patterns.push(pattern.to_string());
            }
        }
        if patterns.is_empty() {
            return Err("the event list is empty".into());
        }
        if patterns.iter().any(|p| p == "*") {
            return Ok(Self::all());
        }
        Ok(EventFilter(patterns))
    }

    /// From patterns that were validated when they were stored.
    pub fn from_stored(patterns: Vec<String>) -> Self {
        EventFilter(patterns)
    }

    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    pub fn into_patterns(self) -> Vec<String> {
        self.0
    }

    pub fn matches(&self, event_type: &str) -> bool {
        self.0
            .iter()
            .any(|pattern| pattern_matches(pattern, event_type))
    }
}

/// Whether `pattern` selects `event_type`.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(family) => family_of(event_type) == Some(family),
        None => pattern == event_type,
    }
}

/// `user` of `user.created`; none for a type without a family (`logout`).
pub fn family_of(event_type: &str) -> Option<&str> {
    event_type.split_once('.').map(|(family, _)| family)
}

fn is_known(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(family) => {
            catalog::subscribable().any(|kind| family_of(kind.as_str()) == Some(family))
        }
        None => catalog::subscribable().any(|kind| kind.as_str() == pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_types_and_everything() {
        let filter = EventFilter::parse("user.*, signin.succeeded").unwrap();
        assert!(filter.matches("user.created"));
        assert!(filter.matches("signin.succeeded"));
        assert!(!filter.matches("signin.failed"));
        assert!(!filter.matches("token.issued"));
        assert_eq!(EventFilter::parse("*,user.*").unwrap(), EventFilter::all());
        assert!(EventFilter::all().matches("logout"));
        assert!(EventFilter::parse("logout").unwrap().matches("logout"));
    }

    #[test]
    fn unknown_names_are_errors_that_name_them() {
        let error = EventFilter::parse("user.*,user.exploded").unwrap_err();
        assert!(error.contains("\"user.exploded\""), "{error}");
        assert!(EventFilter::parse("nothing.*").is_err());
        assert!(EventFilter::parse("admin_token.used").is_err());
        assert!(EventFilter::parse("user").is_err());
        assert!(EventFilter::parse(" , ").is_err());
    }
}
