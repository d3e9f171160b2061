//! Which host a request is for, and from whom: the first thing resolved at the edge.
//!
//! The host is the `Host` header (or, with `AIRLOCK_FORWARDED_HOST=on`, the `X-Forwarded-Host` a
//! trusted reverse proxy wrote); the client is the peer, or the right-most `X-Forwarded-For` entry a
//! trusted proxy appended. Headers from anyone else are ignored, so no caller can choose its issuer
//! or its address. The
//! public URL's host serves the path issuers and the admin API; an active custom domain serves its
//! one environment at the root; every other host gets 404 (only the probes answer on any host).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use super::AppState;
use super::error::{self, HttpError};
use crate::model::{Zone, host_of_authority};

/// What the request's host addresses.
#[derive(Debug, Clone)]
pub enum Addressed {
    /// The public URL's host: path issuers, the admin API.
    PublicHost,
    /// An active custom domain: its environment, at the root of the host.
    Domain(Box<Zone>),
}

/// The address of the client: the peer, or the untrusted address a trusted proxy reports.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// The `X-Forwarded-For` entries, left to right: each proxy appends the address it received the
/// request from, so the right-most entry was written by our peer.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    header_list(headers, "x-forwarded-for")
        .iter()
        .map(|node| node_ip(node))
        .collect()
}

/// A `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]:80`; anything else is None.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok()))
}

