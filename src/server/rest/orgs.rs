//! `/api/organizations/…`: tenants, their members and invitations.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problems::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::schema::{Domain, EmailAddress, Int, OrganizationId, OrganizationName, UserId};
use super::{ApiJson, ApiPath, ApiQuery, Authenticated, Meta};
use crate::model::{Invitation, Member, Organization, OrganizationDetail, Role};
use crate::server::error::ServiceError;
use crate::server::service::orgs::{self, OrgChanges, MAX_PAGE};
use crate::server::service::{invitations, members, org_id, user_id};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only those whose name or domain (members: name or email) contains
    /// this, case-insensitively.
    pub q: Option<String>,
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Skip this many (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl ListQuery {
    /// `(limit, offset)`, refusing values outside the documented ranges.
    fn page(&self, max: i64) -> Result<(i64, i64), ServiceError> {
        let limit = self.limit.unwrap_or(max);
        if !(1..=max).contains(&limit) {
            return Err(ServiceError::Validation { field: Some("limit"), message: format!("limit must be between 1 and {max}.") });
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ServiceError::Validation { field: Some("offset"), message: "offset must not be negative.".into() });
        }
        Ok((limit, offset))
    }
}

fn total_header(total: i64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-total-count", HeaderValue::from(total));
    h
}

const ORG_ID: &str = "The organization's id";

/// List organizations
///
/// All of them for a platform admin, else the caller's own; in the seed's shape, oldest first.
#[utoipa::path(get, path = "/api/organizations", tag = "organizations", operation_id = "listOrganizations", params(ListQuery),
    responses(
        (status = 200, description = "One page of the organizations the caller may see", body = [Organization],
            headers(("X-Total-Count" = i64, description = "How many match, over all pages"))),
        BadRequest, Unauthorized, Forbidden,
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<(HeaderMap, axum::Json<Vec<Organization>>), ServiceError> {
    let (limit, offset) = q.page(MAX_PAGE)?;
    let page = orgs::list_visible(&state, &principal, q.q.as_deref(), limit, offset).await?;
    Ok((total_header(page.total), axum::Json(page.items)))
}

/// `null` and absent differ: absent leaves the seat limit, `null` removes it.
fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Int>>, D::Error> {
    Option::<Int>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    #[schema(value_type = OrganizationName)]
    pub name: String,
    #[schema(value_type = Domain)]
    pub domain: String,
    /// Most members allowed; omitted or `null`, unlimited.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    pub seat_limit: Option<Int>,
    /// Members must set up a second factor at their next sign-in.
    pub require_mfa: Option<bool>,
}

/// The changes to make; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    #[schema(value_type = Option<OrganizationName>)]
    pub name: Option<String>,
    #[schema(value_type = Option<Domain>)]
    pub domain: Option<String>,
    pub require_mfa: Option<bool>,
    /// Platform admins only; `null` removes the limit. Not below the
    /// current number of members (409).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    pub seat_limit: Option<Option<Int>>,
    /// Running workspaces stop this many hours after they start; `null`
    /// turns auto-stop off.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 8760)]
    pub autostop_after_hours: Option<Option<Int>>,
    /// Members may create their own workspaces.
    pub self_service_workspaces: Option<bool>,
    /// Registrants with a verified address at one of the organization's verified domains join it as users.
    pub auto_join: Option<bool>,
    /// Days audit events are kept (within the installation's bounds, by default 30 to 3650); `null` keeps them for
    /// ever. Older events are purged; the chain still verifies from the purge point.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 36500)]
    pub audit_retention_days: Option<Option<Int>>,
}

/// Create an organization
///
/// Platform admins only (403 otherwise). 409 when the name or the domain is taken.
#[utoipa::path(post, path = "/api/organizations", tag = "organizations", operation_id = "createOrganization", request_body = CreateOrgRequest,
    responses(
        (status = 201, description = "Created", body = OrganizationDetail,
            headers(("Location" = String, description = "The new organization's URL"))),
        BadRequest, Unauthorized, Forbidden, Conflict,
    ))]
