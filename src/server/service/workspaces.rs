//! Workspaces: who may see, make, start, stop, resize, suspend and delete
//! which. Every change writes the desired state (quotas are held by the
//! database in that same statement), a timeline event and an audit event in
//! one transaction; the reconciler (`server::reconciler`) then drives the
//! engine there and records what it finds.
//!
//! Who may do what: a user sees, starts and stops their own workspaces (and
//! creates, renames, resizes and deletes them when the organization allows
//! self-service); org admins everything in their organization; platform
//! admins everything, plus quotas. Another organization's workspace is "not
//! found" and the attempt is recorded.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::orgs::{deny_cross_org, visible_org};
use super::Principal;
use crate::model::{
    check_workspace_name, DesiredState, NewWorkspaceRequest, OrgId, OrganizationUsage, Page, QuotaNeed, QuotaRefusal, QuotaUse, Quotas,
    Role, TemplateId, TemplateRef, UserId, Workspace, WorkspaceChanges, WorkspaceDetail, WorkspaceEvent, WorkspaceId, WorkspaceOwner,
    WorkspaceSize, WorkspaceStatus,
};
use crate::server::auth::credentials::RequestMeta;
use crate::server::db::{Constraint, Db, DbError, Intent, NewWorkspace, QuotaLimits, QuotaRecord, WorkspaceQuery, WorkspaceRecord};
use crate::server::engine::EngineError;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// The most workspaces one list call returns.
pub const MAX_PAGE: i64 = 100;

/// How many timeline steps the detail shows.
const TIMELINE: i64 = 200;

/// The status reason while no engine is connected.
pub const NO_ENGINE: &str = "no workspace engine connected";

/// Narrows a list. Org admins and users see their organization's (users:
/// only their own); platform admins every organization's, or one.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    pub organization_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub status: Option<WorkspaceStatus>,
}

