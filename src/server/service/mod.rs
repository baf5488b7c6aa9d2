//! Business rules and authorization. Every decision about who may see or
//! change what is made here, nowhere else; the REST handlers and server
//! functions only translate requests into calls to these functions.

pub mod account;
pub mod admins;
pub mod audit;
pub mod audit_checkpoints;
pub mod audit_log;
pub mod audit_retention;
pub mod audit_seed;
pub mod audit_stream;
pub mod auth;
pub mod bootstrap;
pub mod domains;
pub mod email_confirmation;
pub mod invitations;
pub mod mails;
pub mod members;
pub mod mfa;
pub mod operator;
pub mod org_domains;
pub mod orgs;
pub mod reauth;
pub mod secret_keys;
pub mod sso;
pub mod templates;
pub mod throttle;
pub mod users;
pub mod verification;
pub mod workspaces;

use uuid::Uuid;

use super::db::{SessionStage, UserRecord};
use crate::model::{OrgId, Role, TemplateId, User, UserId, WorkspaceId};

/// What the caller presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(Uuid),
    ApiToken(Uuid),
}

/// The signed-in caller, re-read from the database on every request so a
/// role change or a disabled account takes effect at once. `role` is
/// `user.role`, kept at hand for the authorization checks.
#[derive(Debug, Clone)]
pub struct Principal {
    pub credential: Credential,
    pub stage: SessionStage,
    pub user: UserRecord,
    pub role: Role,
    /// When the session's last sign-in step was proven (a session is
    /// replaced at every step, so this is its creation). `None` for an API
    /// token, which never counts as a recent sign-in.
    pub authenticated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How the session was signed in (`password`, `password_mfa`, `sso`);
    /// `None` for an API token and for sessions older than migration 0021.
    pub session_method: Option<String>,
}

impl Principal {
    pub fn org_id(&self) -> Uuid {
        self.user.organization_id
    }

    /// How the caller was authenticated for this request, as audit events
    /// give it: the session's sign-in method, or `api_token`.
    pub fn session_kind(&self) -> Option<&'static str> {
        match self.credential {
            Credential::ApiToken(_) => Some("api_token"),
            Credential::Session(_) => match self.session_method.as_deref() {
                Some("password") => Some("password"),
                Some("password_mfa") => Some("password_mfa"),
                Some("sso") => Some("sso"),
                _ => None,
            },
        }
    }

    pub fn session_id(&self) -> Option<Uuid> {
        match self.credential {
            Credential::Session(id) => Some(id),
            Credential::ApiToken(_) => None,
        }
    }
}

/// An organization id from a URL or a form. One of another kind, or no id
/// at all, names no organization: "not found", like a foreign one.
pub fn org_id(raw: &str) -> super::error::ServiceResult<Uuid> {
    OrgId::parse(raw).map(|o| o.0).ok_or_else(|| super::error::ServiceError::NotFound("No such organization.".into()))
}

/// A user id from a URL or a form; see `org_id`.
pub fn user_id(raw: &str) -> super::error::ServiceResult<Uuid> {
    UserId::parse(raw).map(|u| u.0).ok_or_else(|| super::error::ServiceError::NotFound("No such user.".into()))
}

/// A workspace id from a URL or a form; see `org_id`.
pub fn workspace_id(raw: &str) -> super::error::ServiceResult<Uuid> {
    WorkspaceId::parse(raw).map(|w| w.0).ok_or_else(|| super::error::ServiceError::NotFound("No such workspace.".into()))
}

/// A template id from a URL or a form; see `org_id`.
pub fn template_id(raw: &str) -> super::error::ServiceResult<Uuid> {
    TemplateId::parse(raw).map(|t| t.0).ok_or_else(|| super::error::ServiceError::NotFound("No such template.".into()))
}

pub(crate) fn user_view(u: &UserRecord) -> User {
    User {
        id: UserId(u.id),
        email: u.email.clone(),
        name: u.name.clone(),
        organization: u.organization_name.clone(),
        organization_id: OrgId(u.organization_id),
        role: u.role,
        mfa_enabled: u.mfa_enabled || u.sso_mfa,
        sso_linked: u.sso_linked,
        email_verified: u.email_verified_at.is_some(),
        created_at: u.created_at,
    }
}
