//! Workspaces, their templates and the organization's quotas, for the
//! pages. Every function authenticates and hands the decision to
//! `service::workspaces` (who may see or change which workspace is decided
//! there, never here).

use leptos::prelude::*;

use crate::model::{AppError, OrganizationUsage, Page, Quotas, Workspace, WorkspaceDetail, WorkspaceTemplate};

#[cfg(feature = "ssr")]
mod ids {
    use crate::model::AppError;
    use crate::server::{service, sfn};

    pub fn workspace(raw: &str) -> Result<uuid::Uuid, AppError> {
        service::workspace_id(raw).map_err(sfn::fail)
    }

    pub fn org(raw: &str) -> Result<uuid::Uuid, AppError> {
        service::org_id(raw).map_err(sfn::fail)
    }

    pub fn user(raw: &str) -> Result<uuid::Uuid, AppError> {
        service::user_id(raw).map_err(sfn::fail)
    }

    pub fn template(raw: &str) -> Result<uuid::Uuid, AppError> {
        service::template_id(raw).map_err(sfn::fail)
    }
}

/// The workspaces the caller may see: their own, their organization's for
/// admins, every organization's (or `organization_id`'s) for platform
/// admins.
#[server(prefix = "/api/fn", endpoint = "list_workspaces")]
pub async fn list_workspaces(organization_id: Option<String>, offset: i64) -> Result<Page<Workspace>, AppError> {
    use crate::server::service::workspaces::{list, ListFilter, MAX_PAGE};
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    let organization_id = organization_id.as_deref().filter(|s| !s.is_empty()).map(ids::org).transpose()?;
    let filter = ListFilter { organization_id, ..Default::default() };
    list(&call.state, &principal, filter, MAX_PAGE, offset).await.map_err(sfn::fail)
}

/// One workspace with its timeline.
#[server(prefix = "/api/fn", endpoint = "get_workspace")]
pub async fn get_workspace(id: String) -> Result<WorkspaceDetail, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::workspaces::detail(&call.state, &principal, ids::workspace(&id)?, &call.meta).await.map_err(sfn::fail)
}

/// The create dialog. Absent sizes take the template's defaults, an absent
/// owner is the caller.
#[server(prefix = "/api/fn", endpoint = "create_workspace")]
#[allow(clippy::too_many_arguments)]
pub async fn create_workspace(
    name: String,
    template_id: String,
    owner_id: Option<String>,
    organization_id: Option<String>,
    vcpu: Option<i64>,
    memory_mib: Option<i64>,
    storage_gib: Option<i64>,
    start: bool,
) -> Result<Workspace, AppError> {
    use crate::model::{NewWorkspaceRequest, OrgId, TemplateId, UserId};
    use crate::server::{service, sfn};

    let (call, principal) = sfn::principal().await?;
    let req = NewWorkspaceRequest {
        name,
        template_id: TemplateId(ids::template(&template_id)?),
        owner_id: owner_id.as_deref().filter(|s| !s.is_empty()).map(ids::user).transpose()?.map(UserId),
        organization_id: organization_id.as_deref().filter(|s| !s.is_empty()).map(ids::org).transpose()?.map(OrgId),
        vcpu,
        memory_mib,
        storage_gib,
        start: Some(start),
    };
    service::workspaces::create(&call.state, &principal, &req, &call.meta).await.map_err(sfn::fail)
}

/// The lifecycle buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Start,
    Stop,
    Restart,
    Resume,
    Delete,
}

impl Lifecycle {
    pub fn label(self) -> &'static str {
        match self {
            Lifecycle::Start => "Start",
            Lifecycle::Stop => "Stop",
            Lifecycle::Restart => "Restart",
            Lifecycle::Resume => "Resume",
            Lifecycle::Delete => "Delete",
        }
    }

    /// What the toast says once the server accepted it (the engine then
    /// takes its time; the status shows how far it got).
    pub fn accepted(self) -> &'static str {
        match self {
            Lifecycle::Start => "Starting the workspace.",
            Lifecycle::Stop => "Stopping the workspace.",
            Lifecycle::Restart => "Restarting the workspace.",
            Lifecycle::Resume => "Workspace resumed.",
            Lifecycle::Delete => "Deleting the workspace.",
        }
    }
}

#[server(prefix = "/api/fn", endpoint = "workspace_lifecycle")]
pub async fn workspace_lifecycle(id: String, action: Lifecycle) -> Result<Workspace, AppError> {
    use crate::server::service::workspaces as ws;
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    let (state, meta, id) = (&call.state, &call.meta, ids::workspace(&id)?);
    match action {
        Lifecycle::Start => ws::start(state, &principal, id, meta).await,
        Lifecycle::Stop => ws::stop(state, &principal, id, meta).await,
        Lifecycle::Restart => ws::restart(state, &principal, id, meta).await,
        Lifecycle::Resume => ws::resume(state, &principal, id, meta).await,
        Lifecycle::Delete => ws::delete(state, &principal, id, meta).await,
    }
    .map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "suspend_workspace")]
