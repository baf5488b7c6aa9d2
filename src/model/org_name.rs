use super::ValidationError;

/// An organization's display name: trimmed, inner runs of white space folded
/// to one space, 2 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let err = |msg: String| Err(ValidationError::new("organization", msg));
        let chars = value.chars().count();
        if chars < 2 {
            return err("Organization name must be at least 2 characters.".into());
        }
        if chars > Self::MAX_CHARS {
            return err(format!("Organization name must be at most {} characters.", Self::MAX_CHARS));
        }
        if value.chars().any(char::is_control) {
            return err("Organization name must not contain control characters.".into());
        }
        if !value.chars().any(char::is_alphanumeric) {
            return err("Organization name must contain a letter or a digit.".into());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A URL-safe identifier derived from the name ("Partner Corp" →
    /// "partner-corp"); the store makes it unique.
    pub fn slug(&self) -> String {
        let mut slug = String::new();
        for c in self.0.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-').to_string();
        if slug.is_empty() {
            "org".into()
        } else {
            slug
        }
    }
}

impl std::fmt::Display for OrgName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_whitespace() {
        assert_eq!(OrgName::parse("  Partner   Corp ").unwrap().as_str(), "Partner Corp");
    }

    #[test]
    fn rejects_empty_short_long_and_control() {
        assert!(OrgName::parse("   ").is_err());
        assert!(OrgName::parse("a").is_err());
        assert!(OrgName::parse(&"x".repeat(101)).is_err());
        assert!(OrgName::parse("Evil\u{0007}Corp").is_err());
        assert!(OrgName::parse("--").is_err());
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(OrgName::parse("Partner Corp").unwrap().slug(), "partner-corp");
        assert_eq!(OrgName::parse("Ça & Co!").unwrap().slug(), "a-co");
        assert_eq!(OrgName::parse("日本").unwrap().slug(), "org");
    }
}
