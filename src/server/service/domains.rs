//! Which email domains may identify an organization. Public mailbox
//! providers never do: everyone at gmail.com is not one company.

use std::collections::HashSet;
use std::sync::LazyLock;

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
}
