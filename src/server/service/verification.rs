//! Registration with a verified mailbox. Registering only writes a pending
//! registration and mails a one-time link; the account is made, and placed
//! in its organization, when the link is used. Until then the address
//! belongs to nobody: no organization, no seat, no count, and a pending row
//! never blocks the address's owner (an invitation, an SSO sign-in or
//! another registration's link replaces it).

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::{insert_member, new_password, next_stage, open_session, place, Placement, RegisterInput, SignedIn, BAD_CREDENTIALS};
use super::orgs::{create_org, org_target};
use super::{mails, throttle};
use crate::model::{Email, OrgName, OrgStatus, PersonName, Role, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::password::Verified;
use crate::server::auth::token::{hash_token, random_token};
use crate::server::db::{NewPending, NewUser, PendingRecord, SessionKind};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// How long a registration waits for its link.
pub const VALID_FOR: Duration = Duration::hours(24);
/// The least time between two mails of one registration (or two
/// registrations of one address): nobody gets mail-bombed through us.
pub const RESEND_AFTER: Duration = Duration::seconds(60);
/// Links one registration may be sent; then it is registered again.
pub const MAX_SENDS: i64 = 5;

const DEAD_LINK: &str =
    "This confirmation link is not valid: it was used, replaced by a newer one, or has expired. Register again to get a new one.";

/// A registration waiting for its link.
#[derive(Debug, Clone)]
pub struct Pending {
    pub email: String,
    pub expires_at: DateTime<Utc>,
    /// False when the mail server refused or could not be reached (logged);
    /// the registrant can ask for the link again.
    pub mail_sent: bool,
}

/// The answer to the right password of an account that waits for its link.
pub(crate) fn unverified(email: &Email) -> ServiceError {
    ServiceError::EmailUnverified(format!(
        "Confirm your email address first: we sent a link to {email}. Open it to finish creating your account, or ask \
         for a new link."
    ))
}

/// The absolute link to the confirmation page.
pub fn link(state: &AppState, token: &str) -> String {
    let base = state.config.public_url.clone().unwrap_or_else(|| format!("http://{}", state.leptos_options.site_addr));
    format!("{base}/verify-email/{token}")
}

/// Checks the registration as the rules stand now (so a refusal is told at
/// once, not after the mail), stores it pending and mails the link. Every
/// check that needs no hash runs before the hash: the body, then (within
/// the per-address and per-email budgets) the rules read from the database,
/// which are read again in the transaction that stores the registration.
pub async fn register(state: &AppState, input: RegisterInput, meta: &RequestMeta) -> ServiceResult<Pending> {
    let email = Email::parse(&input.email)?;
    let name = PersonName::parse(&input.name)?;
    let org_name = match input.organization.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Some(OrgName::parse(raw)?),
        None => None,
    };
    let password = new_password(state, &input.password, &email)?;
    let subjects = throttle::rate_subjects("register", email.as_str(), state.config.signups_per_hour, meta, state.clock.now());
    // Every attempt counts (a rate, not a failure count, so nothing is
    // settled or refunded): replaying one body cannot keep the hash pool
    // busy.
    throttle::reserve(state, &subjects, meta, None).await?;
    check_registration(state, &mut state.store.conn().await?, &email, org_name.clone(), state.clock.now()).await?;
    // Hash before the transaction opens, so no write lock is held while the
    // CPU-heavy part runs.
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = state.clock.now();
    let token = random_token();

    let mut db = state.store.begin().await?;
    check_registration(state, &mut db, &email, org_name.clone(), now).await?;
    let id = Uuid::now_v7();
    let expires_at = now + VALID_FOR;
    db.insert_pending(&NewPending {
        id,
        email: email.as_str(),
        name: name.as_str(),
        password_hash: &hash,
        organization_name: org_name.as_ref().map(|n| n.as_str()),
        token_hash: &hash_token(&token),
        now,
        expires_at,
    })
    .await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: None,
            actor: None,
            action: action::REGISTER_PENDING,
            target: Some(Target { kind: "pending_registration", id: id.to_string() }),
            details: json!({ "email": email.as_str(), "organization": org_name.as_ref().map(|n| n.as_str()) }),
        },
    )
    .await?;
    db.commit().await?;
    let mail_sent = send_link(state, email.as_str(), name.as_str(), &token).await;
    Ok(Pending { email: email.as_str().to_owned(), expires_at, mail_sent })
}

