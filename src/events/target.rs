//! Which URLs an environment may send events to. Live environments reach public HTTPS hosts only;
//! test environments may also reach this machine (`http://localhost…`, for local integration).
//! Operators may open further networks (an internal receiver) with an allow-list.

use std::net::IpAddr;

use ipnet::IpNet;
use url::{Host, Url};

use crate::model::EnvKind;

/// The rules for one environment's targets.
#[derive(Debug, Clone, Copy)]
pub struct TargetRules<'a> {
    pub kind: EnvKind,
    /// Networks the operator opened beyond the public internet.
    pub allowed_networks: &'a [IpNet],
}

impl TargetRules<'_> {
    /// Whether a delivery may connect to `address` (checked for every resolved address, at
    /// connection time, so a name that later resolves elsewhere gets nowhere).
    pub fn allows_address(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        if self
            .allowed_networks
            .iter()
            .any(|net| net.contains(&address))
        {
            return true;
        }
        match self.kind {
            EnvKind::Live => is_public(address),
            EnvKind::Test => is_public(address) || address.is_loopback(),
        }
    }

    /// Checks `url` as a target: parses it, and refuses what can never be delivered to (a clear
    /// error naming the problem).
    pub fn check_url(&self, url: &str) -> Result<Url, String> {
        if url.len() > 2048 {
            return Err("the URL is longer than 2048 bytes".into());
        }
        let parsed = Url::parse(url).map_err(|error| format!("not a URL: {error}"))?;
        match (parsed.scheme(), self.kind) {
            ("https", _) | ("http", EnvKind::Test) => {}
            ("http", EnvKind::Live) => {
                return Err("live environments deliver over https only".into());
            }
            (other, _) => return Err(format!("unsupported scheme {other:?} (use https)")),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the URL must not carry credentials".into());
        }
        if parsed.fragment().is_some() {
            return Err("the URL must not have a fragment".into());
        }
        match parsed.host() {
            None => return Err("the URL has no host".into()),
            Some(Host::Ipv4(ip)) => self.check_literal(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_literal(IpAddr::V6(ip))?,
            Some(Host::Domain(name)) => {
                let local = name == "localhost" || name.ends_with(".localhost");
                if local && self.kind == EnvKind::Live && self.allowed_networks.is_empty() {
                    return Err(format!(
                        "{name} is this machine, which live environments may not reach"
                    ));
                }
            }
        }
        Ok(parsed)
    }

    fn check_literal(&self, address: IpAddr) -> Result<(), String> {
        if self.allows_address(address) {
            Ok(())
        } else {
            Err(format!(
                "{address} is not a public address, which {} environments may not reach",
                self.kind.as_str()
            ))
        }
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Globally routable unicast: not loopback, private, link-local (cloud metadata), shared (CGNAT),
/// documentation, benchmarking, multicast, reserved or unspecified.
pub fn is_public(address: IpAddr) -> bool {
    match canonical(address) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let unique_local = segments[0] & 0xfe00 == 0xfc00;
            let link_local = segments[0] & 0xffc0 == 0xfe80;
            let documentation = segments[0] == 0x2001 && segments[1] == 0x0db8;
            let site_local = segments[0] & 0xffc0 == 0xfec0;
            // NAT64, 6to4, Teredo, IPv4-compatible and IPv4-translated addresses carry IPv4
            // addresses that may be internal; the discard prefix goes nowhere.
            let translated = (segments[0] == 0x0064 && segments[1] == 0xff9b)
                || segments[0] == 0x2002
                || (segments[0] == 0x2001 && segments[1] == 0)
                || segments[..6] == [0; 6]
                || segments[..6] == [0, 0, 0, 0, 0xffff, 0]
                || segments[..4] == [0x0100, 0, 0, 0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || unique_local
                || link_local
                || site_local
                || documentation
                || translated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: TargetRules<'static> = TargetRules {
        kind: EnvKind::Live,
        allowed_networks: &[],
    };
    const TEST: TargetRules<'static> = TargetRules {
        kind: EnvKind::Test,
        allowed_networks: &[],
    };

    #[test]
    fn live_needs_https_and_a_public_host() {
        assert!(LIVE.check_url("https://hooks.example.com/airlock").is_ok());
        assert!(
            LIVE.check_url("http://hooks.example.com/")
                .unwrap_err()
                .contains("https")
        );
        for refused in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00::1]/",
            "https://[::7f00:1]/",
            "https://[::ffff:0:a00:1]/",
            "https://[2001::1]/",
            "https://[fec0::1]/",
            "https://[100::1]/",
            "https://[64:ff9b::a00:1]/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://localhost/",
            "https://api.localhost/",
        ] {
            assert!(LIVE.check_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for public in ["https://93.184.216.34/", "https://[2606:2800:220:1::1]/"] {
            assert!(LIVE.check_url(public).is_ok(), "{public}");
        }
    }

    #[test]
    fn test_zones_may_reach_this_machine_but_not_the_private_network() {
        assert!(TEST.check_url("http://localhost:3000/hooks").is_ok());
        assert!(TEST.check_url("http://127.0.0.1:3000/hooks").is_ok());
        assert!(TEST.check_url("http://10.0.0.8/hooks").is_err());
        assert!(TEST.check_url("http://169.254.169.254/").is_err());
        assert!(TEST.allows_address("::1".parse().unwrap()));
        assert!(!TEST.allows_address("192.168.1.1".parse().unwrap()));
    }

    #[test]
    fn malformed_and_odd_urls_are_refused() {
        for refused in [
            "not a url",
            "ftp://example.com/",
            "https://user:pass@example.com/",
            "https://example.com/#frag",
            "file:///etc/passwd",
        ] {
            assert!(TEST.check_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn operators_may_open_a_network() {
        let internal: Vec<IpNet> = vec!["10.8.0.0/16".parse().unwrap()];
        let rules = TargetRules {
            kind: EnvKind::Live,
            allowed_networks: &internal,
        };
        assert!(rules.check_url("https://10.8.1.1/hooks").is_ok());
        assert!(rules.check_url("https://10.9.1.1/hooks").is_err());
    }
}