pub async fn create(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(req): ApiJson<CreateOrgRequest>,
) -> Result<Response, ServiceError> {
    let seat_limit = Some(req.seat_limit.map(|n| n.0));
    let changes = OrgChanges { require_mfa: req.require_mfa, seat_limit, ..Default::default() };
    let org = orgs::create(&state, &principal, &req.name, &req.domain, changes, &meta).await?;
    let location = format!("/api/organizations/{}", org.organization.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(org)).into_response())
}

/// Get an organization
///
/// With its settings. Another organization than the caller's answers 404, except for platform admins.
#[utoipa::path(get, path = "/api/organizations/{id}", tag = "organizations", operation_id = "getOrganization",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The organization", body = OrganizationDetail),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn detail(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    Ok(axum::Json(orgs::detail(&state, &principal, org_id(&id)?, &meta).await?))
}

/// Update an organization
///
/// Partial: only the fields sent change. Org admins change their organization's name, primary domain,
/// "require MFA", workspace settings and auto-join; platform admins also the seat limit (403 for others).
/// 409 when the name is taken, the new primary domain is not one the organization verified, or the seat
/// limit is below the members.
#[utoipa::path(patch, path = "/api/organizations/{id}", tag = "organizations", operation_id = "updateOrganization", request_body = UpdateOrgRequest,
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "Updated", body = OrganizationDetail),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn update(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateOrgRequest>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    let seat_limit = req.seat_limit.map(|n| n.map(|n| n.0));
    let changes = OrgChanges {
        name: req.name,
        domain: req.domain,
        require_mfa: req.require_mfa,
        seat_limit,
        autostop_after_hours: req.autostop_after_hours.map(|h| h.map(|n| n.0)),
        self_service_workspaces: req.self_service_workspaces,
        auto_join: req.auto_join,
        audit_retention_days: req.audit_retention_days.map(|d| d.map(|n| n.0)),
    };
    Ok(axum::Json(orgs::update(&state, &principal, org_id(&id)?, changes, &meta).await?))
}

/// Suspend an organization
///
/// Platform admins only; never the Default Organization (409). Every member's session ends and their
/// sign-in is refused until it is activated again.
#[utoipa::path(post, path = "/api/organizations/{id}/suspend", tag = "organizations", operation_id = "suspendOrganization",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "Suspended; every member's session ended", body = OrganizationDetail),
        Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn suspend(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    Ok(axum::Json(orgs::set_suspended(&state, &principal, org_id(&id)?, true, &meta).await?))
}

