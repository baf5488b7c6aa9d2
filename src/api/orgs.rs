use leptos::prelude::*;

use crate::model::{AppError, Organization, Page};

/// One page of the organizations the caller may see (all for a platform
/// admin), optionally only those whose name or domain contains `q`.
#[server(prefix = "/api/fn", endpoint = "list_organizations")]
pub async fn list_organizations(q: Option<String>, offset: i64) -> Result<Page<Organization>, AppError> {
    use crate::server::service::orgs::{list_visible, MAX_PAGE};
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    list_visible(&call.state, &principal, q.as_deref(), MAX_PAGE, offset).await.map_err(sfn::fail)
}

use crate::model::{Invitation, InvitationPreview, Member, OrganizationDetail};

/// Ids in forms, checked the way the REST API checks them.
#[cfg(feature = "ssr")]
fn org_uuid(raw: &str) -> Result<uuid::Uuid, AppError> {
    crate::server::service::org_id(raw).map_err(crate::server::sfn::fail)
}

#[cfg(feature = "ssr")]
fn user_uuid(raw: &str) -> Result<uuid::Uuid, AppError> {
    crate::server::service::user_id(raw).map_err(crate::server::sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "get_organization")]
pub async fn get_organization(id: String) -> Result<OrganizationDetail, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::orgs::detail(&call.state, &principal, org_uuid(&id)?, &call.meta).await.map_err(sfn::fail)
}

/// The settings form. A checkbox that is not ticked is not sent, so an
/// absent `require_mfa`, `self_service_workspaces` or `auto_join` means false;
/// `seat_limit` is sent only by platform admins, empty meaning no limit;
/// an empty `autostop_after_hours` turns auto-stop off.
#[server(prefix = "/api/fn", endpoint = "update_organization")]
#[allow(clippy::too_many_arguments)]
pub async fn update_organization(
    id: String,
    name: String,
    domain: String,
    require_mfa: Option<String>,
    seat_limit: Option<String>,
    autostop_after_hours: Option<String>,
    self_service_workspaces: Option<String>,
    auto_join: Option<String>,
    audit_retention_days: Option<String>,
) -> Result<OrganizationDetail, AppError> {
    use crate::server::error::ServiceError;
    use crate::server::service::orgs::{self, OrgChanges};
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    let seat_limit = match seat_limit.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(n) => Some(Some(n.parse::<i64>().map_err(|_| {
            sfn::fail(ServiceError::Validation { field: Some("seat_limit"), message: "The seat limit must be a whole number.".into() })
        })?)),
    };
    let autostop_after_hours = match autostop_after_hours.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(n.parse::<i64>().map_err(|_| {
            sfn::fail(ServiceError::Validation {
                field: Some("autostop_after_hours"),
                message: "Auto-stop takes a whole number of hours, or nothing for never.".into(),
            })
        })?),
    };
    // Absent (an older form): left as it is; empty: kept for ever.
    let audit_retention_days = match audit_retention_days.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(n) => Some(Some(n.parse::<i64>().map_err(|_| {
            sfn::fail(ServiceError::Validation {
                field: Some("audit_retention_days"),
                message: "Retention takes a whole number of days, or nothing to keep events for ever.".into(),
            })
        })?)),
    };
    let changes = OrgChanges {
        name: Some(name),
        domain: Some(domain),
        require_mfa: Some(require_mfa.is_some()),
        seat_limit,
        autostop_after_hours: Some(autostop_after_hours),
        self_service_workspaces: Some(self_service_workspaces.is_some()),
        auto_join: Some(auto_join.is_some()),
        audit_retention_days,
    };
    orgs::update(&call.state, &principal, org_uuid(&id)?, changes, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "set_organization_suspended")]
pub async fn set_organization_suspended(id: String, suspended: bool) -> Result<OrganizationDetail, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::orgs::set_suspended(&call.state, &principal, org_uuid(&id)?, suspended, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "list_members")]
pub async fn list_members(id: String, q: Option<String>, offset: i64) -> Result<Page<Member>, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let max = service::members::MAX_PAGE;
    service::members::list(&call.state, &principal, org_uuid(&id)?, q.as_deref(), max, offset, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "change_member_role")]
pub async fn change_member_role(user_id: String, role: crate::model::Role) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::users::change_role(&call.state, &principal, user_uuid(&user_id)?, role, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "set_member_disabled")]
pub async fn set_member_disabled(user_id: String, disabled: bool) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::users::set_disabled(&call.state, &principal, user_uuid(&user_id)?, disabled, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "remove_member")]
pub async fn remove_member(id: String, user_id: String) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::members::remove(&call.state, &principal, org_uuid(&id)?, user_uuid(&user_id)?, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "list_invitations")]
pub async fn list_invitations(id: String) -> Result<Vec<Invitation>, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::invitations::list(&call.state, &principal, org_uuid(&id)?, &call.meta).await.map_err(sfn::fail)
}

/// `show_link`: the form's checkbox (absent: unticked). Unticked, the link
/// goes by mail only, which proves the invitee's mailbox; a shown link
/// makes an account that confirms its address by mail later.
#[server(prefix = "/api/fn", endpoint = "invite_member")]
pub async fn invite_member(id: String, email: String, role: crate::model::Role, show_link: Option<String>) -> Result<Invitation, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let show = show_link.is_some();
    service::invitations::create(&call.state, &principal, org_uuid(&id)?, &email, role, show, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: String, invitation_id: uuid::Uuid) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::invitations::revoke(&call.state, &principal, org_uuid(&id)?, invitation_id, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "resend_invitation")]
pub async fn resend_invitation(id: String, invitation_id: uuid::Uuid) -> Result<Invitation, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::invitations::resend(&call.state, &principal, org_uuid(&id)?, invitation_id, &call.meta).await.map_err(sfn::fail)
}

/// What an invitation link offers. Public: the token is the credential.
#[server(prefix = "/api/fn", endpoint = "preview_invitation")]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, AppError> {
    use crate::server::{service, sfn};
    let call = sfn::call()?;
    service::invitations::preview(&call.state, &token).await.map_err(sfn::fail)
}

/// Accepts an invitation: creates the account and signs it in.
#[server(prefix = "/api/fn", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, name: String, password: String) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    let signed_in =
        service::invitations::accept(&call.state, &token, &name, &password, SessionKind::Browser, &call.meta).await.map_err(sfn::fail)?;
    sfn::start_session(&call, &signed_in).await
}