/// The comma-separated values of every `name` header. Bytes that are not UTF-8 are replaced rather
/// than the line dropped: a client could otherwise hide the entries a proxy appended to its line.
fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .flat_map(|v| {
            v.split(',')
                .map(|part| part.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

fn is_trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// How far forwarded headers are believed.
#[derive(Debug, Clone, Copy)]
pub struct ProxyTrust<'a> {
    pub proxies: &'a [IpNet],
    /// Take the host from `X-Forwarded-Host` (`AIRLOCK_FORWARDED_HOST=on`).
    pub forwarded_host: bool,
}

/// The effective host and client address of a request arriving from `peer`.
///
/// From a trusted peer, the client is the right-most `X-Forwarded-For` entry that no trusted proxy
/// sent: entries are read from the right, past each one naming a trusted proxy, and everything a
/// client wrote to the left of that is ignored. `Forwarded` (RFC 7239) is never read: common proxies
/// pass a client's copy of it through untouched. The host is `Host` (which the proxy sets), or with
/// `forwarded_host` the right-most `X-Forwarded-Host`, the value our peer wrote.
pub fn effective(
    headers: &HeaderMap,
    authority: Option<&str>,
    peer: Option<IpAddr>,
    trust: ProxyTrust<'_>,
) -> (Option<String>, Option<IpAddr>) {
    let own_host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(authority)
        .map(str::to_string);
    let Some(peer) = peer.filter(|peer| is_trusted(*peer, trust.proxies)) else {
        return (own_host, peer);
    };
    let mut client = peer;
    for entry in forwarded_for(headers).into_iter().rev() {
        match entry {
            Some(ip) if is_trusted(ip, trust.proxies) => client = ip,
            Some(ip) => {
                client = ip;
                break;
            }
            // An entry that is no address: nothing to its left can be vouched for.
            None => break,
        }
    }
    let host = if trust.forwarded_host {
        header_list(headers, "x-forwarded-host").pop().or(own_host)
    } else {
        own_host
    };
    (host, Some(client))
}

fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// Notes in the request's extensions who sent it (`ClientIp`) and what its host addresses
/// (`Addressed`); an unknown host is answered here, with 404. Probes answer on any host.
pub async fn address(state: &AppState, request: &mut Request) -> Result<(), Response> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let trust = ProxyTrust {
        proxies: &state.config.trusted_proxies,
        forwarded_host: state.config.forwarded_host,
    };
    let (host, client) = effective(
        request.headers(),
        request.uri().authority().map(|a| a.as_str()),
        peer,
        trust,
    );
    if let Some(client) = client {
        request.extensions_mut().insert(ClientIp(client));
    }
    if is_probe(request.uri().path()) {
        return Ok(());
    }
    let Some(host) = host.map(|h| host_of_authority(&h)) else {
        return Err(error::not_found().await);
    };
    let addressed = if state.zones().is_public_host(&host) {
        Addressed::PublicHost
    } else {
        match state.zones().domain_zone(&host).await {
            Ok(Some(zone)) => Addressed::Domain(Box::new(zone)),
            Ok(None) => return Err(error::not_found().await),
            Err(error) => return Err(HttpError::json(error).into_response()),
        }
    };
    request.extensions_mut().insert(addressed);
    Ok(())
}

/// For routes that exist only on the public host (admin API, quickstart callback).
pub async fn public_host_only(request: Request, next: Next) -> Response {
    match request.extensions().get::<Addressed>() {
        Some(Addressed::PublicHost) => next.run(request).await,
        _ => error::not_found().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn proxies() -> Vec<IpNet> {
        vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.2/32".parse().unwrap(),
        ]
    }

    fn trust(proxies: &[IpNet], forwarded_host: bool) -> ProxyTrust<'_> {
        ProxyTrust {
            proxies,
            forwarded_host,
        }
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let h = headers(&[
            ("host", "login.acme.com"),
            ("x-forwarded-host", "127.0.0.1"),
            ("x-forwarded-for", "203.0.113.9, 10.1.1.1"),
        ]);
        let proxies = proxies();
        let peer = Some("10.0.0.5".parse().unwrap());
        let trusted = effective(&h, None, peer, trust(&proxies, false));
        assert_eq!(
            trusted,
            (
                Some("login.acme.com".into()),
                Some("203.0.113.9".parse().unwrap())
            )
        );
        let stranger = Some("198.51.100.7".parse().unwrap());
        let spoofed = effective(&h, None, stranger, trust(&proxies, true));
        assert_eq!(spoofed, (Some("login.acme.com".into()), stranger));
    }

    #[test]
    fn the_forwarded_host_is_read_only_when_configured_and_right_most() {
        let h = headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "evil.example, login.acme.com"),
        ]);
        let proxies = proxies();
        let peer = Some("10.0.0.5".parse().unwrap());
        let (host, _) = effective(&h, None, peer, trust(&proxies, false));
        assert_eq!(host.as_deref(), Some("internal:8080"));
        let (host, _) = effective(&h, None, peer, trust(&proxies, true));
        assert_eq!(host.as_deref(), Some("login.acme.com"));
    }

    #[test]
    fn rfc7239_forwarded_is_never_read() {
        let h = headers(&[
            ("host", "login.acme.com"),
            ("forwarded", "for=198.51.100.9;host=127.0.0.1"),
        ]);
        let proxies = proxies();
        let peer = Some("127.0.0.2".parse().unwrap());
        let (host, client) = effective(&h, None, peer, trust(&proxies, true));
        assert_eq!(host.as_deref(), Some("login.acme.com"));
        assert_eq!(client, peer);
    }

    #[test]
    fn entries_a_client_wrote_before_the_trusted_proxies_are_ignored() {
        let appended = headers(&[
            ("host", "login.acme.com"),
            ("x-forwarded-for", "10.9.9.9, 198.51.100.7, 10.3.3.3"),
        ]);
        let proxies = proxies();
        let peer = Some("10.0.0.5".parse().unwrap());
        let (_, client) = effective(&appended, None, peer, trust(&proxies, false));
        assert_eq!(client, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn a_byte_that_is_not_utf8_does_not_hide_the_appended_entry() {
        let mut h = headers(&[("host", "a.example")]);
        let line = HeaderValue::from_bytes(b"\xff\xfe, 198.51.100.7").unwrap();
        h.append("x-forwarded-for", line);
        let proxies = proxies();
        let peer = Some("10.0.0.5".parse().unwrap());
        let (_, client) = effective(&h, None, peer, trust(&proxies, false));
        assert_eq!(client, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn garbage_entries_stop_the_walk() {
        let h = headers(&[
            ("host", "a.example"),
            ("x-forwarded-for", "203.0.113.1, _hidden"),
        ]);
        let proxies = proxies();
        let peer = Some("10.0.0.1".parse().unwrap());
        let (host, client) = effective(&h, None, peer, trust(&proxies, false));
        assert_eq!(host.as_deref(), Some("a.example"));
        assert_eq!(client, peer);
    }
}
