//! Who the client is when NeoSC sits behind a reverse proxy. The TCP peer
//! is then the proxy, so every client would share one address (one
//! throttle, one audit `ip`). A proxy listed in `NEOSC_TRUSTED_PROXIES`
//! appends the address it saw to `X-Forwarded-For` (or `Forwarded`), and
//! the client is the right-most hop that is not itself a trusted proxy:
//! everything left of it was written by the client and proves nothing.
//! Headers from a peer that is not trusted are ignored entirely.

use std::net::{IpAddr, Ipv6Addr};

use axum::http::HeaderMap;

pub use crate::model::Cidr;

/// An IPv4 client reached over an IPv6 socket (`::ffff:192.0.2.1`) is that
/// IPv4 address, so one block matches it however it arrived.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// `NEOSC_TRUSTED_PROXIES`: the proxies whose forwarding headers are
/// believed. Empty (the default): none, the peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// A comma-separated list of blocks; the first entry that is not one is
    /// the error.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Cidr::parse(s).ok_or_else(|| s.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address: `peer` unless `peer` is a trusted proxy, then
    /// the right-most forwarded hop that is not trusted. A hop that is not
    /// an address (garbage, `unknown`, an obfuscated name) ends the walk at
    /// the nearest trusted hop: nothing left of it can be believed.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let mut nearest = peer;
        for hop in forwarded_hops(headers).iter().rev() {
            match hop {
                Some(ip) if self.contains(*ip) => nearest = *ip,
                Some(ip) => return *ip,
                None => return nearest,
            }
        }
        nearest
    }
}

/// The hops the proxies recorded, client first; `None` for a hop that is
/// not an address. `X-Forwarded-For` is what nginx, Caddy and Traefik set,
/// so it wins when present: a `Forwarded` header next to it came from the
/// client (those proxies pass it through untouched). Several header lines
/// are one list, in order (RFC 9110 5.3).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let joined = |name: &str| -> Option<String> {
        let mut values = headers.get_all(name).iter().peekable();
        values.peek()?;
        // A value that is not visible ASCII cannot be parsed: one garbage hop.
        Some(values.map(|v| v.to_str().unwrap_or("\u{0}")).collect::<Vec<_>>().join(","))
    };
    if let Some(xff) = joined("x-forwarded-for") {
        return xff.split(',').map(parse_hop).collect();
    }
    if let Some(fwd) = joined("forwarded") {
        return fwd.split(',').map(forwarded_for).collect();
    }
    Vec::new()
}

/// The `for=` of one `Forwarded` element (RFC 7239): `for=192.0.2.60`,
/// `for="[2001:db8:cafe::17]:4711"`, `For="192.0.2.60:443"`. An element
/// without `for=` is a hop that names no address.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| value.trim())
    })?;
    let unquoted = match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => value,
    };
    parse_hop(unquoted)
}