/// Uses a link: makes the account, placed by the rules as they stand now,
/// deletes every other pending registration of the address, and signs in.
pub async fn verify(state: &AppState, token: &str, kind: SessionKind, meta: &RequestMeta) -> ServiceResult<SignedIn> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let pending = db
        .pending_by_token_hash_for_update(&hash_token(token.trim()), now)
        .await?
        .ok_or_else(|| ServiceError::NotFound(DEAD_LINK.into()))?;
    let email = Email::parse(&pending.email)?;
    if db.user_by_email(email.as_str()).await?.is_some() {
        // The owner got in another way meanwhile (an invitation, SSO);
        // this registration has nothing left to make.
        db.delete_pending_for_email(email.as_str()).await?;
        db.commit().await?;
        return Err(ServiceError::Conflict("An account with this email already exists. Sign in instead.".into()));
    }
    let org_name = pending.organization_name.as_deref().map(OrgName::parse).transpose()?;
    let user_id = Uuid::now_v7();
    let (org, role) = match place(&mut db, &state.config.domains, &email, org_name).await? {
        Placement::Join(org) => (org, Role::User),
        Placement::Create(name) => {
            let org = create_org(&mut db, &name, email.domain(), false, now).await?;
            audit::record(
                &mut db,
                now,
                meta,
                Event {
                    org: Some(org.id),
                    actor: Some(user_id),
                    action: action::CREATE_ORGANIZATION,
                    target: Some(org_target(&org)),
                    details: json!({ "name": org.name, "domain": org.domain, "source": "registration" }),
                },
            )
            .await?;
            (org, Role::OrgAdmin)
        }
    };
    ensure_accepts_members(&org.name, org.status)?;
    insert_member(
        &mut db,
        &org,
        &NewUser {
            id: user_id,
            organization_id: org.id,
            email: email.as_str(),
            name: &pending.name,
            password_hash: Some(&pending.password_hash),
            role,
            email_verified_at: Some(now),
            now,
        },
    )
    .await?;
    let replaced = db.delete_pending_for_email(email.as_str()).await?;
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
                "email": email.as_str(), "role": role, "source": "registration", "email_verified": true,
                "pending_registration": pending.id, "other_pending_deleted": replaced.saturating_sub(1),
            }),
        },
    )
    .await?;
    let user = db.user_by_id(user_id).await?.ok_or_else(|| ServiceError::bug("the new member's row is missing"))?;
    let signed_in = open_session(state, &mut db, &user, next_stage(&user, false), kind, meta).await?;
    db.commit().await?;
    Ok(signed_in)
}

/// A new link for the registration whose password this is. Throttled like
/// a sign-in (it checks a password) and per registration (it sends mail).
pub async fn resend(state: &AppState, email: &str, password: &str, meta: &RequestMeta) -> ServiceResult<Pending> {
    let email = Email::parse(email).map_err(|_| ServiceError::Unauthorized(BAD_CREDENTIALS.into()))?;
    let subjects = throttle::subjects(email.as_str(), meta);
    let reservation = throttle::reserve(state, &subjects, meta, None).await?;
    let result = resend_reserved(state, &email, password, &reservation, meta).await;
    reservation.settle(state, result).await
}

