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
mod email;
mod error;
mod ids;
mod org_name;
mod organization;
mod password;
mod person_name;
mod session;
mod sso;
mod user;

pub use account::{ApiTokenView, CreatedApiToken, MfaStatus, SessionView, TotpSetupView};
pub use email::Email;
pub use error::{AppError, ErrorKind};
pub use ids::{OrgId, UserId};
pub use org_name::OrgName;
pub use organization::{Invitation, InvitationPreview, Member, OrgStatus, Organization, OrganizationDetail, Page};
pub use password::{Password, PasswordPolicy};
pub use person_name::PersonName;
pub use session::{SessionKind, SessionStage};
pub use sso::SsoRefusal;
pub use user::{stage_path, Role, User, UserStatus};

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