pub fn view(r: &WorkspaceRecord) -> Workspace {
    Workspace {
        id: WorkspaceId(r.id),
        organization_id: OrgId(r.organization_id),
        name: r.name.clone(),
        owner: r.owner_id.map(|id| WorkspaceOwner {
            id: UserId(id),
            name: r.owner_name.clone().unwrap_or_default(),
            email: r.owner_email.clone().unwrap_or_default(),
        }),
        template: r.template_id.map(|id| TemplateRef { id: TemplateId(id), name: r.template_name.clone().unwrap_or_default() }),
        vcpu: r.vcpu_millicores,
        memory_mib: r.memory_mib,
        storage_gib: r.storage_gib,
        desired_state: r.desired_state,
        status: r.status,
        status_reason: r.status_reason.clone(),
        suspended_reason: r.suspended_reason.clone(),
        engine_ref: r.engine_ref.clone(),
        autostop_at: r.autostop_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn size_of(r: &WorkspaceRecord) -> WorkspaceSize {
    WorkspaceSize { vcpu: r.vcpu_millicores, memory_mib: r.memory_mib, storage_gib: r.storage_gib }
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("No such workspace.".into())
}

fn target(id: Uuid) -> Target<'static> {
    Target { kind: "workspace", id: WorkspaceId(id).to_string() }
}

fn is_admin_of(principal: &Principal, org_id: Uuid) -> bool {
    principal.role == Role::PlatformAdmin || (principal.role == Role::OrgAdmin && principal.org_id() == org_id)
}

/// Decides from the session whether the caller may reach workspace `id` at
/// all: none there, or another organization's (recorded), is "not found".
/// The organization a workspace belongs to never changes, so this read
/// needs no transaction; what the caller may do with it is decided on the
/// locked row.
async fn reachable_org(state: &AppState, principal: &Principal, id: Uuid, operation: &str, meta: &RequestMeta) -> ServiceResult<Uuid> {
    let org = state.store.conn().await?.workspace_organization(id).await?.ok_or_else(not_found)?;
    if principal.role != Role::PlatformAdmin && org != principal.org_id() {
        deny_cross_org(state, principal, target(id), operation, meta).await?;
        return Err(not_found());
    }
    Ok(org)
}

/// Users see only their own workspaces; another member's is "not found"
/// (the attempt is recorded in the organization, whose admins may see it).
fn is_visible(principal: &Principal, ws: &WorkspaceRecord) -> bool {
    is_admin_of(principal, ws.organization_id) || ws.owner_id == Some(principal.user.id)
}

/// Opens the transaction of a change to workspace `id`, its row locked and
/// visible to the caller.
async fn begin_workspace(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    operation: &str,
    meta: &RequestMeta,
) -> ServiceResult<(Db, WorkspaceRecord)> {
    let org = reachable_org(state, principal, id, operation, meta).await?;
    let mut db = state.store.begin().await?;
    let ws = db.workspace_of_org_for_update(org, id).await?.ok_or_else(not_found)?;
    if !is_visible(principal, &ws) {
        return Err(audit::refuse_in(state, db, principal, meta, operation, "not_workspace_owner", Some(target(ws.id)), not_found()).await);
    }
    if ws.desired_state == DesiredState::Deleted {
        return Err(ServiceError::Conflict(format!("The workspace “{}” was deleted.", ws.name)));
    }
    Ok((db, ws))
}

/// Refuses (and records) a change only the organization's admins make.
#[allow(clippy::too_many_arguments)]
async fn ensure_admin(
    state: &AppState,
    db: Db,
    principal: &Principal,
    meta: &RequestMeta,
    ws: &WorkspaceRecord,
    what: &str,
    operation: &str,
) -> ServiceResult<Db> {
    if is_admin_of(principal, ws.organization_id) {
        return Ok(db);
    }
    let error = ServiceError::Forbidden(format!("Only the organization's admins can {what} a workspace."));
    Err(audit::refuse_in(state, db, principal, meta, operation, "not_an_admin", Some(target(ws.id)), error).await)
}

/// Admins, or the owner when the organization allows self-service; the
/// refusal is recorded.
#[allow(clippy::too_many_arguments)]
async fn ensure_self_service(
    state: &AppState,
    mut db: Db,
    principal: &Principal,
    meta: &RequestMeta,
    ws: &WorkspaceRecord,
    what: &str,
    operation: &str,
) -> ServiceResult<Db> {
    if is_admin_of(principal, ws.organization_id) {
        return Ok(db);
    }
    let org = db.org_by_id(ws.organization_id).await?.ok_or_else(not_found)?;
    if org.self_service_workspaces && ws.owner_id == Some(principal.user.id) {
        return Ok(db);
    }
    let error = ServiceError::Forbidden(format!("Only the organization's admins can {what} this workspace (self-service is off)."));
    let reason = if org.self_service_workspaces { "not_workspace_owner" } else { "self_service_off" };
    Err(audit::refuse_in(state, db, principal, meta, operation, reason, Some(target(ws.id)), error).await)
}

/// With an engine connected, actions need it to answer: a request it
/// cannot carry out now is 503, not a promise.
async fn ensure_engine_answers(state: &AppState) -> ServiceResult<()> {
    if let Some(engine) = &state.engine {
        if let Err(EngineError::Unavailable(why)) = engine.ping().await {
            tracing::warn!(%why, "workspace engine unreachable");
            return Err(ServiceError::Unavailable {
                message: "The workspace engine is unreachable right now; try again shortly.".into(),
                retry_after_secs: 5,
            });
        }
    }
    Ok(())
}

/// The status shown between a request and the reconciler's report. With no
/// engine nothing can run: a workspace meant to run waits (`pending`), one
/// meant to stop is simply stopped.
fn pending_status(state: &AppState, wanted: WorkspaceStatus) -> (WorkspaceStatus, &'static str) {
    match (state.engine.is_some(), wanted) {
        (true, _) => (wanted, ""),
        (false, WorkspaceStatus::Provisioning | WorkspaceStatus::Starting) => (WorkspaceStatus::Pending, NO_ENGINE),
        (false, WorkspaceStatus::Stopping) => (WorkspaceStatus::Stopped, ""),
        (false, other) => (other, ""),
    }
}

/// The quota a quota CHECK of the database guards, by its API name: the one
/// table from constraints to quotas. None for any other constraint.
fn guarded_quota(e: &DbError) -> Option<&'static str> {
    Some(match e.constraint()? {
        Constraint::QuotaWorkspaces => "max_workspaces",
        Constraint::QuotaRunning => "max_running",
        Constraint::QuotaVcpu => "max_vcpu",
        Constraint::QuotaMemory => "max_memory_mib",
        Constraint::QuotaStorage => "max_storage_gib",
        Constraint::QuotaWorkspacesPerUser => "max_workspaces_per_user",
        _ => return None,
    })
}

