//! What a signed-in person manages about themselves: their password, their
//! sessions and their personal API tokens.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::{advance, new_password, SignedIn};
use super::throttle;
use super::{Credential, Principal};
use crate::model::Email;
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::password::Verified;
use crate::server::auth::token::{hash_token, random_token, API_TOKEN_PREFIX};
use crate::server::db::{ApiTokenRecord, SessionKind, SessionRecord, SessionStage};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// Changes the caller's password. Every other session of theirs ends; the
/// current one lives on (or, when the change was owed, moves on to the
/// next stage with a new token).
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current: &str,
    new: &str,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<Option<SignedIn>> {
    if !matches!(principal.stage, SessionStage::Full | SessionStage::PasswordChangeRequired) {
        let error = ServiceError::Forbidden("Finish signing in first.".into());
        return Err(audit::refuse(state, principal, meta, "change_password", "sign_in_incomplete", None, error).await);
    }
    let user = &principal.user;
    let email = Email::parse(&user.email)?;
    let Some(phc) = user.password_hash.clone() else {
        return Err(ServiceError::Conflict("This account signs in through SSO and has no password here.".into()));
    };
    let subjects = throttle::subjects(email.as_str(), meta);
    // Reserved before the hash runs, like a sign-in: this is a password
    // guess too.
    let reservation = throttle::reserve(state, &subjects, meta, Some(user.organization_id)).await?;
    let result = change_password_reserved(state, principal, &email, phc, current, new, &reservation, kind, meta).await;
    reservation.settle(state, result).await
}

/// The rest of `change_password`, with the attempt reserved.
#[allow(clippy::too_many_arguments)]
async fn change_password_reserved(
    state: &AppState,
    principal: &Principal,
    email: &Email,
    phc: String,
    current: &str,
    new: &str,
    reservation: &throttle::Reservation,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<Option<SignedIn>> {
    let user = &principal.user;
    if state.hasher.verify(current.to_owned(), phc).await? == Verified::No {
        let now = state.clock.now();
        let mut db = state.store.begin().await?;
        reservation.fail(&mut db, now).await?;
        db.commit().await?;
        return Err(ServiceError::Validation { field: Some("current_password"), message: "The current password is not correct.".into() });
    }
    if current == new {
        return Err(ServiceError::Validation {
            field: Some("new_password"),
            message: "The new password must differ from the current one.".into(),
        });
    }
    let password = new_password(state, new, email).map_err(|e| match e {
        ServiceError::Validation { message, .. } => ServiceError::Validation { field: Some("new_password"), message },
        other => other,
    })?;
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    // The current password was checked outside the transaction (hashing
    // holds no lock): go on only if it is still the account's, or a change
    // made meanwhile elsewhere would be silently replaced.
    let current_hash = db.user_by_id_for_update(user.id).await?.and_then(|u| u.password_hash);
    if current_hash.as_deref() != user.password_hash.as_deref() {
        return Err(ServiceError::Conflict("The password was changed meanwhile. Sign in again with the new one.".into()));
    }
    db.set_password_hash(user.id, &hash, false, now).await?;
    let ended = db.delete_sessions_of_user(user.id, principal.session_id()).await?;
    // A password change is what someone does after a suspected theft: the
    // API tokens a thief could have made go too (a client that needs one
    // makes a new one).
    let tokens_revoked = db.delete_api_tokens_of_user(user.id).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event::by_self(user, action::CHANGE_PASSWORD, json!({ "other_sessions_ended": ended, "api_tokens_revoked": tokens_revoked })),
    )
    .await?;
    let next = if principal.stage == SessionStage::PasswordChangeRequired {
        Some(advance(state, &mut db, principal, true, kind, meta).await?)
    } else {
        None
    };
    reservation.succeed(&mut db).await?;
    db.commit().await?;
    Ok(next)
}

/// A session as its owner sees it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub record: SessionRecord,
    pub current: bool,
}

pub async fn list_sessions(state: &AppState, principal: &Principal) -> ServiceResult<Vec<SessionInfo>> {
    let mut db = state.store.conn().await?;
    let now = state.clock.now();
    let mut live = Vec::new();
    // Idle-ended sessions stay in the table until the sweeper or their next
    // use removes them; they are not sessions anyone can use, so not shown.
    for record in db.sessions_of_user(principal.user.id).await? {
        if super::auth::session_is_live(state, &record, now)? {
            live.push(SessionInfo { current: Some(record.id) == principal.session_id(), record });
        }
    }
    Ok(live)
}

