use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{OrgId, SessionStage, UserId};

/// What a person may do. Stored as its snake_case name in `users.role` and
/// `invitations.role`; a name the enum does not know fails to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Administers the whole installation, sees every organization.
    PlatformAdmin,
    /// Administers one organization.
    OrgAdmin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::OrgAdmin => "org_admin",
            Role::User => "user",
        }
    }

    /// The role a configured name (`NEOSC_OIDC_ROLE_MAP`) names, if any.
    pub fn parse(s: &str) -> Option<Self> {
        [Role::PlatformAdmin, Role::OrgAdmin, Role::User].into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "Platform admin",
            Role::OrgAdmin => "Organization admin",
            Role::User => "User",
        }
    }

    /// Administers something: the installation or an organization.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::PlatformAdmin | Role::OrgAdmin)
    }
}

/// Whether an account may sign in. Stored in `users.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    /// An admin disabled the account: no sign-in, no session.
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }
}

/// A person as the API shows them: the seed's fields plus the organization's
/// id, since names can change and ids do not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "usr-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e"))]
    pub id: UserId,
    pub email: String,
    pub name: String,
    /// The organization's display name, as in the seed.
    pub organization: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub organization_id: OrgId,
    pub role: Role,
    /// The real state of the account's second factor, not a display flag:
    /// TOTP here, or a second factor at the identity provider's last sign-in.
    pub mfa_enabled: bool,
    /// The account is linked to an identity at the SSO provider.
    pub sso_linked: bool,
    /// Its owner proved they read the address (registration link, mailed
    /// invitation, confirmation link, operator, or the provider's word).
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

/// The page that takes a sign-in's next step.
pub fn stage_path(stage: SessionStage) -> &'static str {
    match stage {
        SessionStage::MfaPending => "/login/mfa",
        SessionStage::EnrolRequired => "/account/mfa",
        SessionStage::PasswordChangeRequired => "/account/password",
        SessionStage::Full => "/organizations",
    }
}
