//! An organization's members, as its admins see and manage them.

use serde_json::json;
use uuid::Uuid;

use super::admins::{self, Change};
use super::audit::{self, action, Event, Target};
use super::orgs::{begin_managed_org, managed_org, OrgHold};
use super::{user_view, Principal};
use crate::model::{Member, Page, Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

pub const MAX_PAGE: i64 = 100;

pub async fn list(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    search: Option<&str>,
    limit: i64,
    offset: i64,
    meta: &RequestMeta,
) -> ServiceResult<Page<Member>> {
    let org = managed_org(state, principal, org_id, "list_members", meta).await?;
    let (limit, offset) = (limit.clamp(1, MAX_PAGE), offset.max(0));
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let mut db = state.store.conn().await?;
    let rows = db.members_of_org(org.id, search, limit, offset).await?;
    let total = db.count_members_matching(org.id, search).await?;
    let items = rows.iter().map(|u| Member { user: user_view(u), status: u.status }).collect();
    Ok(Page { items, total, limit, offset })
}

/// Removes a member: the account is deleted (its sessions and tokens with
/// it, so access ends at once) and the address is remembered, so the
/// domain rule cannot let them back in; only a new invitation can.
pub async fn remove(state: &AppState, principal: &Principal, org_id: Uuid, user_id: Uuid, meta: &RequestMeta) -> ServiceResult<()> {
    // The organization's row, then the member's, locked in that order (as
    // `admins::lock_member` does) until the removal commits.
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Lock, "remove_member", meta).await?;
    if user_id == principal.user.id {
        return Err(ServiceError::Conflict("You cannot remove yourself; ask another admin.".into()));
    }
    let user = db
        .user_by_id_for_update(user_id)
        .await?
        .filter(|u| u.organization_id == org.id)
        .ok_or_else(|| ServiceError::NotFound("No such member.".into()))?;
    if user.role == Role::PlatformAdmin && principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can remove a platform admin.".into());
        let target = Target { kind: "user", id: UserId(user.id).to_string() };
        return Err(audit::refuse_in(state, db, principal, meta, "remove_member", "not_a_platform_admin", Some(target), error).await);
    }
    admins::ensure_one_remains(&mut db, &org, &user, Change::Remove).await?;
    let now = state.clock.now();
    // Identities first: deleting the user deletes them.
    let identities = db.mark_identities_removed(org.id, user.id, &user.email, now).await?;
    db.delete_user(user.id).await?;
    db.mark_removed(org.id, &user.email, now).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::REMOVE_USER_FROM_ORG,
            target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
            details: json!({ "email": user.email, "name": user.name, "role": user.role, "sso_identities_kept_out": identities }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}
