//! The reverse proxies the bot trusts to name the client (`web.trusted_proxies`): single
//! addresses, or networks in CIDR form, since an ingress controller's pods change address.

use std::net::IpAddr;

/// One trusted address or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    network: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    /// Reads `10.0.0.0/8`, `fd00::/8` or a single address.
    pub fn parse(text: &str) -> Option<ProxyNet> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().ok()?;
        let full = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= full)?,
            None => full,
        };
        Some(ProxyNet { network, prefix })
    }

    /// Whether `ip` is this address or inside this network (an IPv4 address written as
    /// IPv6, `::ffff:a.b.c.d`, counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(
                u128::from(u32::from(net)) << 96,
                u128::from(u32::from(ip)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` bits of `a` and `b` (left-aligned in 128 bits) agree.
fn same_prefix(a: u128, b: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(prefix));
    a & mask == b & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn a_single_address_trusts_only_itself() {
        let net = ProxyNet::parse("10.1.2.3").expect("parse");
        assert!(net.contains(ip("10.1.2.3")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        assert!(!net.contains(ip("10.1.2.4")));
    }

    #[test]
    fn a_network_trusts_its_addresses_and_no_others() {
        let net = ProxyNet::parse("10.244.0.0/16").expect("parse");
        assert!(net.contains(ip("10.244.0.1")));
        assert!(net.contains(ip("10.244.255.254")));
        assert!(!net.contains(ip("10.245.0.1")));
        assert!(!net.contains(ip("fd00::1")));
        let v6 = ProxyNet::parse("fd00::/8").expect("parse");
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(
            ProxyNet::parse("0.0.0.0/0")
                .expect("all")
                .contains(ip("203.0.113.9"))
        );
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "proxy",
            "10.0.0.0/x",
            "::/129",
            "",
        ] {
            assert!(ProxyNet::parse(bad).is_none(), "{bad}");
        }
    }
}
