use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{account, auth, invitations, orgs, sso, users};
use crate::model::{
    ApiTokenView, CreatedApiToken, Invitation, InvitationPreview, Member, MfaStatus, Organization, OrganizationDetail, Role,
    SessionView, TotpSetupView, User,
};
use crate::server::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "NeoSC API", description = "Multi-tenant admin console for secure cloud workspaces."),
    paths(
        auth::register, auth::login, auth::logout, auth::me, auth::mfa_step, sso::exchange, sso::start, sso::callback,
        account::change_password, account::sessions, account::end_session, account::tokens, account::create_token,
        account::revoke_token, account::mfa_status, account::totp_setup, account::totp_confirm, account::mfa_disable,
        users::change_role, users::disable, users::enable, users::end_sessions,
        orgs::list, orgs::create, orgs::detail, orgs::update, orgs::suspend, orgs::activate, orgs::list_members,
        orgs::remove_member, orgs::list_invitations, orgs::invite, orgs::revoke_invitation, orgs::resend_invitation,
        invitations::preview, invitations::accept,
    ),
    components(schemas(
        Organization, User, Role, Problem, auth::RegisterRequest, auth::LoginRequest, auth::TokenResponse, auth::CodeRequest, sso::SsoRequest,
        account::ChangePasswordRequest, account::CreateTokenRequest, account::EnrolmentResult, users::RoleRequest, users::EndedSessions,
        SessionView, ApiTokenView, CreatedApiToken, TotpSetupView, MfaStatus,
        OrganizationDetail, Member, Invitation, InvitationPreview, orgs::CreateOrgRequest, orgs::UpdateOrgRequest,
        orgs::InviteRequest, invitations::AcceptRequest,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Registration and sign-in"),
        (name = "account", description = "The caller's password, sessions, API tokens and second factor"),
        (name = "users", description = "Admin actions on other accounts"),
        (name = "organizations", description = "Tenants, their members and invitations"),
        (name = "invitations", description = "The invitee's side of an invitation"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
