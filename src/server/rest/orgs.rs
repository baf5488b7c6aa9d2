//! `/api/organizations/…`: tenants, their members and invitations.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ApiJson, Authenticated, Meta};
use crate::model::{Invitation, Member, Organization, OrganizationDetail, Role};
use crate::server::error::{Problem, ServiceError};
use crate::server::service::orgs::{self, OrgChanges, MAX_PAGE};
use crate::server::service::{invitations, members, org_id, user_id};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only those whose name or domain (members: name or email) contains this.
    pub q: Option<String>,
    /// At most this many (1–100, default 100).
    pub limit: Option<i64>,
    /// Skip this many (default 0).
    pub offset: Option<i64>,
}

fn total_header(total: i64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-total-count", HeaderValue::from(total));
    h
}

#[utoipa::path(get, path = "/api/organizations", tag = "organizations", params(ListQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "The organizations the caller may see (all for a platform admin, else their own), in the seed's shape; X-Total-Count has the number matching", body = [Organization]),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(q): Query<ListQuery>,
) -> Result<(HeaderMap, axum::Json<Vec<Organization>>), ServiceError> {
    let page = orgs::list_visible(&state, &principal, q.q.as_deref(), q.limit.unwrap_or(MAX_PAGE), q.offset.unwrap_or(0)).await?;
    Ok((total_header(page.total), axum::Json(page.items)))
}

/// `null` and absent differ: absent leaves the seat limit, `null` removes it.
fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    pub name: String,
    pub domain: String,
    pub seat_limit: Option<i64>,
    pub require_mfa: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub require_mfa: Option<bool>,
    /// Platform admins only; `null` removes the limit.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub seat_limit: Option<Option<i64>>,
}

#[utoipa::path(post, path = "/api/organizations", tag = "organizations", request_body = CreateOrgRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = OrganizationDetail),
        (status = 400, description = "Invalid name or domain (public mail domains are refused)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name or domain taken", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(req): ApiJson<CreateOrgRequest>,
) -> Result<(StatusCode, axum::Json<OrganizationDetail>), ServiceError> {
    let changes = OrgChanges { require_mfa: req.require_mfa, seat_limit: Some(req.seat_limit), ..Default::default() };
    let org = orgs::create(&state, &principal, &req.name, &req.domain, changes, &meta).await?;
    Ok((StatusCode::CREATED, axum::Json(org)))
}

#[utoipa::path(get, path = "/api/organizations/{id}", tag = "organizations", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "The organization", body = OrganizationDetail),
        (status = 404, description = "No such organization in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn detail(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    Ok(axum::Json(orgs::detail(&state, &principal, org_id(&id)?, &meta).await?))
}

#[utoipa::path(post, path = "/api/organizations/{id}", tag = "organizations", request_body = UpdateOrgRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = OrganizationDetail),
        (status = 400, description = "Invalid value", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of it, or a platform-only field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name or domain taken, or seat limit below the members", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateOrgRequest>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    let changes = OrgChanges { name: req.name, domain: req.domain, require_mfa: req.require_mfa, seat_limit: req.seat_limit };
    Ok(axum::Json(orgs::update(&state, &principal, org_id(&id)?, changes, &meta).await?))
}

#[utoipa::path(post, path = "/api/organizations/{id}/suspend", tag = "organizations", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Suspended; every member's session ended", body = OrganizationDetail),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn suspend(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    Ok(axum::Json(orgs::set_suspended(&state, &principal, org_id(&id)?, true, &meta).await?))
}

#[utoipa::path(post, path = "/api/organizations/{id}/activate", tag = "organizations", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Active again", body = OrganizationDetail),
        (status = 403, description = "Not a platform admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn activate(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    Ok(axum::Json(orgs::set_suspended(&state, &principal, org_id(&id)?, false, &meta).await?))
}

#[utoipa::path(get, path = "/api/organizations/{id}/members", tag = "organizations", params(("id" = String, Path), ListQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of members; X-Total-Count has the number matching", body = [Member]),
        (status = 403, description = "Not an admin of it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_members(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<(HeaderMap, axum::Json<Vec<Member>>), ServiceError> {
    let page = members::list(&state, &principal, org_id(&id)?, q.q.as_deref(), q.limit.unwrap_or(members::MAX_PAGE), q.offset.unwrap_or(0), &meta).await?;
    Ok((total_header(page.total), axum::Json(page.items)))
}

#[utoipa::path(post, path = "/api/organizations/{id}/members/{user_id}/remove", tag = "organizations", params(("id" = String, Path), ("user_id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed; their access ended at once"),
        (status = 404, description = "No such member in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller, or the last admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path((id, member)): Path<(String, String)>,
) -> Result<StatusCode, ServiceError> {
    members::remove(&state, &principal, org_id(&id)?, user_id(&member)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    pub role: Role,
}

#[utoipa::path(get, path = "/api/organizations/{id}/invitations", tag = "organizations", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Open invitations, newest first", body = [Invitation]),
        (status = 404, description = "No such organization in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_invitations(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Vec<Invitation>>, ServiceError> {
    Ok(axum::Json(invitations::list(&state, &principal, org_id(&id)?, &meta).await?))
}

#[utoipa::path(post, path = "/api/organizations/{id}/invitations", tag = "organizations", request_body = InviteRequest, params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 201, description = "Invited; `link` is shown this once", body = Invitation),
        (status = 404, description = "No such organization in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a user, or already invited", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn invite(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<(StatusCode, axum::Json<Invitation>), ServiceError> {
    let inv = invitations::create(&state, &principal, org_id(&id)?, &req.email, req.role, &meta).await?;
    Ok((StatusCode::CREATED, axum::Json(inv)))
}

#[utoipa::path(post, path = "/api/organizations/{id}/invitations/{invitation_id}/revoke", tag = "organizations", params(("id" = String, Path), ("invitation_id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked; the link is dead"),
        (status = 404, description = "No such open invitation in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path((id, invitation_id)): Path<(String, Uuid)>,
) -> Result<StatusCode, ServiceError> {
    invitations::revoke(&state, &principal, org_id(&id)?, invitation_id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/organizations/{id}/invitations/{invitation_id}/resend", tag = "organizations", params(("id" = String, Path), ("invitation_id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "A new link (the old one is dead) and a new expiry", body = Invitation),
        (status = 404, description = "No such open invitation in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resend_invitation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path((id, invitation_id)): Path<(String, Uuid)>,
) -> Result<axum::Json<Invitation>, ServiceError> {
    Ok(axum::Json(invitations::resend(&state, &principal, org_id(&id)?, invitation_id, &meta).await?))
}