/// `name`'s line of the organization's quotas with what `size` needs of it
/// (`owned`: the owner's count, for the per-user quota).
fn quota_need(q: &QuotaRecord, owned: i64, size: &WorkspaceSize, name: &str) -> ServiceResult<QuotaNeed> {
    usage_of(q, owned).needs(size).into_iter().find(|n| n.quota == name).ok_or_else(|| ServiceError::bug("a quota with no line"))
}

/// Turns a quota constraint's refusal into the 409 with the numbers, read
/// after the refused transaction rolled back.
async fn quota_refusal(state: &AppState, e: DbError, org_id: Uuid, size: &WorkspaceSize, owner: Option<Uuid>) -> ServiceError {
    let Some(name) = guarded_quota(&e) else {
        return match e.constraint() {
            Some(Constraint::WorkspaceName) => ServiceError::Conflict("This organization already has a workspace of that name.".into()),
            _ => e.into(),
        };
    };
    let numbers = async {
        let mut db = state.store.conn().await?;
        let q = db.quotas_of(org_id).await?.ok_or_else(|| ServiceError::bug("organization without a quota row"))?;
        let owned = match owner {
            Some(o) => db.workspaces_owned(o).await?,
            None => 0,
        };
        quota_need(&q, owned, size, name)
    };
    match numbers.await {
        Ok(n) => ServiceError::QuotaExceeded(QuotaRefusal {
            quota: name.into(),
            used: n.usage.used,
            requested: n.needs,
            limit: n.usage.limit.unwrap_or(n.usage.used),
        }),
        Err(e) => e,
    }
}

/// Records the timeline step and the audit event of a change, in its
/// transaction.
#[allow(clippy::too_many_arguments)]
async fn record_change(
    state: &AppState,
    db: &mut Db,
    principal: &Principal,
    meta: &RequestMeta,
    ws: &WorkspaceRecord,
    to: WorkspaceStatus,
    reason: &str,
    audit_action: &str,
    details: serde_json::Value,
) -> ServiceResult<()> {
    let now = state.clock.now();
    db.insert_workspace_event(ws, Some(principal.user.id), ws.status, to, reason, now).await?;
    audit::record(
        db,
        now,
        meta,
        Event { org: Some(ws.organization_id), actor: Some(principal.user.id), action: audit_action, target: Some(target(ws.id)), details },
    )
    .await
}

pub async fn list(state: &AppState, principal: &Principal, filter: ListFilter, limit: i64, offset: i64) -> ServiceResult<Page<Workspace>> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::Validation { field: Some("limit"), message: format!("limit must be between 1 and {MAX_PAGE}.") });
    }
    if offset < 0 {
        return Err(ServiceError::Validation { field: Some("offset"), message: "offset must not be negative.".into() });
    }
    let mut q = WorkspaceQuery { organization_id: filter.organization_id, owner_id: filter.owner_id, status: filter.status, limit, offset };
    match principal.role {
        Role::PlatformAdmin => {}
        // Filters naming another organization find nothing, as its
        // workspaces are not there for this caller.
        Role::OrgAdmin => {
            if q.organization_id.is_some_and(|o| o != principal.org_id()) {
                return Ok(Page { items: vec![], total: 0, limit, offset });
            }
            q.organization_id = Some(principal.org_id());
        }
        Role::User => {
            if q.organization_id.is_some_and(|o| o != principal.org_id()) || q.owner_id.is_some_and(|o| o != principal.user.id) {
                return Ok(Page { items: vec![], total: 0, limit, offset });
            }
            q.organization_id = Some(principal.org_id());
            q.owner_id = Some(principal.user.id);
        }
    }
    let (rows, total) = state.store.conn().await?.list_workspaces(&q).await?;
    Ok(Page { items: rows.iter().map(view).collect(), total, limit, offset })
}

