//! `/api/workspaces…`, `/api/workspace-templates` and an organization's
//! quotas and usage. Ids in bodies are checked here like ids in paths; the
//! rules are the services'.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use super::problems::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unavailable};
use super::schema::{CommandArgument, Int, OrganizationId, TemplateId, UserId, WorkspaceId, WorkspaceName};
use super::{ApiJson, ApiPath, ApiQuery, Authenticated, Meta};
use crate::model::{
    NewTemplateRequest, NewWorkspaceRequest, OrgId, OrganizationUsage, Quotas, TemplateId as TemplateKey, UserId as UserKey, Workspace,
    WorkspaceChanges, WorkspaceDetail, WorkspaceStatus, WorkspaceTemplate, LARGEST_SIZE,
};
use crate::server::error::ServiceError;
use crate::server::service::workspaces::{self, ListFilter, QuotaChanges, MAX_PAGE};
use crate::server::service::{org_id, templates, workspace_id};
use crate::server::state::AppState;

const WS_ID: &str = "The workspace's id";
const ORG_ID: &str = "The organization's id";

fn invalid(field: &'static str, message: &str) -> ServiceError {
    ServiceError::Validation { field: Some(field), message: message.into() }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Platform admins: only this organization's. Others see their own
    /// organization's (users: their own workspaces) whatever this says.
    #[param(value_type = Option<OrganizationId>)]
    pub organization_id: Option<String>,
    /// Only this owner's.
    #[param(value_type = Option<UserId>)]
    pub owner_id: Option<String>,
    /// Only those in this status (`deleted` lists deleted ones, which are
    /// otherwise left out).
    pub status: Option<WorkspaceStatus>,
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Skip this many (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List workspaces
///
/// The caller's organization's (as in the product spec's filtering example): every one for its admins,
/// their own for users; platform admins see every organization's and may filter by organization, owner
/// and status. Oldest first; deleted ones only with `status=deleted`.
#[utoipa::path(get, path = "/api/workspaces", tag = "workspaces", operation_id = "listWorkspaces", params(ListQuery),
    responses(
        (status = 200, description = "One page of workspaces", body = [Workspace],
            headers(("X-Total-Count" = i64, description = "How many match, over all pages"))),
        BadRequest, Unauthorized, Forbidden,
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<(HeaderMap, axum::Json<Vec<Workspace>>), ServiceError> {
    let organization_id = match q.organization_id.as_deref() {
        Some(raw) => Some(OrgId::parse(raw).ok_or_else(|| invalid("organization_id", "Not an organization id (org-<uuid>)."))?.0),
        None => None,
    };
    let owner_id = match q.owner_id.as_deref() {
        Some(raw) => Some(UserKey::parse(raw).ok_or_else(|| invalid("owner_id", "Not a user id (usr-<uuid>)."))?.0),
        None => None,
    };
    let filter = ListFilter { organization_id, owner_id, status: q.status };
    let page = workspaces::list(&state, &principal, filter, q.limit.unwrap_or(MAX_PAGE), q.offset.unwrap_or(0)).await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(page.total));
    Ok((headers, axum::Json(page.items)))
}

/// A new workspace. Absent sizes take the template's defaults.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceBody {
    #[schema(value_type = WorkspaceName)]
    pub name: String,
    /// 404 when it names no template.
    #[schema(value_type = TemplateId)]
    pub template_id: String,
    /// A member of the organization; default the caller. Users create for
    /// themselves only (and only when the organization allows self-service).
    /// 404 when it names nobody in the organization.
    #[schema(value_type = Option<UserId>)]
    pub owner_id: Option<String>,
    /// Platform admins only; default the caller's organization.
    #[schema(value_type = Option<OrganizationId>)]
    pub organization_id: Option<String>,
    /// Thousandths of a CPU, at most the template's maximum.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 64000)]
    pub vcpu: Option<Int>,
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 262144)]
    pub memory_mib: Option<Int>,
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4096)]
    pub storage_gib: Option<Int>,
    /// Start it once made (default true).
    pub start: Option<bool>,
}

fn size_field(field: &'static str, v: Option<Int>, max: i64) -> Result<Option<i64>, ServiceError> {
    match v {
        Some(Int(n)) if !(1..=max).contains(&n) => Err(invalid(field, &format!("{field} must be between 1 and {max}."))),
        other => Ok(other.map(|i| i.0)),
    }
}

