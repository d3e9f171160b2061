//! `Host`, `X-Forwarded-For` and `X-Forwarded-Host` from a trusted proxy or not: the client's
//! address is the peer or one of the listed addresses, never anything else.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use airlock::http::{ProxyTrust, effective_host_and_client};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = ["host", "x-forwarded-for", "x-forwarded-host", "forwarded"];

fuzz_target!(|input: (Vec<(u8, &[u8])>, bool, bool)| {
    let (lines, trusted_peer, forwarded_host) = input;
    let mut headers = HeaderMap::new();
    for (name, value) in &lines {
        let name = HeaderName::from_static(NAMES[usize::from(*name) % NAMES.len()]);
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(name, value);
        }
    }
    let proxies = ["10.0.0.0/8".parse().expect("net")];
    let peer = match trusted_peer {
        true => IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        false => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
    };
    let trust = ProxyTrust {
        proxies: &proxies,
        forwarded_host,
    };
    let (_, client) = effective_host_and_client(&headers, None, Some(peer), trust);
    if !trusted_peer {
        assert_eq!(
            client,
            Some(peer),
            "an untrusted peer's headers are never read"
        );
    }
});
