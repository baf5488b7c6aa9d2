//! What admins do to other accounts: roles, disabling, ending sessions.
//! A platform admin may act on anyone; an org admin only on members of
//! their own organization who are not platform admins.

use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::orgs::deny_cross_org;
use super::Principal;
use crate::model::{Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::UserRecord;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

fn not_found() -> ServiceError {
    ServiceError::NotFound("No such user.".into())
}

fn user_target(id: Uuid) -> Target<'static> {
    Target { kind: "user", id: UserId(id).to_string() }
}

/// The user `target` if the caller may manage them. A user of another
/// organization is "not found" (no existence leak), and the attempt is
/// recorded in the caller's organization.
async fn managed_user(state: &AppState, principal: &Principal, target: Uuid, meta: &RequestMeta) -> ServiceResult<UserRecord> {
    if principal.role == Role::User {
        return Err(ServiceError::Forbidden("Only admins can manage other accounts.".into()));
    }
    let user = state.store.read().await?.user_by_id(target).await?;
    let foreign = user.as_ref().is_some_and(|u| principal.role == Role::OrgAdmin && u.organization_id != principal.org_id());
    if foreign {
        deny_cross_org(state, principal, user_target(target), "manage_user", meta).await?;
        return Err(not_found());
    }
    let user = user.ok_or_else(not_found)?;
    if principal.role == Role::OrgAdmin && user.role == Role::PlatformAdmin.as_str() {
        return Err(ServiceError::Forbidden("Only a platform admin can manage a platform admin.".into()));
    }
    Ok(user)
}

fn would_remove_last_platform_admin(user: &UserRecord, remaining_active: i64) -> bool {
    user.role == Role::PlatformAdmin.as_str() && user.status == "active" && remaining_active <= 1
}

async fn is_last_org_admin(db: &mut crate::server::db::Db, user: &UserRecord) -> ServiceResult<bool> {
    Ok(user.role == Role::OrgAdmin.as_str() && user.status == "active" && db.count_active_org_admins(user.organization_id).await? <= 1)
}

pub async fn change_role(state: &AppState, principal: &Principal, target: Uuid, role: Role, meta: &RequestMeta) -> ServiceResult<()> {
    let user = managed_user(state, principal, target, meta).await?;
    if role == Role::PlatformAdmin && principal.role != Role::PlatformAdmin {
        return Err(ServiceError::Forbidden("Only a platform admin can make platform admins.".into()));
    }
    if user.role == role.as_str() {
        return Ok(());
    }
    let now = state.clock.now();
    let mut db = state.store.write().await?;
    db.lock_platform_admins().await?;
    if role != Role::PlatformAdmin && would_remove_last_platform_admin(&user, db.count_active_platform_admins().await?) {
        return Err(ServiceError::Conflict("This is the last platform admin; make another one first.".into()));
    }
    if role != Role::OrgAdmin && is_last_org_admin(&mut db, &user).await? {
        return Err(ServiceError::Conflict("This is the organization's last admin; make someone else admin first.".into()));
    }
    db.set_user_role(user.id, role.as_str(), now).await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(user.organization_id),
        actor: Some(principal.user.id),
        action: action::CHANGE_USER_ROLE,
        target: Some(user_target(user.id)),
        details: json!({ "role": { "old": user.role, "new": role.as_str() } }),
    })
    .await?;
    db.commit().await?;
    Ok(())
}

/// Disables (and ends every session of) or re-enables an account.
pub async fn set_disabled(state: &AppState, principal: &Principal, target: Uuid, disabled: bool, meta: &RequestMeta) -> ServiceResult<()> {
    if disabled && target == principal.user.id {
        return Err(ServiceError::Conflict("You cannot disable your own account.".into()));
    }
    let user = managed_user(state, principal, target, meta).await?;
    let now = state.clock.now();
    let mut db = state.store.write().await?;
    db.lock_platform_admins().await?;
    if disabled && would_remove_last_platform_admin(&user, db.count_active_platform_admins().await?) {
        return Err(ServiceError::Conflict("This is the last platform admin and cannot be disabled.".into()));
    }
    if disabled && is_last_org_admin(&mut db, &user).await? {
        return Err(ServiceError::Conflict("This is the organization's last admin and cannot be disabled.".into()));
    }
    db.set_user_status(user.id, if disabled { "disabled" } else { "active" }, now).await?;
    let ended = if disabled { db.delete_sessions_of_user(user.id, None).await? } else { 0 };
    audit::record(&mut db, now, meta, Event {
        org: Some(user.organization_id),
        actor: Some(principal.user.id),
        action: if disabled { action::DISABLE_USER } else { action::ENABLE_USER },
        target: Some(user_target(user.id)),
        details: json!({ "sessions_ended": ended }),
    })
    .await?;
    db.commit().await?;
    Ok(())
}

/// Ends every session of an account; returns how many.
pub async fn end_sessions(state: &AppState, principal: &Principal, target: Uuid, meta: &RequestMeta) -> ServiceResult<u64> {
    let user = managed_user(state, principal, target, meta).await?;
    let now = state.clock.now();
    let mut db = state.store.write().await?;
    let ended = db.delete_sessions_of_user(user.id, None).await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(user.organization_id),
        actor: Some(principal.user.id),
        action: action::END_USER_SESSIONS,
        target: Some(user_target(user.id)),
        details: json!({ "sessions_ended": ended }),
    })
    .await?;
    db.commit().await?;
    Ok(ended)
}
