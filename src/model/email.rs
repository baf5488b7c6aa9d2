use super::ValidationError;

/// An email address, trimmed and lower-cased, so that equality is what a
/// person means by "the same address".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// RFC 5321 caps a forward path at 254 octets.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.trim().to_lowercase();
        let err = |msg: &str| Err(ValidationError::new("email", msg));
        if value.is_empty() {
            return err("Email is required.");
        }
        if value.len() > Self::MAX_LEN {
            return err("Email is longer than 254 characters.");
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return err("Email must look like name@example.com.");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return err("Email must look like name@example.com.");
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("Email must not contain spaces.");
        }
        if !is_domain(domain) {
            return err("Email domain is not a valid domain name.");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`, which is how an address maps to an organization.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

/// A DNS name with at least two labels: letters, digits and inner hyphens.
pub(crate) fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()))
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let e = Email::parse("  John.Doe@NeoGenesys.COM ").unwrap();
        assert_eq!(e.as_str(), "john.doe@neogenesys.com");
        assert_eq!(e.domain(), "neogenesys.com");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in ["", "plain", "@x.com", "a@", "a@b", "a b@x.com", "a@-x.com", "a@x..com", "a@x.123"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