/// Ends one of the caller's own sessions. Another user's session id is
/// "not found", whoever owns it.
pub async fn end_session(state: &AppState, principal: &Principal, session_id: Uuid, meta: &RequestMeta) -> ServiceResult<()> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    if !db.delete_session_of_user(principal.user.id, session_id).await? {
        return Err(ServiceError::NotFound("No such session.".into()));
    }
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(principal.org_id()),
            actor: Some(principal.user.id),
            action: action::END_SESSION,
            target: Some(Target { kind: "session", id: session_id.to_string() }),
            details: json!({ "own": true }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// A new personal API token; `token` is shown once.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub token: String,
    pub record: ApiTokenRecord,
}

/// A token made without a lifetime lives this long: none lives for ever,
/// so a forgotten or stolen one dies on its own.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;

pub async fn create_api_token(
    state: &AppState,
    principal: &Principal,
    name: &str,
    expires_in_days: Option<i64>,
    meta: &RequestMeta,
) -> ServiceResult<NewApiToken> {
    if principal.stage != SessionStage::Full || matches!(principal.credential, Credential::ApiToken(_)) {
        let reason = if principal.stage == SessionStage::Full { "api_token_not_allowed" } else { "sign_in_incomplete" };
        let error = ServiceError::Forbidden("API tokens are created from a signed-in session, not with another token.".into());
        return Err(audit::refuse(state, principal, meta, "create_api_token", reason, None, error).await);
    }
    super::reauth::require_recent(state, principal)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::Validation { field: Some("name"), message: "Give the token a name of 1 to 100 characters.".into() });
    }
    let now = state.clock.now();
    let max_days = state.config.api_token_max_days;
    let default_days = DEFAULT_TOKEN_DAYS.min(max_days);
    let expires_at: Option<DateTime<Utc>> = match expires_in_days.unwrap_or(default_days) {
        d if (1..=max_days).contains(&d) => Some(now + Duration::days(d)),
        _ => {
            return Err(ServiceError::Validation {
                field: Some("expires_in_days"),
                message: format!("Expiry must be between 1 and {max_days} days (default {default_days})."),
            })
        }
    };
    let token = format!("{API_TOKEN_PREFIX}{}", random_token());
    let mut db = state.store.begin().await?;
    let record = db.insert_api_token(principal.user.id, name, &hash_token(&token), now, expires_at).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(principal.org_id()),
            actor: Some(principal.user.id),
            action: action::CREATE_API_TOKEN,
            target: Some(Target { kind: "api_token", id: record.id.to_string() }),
            details: json!({ "name": name, "expires_at": expires_at }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(NewApiToken { token, record })
}

pub async fn list_api_tokens(state: &AppState, principal: &Principal) -> ServiceResult<Vec<ApiTokenRecord>> {
    Ok(state.store.conn().await?.api_tokens_of_user(principal.user.id).await?)
}

pub async fn revoke_api_token(state: &AppState, principal: &Principal, id: Uuid, meta: &RequestMeta) -> ServiceResult<()> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    if !db.delete_api_token(principal.user.id, id).await? {
        return Err(ServiceError::NotFound("No such API token.".into()));
    }
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(principal.org_id()),
            actor: Some(principal.user.id),
            action: action::REVOKE_API_TOKEN,
            target: Some(Target { kind: "api_token", id: id.to_string() }),
            details: json!({}),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

impl From<&SessionInfo> for crate::model::SessionView {
    fn from(s: &SessionInfo) -> Self {
        let r = &s.record;
        Self {
            id: r.id,
            kind: r.kind,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip.clone(),
            user_agent: r.user_agent.clone(),
            current: s.current,
        }
    }
}

impl From<&ApiTokenRecord> for crate::model::ApiTokenView {
    fn from(t: &ApiTokenRecord) -> Self {
        Self { id: t.id, name: t.name.clone(), created_at: t.created_at, last_used_at: t.last_used_at, expires_at: t.expires_at }
    }
}

pub async fn mfa_status(state: &AppState, principal: &Principal) -> ServiceResult<crate::model::MfaStatus> {
    let left = state.store.conn().await?.unused_recovery_codes(principal.user.id).await?;
    Ok(crate::model::MfaStatus {
        enabled: principal.user.mfa_enabled,
        recovery_codes_left: if principal.user.mfa_enabled { left } else { 0 },
        required_by_organization: principal.user.organization_require_mfa,
    })
}
