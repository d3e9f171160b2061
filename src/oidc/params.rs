//! Raw `application/x-www-form-urlencoded` pairs (query or body) as a checked bag of parameters.
//!
//! OAuth parameters must not repeat (RFC 6749 §3.1): a repeated one is remembered and refused when read.
//! Bytes that are not UTF-8 after decoding make the whole input `invalid_request`.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use percent_encoding::percent_decode;

use super::OAuthError;
use crate::model::is_clean_text;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamBag {
    values: BTreeMap<String, String>,
    repeated: BTreeSet<String>,
}

impl ParamBag {
    /// Parses form-encoded input; fails only on undecodable bytes.
    pub fn parse(input: &[u8]) -> Result<Self, OAuthError> {
        let mut bag = ParamBag::default();
        for pair in input.split(|b| *b == b'&').filter(|pair| !pair.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            let name = decode_component(name)?;
            let value = decode_component(value)?;
            bag.insert(name, value);
        }
        Ok(bag)
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut bag = ParamBag::default();
        for (name, value) in pairs {
            bag.insert(name.to_string(), value.to_string());
        }
        bag
    }

    fn insert(&mut self, name: String, value: String) {
        match self.values.entry(name) {
            Entry::Occupied(seen) => {
                self.repeated.insert(seen.key().clone());
            }
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
        }
    }

    /// The value of a parameter that may appear at most once. An empty value counts as absent
    /// (RFC 6749 §3.1: "parameters sent without a value MUST be treated as if they were omitted").
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        if self.repeated.contains(name) {
            return Err(OAuthError::invalid_request("a parameter was repeated")
                .with_detail(format!("repeated parameter {name}")));
        }
        Ok(self
            .values
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty()))
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?.ok_or_else(|| {
            OAuthError::invalid_request("a required parameter is missing")
                .with_detail(format!("missing parameter {name}"))
        })
    }

    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.contains(name)
    }

    /// All single-valued pairs, for re-emitting a request as hidden form fields.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn decode_component(raw: &[u8]) -> Result<String, OAuthError> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let decoded: Vec<u8> = percent_decode(&plus_as_space).collect();
    let text = String::from_utf8(decoded)
        .map_err(|_| OAuthError::invalid_request("parameters must be UTF-8 form-encoded"))?;
    if !is_clean_text(&text) {
        return Err(OAuthError::invalid_request(
            "parameters must not contain control characters",
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        let bag = ParamBag::parse(b"a=b+c&d=%2B%3D").unwrap();
        assert_eq!(bag.get("a").unwrap(), Some("b c"));
        assert_eq!(bag.get("d").unwrap(), Some("+="));
    }

    #[test]
    fn repeated_parameter_is_invalid_request_when_read() {
        let bag = ParamBag::parse(b"scope=openid&scope=email&state=x").unwrap();
        assert!(bag.get("scope").is_err());
        assert_eq!(bag.get("state").unwrap(), Some("x"));
    }

    #[test]
    fn bad_utf8_is_refused() {
        assert!(ParamBag::parse(b"a=%ff%fe").is_err());
    }

    #[test]
    fn control_and_bidi_override_characters_are_refused() {
        for input in [&b"a=x%00y"[..], b"a%07=1", b"a=%0A", b"a=%E2%80%AE"] {
            assert!(ParamBag::parse(input).is_err(), "{input:?}");
        }
        assert!(ParamBag::parse("a=%C3%A9t%C3%A9".as_bytes()).is_ok());
    }

    #[test]
    fn empty_value_is_absent() {
        let bag = ParamBag::parse(b"nonce=&state").unwrap();
        assert_eq!(bag.get("nonce").unwrap(), None);
        assert!(bag.require("state").is_err());
    }
}
