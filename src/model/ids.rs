//! Typed identifiers. In JSON and URLs they carry a prefix that names the kind
//! of object (`org-…`, `usr-…`), so an id of one kind can never be mistaken
//! for another; in the database they are plain UUIDs (v7, so they sort by
//! creation time and index well).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

macro_rules! prefixed_id {
    ($name:ident, $prefix:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Accepts `<prefix>-<uuid>`; the bare UUID is not accepted so that
            /// ids of different kinds stay distinguishable.
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?.strip_prefix('-')?;
                Uuid::parse_str(rest).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}-{}", $prefix, self.0.hyphenated())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| serde::de::Error::custom(concat!("expected an id of the form ", $prefix, "-<uuid>")))
            }
        }
    };
}

prefixed_id!(OrgId, "org");
prefixed_id!(UserId, "usr");
prefixed_id!(WorkspaceId, "ws");
prefixed_id!(TemplateId, "tpl");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_with_prefix() {
        let id = OrgId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert!(json.starts_with("\"org-"));
        assert_eq!(serde_json::from_str::<OrgId>(&json).unwrap(), id);
    }

    #[test]
    fn refuses_other_kinds_and_bare_uuids() {
        let u = UserId::new();
        assert!(OrgId::parse(&u.to_string()).is_none());
        assert!(OrgId::parse(&u.0.to_string()).is_none());
    }
}