/// Create a workspace
///
/// Allocates it within the organization's quotas (409 naming the quota, what is used, what this needs
/// and the limit) and, unless `start` is false, starts it: the answer comes at once, with status
/// `provisioning`; the reconciler makes the container and the status follows. 503 when the workspace
/// engine is unreachable.
#[utoipa::path(post, path = "/api/workspaces", tag = "workspaces", operation_id = "createWorkspace", request_body = CreateWorkspaceBody,
    responses(
        (status = 201, description = "Allocated (and starting)", body = Workspace,
            headers(("Location" = String, description = "The new workspace's URL"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn create(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateWorkspaceBody>,
) -> Result<Response, ServiceError> {
    let req = NewWorkspaceRequest {
        name: body.name,
        template_id: TemplateKey::parse(&body.template_id).ok_or_else(|| invalid("template_id", "Not a template id (tpl-<uuid>)."))?,
        owner_id: match body.owner_id.as_deref() {
            Some(raw) => Some(UserKey::parse(raw).ok_or_else(|| invalid("owner_id", "Not a user id (usr-<uuid>)."))?),
            None => None,
        },
        organization_id: match body.organization_id.as_deref() {
            Some(raw) => Some(OrgId::parse(raw).ok_or_else(|| invalid("organization_id", "Not an organization id (org-<uuid>)."))?),
            None => None,
        },
        vcpu: size_field("vcpu", body.vcpu, LARGEST_SIZE.vcpu)?,
        memory_mib: size_field("memory_mib", body.memory_mib, LARGEST_SIZE.memory_mib)?,
        storage_gib: size_field("storage_gib", body.storage_gib, LARGEST_SIZE.storage_gib)?,
        start: body.start,
    };
    let ws = workspaces::create(&state, &principal, &req, &meta).await?;
    let location = format!("/api/workspaces/{}", ws.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(ws)).into_response())
}

/// Get a workspace
///
/// With its timeline, newest first: every status change, who or what made it (`actor` null: the
/// system) and why.
#[utoipa::path(get, path = "/api/workspaces/{id}", tag = "workspaces", operation_id = "getWorkspace",
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "The workspace and its timeline", body = WorkspaceDetail),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn detail(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<WorkspaceDetail>, ServiceError> {
    Ok(axum::Json(workspaces::detail(&state, &principal, workspace_id(&id)?, &meta).await?))
}

/// A rename or resize; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspaceBody {
    #[schema(value_type = Option<WorkspaceName>)]
    pub name: Option<String>,
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 64000)]
    pub vcpu: Option<Int>,
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 262144)]
    pub memory_mib: Option<Int>,
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4096)]
    pub storage_gib: Option<Int>,
}

/// Rename or resize a workspace
///
/// Resizing needs it stopped (409 otherwise) and stays within its template's maximum; the new limits
/// apply when it next starts. Users may do this to their own when the organization allows self-service.
#[utoipa::path(patch, path = "/api/workspaces/{id}", tag = "workspaces", operation_id = "updateWorkspace", request_body = UpdateWorkspaceBody,
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "Changed", body = Workspace),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn update(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateWorkspaceBody>,
) -> Result<axum::Json<Workspace>, ServiceError> {
    let changes = WorkspaceChanges {
        name: body.name,
        vcpu: size_field("vcpu", body.vcpu, LARGEST_SIZE.vcpu)?,
        memory_mib: size_field("memory_mib", body.memory_mib, LARGEST_SIZE.memory_mib)?,
        storage_gib: size_field("storage_gib", body.storage_gib, LARGEST_SIZE.storage_gib)?,
    };
    Ok(axum::Json(workspaces::update(&state, &principal, workspace_id(&id)?, &changes, &meta).await?))
}

/// Delete a workspace
///
/// Its container and home volume are removed; the row stays, `deleted`, for the audit trail, and the
/// name is free again. Admins, or the owner when the organization allows self-service.
#[utoipa::path(delete, path = "/api/workspaces/{id}", tag = "workspaces", operation_id = "deleteWorkspace",
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "Being deleted (status `deleting`, then `deleted`)", body = Workspace),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Workspace>, ServiceError> {
    Ok(axum::Json(workspaces::delete(&state, &principal, workspace_id(&id)?, &meta).await?))
}

