//! The DNS lookup behind domain verification: the TXT records at
//! `_neosc-challenge.<domain>`, asked of a real nameserver
//! (`NEOSC_DNS_SERVER`, else the system's). Every way a lookup can go wrong
//! is kept apart, because the admin who published the record needs to know
//! which one it was.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;

use super::config::DomainConfig;

/// What a TXT lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxtLookup {
    /// The name has TXT records; each record's strings joined, as RFC 7208
    /// reads a long value split into several strings.
    Found(Vec<String>),
    /// The name exists but has no TXT record.
    NoRecord,
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// No answer within the timeout.
    Timeout,
    /// The nameserver answered with an error code, or could not be asked.
    Failed(String),
}

/// Asks for the TXT records of `name` (a fully qualified name, without the
/// trailing dot). A resolver is made per lookup: verification is rare, and
/// a fresh one has no cache, so a record published a minute ago is seen
/// even if the previous attempt was answered NXDOMAIN.
pub async fn lookup_txt(config: &DomainConfig, name: &str) -> TxtLookup {
    let resolver = match resolver(config.dns_server, config.dns_timeout) {
        Ok(r) => r,
        Err(e) => return TxtLookup::Failed(format!("the resolver could not be set up: {e}")),
    };
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    // The resolver's own timeout applies per attempt; this bounds the whole
    // lookup whatever it retries.
    let answer = tokio::time::timeout(config.dns_timeout * 2 + Duration::from_millis(200), resolver.txt_lookup(fqdn.as_str())).await;
    match answer {
        Err(_) => TxtLookup::Timeout,
        Ok(Ok(lookup)) => {
            let values: Vec<String> = lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect::<String>()),
                    _ => None,
                })
                .collect();
            if values.is_empty() {
                TxtLookup::NoRecord
            } else {
                TxtLookup::Found(values)
            }
        }
        Ok(Err(e)) => classify(&e),
    }
}

fn classify(e: &NetError) -> TxtLookup {
    match e {
        NetError::Timeout => TxtLookup::Timeout,
        NetError::Dns(DnsError::NoRecordsFound(no)) if no.response_code == ResponseCode::NXDomain => TxtLookup::NxDomain,
        NetError::Dns(DnsError::NoRecordsFound(_)) => TxtLookup::NoRecord,
        NetError::Dns(DnsError::ResponseCode(code)) => TxtLookup::Failed(format!("the nameserver answered {code}")),
        other => TxtLookup::Failed(other.to_string()),
    }
}

fn resolver(server: Option<SocketAddr>, timeout: Duration) -> Result<TokioResolver, NetError> {
    let mut builder = match server {
        Some(addr) => {
            let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
            for connection in &mut ns.connections {
                connection.port = addr.port();
            }
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(vec![ns]), TokioRuntimeProvider::default())
        }
        None => TokioResolver::builder_tokio()?,
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    opts.timeout = timeout;
    opts.attempts = 1;
    opts.cache_size = 0;
    builder.build()
}
