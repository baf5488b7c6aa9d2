//! Invitations: an admin invites an address with a role; the one-time link
//! creates the account in that organization, whatever its email domain.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::{insert_member, new_password, next_stage, open_session, SignedIn};
use super::orgs::managed_org;
use super::Principal;
use crate::model::{Email, Invitation, InvitationPreview, PersonName, Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::{hash_token, random_token};
use crate::server::db::{InvitationRecord, NewInvitation, NewUser, SessionKind};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

pub const VALID_FOR: Duration = Duration::days(7);

const DEAD_LINK: &str = "This invitation link is not valid: it was used, revoked, replaced by a newer one, or has expired.";

fn view(state: &AppState, r: &InvitationRecord, token: Option<&str>) -> Invitation {
    Invitation {
        id: r.id,
        email: r.email.clone(),
        role: Role::parse(&r.role).unwrap_or(Role::User),
        created_at: r.created_at,
        expires_at: r.expires_at,
        expired: state.clock.now() >= r.expires_at,
        link: token.map(|t| link(state, t)),
    }
}

/// The absolute link to the acceptance page.
pub fn link(state: &AppState, token: &str) -> String {
    let base = state.config.public_url.clone().unwrap_or_else(|| format!("http://{}", state.leptos_options.site_addr));
    format!("{base}/invite/{token}")
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    org_id: Uuid,
    email: &str,
    role: Role,
    meta: &RequestMeta,
) -> ServiceResult<Invitation> {
    let org = managed_org(state, principal, org_id, "invite_user", meta).await?;
    let email = Email::parse(email)?;
    if role == Role::PlatformAdmin {
        return Err(ServiceError::Validation { field: Some("role"), message: "Invitations make users or organization admins.".into() });
    }
    let token = random_token();
    let now = state.clock.now();
    let mut db = state.store.write().await?;
    if db.user_by_email(email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict(format!("{email} already has a NeoSC account.")));
    }
    let record = db
        .insert_invitation(&NewInvitation {
            organization_id: org.id,
            email: email.as_str(),
            role: role.as_str(),
            token_hash: &hash_token(&token),
            invited_by: principal.user.id,
            now,
            expires_at: now + VALID_FOR,
        })
        .await
        .map_err(|e| match e {
            e if e.is_unique_on("open") || e.is_unique_on("invitations.organization_id") => {
                ServiceError::Conflict(format!("{email} already has an open invitation; resend it instead."))
            }
            e => e.into(),
        })?;
    audit::record(&mut db, now, meta, Event {
        org: Some(org.id),
        actor: Some(principal.user.id),
        action: action::INVITE_USER,
        target: Some(Target { kind: "invitation", id: record.id.to_string() }),
        details: json!({ "email": email.as_str(), "role": role.as_str() }),
    })
    .await?;
    db.commit().await?;
    state.mailer.send_invitation(email.as_str(), &org.name, &link(state, &token));
    Ok(view(state, &record, Some(&token)))
}

pub async fn list(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<Vec<Invitation>> {
    let org = managed_org(state, principal, org_id, "list_invitations", meta).await?;
    let rows = state.store.read().await?.open_invitations(org.id).await?;
    Ok(rows.iter().map(|r| view(state, r, None)).collect())
}

async fn open_invitation(state: &AppState, org_id: Uuid, id: Uuid) -> ServiceResult<InvitationRecord> {
    state
        .store
        .read()
        .await?
        .invitation_of_org(org_id, id)
        .await?
        .filter(|r| r.accepted_at.is_none() && r.revoked_at.is_none())
        .ok_or_else(|| ServiceError::NotFound("No such open invitation.".into()))
}

pub async fn revoke(state: &AppState, principal: &Principal, org_id: Uuid, id: Uuid, meta: &RequestMeta) -> ServiceResult<()> {
    let org = managed_org(state, principal, org_id, "revoke_invitation", meta).await?;
    let record = open_invitation(state, org.id, id).await?;
    let now = state.clock.now();
    let mut db = state.store.write().await?;
    db.revoke_invitation(record.id, now).await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(org.id),
        actor: Some(principal.user.id),
        action: action::REVOKE_INVITATION,
        target: Some(Target { kind: "invitation", id: record.id.to_string() }),
        details: json!({ "email": record.email }),
    })
    .await?;
    db.commit().await?;
    Ok(())
}