/// One hop: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1` or
/// `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Some(rest) = hop.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return inside.parse::<Ipv6Addr>().ok().map(|ip| canonical(IpAddr::V6(ip)));
    }
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (host, port) = hop.split_once(':')?;
    if !is_port(port) {
        return None;
    }
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What throttles count an address under: an IPv4 address as it is, an
/// IPv6 address by its /64, the block one subscriber usually holds whole
/// (rotating through it must not buy fresh attempts).
pub fn throttle_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn blocks_parse_and_match() {
        let p = proxies("10.0.0.0/8, 192.168.1.5, fd00::/8 ,2001:db8::/32");
        assert!(p.contains(ip("10.1.2.3")));
        assert!(!p.contains(ip("11.0.0.1")));
        assert!(p.contains(ip("192.168.1.5")) && !p.contains(ip("192.168.1.6")));
        assert!(p.contains(ip("fd12::1")) && !p.contains(ip("fe80::1")));
        assert!(p.contains(ip("::ffff:10.9.9.9")), "an IPv4-mapped peer is its IPv4 address");
        assert!(proxies("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!proxies("0.0.0.0/0").contains(ip("2001:db8::1")), "an IPv4 block never matches IPv6");
        assert!(proxies("").is_empty());
        for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/+8", "proxy.internal", "10.0.0/8", "10.0.0.0/8/8"] {
            assert_eq!(TrustedProxies::parse(&format!("127.0.0.1/32,{bad}")), Err(bad.to_owned()), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let h = headers(&[("x-forwarded-for", "203.0.113.5"), ("forwarded", "for=203.0.113.6")]);
        assert_eq!(TrustedProxies::default().client_ip(ip("198.51.100.7"), &h), ip("198.51.100.7"));
        assert_eq!(proxies("10.0.0.0/8").client_ip(ip("198.51.100.7"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn the_right_most_untrusted_hop_of_a_chain_is_the_client() {
        let p = proxies("10.0.0.0/8,127.0.0.1/32");
        // The client forged the first entry; two trusted proxies appended.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.0.0.2, 10.0.0.3")]);
        assert_eq!(p.client_ip(ip("127.0.0.1"), &h), ip("203.0.113.5"));
        // Several header lines are one list.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.5"), ("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        // Ports and brackets some proxies add.
        let h = headers(&[("x-forwarded-for", "203.0.113.5:51234, [2001:db8::7]:443")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("2001:db8::7"));
        // Every hop trusted: the left-most, nearest to the client.
        let h = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.2")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.9"));
        // No header at all: the proxy itself.
        assert_eq!(p.client_ip(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
    }

    #[test]
    fn the_forwarded_header_with_quotes_ports_and_ipv6() {
        let p = proxies("10.0.0.0/8");
        let h = headers(&[("forwarded", r#"for=6.6.6.6, For="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.2, for=10.0.0.2"#)]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", r#"proto=https; for="203.0.113.5:443""#)]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.5"));
        // X-Forwarded-For wins: beside it, a Forwarded header is the client's own.
        let h = headers(&[("forwarded", "for=6.6.6.6"), ("x-forwarded-for", "203.0.113.5")]);
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.5"));
    }

    #[test]
    fn garbage_stops_at_the_nearest_trusted_hop() {
        let p = proxies("10.0.0.0/8");
        for (name, value, expected) in [
            ("x-forwarded-for", "203.0.113.5, not-an-ip", "10.0.0.1"),
            ("x-forwarded-for", "203.0.113.5, garbage, 10.0.0.2", "10.0.0.2"),
            ("x-forwarded-for", "", "10.0.0.1"),
            ("x-forwarded-for", ",,,", "10.0.0.1"),
            ("x-forwarded-for", "[2001:db8::1", "10.0.0.1"),
            ("x-forwarded-for", "[2001:db8::1]x", "10.0.0.1"),
            ("x-forwarded-for", "203.0.113.5:99999999", "10.0.0.1"),
            ("x-forwarded-for", "::1:80", "::1:80"),
            ("forwarded", "for=unknown", "10.0.0.1"),
            ("forwarded", r#"for="_hidden""#, "10.0.0.1"),
            ("forwarded", r#"for="203.0.113.5"#, "10.0.0.1"),
            ("forwarded", "proto=https", "10.0.0.1"),
            ("forwarded", "for=203.0.113.5, by=10.0.0.2", "10.0.0.1"),
        ] {
            assert_eq!(p.client_ip(ip("10.0.0.1"), &headers(&[(name, value)])), ip(expected), "{name}: {value}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_bytes(b"203.0.113.5, \xff").unwrap());
        assert_eq!(p.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"), "bytes that are not text");
    }

    #[test]
    fn throttle_keys_group_ipv6_by_its_64() {
        assert_eq!(throttle_key(ip("203.0.113.5")), "203.0.113.5");
        assert_eq!(throttle_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), "2001:db8:1:2::/64");
        assert_eq!(throttle_key(ip("2001:db8:1:2::1")), throttle_key(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(throttle_key(ip("2001:db8:1:2::1")), throttle_key(ip("2001:db8:1:3::1")));
        assert_eq!(throttle_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }
}