/// Activate a suspended organization
///
/// Platform admins only. Its members can sign in again.
#[utoipa::path(post, path = "/api/organizations/{id}/activate", tag = "organizations", operation_id = "activateOrganization",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "Active again", body = OrganizationDetail),
        Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn activate(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<OrganizationDetail>, ServiceError> {
    Ok(axum::Json(orgs::set_suspended(&state, &principal, org_id(&id)?, false, &meta).await?))
}

/// List an organization's members
///
/// For its admins and platform admins, oldest first.
#[utoipa::path(get, path = "/api/organizations/{id}/members", tag = "organizations", operation_id = "listMembers",
    params(("id" = OrganizationId, Path, description = ORG_ID), ListQuery),
    responses(
        (status = 200, description = "One page of members", body = [Member],
            headers(("X-Total-Count" = i64, description = "How many match, over all pages"))),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
pub async fn list_members(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<(HeaderMap, axum::Json<Vec<Member>>), ServiceError> {
    let (limit, offset) = q.page(members::MAX_PAGE)?;
    let page = members::list(&state, &principal, org_id(&id)?, q.q.as_deref(), limit, offset, &meta).await?;
    Ok((total_header(page.total), axum::Json(page.items)))
}

/// Remove a member
///
/// Deletes the account: its sessions, API tokens and recovery codes go at once; only a new invitation
/// readmits the address. 409 for the caller themselves or the last admin.
#[utoipa::path(delete, path = "/api/organizations/{id}/members/{user_id}", tag = "organizations", operation_id = "removeMember",
    params(("id" = OrganizationId, Path, description = ORG_ID), ("user_id" = UserId, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed; their access ended at once"),
        Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath((id, member)): ApiPath<(String, String)>,
) -> Result<StatusCode, ServiceError> {
    members::remove(&state, &principal, org_id(&id)?, user_id(&member)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles an invitation can give.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitedRole {
    OrgAdmin,
    User,
}

impl From<InvitedRole> for Role {
    fn from(r: InvitedRole) -> Self {
        match r {
            InvitedRole::OrgAdmin => Role::OrgAdmin,
            InvitedRole::User => Role::User,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    #[schema(value_type = EmailAddress)]
    pub email: String,
    pub role: InvitedRole,
    /// Answer the link in `link` (to copy) as well as mailing it; the default. `false` sends it by mail
    /// only: then accepting it proves the invitee reads the address, and the account starts with a
    /// verified email (a link someone copied proves nothing of the kind).
    #[serde(default)]
    pub show_link: Option<bool>,
}

/// List open invitations
#[utoipa::path(get, path = "/api/organizations/{id}/invitations", tag = "organizations", operation_id = "listInvitations",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "Open invitations, newest first", body = [Invitation]),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn list_invitations(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Vec<Invitation>>, ServiceError> {
    Ok(axum::Json(invitations::list(&state, &principal, org_id(&id)?, &meta).await?))
}

/// Invite someone
///
/// A one-time link valid for 7 days, mailed to the address and, unless `show_link` is `false`, in `link`
/// this once. Accepting creates the account in this organization whatever the email's domain, and replaces
/// any unconfirmed registration of the address. 409 when the address already has an account or an open
/// invitation.
#[utoipa::path(post, path = "/api/organizations/{id}/invitations", tag = "organizations", operation_id = "createInvitation", request_body = InviteRequest,
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 201, description = "Invited; `link` is shown this once", body = Invitation,
            headers(("Location" = String, description = "The invitation's URL"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn invite(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<Response, ServiceError> {
    let show_link = req.show_link.unwrap_or(true);
    let inv = invitations::create(&state, &principal, org_id(&id)?, &req.email, req.role.into(), show_link, &meta).await?;
    let location = format!("/api/organizations/{id}/invitations/{}", inv.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(inv)).into_response())
}

/// Get an open invitation
#[utoipa::path(get, path = "/api/organizations/{id}/invitations/{invitation_id}", tag = "organizations", operation_id = "getInvitation",
    params(("id" = OrganizationId, Path, description = ORG_ID), ("invitation_id" = Uuid, Path, description = "An invitation id")),
    responses(
        (status = 200, description = "The invitation (without its link)", body = Invitation),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn invitation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath((id, invitation_id)): ApiPath<(String, Uuid)>,
) -> Result<axum::Json<Invitation>, ServiceError> {
    let open = invitations::list(&state, &principal, org_id(&id)?, &meta).await?;
    open.into_iter()
        .find(|i| i.id == invitation_id)
        .map(axum::Json)
        .ok_or_else(|| ServiceError::NotFound("No such open invitation.".into()))
}

/// Revoke an invitation
///
/// Its link stops working at once.
#[utoipa::path(delete, path = "/api/organizations/{id}/invitations/{invitation_id}", tag = "organizations", operation_id = "revokeInvitation",
    params(("id" = OrganizationId, Path, description = ORG_ID), ("invitation_id" = Uuid, Path, description = "An invitation id")),
    responses(
        (status = 204, description = "Revoked; the link is dead"),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath((id, invitation_id)): ApiPath<(String, Uuid)>,
) -> Result<StatusCode, ServiceError> {
    invitations::revoke(&state, &principal, org_id(&id)?, invitation_id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resend an invitation
///
/// A new link and a new expiry; the old link stops working. Mailed again, and in `link` unless the
/// invitation was made with `show_link: false`.
#[utoipa::path(post, path = "/api/organizations/{id}/invitations/{invitation_id}/resend", tag = "organizations", operation_id = "resendInvitation",
    params(("id" = OrganizationId, Path, description = ORG_ID), ("invitation_id" = Uuid, Path, description = "An invitation id")),
    responses(
        (status = 200, description = "A new link (the old one is dead) and a new expiry", body = Invitation),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn resend_invitation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath((id, invitation_id)): ApiPath<(String, Uuid)>,
) -> Result<axum::Json<Invitation>, ServiceError> {
    Ok(axum::Json(invitations::resend(&state, &principal, org_id(&id)?, invitation_id, &meta).await?))
}
