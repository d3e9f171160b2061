//! Which host a request is for, and from whom: the first thing resolved at the edge.
//!
//! The host is the `Host` header, or what a trusted reverse proxy says in `Forwarded` /
//! `X-Forwarded-Host`; headers from anyone else are ignored, so no caller can choose its issuer. The
//! public URL's host serves the path issuers and the admin API; an active custom domain serves its
//! one environment at the root; every other host gets 404 (only the probes answer on any host).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
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

/// What trusted proxies told us.
#[derive(Debug, Default, PartialEq, Eq)]
struct ForwardedFacts {
    host: Option<String>,
    /// Client-side first, as the proxies appended them.
    hops: Vec<IpAddr>,
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

/// RFC 7239 `Forwarded`, else the `X-Forwarded-*` pair.
fn forwarded_facts(headers: &HeaderMap) -> ForwardedFacts {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        let mut facts = ForwardedFacts::default();
        for element in &forwarded {
            for pair in element.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                match name.trim().to_ascii_lowercase().as_str() {
                    "host" if facts.host.is_none() => facts.host = Some(unquote(value).to_string()),
                    "for" => facts.hops.extend(node_ip(value)),
                    _ => {}
                }
            }
        }
        return facts;
    }
    ForwardedFacts {
        host: values("x-forwarded-host").into_iter().next(),
        hops: values("x-forwarded-for")
            .iter()
            .filter_map(|v| node_ip(v))
            .collect(),
    }
}

fn is_trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// The effective host and client address of a request arriving from `peer`.
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
    match peer {
        Some(peer) if is_trusted(peer, proxies) => {
            let facts = forwarded_facts(headers);
            // The client is the last hop no trusted proxy accounts for.
            let client = facts
                .hops
                .iter()
                .rev()
                .find(|hop| !is_trusted(**hop, proxies))
                .copied()
                .or(facts.hops.first().copied())
                .unwrap_or(peer);
            (facts.host.or(own_host), Some(client))
        }
        _ => (own_host, peer),
    }
}

fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
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
        return next.run(request).await;
    }
    let Some(host) = host.map(|h| host_of_authority(&h)) else {
        return error::not_found().await;
    };
    let addressed = if state.is_public_host(&host) {
        Addressed::PublicHost
    } else {
        match state.zone_for_host(&host, crate::clock::now()).await {
            Ok(Some(zone)) => Addressed::Domain(Box::new(zone)),
            Ok(None) => return error::not_found().await,
            Err(error) => return HttpError::json(error).into_response(),
        }
    };
    request.extensions_mut().insert(addressed);
    next.run(request).await
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
