//! The one rule about admins: the installation keeps an active platform
//! admin, and an organization keeps an active org admin. Removing, demoting
//! or disabling a member asks `ensure_one_remains` in the transaction that
//! makes the change.
//!
//! Only *active* admins count. A disabled admin administers nothing, so:
//! - the rule guards an admin who is active now and would stop being an
//!   active admin of the same kind (demoted, disabled, removed);
//! - a disabled admin may be removed or demoted freely, even when no other
//!   admin is left: that changes nothing about who can act, and refusing it
//!   would keep a dead account around for nothing;
//! - re-enabling or promoting never needs the rule.

use uuid::Uuid;

use crate::model::{Role, UserStatus};
use crate::server::db::{Db, OrgRecord, UserRecord};
use crate::server::error::{ServiceError, ServiceResult};

/// What is about to happen to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Role(Role),
    Disable,
    Remove,
}

impl Change {
    /// Whether `user` is still an active admin of their current kind after
    /// this change.
    fn keeps_admin(self, user: &UserRecord) -> bool {
        match self {
            Change::Role(role) => role == user.role,
            Change::Disable | Change::Remove => false,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Change::Role(_) => "changing their role",
            Change::Disable => "disabling them",
            Change::Remove => "removing them",
        }
    }
}

/// Refuses `change` when `user` is the last active admin of their kind:
/// the last active platform admin of the installation, or the last active
/// org admin of `org` (the user's organization). Run it in the transaction
/// that makes the change, after `lock_member`, so the count cannot move
/// underneath: platform admins span organizations, so for them this takes
/// the installation-wide platform-admin lock as well.
pub async fn ensure_one_remains(db: &mut Db, org: &OrgRecord, user: &UserRecord, change: Change) -> ServiceResult<()> {
    if user.status != UserStatus::Active || !user.role.is_admin() || change.keeps_admin(user) {
        return Ok(());
    }
    let remaining = match user.role {
        Role::PlatformAdmin => {
            db.lock_platform_admins().await?;
            db.count_active_platform_admins().await?
        }
        Role::OrgAdmin => db.count_active_org_admins(org.id).await?,
        Role::User => return Ok(()),
    };
    if remaining > 1 {
        return Ok(());
    }
    Err(ServiceError::Conflict(match user.role {
        Role::PlatformAdmin => format!("{} is the last platform admin; make another one before {}.", user.email, change.what()),
        _ => format!("{} is the last admin of “{}”; make someone else admin before {}.", user.email, org.name, change.what()),
    }))
}

/// Locks a member for a decision about them: their organization's row
/// first, then their own (always in this order, so two such transactions
/// never wait on each other). Locking the organization also serialises
/// every admin change within it, which is what keeps `ensure_one_remains`'
/// count true until the commit. `None` when there is no such user.
pub async fn lock_member(db: &mut Db, user_id: Uuid) -> ServiceResult<Option<(OrgRecord, UserRecord)>> {
    let Some(org) = db.org_of_user_for_update(user_id).await? else { return Ok(None) };
    let user = db.user_by_id_for_update(user_id).await?;
    Ok(user.map(|u| (org, u)))
}
