use super::ValidationError;

/// A person's display name: trimmed, 1 to 100 characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let err = |msg: &str| Err(ValidationError::new("name", msg));
        if value.is_empty() {
            return err("Name is required.");
        }
        if value.chars().count() > 100 {
            return err("Name must be at most 100 characters.");
        }
        if value.chars().any(char::is_control) {
            return err("Name must not contain control characters.");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_limits() {
        assert_eq!(PersonName::parse(" John  Doe ").unwrap().as_str(), "John Doe");
        assert!(PersonName::parse("").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
    }
}
