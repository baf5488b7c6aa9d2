//! Organizations: who sees which, how they are made, changed, suspended.
//! A caller outside an organization gets "not found" for it, never
//! "forbidden", and the attempt is recorded in the caller's organization.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::domains::claimable_domain;
use super::Principal;
use crate::model::{OrgId, OrgName, OrgStatus, Organization, OrganizationDetail, Page, Role};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::{Constraint, Db, DbError, NewOrganization, OrgRecord};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// The most organizations one list call returns (the seed's `to_list(100)`).
pub const MAX_PAGE: i64 = 100;

pub fn org_view(r: &OrgRecord) -> Organization {
    Organization {
        id: OrgId(r.id),
        name: r.name.clone(),
        domain: r.domain.clone(),
        users_count: r.users_count,
        workspaces_count: r.workspaces_count,
        created_at: r.created_at,
    }
}

pub fn org_detail(r: &OrgRecord) -> OrganizationDetail {
    OrganizationDetail {
        organization: org_view(r),
        slug: r.slug.clone(),
        status: r.status,
        seat_limit: r.seat_limit,
        require_mfa: r.require_mfa,
        autostop_after_hours: r.autostop_after_hours,
        self_service_workspaces: r.self_service_workspaces,
        auto_join: r.auto_join,
        audit_retention_days: r.audit_retention_days,
        is_default: r.is_default,
        updated_at: r.updated_at,
    }
}

pub(crate) fn org_target(org: &OrgRecord) -> Target<'static> {
    Target { kind: "organization", id: OrgId(org.id).to_string() }
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("No such organization.".into())
}

