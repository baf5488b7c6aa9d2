//! Which email domains may identify an organization. Public mailbox
//! providers never do: everyone at gmail.com is not one company.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::server::config::DomainConfig;
use crate::server::error::{ServiceError, ServiceResult};

static FREEMAIL: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("freemail.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect());

pub fn is_public_mail_domain(domain: &str) -> bool {
    FREEMAIL.contains(domain.trim().to_lowercase().as_str())
}

/// A domain an organization may own: a valid DNS name that is not a public
/// mailbox provider.
pub fn organization_domain(raw: &str, field: &'static str) -> ServiceResult<String> {
    let domain = raw.trim().trim_start_matches('@').to_lowercase();
    if crate::model::Email::parse(&format!("x@{domain}")).is_err() {
        return Err(ServiceError::Validation { field: Some(field), message: format!("{domain:?} is not a domain name.") });
    }
    if is_public_mail_domain(&domain) {
        return Err(ServiceError::Validation {
            field: Some(field),
            message: format!("{domain} is a public email provider and cannot identify an organization. Use your work domain."),
        });
    }
    Ok(domain)
}

/// Top-level names reserved for tests, documentation and invalid names
/// (RFC 2606, RFC 6761): nobody can prove they own one, so they place
/// nobody, unless the installation allows them (`NEOSC_ALLOW_RESERVED_DOMAINS`,
/// the test suites).
const RESERVED_TLDS: [&str; 4] = ["invalid", "localhost", "example", "test"];

/// The `.invalid` names NeoSC gives organizations an identity provider
/// created without a usable domain. Never joinable, never claimable.
pub fn is_placeholder(domain: &str) -> bool {
    domain.trim_end_matches('.').to_ascii_lowercase().ends_with(".sso.invalid")
}

pub fn is_reserved(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let tld = domain.rsplit('.').next().unwrap_or_default();
    RESERVED_TLDS.contains(&tld)
}

/// Refuses an address NeoSC must never place anyone by: a placeholder
/// always, a reserved name unless the installation allows them.
pub fn ensure_placeable(config: &DomainConfig, domain: &str, field: &'static str) -> ServiceResult<()> {
    if is_placeholder(domain) || (is_reserved(domain) && !config.allow_reserved) {
        return Err(ServiceError::Validation {
            field: Some(field),
            message: format!(
                "{domain} is a reserved name that nobody can own (.test, .example, .invalid, .localhost). Use a real address."
            ),
        });
    }
    Ok(())
}

/// A domain an organization may claim: an organization domain that is
/// neither a placeholder nor (unless allowed) reserved.
pub fn claimable_domain(config: &DomainConfig, raw: &str, field: &'static str) -> ServiceResult<String> {
    let domain = organization_domain(raw, field)?.trim_end_matches('.').to_owned();
    ensure_placeable(config, &domain, field)?;
    Ok(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_providers_are_refused_and_work_domains_pass() {
        assert!(is_public_mail_domain("Gmail.com"));
        assert!(organization_domain("gmail.com", "domain").is_err());
        assert!(organization_domain("not a domain", "domain").is_err());
        assert_eq!(organization_domain(" @PartnerCorp.com ", "domain").unwrap(), "partnercorp.com");
    }

    #[test]
    fn reserved_names_and_placeholders_place_nobody() {
        let mut config =
            DomainConfig { allow_reserved: false, dns_server: None, dns_timeout: std::time::Duration::from_secs(1), trust_idp: false };
        for reserved in ["corp.test", "a.example", "x.invalid", "localhost.localhost", "corp.TEST."] {
            assert!(ensure_placeable(&config, reserved, "email").is_err(), "{reserved}");
        }
        assert!(ensure_placeable(&config, "bigcorp.com", "email").is_ok());
        assert!(ensure_placeable(&config, "test.com", "email").is_ok());
        config.allow_reserved = true;
        assert!(ensure_placeable(&config, "corp.test", "email").is_ok());
        assert!(ensure_placeable(&config, "sso-default.sso.invalid", "email").is_err());
        assert!(claimable_domain(&config, "zitadel-1.sso.invalid", "domain").is_err());
    }
}
