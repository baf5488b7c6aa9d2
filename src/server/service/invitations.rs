//! Invitations: an admin invites an address with a role; the one-time link
//! creates the account in that organization, whatever its email domain.
//!
//! The link always goes by mail. It is also answered to the admin (to
//! copy) unless they asked for mail only; only a link that went by mail
//! alone proves the invitee reads the address, so only such an account
//! starts with a verified email.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::{insert_member, new_password, next_stage, open_session, SignedIn};
use super::orgs::{begin_managed_org, managed_org, OrgHold};
use super::{throttle, Principal};
use crate::model::{Email, Invitation, InvitationPreview, OrgStatus, PersonName, Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::{hash_token, random_token};
use crate::server::db::{Constraint, Db, InvitationRecord, NewInvitation, NewUser, OrgRecord, SessionKind};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

pub const VALID_FOR: Duration = Duration::days(7);

const DEAD_LINK: &str = "This invitation link is not valid: it was used, revoked, replaced by a newer one, or has expired.";

/// `token` is shown only for an invitation whose link may be shown.
fn view(state: &AppState, r: &InvitationRecord, token: Option<&str>) -> Invitation {
    let token = token.filter(|_| r.link_shown);
    Invitation {
        id: r.id,
        email: r.email.clone(),
        role: r.role,
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
    show_link: bool,
    meta: &RequestMeta,
) -> ServiceResult<Invitation> {
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Read, "invite_user", meta).await?;
    let email = Email::parse(email)?;
    if role == Role::PlatformAdmin {
        return Err(ServiceError::Validation { field: Some("role"), message: "Invitations make users or organization admins.".into() });
    }
    let token = random_token();
    let now = state.clock.now();
    if db.user_by_email(email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict(format!("{email} already has a NeoSC account.")));
    }
    let record = db
        .insert_invitation(&NewInvitation {
            organization_id: org.id,
            email: email.as_str(),
            role,
            token_hash: &hash_token(&token),
            invited_by: principal.user.id,
            now,
            expires_at: now + VALID_FOR,
            link_shown: show_link,
        })
        .await
        .map_err(|e| match e.constraint() {
            Some(Constraint::OpenInvitation) => {
                ServiceError::Conflict(format!("{email} already has an open invitation; resend it instead."))
            }
            _ => e.into(),
        })?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::INVITE_USER,
            target: Some(Target { kind: "invitation", id: record.id.to_string() }),
            details: json!({ "email": email.as_str(), "role": role, "link_shown": show_link }),
        },
    )
    .await?;
    db.commit().await?;
    send(state, email.as_str(), &org.name, &token).await;
    Ok(view(state, &record, Some(&token)))
}

pub async fn list(state: &AppState, principal: &Principal, org_id: Uuid, meta: &RequestMeta) -> ServiceResult<Vec<Invitation>> {
    let org = managed_org(state, principal, org_id, "list_invitations", meta).await?;
    let rows = state.store.conn().await?.open_invitations(org.id).await?;
    Ok(rows.iter().map(|r| view(state, r, None)).collect())
}

/// An open invitation of the organization, locked until the transaction
/// that revokes or re-sends it ends (acceptance locks it too, so each of
/// them acts on the invitation as the others left it).
async fn lock_open_invitation(db: &mut Db, org_id: Uuid, id: Uuid) -> ServiceResult<InvitationRecord> {
    db.invitation_of_org_for_update(org_id, id)
        .await?
        .filter(|r| r.accepted_at.is_none() && r.revoked_at.is_none())
        .ok_or_else(|| ServiceError::NotFound("No such open invitation.".into()))
}

pub async fn revoke(state: &AppState, principal: &Principal, org_id: Uuid, id: Uuid, meta: &RequestMeta) -> ServiceResult<()> {
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Read, "revoke_invitation", meta).await?;
    let record = lock_open_invitation(&mut db, org.id, id).await?;
    let now = state.clock.now();
    db.revoke_invitation(record.id, now).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::REVOKE_INVITATION,
            target: Some(Target { kind: "invitation", id: record.id.to_string() }),
            details: json!({ "email": record.email }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// A new link and a new week; the old link stops working.
pub async fn resend(state: &AppState, principal: &Principal, org_id: Uuid, id: Uuid, meta: &RequestMeta) -> ServiceResult<Invitation> {
    let (mut db, org) = begin_managed_org(state, principal, org_id, OrgHold::Read, "resend_invitation", meta).await?;
    let mut record = lock_open_invitation(&mut db, org.id, id).await?;
    let token = random_token();
    let now = state.clock.now();
    record.expires_at = now + VALID_FOR;
    db.reissue_invitation(record.id, &hash_token(&token), record.expires_at).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(principal.user.id),
            action: action::INVITE_USER,
            target: Some(Target { kind: "invitation", id: record.id.to_string() }),
            details: json!({ "email": record.email, "role": record.role, "resent": true }),
        },
    )
    .await?;
    db.commit().await?;
    send(state, &record.email, &org.name, &token).await;
    Ok(view(state, &record, Some(&token)))
}

/// Mails the link after the transaction committed; a failure is logged and
/// the admin can resend.
async fn send(state: &AppState, to: &str, organization: &str, token: &str) {
    let mail = super::mails::invitation(to, organization, &link(state, token), VALID_FOR.num_days());
    state.mailer.send_or_log(&mail).await;
}

fn is_live(state: &AppState, r: &InvitationRecord) -> bool {
    r.accepted_at.is_none() && r.revoked_at.is_none() && state.clock.now() < r.expires_at
}