/// The organizations the caller may see: every one for a platform admin
/// (searchable, paged), otherwise only their own.
pub async fn list_visible(
    state: &AppState,
    principal: &Principal,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> ServiceResult<Page<Organization>> {
    let (limit, offset) = (limit.clamp(1, MAX_PAGE), offset.max(0));
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let mut db = state.store.conn().await?;
    let (rows, total) = match principal.role {
        Role::PlatformAdmin => (db.list_orgs(search, limit, offset).await?, db.count_orgs_matching(search).await?),
        Role::OrgAdmin | Role::User => {
            let own: Vec<OrgRecord> = db.org_by_id(principal.org_id()).await?.into_iter().collect();
            let matching: Vec<OrgRecord> = own
                .into_iter()
                .filter(|o| {
                    search.is_none_or(|q| o.name.to_lowercase().contains(&q.to_lowercase()) || o.domain.contains(&q.to_lowercase()))
                })
                .collect();
            let total = matching.len() as i64;
            (matching.into_iter().skip(offset as usize).take(limit as usize).collect(), total)
        }
    };
    Ok(Page { items: rows.iter().map(org_view).collect(), total, limit, offset })
}

/// Records that the caller reached for something of another organization.
pub(crate) async fn deny_cross_org(
    state: &AppState,
    principal: &Principal,
    target: Target<'_>,
    operation: &str,
    meta: &RequestMeta,
) -> ServiceResult<()> {
    let mut db = state.store.begin().await?;
    audit::record(
        &mut db,
        state.clock.now(),
        meta,
        Event {
            org: Some(principal.org_id()),
            actor: Some(principal.user.id),
            action: action::CROSS_ORG_ACCESS_DENIED,
            target: Some(target),
            details: json!({ "operation": operation }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// Refuses, as "not found", an organization id outside the caller's reach
/// (anything but their own, unless they are a platform admin), and records
/// the attempt. Decided from the session alone, so it runs before any
/// transaction opens: the record is a transaction of its own.
async fn ensure_reachable(state: &AppState, principal: &Principal, id: Uuid, operation: &str, meta: &RequestMeta) -> ServiceResult<()> {
    if principal.role != Role::PlatformAdmin && id != principal.org_id() {
        deny_cross_org(state, principal, Target { kind: "organization", id: OrgId(id).to_string() }, operation, meta).await?;
        return Err(not_found());
    }
    Ok(())
}

/// Refuses a member who is not an admin, and records the refusal
/// (`permission_denied`, in a transaction of its own: the caller holds
/// none at this point).
async fn ensure_admin(state: &AppState, principal: &Principal, org: Uuid, operation: &str, meta: &RequestMeta) -> ServiceResult<()> {
    if principal.role != Role::User {
        return Ok(());
    }
    let error = ServiceError::Forbidden("Only the organization's admins can do this.".into());
    Err(audit::refuse(
        state,
        principal,
        meta,
        operation,
        "not_an_admin",
        Some(Target { kind: "organization", id: OrgId(org).to_string() }),
        error,
    )
    .await)
}

/// The organization `id` if the caller may see it, for reading.
pub async fn visible_org(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    operation: &str,
    meta: &RequestMeta,
) -> ServiceResult<OrgRecord> {
    ensure_reachable(state, principal, id, operation, meta).await?;
    state.store.conn().await?.org_by_id(id).await?.ok_or_else(not_found)
}

/// The organization `id` if the caller may administer it, for reading
/// (lists). A change uses `begin_managed_org` instead.
pub async fn managed_org(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    operation: &str,
    meta: &RequestMeta,
) -> ServiceResult<OrgRecord> {
    let org = visible_org(state, principal, id, operation, meta).await?;
    ensure_admin(state, principal, org.id, operation, meta).await?;
    Ok(org)
}

/// How the transaction of an admin's change holds the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgHold {
    /// Row locked until the commit: the change is to the organization
    /// itself, or rests on a count within it (how many admins are left).
    Lock,
    /// Read in the transaction, not locked: for changes to things of the
    /// organization (invitations) that may end in a member joining, which
    /// takes the organization's row in the `users_count` trigger; holding
    /// it from the start would make such a change and a concurrent
    /// acceptance or registration wait on each other.
    Read,
}

/// Opens the transaction of a change to organization `id` (or to something
/// of it) if the caller may administer it, with the organization read
/// there, so the change acts on the organization as it was checked.
pub async fn begin_managed_org(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    hold: OrgHold,
    operation: &str,
    meta: &RequestMeta,
) -> ServiceResult<(Db, OrgRecord)> {
    ensure_reachable(state, principal, id, operation, meta).await?;
    // Decided from the session alone, before the transaction (the refusal
    // is recorded in one of its own).
    ensure_admin(state, principal, id, operation, meta).await?;
    let mut db = state.store.begin().await?;
    let org = match hold {
        OrgHold::Lock => db.org_by_id_for_update(id).await?,
        OrgHold::Read => db.org_by_id(id).await?,
    };
    let org = org.ok_or_else(not_found)?;
    Ok((db, org))
}

pub async fn detail(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<OrganizationDetail> {
    Ok(org_detail(&visible_org(state, principal, id, "view_organization", meta).await?))
}

/// Creates an organization with a unique slug derived from its name.
/// Callers record the `create_organization` event with their context.
pub(crate) async fn create_org(
    db: &mut Db,
    name: &OrgName,
    domain: &str,
    is_default: bool,
    now: DateTime<Utc>,
) -> ServiceResult<OrgRecord> {
    let base = name.slug();
    let taken = db.slugs_like(&base).await?;
    let slug = (1..)
        .map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") })
        .find(|s| !taken.contains(s))
        .expect("an unbounded range always has a free slug");
    let org = db
        .insert_org(&NewOrganization { id: Uuid::now_v7(), name: name.as_str(), slug: &slug, domain, is_default, now })
        .await
        .map_err(|e| unique_conflict(e, name.as_str()))?;
    // The primary domain starts as a claim to prove (Domains tab); it places
    // nobody until verified.
    super::org_domains::claim(db, org.id, domain, now).await?;
    Ok(org)
}

/// The new primary domain, if the organization verified it: the name shown
/// with the organization must be one it proved it controls, or anyone could
/// dress their organization up as another company's.
async fn verified_primary(db: &mut Db, org: &OrgRecord, domain: &str) -> ServiceResult<String> {
    match db.org_domain(org.id, domain).await? {
        Some(d) if d.status == crate::model::DomainStatus::Verified => Ok(d.domain),
        // 409: a well-formed domain, refused for the state it is in.
        Some(_) => Err(ServiceError::Conflict(format!(
            "Verify {domain} under Domains first: the primary domain must be one the organization proved it controls."
        ))),
        None => Err(ServiceError::Conflict(format!(
            "{domain} is not one of the organization's domains. Add it under Domains and verify it, then make it primary."
        ))),
    }
}

fn unique_conflict(e: DbError, name: &str) -> ServiceError {
    match e.constraint() {
        Some(Constraint::OrgName) => ServiceError::Conflict(format!("An organization named “{name}” already exists.")),
        // Two creations whose names make the same slug, at the same moment:
        // both saw it free. The later one is refused rather than retried
        // (on PostgreSQL its transaction is already aborted); asking again
        // picks the next free slug, or meets the name taken.
        Some(Constraint::OrgSlug) => ServiceError::Conflict(format!(
            "An organization with a name like “{name}” was created at the same moment. Try again, or choose another name."
        )),
        Some(Constraint::SeatLimit) => ServiceError::Conflict("The seat limit is below the number of members.".into()),
        _ => e.into(),
    }
}

/// What may change about an organization. `None` leaves a field as it is;
/// `seat_limit: Some(None)` removes the limit.
#[derive(Debug, Clone, Default)]
pub struct OrgChanges {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub require_mfa: Option<bool>,
    pub seat_limit: Option<Option<i64>>,
    /// `Some(None)` turns auto-stop off.
    pub autostop_after_hours: Option<Option<i64>>,
    pub self_service_workspaces: Option<bool>,
    pub auto_join: Option<bool>,
    /// `Some(None)` keeps audit events for ever.
    pub audit_retention_days: Option<Option<i64>>,
}

/// Creates an organization (platform admins only).
pub async fn create(
    state: &AppState,
    principal: &Principal,
    name: &str,
    domain: &str,
    changes: OrgChanges,
    meta: &RequestMeta,
) -> ServiceResult<OrganizationDetail> {
    if principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden(
            "Organizations are created automatically at registration and SSO sign-in, or by a platform admin.".into(),
        );
        return Err(audit::refuse(state, principal, meta, "create_organization", "not_a_platform_admin", None, error).await);
    }
    create_as(state, Some(principal.user.id), "api", name, domain, changes, meta).await
}

/// Creates an organization on behalf of `actor` (none for an operator at
/// the command line); `source` goes into the audit event.
pub async fn create_as(
    state: &AppState,
    actor: Option<Uuid>,
    source: &str,
    name: &str,
    domain: &str,
    changes: OrgChanges,
    meta: &RequestMeta,
) -> ServiceResult<OrganizationDetail> {
    let name = OrgName::parse(name)?;
    let domain = claimable_domain(&state.config.domains, domain, "domain")?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let mut org = create_org(&mut db, &name, &domain, false, now).await?;
    org.require_mfa = changes.require_mfa.unwrap_or(false);
    org.seat_limit = validate_seat_limit(changes.seat_limit.flatten())?;
    db.update_org(&org, now).await.map_err(|e| unique_conflict(e, &org.name))?;
    audit::record(&mut db, now, meta, Event {
        org: Some(org.id),
        actor,
        action: action::CREATE_ORGANIZATION,
        target: Some(org_target(&org)),
        details: json!({ "name": org.name, "domain": org.domain, "seat_limit": org.seat_limit, "require_mfa": org.require_mfa, "source": source }),
    })
    .await?;
    db.commit().await?;
    Ok(org_detail(&org))
}

fn validate_autostop(hours: Option<i64>) -> ServiceResult<Option<i64>> {
    match hours {
        Some(n) if !(1..=8760).contains(&n) => Err(ServiceError::Validation {
            field: Some("autostop_after_hours"),
            message: "Auto-stop takes between 1 and 8,760 hours (a year), or none.".into(),
        }),
        other => Ok(other),
    }
}

fn validate_seat_limit(limit: Option<i64>) -> ServiceResult<Option<i64>> {
    match limit {
        Some(n) if !(1..=1_000_000).contains(&n) => Err(ServiceError::Validation {
            field: Some("seat_limit"),
            message: "The seat limit must be between 1 and 1,000,000, or none.".into(),
        }),
        other => Ok(other),
    }
}

/// Edits an organization. Org admins may change the name, domain and MFA
/// requirement of their own; seat limits and status are the platform's.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    changes: OrgChanges,
    meta: &RequestMeta,
) -> ServiceResult<OrganizationDetail> {
    // Read and written in one transaction with the row locked: a concurrent
    // suspension or edit is neither undone nor overwritten.
    let (mut db, before) = begin_managed_org(state, principal, id, OrgHold::Lock, "update_organization", meta).await?;
    if changes.seat_limit.is_some() && principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can change the seat limit.".into());
        let target = Some(org_target(&before));
        return Err(audit::refuse_in(state, db, principal, meta, "update_organization", "not_a_platform_admin", target, error).await);
    }
    let mut after = before.clone();
    if let Some(name) = &changes.name {
        after.name = OrgName::parse(name)?.as_str().to_owned();
    }
    if let Some(domain) = &changes.domain {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if domain != before.domain.to_ascii_lowercase() {
            after.domain = verified_primary(&mut db, &before, &domain).await?;
        }
    }
    if let Some(require) = changes.require_mfa {
        after.require_mfa = require;
    }
    if let Some(hours) = changes.autostop_after_hours {
        after.autostop_after_hours = validate_autostop(hours)?;
    }
    if let Some(allowed) = changes.self_service_workspaces {
        after.self_service_workspaces = allowed;
    }
    if let Some(auto_join) = changes.auto_join {
        after.auto_join = auto_join;
    }
    if let Some(days) = changes.audit_retention_days {
        after.audit_retention_days = validate_retention(state.config.audit_retention, days)?;
    }
    if let Some(limit) = changes.seat_limit {
        after.seat_limit = validate_seat_limit(limit)?;
        if let Some(n) = after.seat_limit.filter(|n| *n < before.users_count) {
            return Err(ServiceError::Conflict(format!(
                "“{}” has {} members; a seat limit of {n} is below that.",
                before.name, before.users_count
            )));
        }
    }
    let changed = diff(&before, &after);
    if changed.is_empty() {
        return Ok(org_detail(&before));
    }
    let now = state.clock.now();
    db.update_org(&after, now).await.map_err(|e| unique_conflict(e, &after.name))?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(after.id),
            actor: Some(principal.user.id),
            action: action::UPDATE_ORGANIZATION,
            target: Some(org_target(&after)),
            details: Value::Object(changed),
        },
    )
    .await?;
    db.commit().await?;
    after.updated_at = now;
    Ok(org_detail(&after))
}

