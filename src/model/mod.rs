//! Plain types shared by the server and the WASM client. Nothing here touches
//! the database or the network, so every page can use them for inline
//! validation and the server uses the very same rules.
//!
//! States (roles, statuses, session kinds and stages) are enums, stored as
//! their snake_case names in TEXT columns. Under the `ssr` feature they
//! derive `sqlx::Type` (declared as `text`, which both SQLite and
//! PostgreSQL columns satisfy) and `utoipa::ToSchema`; those derives are the
//! only server-only code here. Decoding is strict: a name the enum does not
//! know is an error, never a default.

mod account;
mod audit;
pub mod audit_query;
mod audit_stream;
mod cidr;
mod domain;
mod email;
mod error;
mod ids;
mod org_name;
mod organization;
mod password;
mod person_name;
pub mod security_policy;
mod session;
mod sso;
mod units;
mod user;
mod workspace;

pub use account::{ApiTokenView, CreatedApiToken, MfaStatus, SessionView, TotpSetupView};
pub use audit::{AuditActor, AuditChainStatus, AuditContext, AuditEvent, AuditFilter, AuditOutcome, AuditPage, AuditTarget, ChainReport};
pub use audit_stream::{AuditStream, AuditStreamChanges, CreatedAuditStream, NewAuditStream};
pub use cidr::Cidr;
pub use domain::{DomainMethod, DomainStatus, OrganizationDomain, CHALLENGE_LABEL, CHALLENGE_PREFIX};
pub use email::Email;
pub use error::{AppError, ErrorKind};
pub use ids::{OrgId, TemplateId, UserId, WorkspaceId};
pub use org_name::OrgName;
pub use organization::{Invitation, InvitationPreview, Member, OrgStatus, Organization, OrganizationDetail, Page};
pub use password::{Password, PasswordPolicy};
pub use person_name::PersonName;
pub use session::{SessionKind, SessionStage};
pub use sso::SsoRefusal;
pub use units::parse_vcpu;
pub use user::{stage_path, Role, User, UserStatus};
pub use workspace::{
    check_workspace_name, format_mib, format_vcpu, DesiredState, NewTemplateRequest, NewWorkspaceRequest, OrganizationUsage, QuotaNeed,
    QuotaRefusal, QuotaUse, Quotas, TemplateRef, Workspace, WorkspaceChanges, WorkspaceDetail, WorkspaceEvent, WorkspaceOwner,
    WorkspaceSize, WorkspaceStatus, WorkspaceTemplate, LARGEST_SIZE, MIN_MEMORY_MIB,
};

/// A field that failed validation, with a message written for the person who
/// typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

#[cfg(test)]
mod state_names {
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::*;

    /// Each state's name is the same for JSON, `as_str` (audit details,
    /// logs) and the database (sqlx's `rename_all`, like serde's), and a
    /// stranger is refused, not defaulted.
    fn agree<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug + Copy>(all: &[T], name: fn(T) -> &'static str) {
        for state in all {
            assert_eq!(serde_json::to_value(state).unwrap(), serde_json::Value::from(name(*state)));
            assert_eq!(serde_json::from_value::<T>(name(*state).into()).unwrap(), *state);
        }
        assert!(serde_json::from_str::<T>(r#""owner""#).is_err());
    }

    #[test]
    fn every_state_has_one_name() {
        agree(&[Role::PlatformAdmin, Role::OrgAdmin, Role::User], Role::as_str);
        agree(&[UserStatus::Active, UserStatus::Disabled], UserStatus::as_str);
        agree(&[OrgStatus::Active, OrgStatus::Suspended], OrgStatus::as_str);
        agree(&[SessionKind::Browser, SessionKind::Api], SessionKind::as_str);
        agree(
            &[SessionStage::Full, SessionStage::MfaPending, SessionStage::EnrolRequired, SessionStage::PasswordChangeRequired],
            SessionStage::as_str,
        );
        assert_eq!(Role::parse("org_admin"), Some(Role::OrgAdmin));
        assert_eq!(Role::parse("Org_Admin"), None);
    }
}
