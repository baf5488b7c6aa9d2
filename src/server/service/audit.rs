//! The one helper every mutating service call uses to record what it did.
//! It writes through the caller's transaction, so the event and the change
//! commit or roll back together.

use serde_json::Value;
use uuid::Uuid;

use crate::server::auth::credentials::RequestMeta;
use crate::server::db::{Db, NewAuditEvent};
use crate::server::error::ServiceResult;

/// Event names. The organization ones are the product spec's, verbatim.
pub mod action {
    pub const CREATE_ORGANIZATION: &str = "create_organization";
    pub const UPDATE_ORGANIZATION: &str = "update_organization";
    pub const ADD_USER_TO_ORG: &str = "add_user_to_org";
    pub const REMOVE_USER_FROM_ORG: &str = "remove_user_from_org";
    pub const SUSPEND_ORGANIZATION: &str = "suspend_organization";
    pub const ACTIVATE_ORGANIZATION: &str = "activate_organization";
    pub const INVITE_USER: &str = "invite_user";
    pub const REVOKE_INVITATION: &str = "revoke_invitation";
    pub const CREATE_PLATFORM_ADMIN: &str = "create_platform_admin";
    pub const CHANGE_USER_ROLE: &str = "change_user_role";
    pub const LOGIN: &str = "login";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const LOGIN_THROTTLED: &str = "login_throttled";
    pub const MFA_FAILED: &str = "mfa_failed";
    pub const MFA_ENABLED: &str = "mfa_enabled";
    pub const MFA_DISABLED: &str = "mfa_disabled";
    pub const RECOVERY_CODE_USED: &str = "recovery_code_used";
    pub const CHANGE_PASSWORD: &str = "change_password";
    pub const RESET_PASSWORD: &str = "reset_password";
    pub const END_SESSION: &str = "end_session";
    pub const END_USER_SESSIONS: &str = "end_user_sessions";
    pub const CREATE_API_TOKEN: &str = "create_api_token";
    pub const REVOKE_API_TOKEN: &str = "revoke_api_token";
    pub const DISABLE_USER: &str = "disable_user";
    pub const ENABLE_USER: &str = "enable_user";
    pub const CROSS_ORG_ACCESS_DENIED: &str = "cross_org_access_denied";
    pub const LOGOUT: &str = "logout";
    pub const CREATE_WORKSPACE: &str = "create_workspace";
    pub const START_WORKSPACE: &str = "start_workspace";
    pub const STOP_WORKSPACE: &str = "stop_workspace";
    pub const RESIZE_WORKSPACE: &str = "resize_workspace";
    pub const UPDATE_WORKSPACE: &str = "update_workspace";
    pub const SUSPEND_WORKSPACE: &str = "suspend_workspace";
    pub const RESUME_WORKSPACE: &str = "resume_workspace";
    pub const DELETE_WORKSPACE: &str = "delete_workspace";
    /// The reconciler gave up on a workspace or the workspace died (system).
    pub const WORKSPACE_FAILED: &str = "workspace_failed";
    pub const UPDATE_QUOTA: &str = "update_quota";
    pub const CREATE_WORKSPACE_TEMPLATE: &str = "create_workspace_template";
    pub const SSO_LOGIN: &str = "sso_login";
    pub const SSO_LOGIN_FAILED: &str = "sso_login_failed";
    pub const LINK_SSO_IDENTITY: &str = "link_sso_identity";
    pub const REGISTER_PENDING: &str = "register_pending";
    pub const RESEND_VERIFICATION: &str = "resend_verification";
    pub const SWEEP_PENDING_REGISTRATIONS: &str = "sweep_pending_registrations";
    pub const ADD_DOMAIN: &str = "add_domain";
    pub const VERIFY_DOMAIN: &str = "verify_domain";
    /// A verification whose DNS lookup did not show the record.
    pub const VERIFY_DOMAIN_FAILED: &str = "verify_domain_failed";
    pub const REMOVE_DOMAIN: &str = "remove_domain";
    pub const REQUEST_EMAIL_CONFIRMATION: &str = "request_email_confirmation";
    pub const CONFIRM_EMAIL: &str = "confirm_email";
    /// A signed-in person confirmed their password again (see `reauth`).
    pub const REAUTHENTICATE: &str = "reauthenticate";
    pub const REAUTHENTICATION_FAILED: &str = "reauthentication_failed";
    /// Stored TOTP secrets re-encrypted under the current key (start-up or
    /// rotation; installation-level, one per committed page).
    pub const RESEAL_SECRETS: &str = "reseal_secrets";
    /// `neosc admin rotate-secret-key` (installation-level).
    pub const ROTATE_SECRET_KEY: &str = "rotate_secret_key";
}

/// What an event is about.
pub struct Target<'a> {
    pub kind: &'a str,
    pub id: String,
}

pub struct Event<'a> {
    pub org: Option<Uuid>,
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub target: Option<Target<'a>>,
    pub details: Value,
}

pub async fn record(db: &mut Db, now: chrono::DateTime<chrono::Utc>, meta: &RequestMeta, e: Event<'_>) -> ServiceResult<()> {
    let (target_type, target_id) = match e.target {
        Some(t) => (Some(t.kind), Some(t.id)),
        None => (None, None),
    };
    db.insert_audit_event(&NewAuditEvent {
        organization_id: e.org,
        actor_user_id: e.actor,
        action: e.action,
        target_type,
        target_id,
        details: e.details,
        ip: meta.ip.as_deref(),
        now,
    })
    .await?;
    Ok(())
}