/// An audit retention within the installation's bounds, or none (keep).
fn validate_retention(bounds: crate::server::config::RetentionBounds, days: Option<i64>) -> ServiceResult<Option<i64>> {
    match days {
        Some(d) if d < bounds.min_days || d > bounds.max_days => Err(ServiceError::Validation {
            field: Some("audit_retention_days"),
            message: format!(
                "Keep audit events between {} and {} days, or leave it empty to keep them for ever.",
                bounds.min_days, bounds.max_days
            ),
        }),
        other => Ok(other),
    }
}

/// `{ field: { old, new } }` for every field that differs.
fn diff(before: &OrgRecord, after: &OrgRecord) -> Map<String, Value> {
    let mut m = Map::new();
    let mut field = |name: &str, old: Value, new: Value| {
        if old != new {
            m.insert(name.into(), json!({ "old": old, "new": new }));
        }
    };
    field("name", json!(before.name), json!(after.name));
    field("domain", json!(before.domain), json!(after.domain));
    field("require_mfa", json!(before.require_mfa), json!(after.require_mfa));
    field("seat_limit", json!(before.seat_limit), json!(after.seat_limit));
    field("autostop_after_hours", json!(before.autostop_after_hours), json!(after.autostop_after_hours));
    field("self_service_workspaces", json!(before.self_service_workspaces), json!(after.self_service_workspaces));
    field("auto_join", json!(before.auto_join), json!(after.auto_join));
    field("audit_retention_days", json!(before.audit_retention_days), json!(after.audit_retention_days));
    m
}