/// Start a workspace
///
/// Reserves its vCPU and memory within the quotas (409 with the numbers) and starts it. 409 while an
/// admin holds it suspended; 503 when the engine is unreachable.
#[utoipa::path(post, path = "/api/workspaces/{id}/start", tag = "workspaces", operation_id = "startWorkspace",
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "Starting", body = Workspace),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn start(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Workspace>, ServiceError> {
    Ok(axum::Json(workspaces::start(&state, &principal, workspace_id(&id)?, &meta).await?))
}

/// Stop a workspace
///
/// Releases its vCPU and memory at once; the container gets 10 seconds to stop before it is killed.
#[utoipa::path(post, path = "/api/workspaces/{id}/stop", tag = "workspaces", operation_id = "stopWorkspace",
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "Stopping", body = Workspace),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn stop(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Workspace>, ServiceError> {
    Ok(axum::Json(workspaces::stop(&state, &principal, workspace_id(&id)?, &meta).await?))
}

/// Restart a workspace
///
/// Stops its container and starts it again (starting it if it was stopped).
#[utoipa::path(post, path = "/api/workspaces/{id}/restart", tag = "workspaces", operation_id = "restartWorkspace",
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "Restarting", body = Workspace),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn restart(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Workspace>, ServiceError> {
    Ok(axum::Json(workspaces::restart(&state, &principal, workspace_id(&id)?, &meta).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendBody {
    /// Shown to the owner ("suspended by admin: unpaid invoice").
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

/// Suspend a workspace
///
/// Admins only: stops it and holds it stopped; its owner sees the reason and cannot start it until an
/// admin resumes it.
#[utoipa::path(post, path = "/api/workspaces/{id}/suspend", tag = "workspaces", operation_id = "suspendWorkspace", request_body = SuspendBody,
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "Suspended (stopping)", body = Workspace),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn suspend(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SuspendBody>,
) -> Result<axum::Json<Workspace>, ServiceError> {
    Ok(axum::Json(workspaces::suspend(&state, &principal, workspace_id(&id)?, &body.reason, &meta).await?))
}

/// Resume a workspace
///
/// Admins only: ends a suspension; the workspace stays stopped until someone starts it.
#[utoipa::path(post, path = "/api/workspaces/{id}/resume", tag = "workspaces", operation_id = "resumeWorkspace",
    params(("id" = WorkspaceId, Path, description = WS_ID)),
    responses(
        (status = 200, description = "No longer suspended", body = Workspace),
        Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn resume(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Workspace>, ServiceError> {
    Ok(axum::Json(workspaces::resume(&state, &principal, workspace_id(&id)?, &meta).await?))
}

/// List workspace templates
///
/// What workspaces can be made from, with their default and maximum sizes.
#[utoipa::path(get, path = "/api/workspace-templates", tag = "workspaces", operation_id = "listWorkspaceTemplates",
    responses(
        (status = 200, description = "Every template, by name", body = [WorkspaceTemplate]),
        Unauthorized, Forbidden,
    ))]
pub async fn list_templates(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<axum::Json<Vec<WorkspaceTemplate>>, ServiceError> {
    Ok(axum::Json(templates::list(&state, &principal).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplateBody {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// A local image on the engine (never pulled), e.g. `neosc/workspace-busybox:dev`.
    #[schema(min_length = 1, max_length = 255, pattern = r"^[A-Za-z0-9/:._@-]+$")]
    pub image: String,
    /// Overrides the image's command: 1 to 64 arguments (the service refuses others with 400).
    #[schema(value_type = Option<Vec<CommandArgument>>, min_items = 1, max_items = 64)]
    pub command: Option<Vec<String>>,
    /// Thousandths of a CPU; at most `max_vcpu` (400 otherwise).
    #[schema(value_type = i64, minimum = 1, maximum = 64000)]
    pub default_vcpu: Int,
    /// At most `max_memory_mib` (400 otherwise).
    #[schema(value_type = i64, minimum = 6, maximum = 262144)]
    pub default_memory_mib: Int,
    /// At most `max_storage_gib` (400 otherwise).
    #[schema(value_type = i64, minimum = 1, maximum = 4096)]
    pub default_storage_gib: Int,
    /// At least the default.
    #[schema(value_type = i64, minimum = 1, maximum = 64000)]
    pub max_vcpu: Int,
    #[schema(value_type = i64, minimum = 6, maximum = 262144)]
    pub max_memory_mib: Int,
    #[schema(value_type = i64, minimum = 1, maximum = 4096)]
    pub max_storage_gib: Int,
}

/// Add a workspace template
///
/// Platform admins only. The image must be on the engine already (400 otherwise): NeoSC never pulls
/// from a registry. Defaults must not exceed the maxima (400); 409 when the name is taken.
#[utoipa::path(post, path = "/api/workspace-templates", tag = "workspaces", operation_id = "createWorkspaceTemplate", request_body = CreateTemplateBody,
    responses(
        (status = 201, description = "Added", body = WorkspaceTemplate,
            headers(("Location" = String, description = "`/api/workspace-templates`: the list it joined"))),
        BadRequest, Unauthorized, Forbidden, Conflict, Unavailable,
    ))]
pub async fn create_template(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateTemplateBody>,
) -> Result<Response, ServiceError> {
    let req = NewTemplateRequest {
        name: body.name,
        description: body.description.unwrap_or_default(),
        image: body.image,
        command: body.command,
        default_vcpu: body.default_vcpu.0,
        default_memory_mib: body.default_memory_mib.0,
        default_storage_gib: body.default_storage_gib.0,
        max_vcpu: body.max_vcpu.0,
        max_memory_mib: body.max_memory_mib.0,
        max_storage_gib: body.max_storage_gib.0,
    };
    let t = templates::create(&state, &principal, &req, &meta).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, "/api/workspace-templates")], axum::Json(t)).into_response())
}

/// An organization's workspace usage
///
/// Every quota with what is used of it and its limit (`null`: unlimited). `workspaces_per_user.used` is
/// the caller's own count.
#[utoipa::path(get, path = "/api/organizations/{id}/usage", tag = "organizations", operation_id = "getOrganizationUsage",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "Usage and limits", body = OrganizationUsage),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn usage(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<OrganizationUsage>, ServiceError> {
    Ok(axum::Json(workspaces::usage(&state, &principal, org_id(&id)?, &meta).await?))
}

/// An organization's quotas
///
/// The limits (`null`: unlimited). Members of the organization and platform admins may read them.
#[utoipa::path(get, path = "/api/organizations/{id}/quotas", tag = "organizations", operation_id = "getOrganizationQuotas",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The limits", body = Quotas),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn quotas(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Quotas>, ServiceError> {
    Ok(axum::Json(workspaces::quotas(&state, &principal, org_id(&id)?, &meta).await?))
}

