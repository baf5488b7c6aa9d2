//! What admins do to other accounts: roles, disabling, ending sessions.
//! A platform admin may act on anyone; an org admin only on members of
//! their own organization who are not platform admins.
//!
//! Each action reads its target and decides inside the transaction that
//! acts, with the target locked (`admins::lock_member`), so what was
//! checked is what gets changed.

use serde_json::json;
use uuid::Uuid;

use super::admins::{self, Change};
use super::audit::{self, action, Event, Target};
use super::orgs::deny_cross_org;
use super::Principal;
use crate::model::{Role, UserId, UserStatus};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::{Db, OrgRecord, UserRecord};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

fn not_found() -> ServiceError {
    ServiceError::NotFound("No such user.".into())
}

fn user_target(id: Uuid) -> Target<'static> {
    Target { kind: "user", id: UserId(id).to_string() }
}

/// Opens the transaction of an action on `target`, with the target and
/// their organization locked, if the caller may manage them. A user of
/// another organization is "not found" (no existence leak), and the
/// attempt is recorded in the caller's organization.
async fn begin_managed(
    state: &AppState,
    principal: &Principal,
    target: Uuid,
    meta: &RequestMeta,
) -> ServiceResult<(Db, OrgRecord, UserRecord)> {
    if principal.role == Role::User {
        let error = ServiceError::Forbidden("Only admins can manage other accounts.".into());
        return Err(audit::refuse(state, principal, meta, "manage_user", "not_an_admin", Some(user_target(target)), error).await);
    }
    let mut db = state.store.begin().await?;
    let Some((org, user)) = admins::lock_member(&mut db, target).await? else {
        return Err(not_found());
    };
    if principal.role == Role::OrgAdmin && user.organization_id != principal.org_id() {
        // The denial is recorded in a transaction of its own, which on
        // SQLite must not wait for this one's lock.
        db.rollback().await?;
        deny_cross_org(state, principal, user_target(target), "manage_user", meta).await?;
        return Err(not_found());
    }
    if principal.role == Role::OrgAdmin && user.role == Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can manage a platform admin.".into());
        return Err(
            audit::refuse_in(state, db, principal, meta, "manage_user", "not_a_platform_admin", Some(user_target(target)), error).await
        );
    }
    Ok((db, org, user))
}

pub async fn change_role(state: &AppState, principal: &Principal, target: Uuid, role: Role, meta: &RequestMeta) -> ServiceResult<()> {
    let (mut db, org, user) = begin_managed(state, principal, target, meta).await?;
    if role == Role::PlatformAdmin && principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can make platform admins.".into());
        return Err(audit::refuse_in(
            state,
            db,
            principal,
            meta,
            "change_user_role",
            "not_a_platform_admin",
            Some(user_target(target)),
            error,
        )
        .await);
    }
    if user.role == role {
        return Ok(());
    }
    admins::ensure_one_remains(&mut db, &org, &user, Change::Role(role)).await?;
    let now = state.clock.now();
    db.set_user_role(user.id, role, now).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(user.organization_id),
            actor: Some(principal.user.id),
            action: action::CHANGE_USER_ROLE,
            target: Some(user_target(user.id)),
            details: json!({ "role": { "old": user.role, "new": role } }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// Disables (and ends every session of) or re-enables an account.
pub async fn set_disabled(state: &AppState, principal: &Principal, target: Uuid, disabled: bool, meta: &RequestMeta) -> ServiceResult<()> {
    if disabled && target == principal.user.id {
        return Err(ServiceError::Conflict("You cannot disable your own account.".into()));
    }
    let (mut db, org, user) = begin_managed(state, principal, target, meta).await?;
    if disabled {
        admins::ensure_one_remains(&mut db, &org, &user, Change::Disable).await?;
    }
    let now = state.clock.now();
    db.set_user_status(user.id, if disabled { UserStatus::Disabled } else { UserStatus::Active }, now).await?;
    // Disabling ends every way in, API tokens included: enabling again must
    // not bring back credentials made before (or by whoever caused it).
    let ended = if disabled { db.delete_sessions_of_user(user.id, None).await? } else { 0 };
    let tokens_revoked = if disabled { db.delete_api_tokens_of_user(user.id).await? } else { 0 };
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(user.organization_id),
            actor: Some(principal.user.id),
            action: if disabled { action::DISABLE_USER } else { action::ENABLE_USER },
            target: Some(user_target(user.id)),
            details: json!({ "sessions_ended": ended, "api_tokens_revoked": tokens_revoked }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// Ends every session of an account; returns how many.
pub async fn end_sessions(state: &AppState, principal: &Principal, target: Uuid, meta: &RequestMeta) -> ServiceResult<u64> {
    let (mut db, _, user) = begin_managed(state, principal, target, meta).await?;
    let now = state.clock.now();
    // "Sign out everywhere" means every credential, API tokens included.
    let ended = db.delete_sessions_of_user(user.id, None).await?;
    let tokens_revoked = db.delete_api_tokens_of_user(user.id).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(user.organization_id),
            actor: Some(principal.user.id),
            action: action::END_USER_SESSIONS,
            target: Some(user_target(user.id)),
            details: json!({ "sessions_ended": ended, "api_tokens_revoked": tokens_revoked }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(ended)
}
