//! Which host a request is for, and from whom: the first thing resolved at the edge.
//!
//! The host is the `Host` header, or what a trusted reverse proxy says in `Forwarded` /
//! `X-Forwarded-Host`; headers from anyone else are ignored, so no caller can choose its issuer. The
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

/// The address of the client: the peer, or the first untrusted hop a trusted proxy reports.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// One proxy hop as a proxy recorded it: whom it received the request from (`for`), and the host
/// that request was addressed to (`host`). Hops are in the order the proxies appended them, so the
/// last one was written by our peer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Hop {
    from: Option<IpAddr>,
    host: Option<String>,
}

fn unquote(value: &str) -> &str {
    value.trim().trim_matches('"')
}

/// A `for=` node: `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:80"`; obfuscated or unknown nodes are None.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = unquote(node);
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok()))
}

fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// RFC 7239 `Forwarded` elements, else the `X-Forwarded-*` pair (whose host, when a proxy appended
/// rather than replaced it, is the last value: the one our peer wrote).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let forwarded = header_list(headers, "forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                let mut hop = Hop::default();
                for pair in element.split(';') {
                    let Some((name, value)) = pair.split_once('=') else {
                        continue;
                    };
                    match name.trim().to_ascii_lowercase().as_str() {
                        "host" => hop.host = Some(unquote(value).to_string()),
                        "for" => hop.from = node_ip(value),
                        _ => {}
                    }
                }
                hop
            })
            .collect();
    }
    let mut hops: Vec<Hop> = header_list(headers, "x-forwarded-for")
        .iter()
        .map(|node| Hop {
            from: node_ip(node),
            host: None,
        })
        .collect();
    if let Some(host) = header_list(headers, "x-forwarded-host").pop() {
        match hops.last_mut() {
            Some(last) => last.host = Some(host),
            None => hops.push(Hop {
                from: None,
                host: Some(host),
            }),
        }
    }
    hops
}

fn is_trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// The effective host and client address of a request arriving from `peer`.
///
/// Only hops written by trusted proxies count: the last one (written by our trusted peer), and each
/// one before it as long as the hop after it names a trusted proxy as its sender. Anything a client
/// put in front of those is ignored, so it cannot choose the host or the address we see.
fn effective(
    headers: &HeaderMap,
    authority: Option<&str>,
    peer: Option<IpAddr>,
    proxies: &[IpNet],
) -> (Option<String>, Option<IpAddr>) {
    let own_host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or(authority)
        .map(str::to_string);
    let Some(peer) = peer.filter(|peer| is_trusted(*peer, proxies)) else {
        return (own_host, peer);
    };
    let hops = forwarded_hops(headers);
    // From our peer's hop backwards, up to and including the first whose sender is not a trusted proxy.
    let first_trusted = hops
        .iter()
        .rposition(|hop| !hop.from.is_some_and(|from| is_trusted(from, proxies)))
        .unwrap_or(0);
    let trusted = &hops[first_trusted..];
    let client = trusted.first().and_then(|hop| hop.from).unwrap_or(peer);
    // The outermost trusted proxy saw the host the client asked for.
    let host = trusted.iter().find_map(|hop| hop.host.clone()).or(own_host);
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
    let (host, client) = effective(
        request.headers(),
        request.uri().authority().map(|a| a.as_str()),
        peer,
        &state.config.trusted_proxies,
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

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let h = headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "login.acme.com"),
            ("x-forwarded-for", "203.0.113.9, 10.1.1.1"),
        ]);
        let trusted = effective(&h, None, Some("10.0.0.5".parse().unwrap()), &proxies());
        assert_eq!(
            trusted,
            (
                Some("login.acme.com".into()),
                Some("203.0.113.9".parse().unwrap())
            )
        );
        let spoofed = effective(&h, None, Some("198.51.100.7".parse().unwrap()), &proxies());
        assert_eq!(
            spoofed,
            (
                Some("internal:8080".into()),
                Some("198.51.100.7".parse().unwrap())
            )
        );
    }

    #[test]
    fn rfc7239_forwarded_wins_and_skips_trusted_hops() {
        let h = headers(&[
            ("host", "internal"),
            ("x-forwarded-host", "ignored.example"),
            (
                "forwarded",
                "for=\"[2001:db8::1]:4711\";host=login.acme.com;proto=https, for=10.2.2.2",
            ),
        ]);
        let (host, client) = effective(&h, None, Some("127.0.0.2".parse().unwrap()), &proxies());
        assert_eq!(host.as_deref(), Some("login.acme.com"));
        assert_eq!(client, Some("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn hops_a_client_wrote_before_the_trusted_proxy_are_ignored() {
        let h = headers(&[
            ("host", "internal"),
            (
                "forwarded",
                "for=10.9.9.9;host=evil.example, for=198.51.100.7;host=login.acme.com",
            ),
        ]);
        let (host, client) = effective(&h, None, Some("10.0.0.5".parse().unwrap()), &proxies());
        assert_eq!(host.as_deref(), Some("login.acme.com"));
        assert_eq!(client, Some("198.51.100.7".parse().unwrap()));

        let appended = headers(&[
            ("host", "internal"),
            ("x-forwarded-host", "evil.example, login.acme.com"),
            ("x-forwarded-for", "10.9.9.9, 198.51.100.7"),
        ]);
        let (host, client) = effective(
            &appended,
            None,
            Some("10.0.0.5".parse().unwrap()),
            &proxies(),
        );
        assert_eq!(host.as_deref(), Some("login.acme.com"));
        assert_eq!(client, Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn garbage_forwarded_values_fall_back_to_the_peer() {
        let h = headers(&[
            ("host", "a.example"),
            ("forwarded", "for=_hidden;by=x, nonsense"),
        ]);
        let (host, client) = effective(&h, None, Some("10.0.0.1".parse().unwrap()), &proxies());
        assert_eq!(host.as_deref(), Some("a.example"));
        assert_eq!(client, Some("10.0.0.1".parse().unwrap()));
    }
}