pub async fn detail(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<WorkspaceDetail> {
    let org = reachable_org(state, principal, id, "view_workspace", meta).await?;
    let mut db = state.store.conn().await?;
    let ws = db.workspace_of_org(org, id).await?.ok_or_else(not_found)?;
    if !is_visible(principal, &ws) {
        drop(db);
        return Err(audit::refuse(state, principal, meta, "view_workspace", "not_workspace_owner", Some(target(ws.id)), not_found()).await);
    }
    let events = db
        .workspace_events(ws.id, TIMELINE)
        .await?
        .into_iter()
        .map(|e| WorkspaceEvent {
            occurred_at: e.occurred_at,
            actor: e.actor_email,
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
        })
        .collect();
    Ok(WorkspaceDetail { workspace: view(&ws), events })
}

/// When auto-stop ends a workspace started now, if the organization sets it.
async fn autostop_at(state: &AppState, db: &mut Db, org_id: Uuid) -> ServiceResult<Option<chrono::DateTime<chrono::Utc>>> {
    let hours = db.org_by_id(org_id).await?.and_then(|o| o.autostop_after_hours);
    Ok(hours.map(|h| state.clock.now() + Duration::hours(h)))
}

pub async fn create(state: &AppState, principal: &Principal, req: &NewWorkspaceRequest, meta: &RequestMeta) -> ServiceResult<Workspace> {
    let org_id = req.organization_id.map(|o| o.0).unwrap_or(principal.org_id());
    // Naming another organization is reaching into it.
    let org = visible_org(state, principal, org_id, "create_workspace", meta).await?;
    let name = check_workspace_name(&req.name)?;
    let owner_id = req.owner_id.map(|u| u.0).unwrap_or(principal.user.id);
    let start = req.start.unwrap_or(true);
    if start {
        ensure_engine_answers(state).await?;
    }
    let mut db = state.store.begin().await?;
    let org = db.org_by_id_for_update(org.id).await?.ok_or_else(|| ServiceError::NotFound("No such organization.".into()))?;
    if !is_admin_of(principal, org.id) {
        if !org.self_service_workspaces {
            let error = ServiceError::Forbidden(
                "Your organization's admins allocate workspaces; self-service is off. Ask an admin for one.".into(),
            );
            return Err(audit::refuse_in(state, db, principal, meta, "create_workspace", "self_service_off", None, error).await);
        }
        if owner_id != principal.user.id {
            let error = ServiceError::Forbidden("You can create workspaces for yourself only.".into());
            return Err(audit::refuse_in(state, db, principal, meta, "create_workspace", "not_an_admin", None, error).await);
        }
    }
    // Like a user id in a path: one of another organization is "not
    // found", the same as one that names nobody.
    let owner = db
        .user_by_id(owner_id)
        .await?
        .filter(|u| u.organization_id == org.id)
        .ok_or_else(|| ServiceError::NotFound("No such user in the workspace's organization.".into()))?;
    let template = db.template_by_id(req.template_id.0).await?.ok_or_else(|| ServiceError::NotFound("No such template.".into()))?;
    let template_view = super::templates::view(&template);
    let size = WorkspaceSize {
        vcpu: req.vcpu.unwrap_or(template.default_vcpu),
        memory_mib: req.memory_mib.unwrap_or(template.default_memory_mib),
        storage_gib: req.storage_gib.unwrap_or(template.default_storage_gib),
    };
    template_view.check_size(&size)?;
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let new = NewWorkspace {
        id,
        organization_id: org.id,
        owner_id: Some(owner.id),
        template_id: Some(template.id),
        name: &name,
        vcpu_millicores: size.vcpu,
        memory_mib: size.memory_mib,
        storage_gib: size.storage_gib,
        desired_state: if start { DesiredState::Running } else { DesiredState::Stopped },
        now,
    };
    if let Err(e) = db.insert_workspace(&new).await {
        db.rollback().await?;
        return Err(quota_refusal(state, e, org.id, &size, Some(owner.id)).await);
    }
    let (status, reason) = pending_status(state, if start { WorkspaceStatus::Provisioning } else { WorkspaceStatus::Stopped });
    let intent_reason = format!("created by {}", principal.user.email);
    let reason = if reason.is_empty() && !start { "created; not started yet" } else { reason };
    let autostop = if start { autostop_at(state, &mut db, org.id).await? } else { None };
    db.set_workspace_intent(
        id,
        &Intent {
            desired_state: new.desired_state,
            status,
            status_reason: reason,
            suspended_reason: None,
            intent_reason: &intent_reason,
            autostop_at: autostop,
            now,
        },
    )
    .await?;
    let ws = db.workspace_of_org(org.id, id).await?.ok_or_else(|| ServiceError::bug("workspace vanished in its own transaction"))?;
    let mut before = ws.clone();
    before.status = WorkspaceStatus::Pending;
    record_change(
        state,
        &mut db,
        principal,
        meta,
        &before,
        status,
        &intent_reason,
        action::CREATE_WORKSPACE,
        json!({ "name": name, "owner": UserId(owner.id), "template": TemplateId(template.id), "template_name": template.name,
                "vcpu": size.vcpu, "memory_mib": size.memory_mib, "storage_gib": size.storage_gib, "start": start }),
    )
    .await?;
    db.commit().await?;
    Ok(view(&ws))
}

/// Changes what a workspace should do, with its timeline step and audit
/// event; a start past a quota comes back as the 409 with the numbers.
#[allow(clippy::too_many_arguments)]
async fn change_intent(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    mut db: Db,
    ws: WorkspaceRecord,
    mut intent: Intent<'_>,
    audit_action: &str,
    details: serde_json::Value,
) -> ServiceResult<Workspace> {
    // Until the reconciler reports, the status says who asked for it.
    if intent.status_reason.is_empty() {
        intent.status_reason = intent.intent_reason;
    }
    if let Err(e) = db.set_workspace_intent(ws.id, &intent).await {
        db.rollback().await?;
        return Err(quota_refusal(state, e, ws.organization_id, &size_of(&ws), ws.owner_id).await);
    }
    record_change(state, &mut db, principal, meta, &ws, intent.status, intent.intent_reason, audit_action, details).await?;
    let after = db.workspace_of_org(ws.organization_id, ws.id).await?.ok_or_else(|| ServiceError::bug("workspace vanished"))?;
    db.commit().await?;
    Ok(view(&after))
}

/// A workspace an admin holds suspended starts only once resumed.
fn ensure_not_suspended(ws: &WorkspaceRecord) -> ServiceResult<()> {
    match &ws.suspended_reason {
        Some(why) => Err(ServiceError::Conflict(format!("The workspace is suspended by an admin ({why}); an admin must resume it first."))),
        None => Ok(()),
    }
}

/// What a start and a restart both ask for: desired running (the change
/// that reserves its vCPU and memory), `shown` until the reconciler
/// reports, and auto-stop after the organization's hours counted from now.
async fn start_intent<'a>(
    state: &AppState,
    db: &mut Db,
    ws: &WorkspaceRecord,
    shown: (WorkspaceStatus, &'a str),
    intent_reason: &'a str,
) -> ServiceResult<Intent<'a>> {
    let (status, status_reason) = shown;
    Ok(Intent {
        desired_state: DesiredState::Running,
        status,
        status_reason,
        suspended_reason: None,
        intent_reason,
        autostop_at: autostop_at(state, db, ws.organization_id).await?,
        now: state.clock.now(),
    })
}