/// The rest of `resend`, with the attempt reserved.
async fn resend_reserved(
    state: &AppState,
    email: &Email,
    password: &str,
    reservation: &throttle::Reservation,
    meta: &RequestMeta,
) -> ServiceResult<Pending> {
    let checked = state.store.conn().await?.newest_pending_for_email(email.as_str(), state.clock.now()).await?;
    let too_long = password.chars().count() > state.config.password_policy.max_chars;
    let verified = match &checked {
        Some(p) if !too_long => state.hasher.verify(password.to_owned(), p.password_hash.clone()).await?,
        _ => {
            state.hasher.verify_dummy(password.chars().take(128).collect()).await?;
            Verified::No
        }
    };
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    // Locked and compared again: a registration used or swept meanwhile
    // has nothing to resend.
    let current: Option<PendingRecord> = match &checked {
        Some(p) => db.pending_by_id_for_update(p.id, now).await?,
        None => None,
    };
    let pending = match (current, verified) {
        (Some(p), Verified::Yes | Verified::YesRehash(_)) => p,
        _ => {
            reservation.fail(&mut db, now).await?;
            audit::record(
                &mut db,
                now,
                meta,
                Event {
                    org: None,
                    actor: None,
                    action: action::LOGIN_FAILED,
                    target: None,
                    details: json!({ "email": email.as_str(), "reason": "bad_credentials", "step": "resend_verification" }),
                },
            )
            .await?;
            db.commit().await?;
            return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
        }
    };
    throttle_mail(pending.last_sent_at, now)?;
    if pending.sends >= MAX_SENDS {
        return Err(ServiceError::TooManyRequests {
            message: format!("This registration was sent {MAX_SENDS} links already. Register again to start over."),
            retry_after_secs: RESEND_AFTER.num_seconds() as u64,
        });
    }
    let token = random_token();
    db.reissue_pending(pending.id, &hash_token(&token), now).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: None,
            actor: None,
            action: action::RESEND_VERIFICATION,
            target: Some(Target { kind: "pending_registration", id: pending.id.to_string() }),
            details: json!({ "email": email.as_str(), "sends": pending.sends + 1 }),
        },
    )
    .await?;
    reservation.succeed(&mut db).await?;
    db.commit().await?;
    let mail_sent = send_link(state, email.as_str(), &pending.name, &token).await;
    Ok(Pending { email: email.as_str().to_owned(), expires_at: pending.expires_at, mail_sent })
}

/// Deletes registrations whose 24 hours are over, freeing their address.
/// One conditional DELETE: several instances on one PostgreSQL may sweep at
/// once, each row goes once, and the event counts what this one deleted.
pub async fn sweep(state: &AppState) -> ServiceResult<u64> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let deleted = db.delete_expired_pending(now).await?;
    if deleted > 0 {
        audit::record(
            &mut db,
            now,
            &RequestMeta::default(),
            Event {
                org: None,
                actor: None,
                action: action::SWEEP_PENDING_REGISTRATIONS,
                target: None,
                details: json!({ "deleted": deleted }),
            },
        )
        .await?;
    }
    db.commit().await?;
    Ok(deleted)
}

/// What refuses a registration before anything is stored: a taken
/// address, a placement the rules refuse, a full or suspended organization
/// to join, a link mailed moments ago.
async fn check_registration(
    state: &AppState,
    db: &mut crate::server::db::Db,
    email: &Email,
    org_name: Option<OrgName>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    if db.user_by_email(email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict("An account with this email already exists. Sign in instead.".into()));
    }
    if let Placement::Join(org) = place(db, &state.config.domains, email, org_name).await? {
        ensure_accepts_members(&org.name, org.status)?;
        // Told now; the seat is taken (and the limit enforced by the
        // database) only when the link is used.
        if let Some(limit) = org.seat_limit.filter(|l| org.users_count >= *l) {
            return Err(ServiceError::Conflict(format!("“{}” has reached its seat limit of {limit} users.", org.name)));
        }
    }
    if let Some(newest) = db.newest_pending_for_email(email.as_str(), now).await? {
        throttle_mail(newest.last_sent_at, now)?;
    }
    Ok(())
}

fn throttle_mail(last_sent_at: DateTime<Utc>, now: DateTime<Utc>) -> ServiceResult<()> {
    let wait = last_sent_at + RESEND_AFTER - now;
    if wait > Duration::zero() {
        let secs = ((wait.num_milliseconds() + 999) / 1000).max(1) as u64;
        return Err(ServiceError::TooManyRequests {
            message: format!("A confirmation link was sent to this address moments ago. Check your inbox, or try again in {secs} s."),
            retry_after_secs: secs,
        });
    }
    Ok(())
}

fn ensure_accepts_members(name: &str, status: OrgStatus) -> ServiceResult<()> {
    match status {
        OrgStatus::Active => Ok(()),
        OrgStatus::Suspended => Err(ServiceError::Forbidden(format!("“{name}” is suspended and does not accept new members."))),
    }
}

async fn send_link(state: &AppState, to: &str, name: &str, token: &str) -> bool {
    let mail = mails::verify_registration(to, name, &link(state, token), VALID_FOR.num_hours());
    state.mailer.send_or_log(&mail).await
}
