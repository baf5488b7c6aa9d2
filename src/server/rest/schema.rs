//! The rules `src/model` and the services enforce on request values, as
//! JSON Schema: named schemas the request bodies reference
//! (`#[schema(value_type = …)]`), so every rule is written once here and
//! the document says exactly what the server accepts.
//!
//! The server folds whitespace in names (`" Acme   Corp "` is `"Acme
//! Corp"`) and trims domains and token names before applying limits; the
//! patterns count the way the server does. "Whitespace" is Unicode
//! White_Space (Rust's `char::is_whitespace`), "control" is category Cc.

use serde::{Deserialize, Deserializer};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::model::{Email, OrgName, PasswordPolicy};

/// Whitespace, as a character class body.
macro_rules! ws {
    () => {
        r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}
/// One whitespace character.
macro_rules! w {
    () => {
        concat!("[", ws!(), "]")
    };
}
/// One character that is neither whitespace nor control.
macro_rules! n {
    () => {
        r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    };
}

/// A person's name: 1–100 characters once whitespace is folded, no control
/// characters. Each `(n|w+)` after the first character is one character of
/// the folded name.
pub const PERSON_NAME: &str = concat!("^", w!(), "*", n!(), "(?:", n!(), "|", w!(), "+){0,99}", w!(), "*$");

/// An organization's name without anchors, for `ORG_NAME` and
/// `ORG_NAME_OR_BLANK`.
macro_rules! org_name {
    () => {
        concat!(r"(?=[\s\S]*[^\W_])", w!(), "*", n!(), "(?:", n!(), "|", w!(), "+){0,98}", n!(), w!(), "*$")
    };
}

/// An organization's name: 2–100 characters once whitespace is folded, no
/// control characters, at least one letter or digit (`[^\W_]`).
pub const ORG_NAME: &str = concat!("^", org_name!());

/// An organization's name, or nothing but whitespace (which names none).
pub const ORG_NAME_OR_BLANK: &str = concat!("^(?:", w!(), "*$|", org_name!(), ")");

/// A DNS name an organization may own, as `organization_domain` reads it:
/// trimmed, a leading `@` ignored, case-insensitive, labels of letters,
/// digits and inner hyphens (1–63), at least two labels, a top-level label
/// with a letter, at most 252 characters.
pub const DOMAIN: &str = concat!(
    "^",
    w!(),
    "*@*",
    r"(?=[A-Za-z0-9.-]{1,252}",
    w!(),
    "*$)",
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+",
    r"(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?",
    w!(),
    "*$"
);

/// A workspace's name, as `model::check_workspace_name` reads it: trimmed,
/// then 1–63 characters, the first a letter or digit (`[^\W_]`), the rest
/// letters, digits, spaces, `-`, `_` and `.`.
pub const WORKSPACE_NAME: &str = concat!("^", w!(), r"*[^\W_](?:[^\W_]|[-_. ]){0,62}", w!(), "*$");

/// An API token's name: 1–100 characters once trimmed.
pub const TOKEN_NAME: &str = concat!("^", w!(), "*[^", ws!(), r"](?:[\s\S]{0,98}[^", ws!(), "])?", w!(), "*$");

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

macro_rules! value_schema {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $name {}
    };
}

value_schema!(
    /// An email address.
    EmailAddress => string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(Email::MAX_LEN))
        .description(Some("An email address (compared case-insensitively; surrounding whitespace is ignored)"))
        .examples(["user@neogenesys.com"])
);

value_schema!(
    /// A new password under the installation's policy.
    NewPassword => string()
        .min_length(Some(PasswordPolicy::default().min_chars))
        .max_length(Some(PasswordPolicy::default().max_chars))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .description(Some(
            "A new password: at least `NEOSC_PASSWORD_MIN_LENGTH` characters (default 12; this document states \
             the installation's value) and at most 128, not the account's email address and not one of the \
             10,000 most common passwords",
        ))
);

value_schema!(
    /// A person's display name.
    PersonName => string()
        .pattern(Some(PERSON_NAME))
        .description(Some("1–100 characters once runs of whitespace are folded into one space and the ends trimmed; no control characters"))
        .examples(["John Doe"])
);