/// `null` and absent differ: absent leaves a limit, `null` removes it.
fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Int>>, D::Error> {
    Option::<Int>::deserialize(d).map(Some)
}

/// The limits to change; absent ones stay, `null` means unlimited.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateQuotasBody {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub max_workspaces: Option<Option<Int>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub max_running: Option<Option<Int>>,
    /// Thousandths of a CPU over running workspaces.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub max_vcpu: Option<Option<Int>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub max_memory_mib: Option<Option<Int>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub max_storage_gib: Option<Option<Int>>,
    /// Applies to new allocations; lowering it never touches existing workspaces.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000)]
    pub max_workspaces_per_user: Option<Option<Int>>,
}

/// Change an organization's quotas
///
/// Platform admins only. A limit below what is in use now is refused (409): stop or delete workspaces
/// first.
#[utoipa::path(patch, path = "/api/organizations/{id}/quotas", tag = "organizations", operation_id = "updateOrganizationQuotas",
    request_body = UpdateQuotasBody,
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The limits now", body = Quotas),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn update_quotas(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateQuotasBody>,
) -> Result<axum::Json<Quotas>, ServiceError> {
    let v = |o: Option<Option<Int>>| o.map(|i| i.map(|n| n.0));
    let changes = QuotaChanges {
        max_workspaces: v(body.max_workspaces),
        max_running: v(body.max_running),
        max_vcpu: v(body.max_vcpu),
        max_memory_mib: v(body.max_memory_mib),
        max_storage_gib: v(body.max_storage_gib),
        max_workspaces_per_user: v(body.max_workspaces_per_user),
    };
    Ok(axum::Json(workspaces::set_quotas(&state, &principal, org_id(&id)?, changes, &meta).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_sizes_name_their_field() {
        assert!(matches!(size_field("vcpu", Some(Int(0)), LARGEST_SIZE.vcpu), Err(ServiceError::Validation { field: Some("vcpu"), .. })));
        assert_eq!(size_field("vcpu", Some(Int(500)), LARGEST_SIZE.vcpu).unwrap(), Some(500));
        assert_eq!(size_field("vcpu", None, LARGEST_SIZE.vcpu).unwrap(), None);
    }

    /// utoipa takes only literals for bounds, so the schema repeats the
    /// numbers of `LARGEST_SIZE`; this holds the two equal.
    #[test]
    fn the_documented_size_bounds_are_the_enforced_ones() {
        let doc = serde_json::to_value(crate::server::rest::document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        let largest = [("vcpu", LARGEST_SIZE.vcpu), ("memory_mib", LARGEST_SIZE.memory_mib), ("storage_gib", LARGEST_SIZE.storage_gib)];
        let bodies: [(&str, &[&str]); 3] =
            [("CreateWorkspaceBody", &[""]), ("UpdateWorkspaceBody", &[""]), ("CreateTemplateBody", &["default_", "max_"])];
        for (body, prefixes) in bodies {
            for prefix in prefixes {
                for (field, max) in largest {
                    let property = &schemas[body]["properties"][format!("{prefix}{field}")];
                    assert_eq!(property["maximum"].as_f64(), Some(max as f64), "{body}.{prefix}{field}: {property}");
                }
            }
        }
        for field in ["default_memory_mib", "max_memory_mib"] {
            let property = &schemas["CreateTemplateBody"]["properties"][field];
            assert_eq!(property["minimum"].as_f64(), Some(crate::model::MIN_MEMORY_MIB as f64), "{field}: {property}");
        }
    }
}