fn ensure_accepts_members(org: &OrgRecord) -> ServiceResult<()> {
    match org.status {
        OrgStatus::Active => Ok(()),
        OrgStatus::Suspended => Err(ServiceError::Forbidden(format!("“{}” is suspended and does not accept new members.", org.name))),
    }
}

/// The live invitation a token names, with its organization (which may
/// not accept members: see `ensure_accepts_members`).
async fn live(state: &AppState, token: &str) -> ServiceResult<(InvitationRecord, OrgRecord)> {
    let mut db = state.store.conn().await?;
    let record = db
        .invitation_by_token_hash(&hash_token(token))
        .await?
        .filter(|r| is_live(state, r))
        .ok_or_else(|| ServiceError::NotFound(DEAD_LINK.into()))?;
    let org = db.org_by_id(record.organization_id).await?.ok_or_else(|| ServiceError::NotFound(DEAD_LINK.into()))?;
    Ok((record, org))
}

/// What the acceptance page shows. Public: the token is the credential.
pub async fn preview(state: &AppState, token: &str) -> ServiceResult<InvitationPreview> {
    let (r, org) = live(state, token).await?;
    // Showing the page is no attempt yet: refused without a record.
    ensure_accepts_members(&org)?;
    Ok(InvitationPreview { organization: org.name, email: r.email, role: r.role, expires_at: r.expires_at })
}

/// Records `accept_invitation_denied` in the inviting organization (its own
/// transaction) and hands back the refusal. Only reached after the
/// acceptance budget was spent, so refusals cannot flood the log.
async fn refuse_acceptance(state: &AppState, meta: &RequestMeta, invitation: &InvitationRecord, error: ServiceError) -> ServiceError {
    let event = Event {
        org: Some(invitation.organization_id),
        actor: None,
        action: action::ACCEPT_INVITATION_DENIED,
        target: None,
        details: json!({ "email": invitation.email, "invitation_id": invitation.id.to_string(), "reason": "org_suspended" }),
    };
    match audit::record_refusal(state, meta, event).await {
        Ok(()) => error,
        Err(e) => e,
    }
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
    let (checked, org) = live(state, token).await?;
    let email = Email::parse(&checked.email)?;
    let name = PersonName::parse(name)?;
    let password = new_password(state, password, &email)?;
    // Each acceptance costs a hash, so it spends from a budget per client
    // address and per invited address (as large as registration's,
    // counted apart).
    let subjects = throttle::rate_subjects("accept", email.as_str(), state.config.signups_per_hour, meta, state.clock.now());
    throttle::reserve(state, &subjects, meta, Some(checked.organization_id)).await?;
    if let Err(error) = ensure_accepts_members(&org) {
        return Err(refuse_acceptance(state, meta, &checked, error).await);
    }
    // Hashed before the transaction, so no lock waits on it; the link and
    // the organization are then checked again where they are used: a link
    // re-sent, revoked or used meanwhile, or an organization suspended
    // meanwhile, refuses. The organization's row is read, not locked, as at
    // registration: joining takes that row's lock in the users_count
    // trigger, after the new user's email is claimed, and taking it before
    // would deadlock with a registration of the same address. A suspension
    // that commits in between leaves a member who cannot sign in, like any
    // other member of a suspended organization.
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let dead = || ServiceError::NotFound(DEAD_LINK.into());
    let org = db.org_by_id(checked.organization_id).await?.ok_or_else(dead)?;
    if let Err(error) = ensure_accepts_members(&org) {
        db.rollback().await?;
        return Err(refuse_acceptance(state, meta, &checked, error).await);
    }
    let record = db
        .invitation_by_token_hash_for_update(&hash_token(token))
        .await?
        .filter(|r| r.id == checked.id && is_live(state, r))
        .ok_or_else(dead)?;
    if !db.accept_invitation(record.id, now).await? {
        return Err(dead());
    }
    let user_id = Uuid::now_v7();
    insert_member(
        &mut db,
        &org,
        &NewUser {
            id: user_id,
            organization_id: org.id,
            email: email.as_str(),
            name: name.as_str(),
            password_hash: Some(&hash),
            role: record.role,
            // A link that went only by mail proves the mailbox; one the
            // admin saw could have been used by the admin.
            email_verified_at: (!record.link_shown).then_some(now),
            now,
        },
    )
    .await?;
    db.clear_removed(org.id, email.as_str()).await?;
    // The invitation is the owner's way in: a pending registration of the
    // address (maybe a squatter's) goes, nothing of it carries over.
    let pending_deleted = db.delete_pending_for_email(email.as_str()).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(user_id),
            action: action::ADD_USER_TO_ORG,
            target: Some(Target { kind: "user", id: UserId(user_id).to_string() }),
            details: json!({
                "email": email.as_str(), "role": record.role, "source": "invitation", "invitation": record.id,
                "email_verified": !record.link_shown, "pending_deleted": pending_deleted,
            }),
        },
    )
    .await?;
    let user = db.user_by_id(user_id).await?.ok_or_else(|| ServiceError::bug("the new member's row is missing"))?;
    let signed_in = open_session(state, &mut db, &user, next_stage(&user, false), kind, meta).await?;
    db.commit().await?;
    if record.link_shown {
        // The admin saw the link, so using it proved nothing about the
        // mailbox: the address is confirmed by mail, signed in as this
        // account. A failure to send is logged; the account page sends again.
        if let Err(e) = super::email_confirmation::send(state, &user, meta).await {
            tracing::warn!(error = %e.log_detail(), "the confirmation link of an invited account was not sent");
        }
    }
    Ok(signed_in)
}
