use super::{Email, ValidationError};

/// The rules a new password must meet. The limits are configuration (and
/// later per-organization policy); the defaults follow OWASP ASVS V6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    pub max_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_chars: 12, max_chars: 128 }
    }
}

/// A password that met the policy. It never implements `Debug` or `Display`
/// with its content, so it cannot end up in a log by accident.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, email: &Email, policy: PasswordPolicy) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        let err = |msg: String| Err(ValidationError::new("password", msg));
        if chars < policy.min_chars {
            return err(format!("Password must be at least {} characters.", policy.min_chars));
        }
        if chars > policy.max_chars {
            return err(format!("Password must be at most {} characters.", policy.max_chars));
        }
        if raw.trim().to_lowercase() == email.as_str() {
            return err("Password must not be your email address.".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("john@neogenesys.com").unwrap()
    }

    #[test]
    fn enforces_length_bounds_in_characters() {
        let p = PasswordPolicy::default();
        assert!(Password::parse("short", &email(), p).is_err());
        assert!(Password::parse("ééééééééééé", &email(), p).is_err(), "11 chars");
        assert!(Password::parse("éééééééééééé", &email(), p).is_ok(), "12 chars");
        assert!(Password::parse(&"x".repeat(129), &email(), p).is_err());
        assert!(Password::parse(&"x".repeat(128), &email(), p).is_ok());
    }

    #[test]
    fn rejects_the_email_itself() {
        assert!(Password::parse("John@NeoGenesys.com", &email(), PasswordPolicy::default()).is_err());
    }

    #[test]
    fn debug_does_not_leak() {
        let p = Password::parse("correct horse battery", &email(), PasswordPolicy::default()).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
