//! Workspaces: who may see, make, start, stop, resize, suspend and delete
//! which. Every change writes the desired state (quotas are held by the
//! database in that same transaction), a timeline event and an audit
//! event; the reconciler (`server::reconciler`) then drives the engine.

use uuid::Uuid;

use super::Principal;
use crate::model::{
    NewWorkspaceRequest, OrganizationUsage, Page, Quotas, Workspace, WorkspaceChanges, WorkspaceDetail, WorkspaceStatus,
};
use crate::server::auth::credentials::RequestMeta;
use crate::server::error::ServiceResult;
use crate::server::state::AppState;

/// The most workspaces one list call returns.
pub const MAX_PAGE: i64 = 100;

/// Narrows a list. Org admins and users see their organization's (users:
/// only their own); platform admins every organization's, or one.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    pub organization_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub status: Option<WorkspaceStatus>,
}

pub async fn list(state: &AppState, principal: &Principal, filter: ListFilter, limit: i64, offset: i64) -> ServiceResult<Page<Workspace>> {
    todo!()
}

pub async fn detail(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<WorkspaceDetail> {
    todo!()
}

pub async fn create(state: &AppState, principal: &Principal, req: &NewWorkspaceRequest, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

pub async fn start(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

pub async fn stop(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

pub async fn restart(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

pub async fn suspend(state: &AppState, principal: &Principal, id: Uuid, reason: &str, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

pub async fn resume(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

pub async fn update(state: &AppState, principal: &Principal, id: Uuid, changes: &WorkspaceChanges, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

pub async fn delete(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<Workspace> {
    todo!()
}

/// Every quota of the organization with what is used (the per-user one:
/// the caller's own count).
pub async fn usage(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<OrganizationUsage> {
    todo!()
}

pub async fn quotas(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<Quotas> {
    todo!()
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

/// Platform admins only.
pub async fn set_quotas(state: &AppState, principal: &Principal, org_id: Uuid, changes: QuotaChanges, meta: &RequestMeta) -> ServiceResult<Quotas> {
    todo!()
}
