//! Browser cookies of one issuer: the session and the CSRF token. Their `Path` is the issuer path, so a
//! sandbox sign-in is never sent to production.
//!
//! A cookie another site managed to set (a sibling subdomain "tossing" one with `Domain=` the parent)
//! must never stand in for ours: a name the request carries twice is not read at all, and on an https
//! custom domain the names carry the `__Host-` prefix, which browsers accept only from this very host,
//! `Secure`, with `Path=/` and no `Domain`.

use std::borrow::Cow;

use axum::http::{HeaderMap, header};

use crate::model::Issuer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookie {
    Session,
    Csrf,
    /// The console's sign-in, and the CSRF token of its sign-in form (before there is a session).
    Console,
    ConsoleSignIn,
    /// An operator's sign-in under way: its state, nonce and PKCE verifier.
    ConsoleOperator,
}

impl Cookie {
    /// The name under an issuer that is (`host_only`) or is not an https issuer at the root of its
    /// host.
    pub fn name(self, host_only: bool) -> Cow<'static, str> {
        let base = match self {
            Cookie::Session => "airlock_session",
            Cookie::Csrf => "airlock_csrf",
            Cookie::Console => "airlock_console",
            Cookie::ConsoleSignIn => "airlock_console_signin",
            Cookie::ConsoleOperator => "airlock_console_operator",
        };
        if host_only {
            Cow::Owned(format!("__Host-{base}"))
        } else {
            Cow::Borrowed(base)
        }
    }
}

/// Whether `issuer`'s cookies can be `__Host-` cookies: https, at the root of its host (a custom
/// domain; path issuers live under `/{project}/{environment}`).
pub fn is_host_only(issuer: &Issuer) -> bool {
    issuer.is_https() && issuer.path() == "/"
}

/// The value of `cookie`, if the request carries exactly one cookie of that name, with a sane value.
pub fn read(headers: &HeaderMap, cookie: Cookie, host_only: bool) -> Option<String> {
    read_named(headers, &cookie.name(host_only))
}

/// A console cookie's value, read like `read`, under its name for an https or http public URL.
pub fn read_console(headers: &HeaderMap, cookie: Cookie, secure: bool) -> Option<String> {
    read_named(headers, &console_name(cookie, secure))
}

/// On an https public URL console cookies carry the `__Secure-` prefix, so a sibling subdomain
/// cannot toss one in (`__Host-` would forbid their `Path=/console`).
fn console_name(cookie: Cookie, secure: bool) -> String {
    match secure {
        true => format!("__Secure-{}", cookie.name(false)),
        false => cookie.name(false).into_owned(),
    }
}

fn read_named(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = None;
    let mut seen = 0;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((key, val)) = pair.trim().split_once('=')
                && key == name
            {
                seen += 1;
                found = Some(val.to_string());
            }
        }
    }
    found.filter(|val| seen == 1 && !val.is_empty() && val.len() <= 256)
}

/// A `Set-Cookie` value scoped to the issuer path; `Secure` whenever the issuer is https.
pub fn set(issuer: &Issuer, cookie: Cookie, value: &str) -> String {
    let secure = if issuer.is_https() { "; Secure" } else { "" };
    format!(
        "{}={value}; Path={}; HttpOnly; SameSite=Lax{secure}",
        cookie.name(is_host_only(issuer)),
        issuer.path()
    )
}

/// A console cookie: sent only to `/console`, never with a request another site starts
/// (`SameSite=Strict`), `Secure` when the public URL is https. An empty value deletes it.
pub fn set_console(cookie: Cookie, value: &str, secure: bool) -> String {
    let expiry = if value.is_empty() { "; Max-Age=0" } else { "" };
    let flag = if secure { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/console{expiry}; HttpOnly; SameSite=Strict{flag}",
        console_name(cookie, secure)
    )
}

/// A `Set-Cookie` value that deletes `cookie` of this issuer.
pub fn clear(issuer: &Issuer, cookie: Cookie) -> String {
    set(issuer, cookie, "").replacen("; HttpOnly", "; Max-Age=0; HttpOnly", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(header::COOKIE, cookie.parse().unwrap());
        }
        headers
    }

    #[test]
    fn a_repeated_cookie_is_not_read() {
        let once = headers(&["a=1; airlock_csrf=mine"]);
        assert_eq!(read(&once, Cookie::Csrf, false).as_deref(), Some("mine"));
        let twice = headers(&["airlock_csrf=mine; airlock_csrf=tossed"]);
        assert_eq!(read(&twice, Cookie::Csrf, false), None);
        let split = headers(&["airlock_csrf=mine", "airlock_csrf=tossed"]);
        assert_eq!(read(&split, Cookie::Csrf, false), None);
    }

    #[test]
    fn host_only_names_are_prefixed() {
        let jar = headers(&["airlock_session=tossed; __Host-airlock_session=mine"]);
        assert_eq!(read(&jar, Cookie::Session, true).as_deref(), Some("mine"));
        assert_eq!(
            read(&jar, Cookie::Session, false).as_deref(),
            Some("tossed")
        );
    }

    #[test]
    fn console_cookies_are_secure_prefixed_on_https() {
        let set = set_console(Cookie::Console, "v", true);
        assert!(
            set.starts_with("__Secure-airlock_console=v; Path=/console;"),
            "{set}"
        );
        assert!(set.ends_with("; Secure"), "{set}");
        let plain = set_console(Cookie::Console, "v", false);
        assert!(plain.starts_with("airlock_console=v;") && !plain.contains("Secure"));
        // On https a tossed cookie without the prefix is not read.
        let jar = headers(&["airlock_console=tossed"]);
        assert_eq!(read_console(&jar, Cookie::Console, true), None);
        let jar = headers(&["__Secure-airlock_console=v"]);
        assert_eq!(
            read_console(&jar, Cookie::Console, true).as_deref(),
            Some("v")
        );
        assert!(set_console(Cookie::Console, "", true).contains("Max-Age=0"));
    }
}
