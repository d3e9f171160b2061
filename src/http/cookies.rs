//! Browser cookies of one issuer: the session and the CSRF token. Their `Path` is the issuer path, so a
//! sandbox sign-in is never sent to production.

use axum::http::{HeaderMap, header};

use crate::model::Issuer;

pub const SESSION: &str = "airlock_session";
pub const CSRF: &str = "airlock_csrf";

/// The value of cookie `name`, if the request carries exactly one such cookie with a sane value.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((key, val)) = pair.trim().split_once('=')
                && key == name
                && !val.is_empty()
                && val.len() <= 256
            {
                found = Some(val.to_string());
            }
        }
    }
    found
}

/// A `Set-Cookie` value scoped to the issuer path; `Secure` whenever the issuer is https.
pub fn set(issuer: &Issuer, name: &str, value: &str) -> String {
    let secure = if issuer.is_https() { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={}; HttpOnly; SameSite=Lax{secure}",
        issuer.path()
    )
}

/// A `Set-Cookie` value that deletes cookie `name` of this issuer.
pub fn clear(issuer: &Issuer, name: &str) -> String {
    let secure = if issuer.is_https() { "; Secure" } else { "" };
    format!(
        "{name}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
        issuer.path()
    )
}