value_schema!(
    /// An organization's name.
    OrganizationName => string()
        .pattern(Some(ORG_NAME))
        .description(Some(format!(
            "2–{} characters once runs of whitespace are folded into one space and the ends trimmed; at least one \
             letter or digit; no control characters",
            OrgName::MAX_CHARS
        )))
        .examples(["Neogenesys"])
);

value_schema!(
    /// The organization to join or create at registration.
    OrganizationToJoin => string()
        .pattern(Some(ORG_NAME_OR_BLANK))
        .description(Some(
            "An organization's name (as `OrganizationName`) to join or create; empty or only whitespace, like \
             omitted, names none and the email's domain decides",
        ))
        .examples(["Neogenesys"])
);

value_schema!(
    /// A domain an organization may own.
    Domain => string()
        .pattern(Some(DOMAIN))
        .description(Some(
            "A DNS name such as `neogenesys.com` (case-insensitive; a leading `@` and surrounding whitespace are \
             ignored). Public mailbox providers (gmail.com, outlook.com, …) are refused with 400: they never \
             identify an organization",
        ))
        .examples(["neogenesys.com"])
);

value_schema!(
    /// A workspace's name.
    WorkspaceName => string()
        .pattern(Some(WORKSPACE_NAME))
        .description(Some(
            "1–63 characters once the ends are trimmed: letters, digits, spaces, `-`, `_` and `.`, starting with a \
             letter or digit; unique in the organization",
        ))
        .examples(["dev box"])
);

value_schema!(
    /// A name for an API token.
    TokenName => string()
        .pattern(Some(TOKEN_NAME))
        .description(Some("1–100 characters once the ends are trimmed"))
        .examples(["CI deploy"])
);

value_schema!(
    /// An organization's id as it appears in paths and bodies.
    OrganizationId => string()
        .pattern(Some(r"^org-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"))
        .description(Some("`org-` and a UUID. Anything else names no organization (404)"))
        .examples(["org-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"])
);

value_schema!(
    /// A user's id as it appears in paths and bodies.
    UserId => string()
        .pattern(Some(r"^usr-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"))
        .description(Some("`usr-` and a UUID. Anything else names no user (404)"))
        .examples(["usr-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"])
);

value_schema!(
    /// A workspace's id as it appears in paths and bodies.
    WorkspaceId => string()
        .pattern(Some(r"^ws-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"))
        .description(Some("`ws-` and a UUID. Anything else names no workspace (404)"))
        .examples(["ws-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"])
);

value_schema!(
    /// One argument of a workspace template's command, as `service::templates` checks it.
    CommandArgument => string()
        .max_length(Some(4096))
        .pattern(Some(r"^[^\x00]*$"))
        .description(Some("At most 4096 characters, no NUL"))
        .examples(["sleep"])
);

value_schema!(
    /// A workspace template's id as it appears in paths and bodies.
    TemplateId => string()
        .pattern(Some(r"^tpl-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"))
        .description(Some("`tpl-` and a UUID"))
        .examples(["tpl-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"])
);

/// A JSON integer. To JSON Schema `30.0` is the integer 30, so it is here
/// too; `30.5` is not an integer and is refused (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        if let Some(i) = n.as_i64() {
            return Ok(Int(i));
        }
        match n.as_f64() {
            // The bounds are exact powers of two, so the comparison is too.
            Some(f) if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) => Ok(Int(f as i64)),
            _ => Err(serde::de::Error::custom(format!("expected an integer, found {n}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_numbers_are_integers() {
        let int = |s: &str| serde_json::from_str::<Int>(s).map(|i| i.0).ok();
        assert_eq!(int("30"), Some(30));
        assert_eq!(int("30.0"), Some(30));
        assert_eq!(int("-2"), Some(-2));
        assert_eq!(int("30.5"), None);
        assert_eq!(int("1e300"), None);
        assert_eq!(int("18446744073709551615"), None);
        assert_eq!(int("\"3\""), None);
    }
}