pub async fn start(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    ensure_engine_answers(state).await?;
    let (mut db, ws) = begin_workspace(state, principal, id, "start_workspace", meta).await?;
    ensure_not_suspended(&ws)?;
    if ws.desired_state == DesiredState::Running {
        return Ok(view(&ws));
    }
    let wanted = if ws.engine_ref.is_some() { WorkspaceStatus::Starting } else { WorkspaceStatus::Provisioning };
    let intent_reason = format!("started by {}", principal.user.email);
    let intent = start_intent(state, &mut db, &ws, pending_status(state, wanted), &intent_reason).await?;
    let details = json!({ "vcpu": ws.vcpu_millicores, "memory_mib": ws.memory_mib });
    change_intent(state, principal, meta, db, ws, intent, action::START_WORKSPACE, details).await
}

pub async fn stop(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    ensure_engine_answers(state).await?;
    let (db, ws) = begin_workspace(state, principal, id, "stop_workspace", meta).await?;
    if ws.desired_state == DesiredState::Stopped && ws.status != WorkspaceStatus::Stopping {
        return Ok(view(&ws));
    }
    let (status, reason) = pending_status(state, WorkspaceStatus::Stopping);
    let intent_reason = format!("stopped by {}", principal.user.email);
    let intent = Intent {
        desired_state: DesiredState::Stopped,
        status,
        status_reason: reason,
        suspended_reason: None,
        intent_reason: &intent_reason,
        autostop_at: None,
        now: state.clock.now(),
    };
    let details = json!({ "vcpu": ws.vcpu_millicores, "memory_mib": ws.memory_mib });
    change_intent(state, principal, meta, db, ws, intent, action::STOP_WORKSPACE, details).await
}