pub async fn suspend_workspace(id: String, reason: String) -> Result<Workspace, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::workspaces::suspend(&call.state, &principal, ids::workspace(&id)?, &reason, &call.meta).await.map_err(sfn::fail)
}

/// The rename/resize form: every field is sent; an empty size field keeps
/// the size it had.
#[server(prefix = "/api/fn", endpoint = "update_workspace")]
pub async fn update_workspace(
    id: String,
    name: String,
    vcpu: Option<String>,
    memory_mib: Option<String>,
    storage_gib: Option<String>,
) -> Result<Workspace, AppError> {
    use crate::model::{parse_vcpu, WorkspaceChanges};
    use crate::server::error::ServiceError;
    use crate::server::{service, sfn};

    let (call, principal) = sfn::principal().await?;
    let invalid = |field: &'static str, message: &str| sfn::fail(ServiceError::Validation { field: Some(field), message: message.into() });
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let vcpu =
        present(&vcpu).map(|v| parse_vcpu(&v).ok_or_else(|| invalid("vcpu", "Give the vCPU as a number, e.g. 0.5 or 2."))).transpose()?;
    let whole = |field: &'static str, v: &Option<String>| {
        present(v).map(|v| v.parse::<i64>().map_err(|_| invalid(field, "Give a whole number."))).transpose()
    };
    let changes = WorkspaceChanges {
        name: Some(name),
        vcpu,
        memory_mib: whole("memory_mib", &memory_mib)?,
        storage_gib: whole("storage_gib", &storage_gib)?,
    };
    service::workspaces::update(&call.state, &principal, ids::workspace(&id)?, &changes, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "list_workspace_templates")]
pub async fn list_workspace_templates() -> Result<Vec<WorkspaceTemplate>, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::templates::list(&call.state, &principal).await.map_err(sfn::fail)
}

/// Every quota of the organization with what is used of it.
#[server(prefix = "/api/fn", endpoint = "organization_usage")]
pub async fn get_organization_usage(id: String) -> Result<OrganizationUsage, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::workspaces::usage(&call.state, &principal, ids::org(&id)?, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "get_quotas")]
pub async fn get_quotas(id: String) -> Result<Quotas, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::workspaces::quotas(&call.state, &principal, ids::org(&id)?, &call.meta).await.map_err(sfn::fail)
}

/// The quota form (platform admins). Each field is a limit, empty meaning
/// unlimited; vCPU in CPUs ("0.5"), memory in MiB, storage in GiB. A field
/// not sent stays as it was.
#[server(prefix = "/api/fn", endpoint = "set_quotas")]
#[allow(clippy::too_many_arguments)]
pub async fn set_quotas(
    id: String,
    max_workspaces: Option<String>,
    max_running: Option<String>,
    max_vcpu: Option<String>,
    max_memory_mib: Option<String>,
    max_storage_gib: Option<String>,
    max_workspaces_per_user: Option<String>,
) -> Result<Quotas, AppError> {
    use crate::model::parse_vcpu;
    use crate::server::error::ServiceError;
    use crate::server::service::workspaces::{self as ws, QuotaChanges};
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    type Limit = Result<Option<Option<i64>>, AppError>;
    let limit = |field: &'static str, raw: Option<String>, parse: fn(&str) -> Option<i64>, hint: &str| -> Limit {
        match raw.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(v) => parse(v)
                .filter(|n| *n >= 0)
                .map(|n| Some(Some(n)))
                .ok_or_else(|| sfn::fail(ServiceError::Validation { field: Some(field), message: hint.into() })),
        }
    };
    let whole: fn(&str) -> Option<i64> = |v| v.parse().ok();
    const WHOLE: &str = "Give a whole number, or leave it empty for no limit.";
    let changes = QuotaChanges {
        max_workspaces: limit("max_workspaces", max_workspaces, whole, WHOLE)?,
        max_running: limit("max_running", max_running, whole, WHOLE)?,
        max_vcpu: limit("max_vcpu", max_vcpu, parse_vcpu, "Give the vCPU as a number, e.g. 0.5 or 8, or leave it empty for no limit.")?,
        max_memory_mib: limit("max_memory_mib", max_memory_mib, whole, WHOLE)?,
        max_storage_gib: limit("max_storage_gib", max_storage_gib, whole, WHOLE)?,
        max_workspaces_per_user: limit("max_workspaces_per_user", max_workspaces_per_user, whole, WHOLE)?,
    };
    ws::set_quotas(&call.state, &principal, ids::org(&id)?, changes, &call.meta).await.map_err(sfn::fail)
}
