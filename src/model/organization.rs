use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{OrgId, UserStatus};

/// Whether an organization's members may sign in. Stored in
/// `organizations.status`; a name the enum does not know fails to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum OrgStatus {
    Active,
    /// A platform admin suspended it: its members cannot sign in or join.
    Suspended,
}

impl OrgStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgStatus::Active => "active",
            OrgStatus::Suspended => "suspended",
        }
    }
}

/// An organization as the API and the pages show it: exactly the seed's
/// shape. The counts are maintained by the database in the same transaction
/// as every change to users or workspaces, so they are always the real
/// number of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Organization {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "org-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub id: OrgId,
    pub name: String,
    pub domain: String,
    pub users_count: i64,
    pub workspaces_count: i64,
    /// RFC 3339, UTC.
    pub created_at: DateTime<Utc>,
}

/// An organization with the settings the detail page and admins see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrganizationDetail {
    #[serde(flatten)]
    pub organization: Organization,
    pub slug: String,
    pub status: OrgStatus,
    /// Most members allowed; none means unlimited.
    pub seat_limit: Option<i64>,
    pub require_mfa: bool,
    /// Running workspaces are stopped this many hours after they start;
    /// none: never.
    pub autostop_after_hours: Option<i64>,
    /// Members may create their own workspaces, within
    /// `max_workspaces_per_user`.
    pub self_service_workspaces: bool,
    /// Whoever registers with a verified address at one of the
    /// organization's verified domains joins it as a user.
    pub auto_join: bool,
    /// Audit events older than this many days are purged (the chain stays
    /// verifiable from the purge point); none: kept for ever.
    #[serde(default)]
    pub audit_retention_days: Option<i64>,
    pub is_default: bool,
    pub updated_at: DateTime<Utc>,
}

/// One page of a longer list, with the total so pages can be numbered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A member of an organization as its admins see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Member {
    #[serde(flatten)]
    pub user: super::User,
    pub status: UserStatus,
}

/// An open invitation. `link` is present only right after creating or
/// re-sending it (the token is not stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: uuid::Uuid,
    pub email: String,
    pub role: super::Role,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub expired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What the invitee sees before accepting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationPreview {
    pub organization: String,
    pub email: String,
    pub role: super::Role,
    pub expires_at: DateTime<Utc>,
}