/// Stops and starts again: the reconciler reads "desired running, status
/// stopping" as "stop the container first".
pub async fn restart(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    ensure_engine_answers(state).await?;
    let (mut db, ws) = begin_workspace(state, principal, id, "restart_workspace", meta).await?;
    ensure_not_suspended(&ws)?;
    let shown = match state.engine {
        Some(_) => (WorkspaceStatus::Stopping, ""),
        None => (WorkspaceStatus::Pending, NO_ENGINE),
    };
    let intent_reason = format!("restarted by {}", principal.user.email);
    let intent = start_intent(state, &mut db, &ws, shown, &intent_reason).await?;
    let details = json!({ "vcpu": ws.vcpu_millicores, "memory_mib": ws.memory_mib, "restart": true });
    change_intent(state, principal, meta, db, ws, intent, action::START_WORKSPACE, details).await
}

/// Admins hold a workspace stopped with a reason its owner sees; the owner
/// cannot start it until an admin resumes it.
pub async fn suspend(state: &AppState, principal: &Principal, id: Uuid, reason: &str, meta: &RequestMeta) -> ServiceResult<Workspace> {
    let why = reason.trim();
    if why.is_empty() || why.chars().count() > 200 {
        return Err(ServiceError::Validation { field: Some("reason"), message: "Give a reason of 1 to 200 characters.".into() });
    }
    ensure_engine_answers(state).await?;
    let (db, ws) = begin_workspace(state, principal, id, "suspend_workspace", meta).await?;
    let db = ensure_admin(state, db, principal, meta, &ws, "suspend", "suspend_workspace").await?;
    let (status, pending_reason) = pending_status(state, WorkspaceStatus::Stopping);
    let intent_reason = format!("suspended by admin: {why}");
    let intent = Intent {
        desired_state: DesiredState::Stopped,
        status,
        status_reason: pending_reason,
        suspended_reason: Some(why),
        intent_reason: &intent_reason,
        autostop_at: None,
        now: state.clock.now(),
    };
    change_intent(state, principal, meta, db, ws, intent, action::SUSPEND_WORKSPACE, json!({ "reason": why })).await
}

pub async fn resume(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    let (db, ws) = begin_workspace(state, principal, id, "resume_workspace", meta).await?;
    let db = ensure_admin(state, db, principal, meta, &ws, "resume", "resume_workspace").await?;
    if ws.suspended_reason.is_none() {
        return Ok(view(&ws));
    }
    let (status, reason) = pending_status(state, WorkspaceStatus::Stopped);
    let intent_reason = format!("resumed by {}", principal.user.email);
    let reason = if reason.is_empty() { intent_reason.as_str() } else { reason };
    let intent = Intent {
        desired_state: DesiredState::Stopped,
        status,
        status_reason: reason,
        suspended_reason: None,
        intent_reason: &intent_reason,
        autostop_at: None,
        now: state.clock.now(),
    };
    let details = json!({ "was": ws.suspended_reason });
    change_intent(state, principal, meta, db, ws, intent, action::RESUME_WORKSPACE, details).await
}

