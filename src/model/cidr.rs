//! Address blocks (`10.0.0.0/8`, `fd00::/8`): trusted proxies, the audit
//! log's `ip` filter and the security policy's IP allowlist all use this one
//! type, so the console's inline validation accepts exactly what the server
//! does.

use std::net::IpAddr;

/// An address block, `10.0.0.0/8` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `addr/prefix`, or a bare address (a block of one).
    pub fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.trim(), Some(p.trim())),
            None => (s.trim(), None),
        };
        let network = canonical(addr.parse::<IpAddr>().ok()?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            // Digits only: `u8::from_str` would also take "+8".
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            Some(_) => return None,
            None => max,
        };
        Some(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(u32::from(net).into(), u32::from(ip).into(), 32, self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(u128::from(net), u128::from(ip), 128, self.prefix),
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Whether the first `prefix` of `bits` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (a >> shift) == (b >> shift)
}

/// An IPv4 client reached over an IPv6 socket (`::ffff:192.0.2.1`) is that
/// IPv4 address, so one block matches it however it arrived.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl Cidr {
    /// The block's first address: `10.1.2.3/8` is the block `10.0.0.0/8`.
    pub fn network(&self) -> IpAddr {
        match self.network {
            IpAddr::V4(ip) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                IpAddr::V4((u32::from(ip) & mask).into())
            }
            IpAddr::V6(ip) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                IpAddr::V6((u128::from(ip) & mask).into())
            }
        }
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The same block written with its first address, as it is stored.
    pub fn normalized(&self) -> Self {
        Self { network: self.network(), prefix: self.prefix }
    }

    /// Whether every address of `other` is in this block.
    pub fn covers(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.network)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_parse_normalise_and_nest() {
        let office = Cidr::parse("10.1.2.3/8").unwrap();
        assert_eq!(office.normalized().to_string(), "10.0.0.0/8");
        assert!(office.contains("10.200.0.1".parse().unwrap()));
        assert!(office.contains("::ffff:10.0.0.9".parse().unwrap()));
        assert!(!office.contains("11.0.0.1".parse().unwrap()));
        assert!(office.covers(&Cidr::parse("10.3.0.0/16").unwrap()));
        assert!(!office.covers(&Cidr::parse("0.0.0.0/0").unwrap()));
        assert_eq!(Cidr::parse("2001:db8::1/32").unwrap().normalized().to_string(), "2001:db8::/32");
        assert_eq!(Cidr::parse("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        for bad in ["10.0.0.0/33", "10.0.0.0/+8", "10.0.0/8", "", "fd00::/129", "10.0.0.0/"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