/// A new link and a new week; the old link stops working.
pub async fn resend(state: &AppState, principal: &Principal, org_id: Uuid, id: Uuid, meta: &RequestMeta) -> ServiceResult<Invitation> {
    let org = managed_org(state, principal, org_id, "resend_invitation", meta).await?;
    let mut record = open_invitation(state, org.id, id).await?;
    let token = random_token();
    let now = state.clock.now();
    record.expires_at = now + VALID_FOR;
    let mut db = state.store.write().await?;
    db.reissue_invitation(record.id, &hash_token(&token), record.expires_at).await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(org.id),
        actor: Some(principal.user.id),
        action: action::INVITE_USER,
        target: Some(Target { kind: "invitation", id: record.id.to_string() }),
        details: json!({ "email": record.email, "role": record.role, "resent": true }),
    })
    .await?;
    db.commit().await?;
    state.mailer.send_invitation(&record.email, &org.name, &link(state, &token));
    Ok(view(state, &record, Some(&token)))
}

/// The live invitation a token names, with its organization's name.
async fn live(state: &AppState, token: &str) -> ServiceResult<(InvitationRecord, String)> {
    let mut db = state.store.read().await?;
    let record = db
        .invitation_by_token_hash(&hash_token(token))
        .await?
        .filter(|r| r.accepted_at.is_none() && r.revoked_at.is_none() && state.clock.now() < r.expires_at)
        .ok_or_else(|| ServiceError::NotFound(DEAD_LINK.into()))?;
    let org = db.org_by_id(record.organization_id).await?.ok_or_else(|| ServiceError::NotFound(DEAD_LINK.into()))?;
    if org.status != "active" {
        return Err(ServiceError::Forbidden(format!("“{}” is suspended and does not accept new members.", org.name)));
    }
    Ok((record, org.name))
}

/// What the acceptance page shows. Public: the token is the credential.
pub async fn preview(state: &AppState, token: &str) -> ServiceResult<InvitationPreview> {
    let (r, organization) = live(state, token).await?;
    Ok(InvitationPreview { organization, email: r.email, role: Role::parse(&r.role).unwrap_or(Role::User), expires_at: r.expires_at })
}

/// Creates the invitee's account in the inviting organization and signs
/// them in. The link works once.
pub async fn accept(
    state: &AppState,
    token: &str,
    name: &str,
    password: &str,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<SignedIn> {
    let (record, _) = live(state, token).await?;
    let email = Email::parse(&record.email)?;
    let name = PersonName::parse(name)?;
    let password = new_password(state, password, &email)?;
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = state.clock.now();
    let mut db = state.store.write().await?;
    let org = db.org_by_id(record.organization_id).await?.ok_or_else(|| ServiceError::NotFound(DEAD_LINK.into()))?;
    if !db.accept_invitation(record.id, now).await? {
        return Err(ServiceError::NotFound(DEAD_LINK.into()));
    }
    let user_id = Uuid::now_v7();
    insert_member(&mut db, &org, &NewUser {
        id: user_id,
        organization_id: org.id,
        email: email.as_str(),
        name: name.as_str(),
        password_hash: Some(&hash),
        role: &record.role,
        now,
    })
    .await?;
    db.clear_removed(org.id, email.as_str()).await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(org.id),
        actor: Some(user_id),
        action: action::ADD_USER_TO_ORG,
        target: Some(Target { kind: "user", id: UserId(user_id).to_string() }),
        details: json!({ "email": email.as_str(), "role": record.role, "source": "invitation", "invitation": record.id }),
    })
    .await?;
    let user = db.user_by_id(user_id).await?.ok_or_else(|| ServiceError::internal("user vanished"))?;
    let signed_in = open_session(state, &mut db, &user, next_stage(&user, false), kind, meta).await?;
    db.commit().await?;
    Ok(signed_in)
}