/// Renames and resizes; a resize needs the workspace stopped (its limits
/// are applied when it next starts) and stays within its template.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    changes: &WorkspaceChanges,
    meta: &RequestMeta,
) -> ServiceResult<Workspace> {
    let (db, ws) = begin_workspace(state, principal, id, "update_workspace", meta).await?;
    let mut db = ensure_self_service(state, db, principal, meta, &ws, "rename or resize", "update_workspace").await?;
    let name = match &changes.name {
        Some(n) => check_workspace_name(n)?,
        None => ws.name.clone(),
    };
    let before = size_of(&ws);
    let size = WorkspaceSize {
        vcpu: changes.vcpu.unwrap_or(before.vcpu),
        memory_mib: changes.memory_mib.unwrap_or(before.memory_mib),
        storage_gib: changes.storage_gib.unwrap_or(before.storage_gib),
    };
    if name == ws.name && size == before {
        return Ok(view(&ws));
    }
    if size != before {
        if ws.desired_state == DesiredState::Running || matches!(ws.status, WorkspaceStatus::Stopping | WorkspaceStatus::Running) {
            return Err(ServiceError::Conflict("Stop the workspace before resizing it.".into()));
        }
        if let Some(t) = ws.template_id {
            let template = db.template_by_id(t).await?.ok_or_else(|| ServiceError::bug("workspace template vanished"))?;
            super::templates::view(&template).check_size(&size)?;
        } else if size.vcpu <= 0 || size.memory_mib <= 0 || size.storage_gib <= 0 {
            return Err(ServiceError::validation("Sizes must be positive."));
        }
    }
    let now = state.clock.now();
    if let Err(e) = db.set_workspace_shape(ws.id, &name, (size.vcpu, size.memory_mib, size.storage_gib), now).await {
        db.rollback().await?;
        return Err(quota_refusal(
            state,
            e,
            ws.organization_id,
            &WorkspaceSize { storage_gib: size.storage_gib - before.storage_gib, ..size },
            ws.owner_id,
        )
        .await);
    }
    let (audit_action, reason) = if size != before {
        (action::RESIZE_WORKSPACE, format!("resized by {} to {}", principal.user.email, size.describe()))
    } else {
        (action::UPDATE_WORKSPACE, format!("renamed by {} to {name}", principal.user.email))
    };
    let details = json!({
        "name": { "old": ws.name, "new": name },
        "vcpu": { "old": before.vcpu, "new": size.vcpu },
        "memory_mib": { "old": before.memory_mib, "new": size.memory_mib },
        "storage_gib": { "old": before.storage_gib, "new": size.storage_gib },
    });
    record_change(state, &mut db, principal, meta, &ws, ws.status, &reason, audit_action, details).await?;
    let after = db.workspace_of_org(ws.organization_id, ws.id).await?.ok_or_else(|| ServiceError::bug("workspace vanished"))?;
    db.commit().await?;
    Ok(view(&after))
}

/// Deletes: the container and its volume go; the row stays, `deleted`, for
/// the audit trail, and its name is free again.
pub async fn delete(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    ensure_engine_answers(state).await?;
    let (db, ws) = begin_workspace(state, principal, id, "delete_workspace", meta).await?;
    let db = ensure_self_service(state, db, principal, meta, &ws, "delete", "delete_workspace").await?;
    let (status, reason) = match &state.engine {
        Some(_) => (WorkspaceStatus::Deleting, ""),
        // Nothing to remove that NeoSC knows of; containers made under an
        // earlier engine are found by label when one is connected again.
        None => (WorkspaceStatus::Deleting, NO_ENGINE),
    };
    let intent_reason = format!("deleted by {}", principal.user.email);
    let suspended = ws.suspended_reason.clone();
    let intent = Intent {
        desired_state: DesiredState::Deleted,
        status,
        status_reason: reason,
        suspended_reason: suspended.as_deref(),
        intent_reason: &intent_reason,
        autostop_at: None,
        now: state.clock.now(),
    };
    let details = json!({ "name": ws.name, "vcpu": ws.vcpu_millicores, "memory_mib": ws.memory_mib, "storage_gib": ws.storage_gib });
    change_intent(state, principal, meta, db, ws, intent, action::DELETE_WORKSPACE, details).await
}

fn usage_of(q: &QuotaRecord, owned: i64) -> OrganizationUsage {
    OrganizationUsage {
        workspaces: q.workspaces(),
        running: q.running(),
        vcpu: q.vcpu(),
        memory_mib: q.memory_mib(),
        storage_gib: q.storage_gib(),
        workspaces_per_user: QuotaUse { used: owned, limit: q.max_workspaces_per_user },
    }
}

fn quotas_view(q: &QuotaRecord) -> Quotas {
    Quotas {
        max_workspaces: q.max_workspaces,
        max_running: q.max_running,
        max_vcpu: q.max_vcpu,
        max_memory_mib: q.max_memory_mib,
        max_storage_gib: q.max_storage_gib,
        max_workspaces_per_user: q.max_workspaces_per_user,
    }
}