/// Suspends (ending every member's session) or reactivates an
/// organization. Platform admins only; the default organization, home of
/// the platform admins, is never suspended.
pub async fn set_suspended(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    suspended: bool,
    meta: &RequestMeta,
) -> ServiceResult<OrganizationDetail> {
    ensure_reachable(state, principal, id, "suspend_organization", meta).await?;
    let mut db = state.store.begin().await?;
    let mut org = db.org_by_id_for_update(id).await?.ok_or_else(not_found)?;
    if principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can suspend or reactivate an organization.".into());
        let operation = if suspended { "suspend_organization" } else { "activate_organization" };
        let target = Some(org_target(&org));
        return Err(audit::refuse_in(state, db, principal, meta, operation, "not_a_platform_admin", target, error).await);
    }
    if suspended && org.is_default {
        return Err(ServiceError::Conflict("The default organization holds the platform admins and cannot be suspended.".into()));
    }
    let status = if suspended { OrgStatus::Suspended } else { OrgStatus::Active };
    if org.status == status {
        return Ok(org_detail(&org));
    }
    let now = state.clock.now();
    org.status = status;
    db.update_org(&org, now).await?;
    let ended = if suspended { db.delete_sessions_of_org(org.id).await? } else { 0 };
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: if suspended { action::SUSPEND_ORGANIZATION } else { action::ACTIVATE_ORGANIZATION },
            target: Some(org_target(&org)),
            details: json!({ "sessions_ended": ended }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(org_detail(&org))
}
