//! Business rules and authorization. Every decision about who may see or
//! change what is made here, nowhere else; the REST handlers and server
//! functions only translate requests into calls to these functions.

pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod orgs;

use uuid::Uuid;

use super::db::UserRecord;
use crate::model::{OrgId, Role, User, UserId};

/// The signed-in caller, re-read from the database on every request so a
/// role change or a disabled account takes effect at once.
#[derive(Debug, Clone)]
pub struct Principal {
    pub session_id: Uuid,
    pub user: UserRecord,
    pub role: Role,
}

impl Principal {
    pub fn org_id(&self) -> Uuid {
        self.user.organization_id
    }
}

pub(crate) fn user_view(u: &UserRecord) -> User {
    User {
        id: UserId(u.id),
        email: u.email.clone(),
        name: u.name.clone(),
        organization: u.organization_name.clone(),
        organization_id: OrgId(u.organization_id),
        role: Role::parse(&u.role).unwrap_or(Role::User),
        mfa_enabled: u.mfa_enabled,
        created_at: u.created_at,
    }
}