/// Every quota of the organization with what is used (the per-user one:
/// the caller's own count).
pub async fn usage(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<OrganizationUsage> {
    let org = visible_org(state, principal, org_id, "view_usage", meta).await?;
    let mut db = state.store.conn().await?;
    let q = db.quotas_of(org.id).await?.ok_or_else(|| ServiceError::bug("organization without a quota row"))?;
    let owned = if principal.org_id() == org.id { db.workspaces_owned(principal.user.id).await? } else { 0 };
    Ok(usage_of(&q, owned))
}

pub async fn quotas(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<Quotas> {
    let org = visible_org(state, principal, org_id, "view_quotas", meta).await?;
    let q = state.store.conn().await?.quotas_of(org.id).await?.ok_or_else(|| ServiceError::bug("organization without a quota row"))?;
    Ok(quotas_view(&q))
}

/// A PATCH of the limits: `None` leaves a limit, `Some(None)` removes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct QuotaChanges {
    pub max_workspaces: Option<Option<i64>>,
    pub max_running: Option<Option<i64>>,
    pub max_vcpu: Option<Option<i64>>,
    pub max_memory_mib: Option<Option<i64>>,
    pub max_storage_gib: Option<Option<i64>>,
    pub max_workspaces_per_user: Option<Option<i64>>,
}

/// The largest limit accepted: far above any real installation, far below
/// overflow when usage is added.
pub const MAX_LIMIT: i64 = 1_000_000_000;

/// Platform admins only. A limit below what is in use now is refused (stop
/// or delete workspaces first); the per-user limit applies to new
/// allocations only.
pub async fn set_quotas(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    changes: QuotaChanges,
    meta: &RequestMeta,
) -> ServiceResult<Quotas> {
    let org = visible_org(state, principal, org_id, "update_quota", meta).await?;
    if principal.role != Role::PlatformAdmin {
        let error = ServiceError::Forbidden("Only a platform admin can change an organization's quotas.".into());
        let target = Target { kind: "organization", id: crate::model::OrgId(org.id).to_string() };
        return Err(audit::refuse(state, principal, meta, "update_quota", "not_a_platform_admin", Some(target), error).await);
    }
    let fields = [
        ("max_workspaces", changes.max_workspaces),
        ("max_running", changes.max_running),
        ("max_vcpu", changes.max_vcpu),
        ("max_memory_mib", changes.max_memory_mib),
        ("max_storage_gib", changes.max_storage_gib),
        ("max_workspaces_per_user", changes.max_workspaces_per_user),
    ];
    for (field, value) in fields {
        if let Some(Some(n)) = value {
            if !(0..=MAX_LIMIT).contains(&n) {
                return Err(ServiceError::Validation {
                    field: Some(field),
                    message: format!("{field} must be between 0 and {MAX_LIMIT}, or null for unlimited."),
                });
            }
        }
    }
    let mut db = state.store.begin().await?;
    let before = db.quotas_of_for_update(org.id).await?.ok_or_else(|| ServiceError::bug("organization without a quota row"))?;
    let pick = |change: Option<Option<i64>>, old: Option<i64>| change.unwrap_or(old);
    let limits = QuotaLimits {
        max_workspaces: pick(changes.max_workspaces, before.max_workspaces),
        max_running: pick(changes.max_running, before.max_running),
        max_vcpu: pick(changes.max_vcpu, before.max_vcpu),
        max_memory_mib: pick(changes.max_memory_mib, before.max_memory_mib),
        max_storage_gib: pick(changes.max_storage_gib, before.max_storage_gib),
        max_workspaces_per_user: pick(changes.max_workspaces_per_user, before.max_workspaces_per_user),
    };
    let after = match db.set_quota_limits(org.id, &limits).await {
        Ok(Some(after)) => after,
        Ok(None) => return Err(ServiceError::bug("organization without a quota row")),
        Err(e) => {
            // One of the organization-wide CHECKs (the per-user quota is
            // raised only when an owner gets a workspace, never here); the
            // size is irrelevant, only what is used counts.
            let Some(name) = guarded_quota(&e) else { return Err(e.into()) };
            let used = quota_need(&before, 0, &WorkspaceSize::default(), name)?.usage.used;
            return Err(ServiceError::Conflict(format!(
                "{name} cannot be below what “{}” uses now ({used}); stop or delete workspaces first.",
                org.name
            )));
        }
    };
    let (old, new) = (quotas_view(&before), quotas_view(&after));
    if old == new {
        return Ok(new);
    }
    let now = state.clock.now();
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::UPDATE_QUOTA,
            target: Some(Target { kind: "organization", id: OrgId(org.id).to_string() }),
            details: json!({ "old": old, "new": new }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(new)
}
