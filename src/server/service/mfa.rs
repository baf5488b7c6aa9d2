//! Two-factor authentication with TOTP: enrolment, the code step of
//! sign-in, recovery codes, and turning it off.

use serde_json::json;

use super::audit::{self, action, Event};
use super::auth::{advance, unix_now, SignedIn};
use super::secret_keys;
use super::throttle::{self, Policy, ACCOUNT};
use super::Principal;
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::hash_token;
use crate::server::auth::totp;
use crate::server::db::{Db, SessionKind, SessionStage, UserRecord};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// What the enrolment page shows: the secret as text and as a QR code.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// How a second factor was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

const BAD_CODE: &str = "That code is not valid. Codes change every 30 seconds and work once.";

/// Refuses (and records) a step the caller's sign-in is not at.
async fn allowed(
    state: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    stages: &[SessionStage],
    operation: &str,
) -> ServiceResult<()> {
    if stages.contains(&principal.stage) {
        return Ok(());
    }
    // Only a step owed by a sign-in in progress reaches here with the wrong
    // stage; a finished sign-in asking for the code step is refused too.
    let error = ServiceError::Forbidden("Finish signing in first.".into());
    Err(audit::refuse(state, principal, meta, operation, "sign_in_incomplete", None, error).await)
}

/// Starts enrolment: a new secret, kept pending until a code confirms it.
pub async fn begin_enrolment(state: &AppState, principal: &Principal, meta: &RequestMeta) -> ServiceResult<TotpSetup> {
    allowed(state, principal, meta, &[SessionStage::Full, SessionStage::EnrolRequired], "enable_mfa").await?;
    super::reauth::require_recent(state, principal)?;
    if principal.user.mfa_enabled {
        return Err(already_on());
    }
    let secret = totp::new_secret();
    let mut db = state.store.begin().await?;
    if locked_user(&mut db, principal).await?.mfa_enabled {
        return Err(already_on());
    }
    db.set_totp_pending(principal.user.id, Some(&secret_keys::seal(state, principal.user.id, &secret))).await?;
    db.commit().await?;
    let otpauth_uri = totp::otpauth_uri(&secret, &principal.user.email);
    Ok(TotpSetup { secret: totp::secret_text(&secret), qr_svg: totp::qr_svg(&otpauth_uri), otpauth_uri })
}

/// Confirms enrolment with a code from the new device. Returns the ten
/// recovery codes (shown once, stored hashed) and, when enrolment was what
/// the sign-in still owed, the session that replaces the partial one.
pub async fn confirm_enrolment(
    state: &AppState,
    principal: &Principal,
    code: &str,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<(Vec<String>, Option<SignedIn>)> {
    allowed(state, principal, meta, &[SessionStage::Full, SessionStage::EnrolRequired], "enable_mfa").await?;
    super::reauth::require_recent(state, principal)?;
    let subjects = mfa_subjects(&principal.user);
    let reservation = throttle::reserve(state, &subjects, meta, Some(principal.org_id())).await?;
    let result = confirm_reserved(state, principal, code, &reservation, kind, meta).await;
    reservation.settle(state, result).await
}

/// The rest of `confirm_enrolment`, with the attempt reserved.
async fn confirm_reserved(
    state: &AppState,
    principal: &Principal,
    code: &str,
    reservation: &throttle::Reservation,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<(Vec<String>, Option<SignedIn>)> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    // The pending secret as it is now: a set-up restarted meanwhile in
    // another tab has replaced the one this request's session read.
    let user = &locked_user(&mut db, principal).await?;
    if user.mfa_enabled {
        return Err(already_on());
    }
    let Some(pending) = user.totp_pending_secret.clone() else {
        return Err(ServiceError::Conflict("Start the set-up again: there is no pending authenticator.".into()));
    };
    let secret = secret_keys::open(state, user.id, &pending)?;
    let Some(step) = totp::matching_step(&secret, code, unix_now(state)) else {
        reservation.fail(&mut db, now).await?;
        db.commit().await?;
        return Err(ServiceError::Validation { field: Some("code"), message: BAD_CODE.into() });
    };
    reservation.succeed(&mut db).await?;
    db.set_totp(user.id, Some(&secret_keys::seal(state, user.id, &secret)), Some(step), now).await?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| hash_token(&totp::normalize_recovery_code(c))).collect();
    db.replace_recovery_codes(user.id, &hashes).await?;
    audit::record(&mut db, now, meta, Event::by_self(user, action::MFA_ENABLED, json!({ "method": "totp" }))).await?;
    let next = if principal.stage == SessionStage::EnrolRequired {
        Some(advance(state, &mut db, principal, true, kind, meta).await?)
    } else {
        None
    };
    db.commit().await?;
    Ok((codes, next))
}

fn already_on() -> ServiceError {
    ServiceError::Conflict("Two-factor authentication is already on. Turn it off first to set up a new device.".into())
}

/// The caller's account, re-read and locked in the transaction that
/// changes their second factor.
async fn locked_user(db: &mut Db, principal: &Principal) -> ServiceResult<UserRecord> {
    db.user_by_id_for_update(principal.user.id).await?.ok_or_else(ServiceError::unauthenticated)
}

/// Records the refusal to turn MFA off when the organization requires it
/// (a policy refusal); "already off" is only answered.
async fn refuse_disable(state: &AppState, principal: &Principal, meta: &RequestMeta, error: ServiceError) -> ServiceError {
    match error {
        ServiceError::Forbidden(_) => audit::refuse(state, principal, meta, "disable_mfa", "mfa_required_by_org", None, error).await,
        other => other,
    }
}

/// Turning MFA off needs it on and the organization not requiring it.
fn ensure_may_disable(user: &UserRecord) -> ServiceResult<()> {
    if !user.mfa_enabled {
        return Err(ServiceError::Conflict("Two-factor authentication is already off.".into()));
    }
    if user.organization_require_mfa {
        return Err(ServiceError::Forbidden(format!(
            "“{}” requires two-factor authentication, so it cannot be turned off.",
            user.organization_name
        )));
    }
    Ok(())
}

fn mfa_subjects(user: &UserRecord) -> Vec<(String, Policy)> {
    vec![(format!("mfa:{}", user.id), ACCOUNT)]
}

/// Checks a TOTP code (once per time step) or a recovery code (once ever).
async fn verify_second_factor(state: &AppState, db: &mut Db, user: &UserRecord, code: &str) -> ServiceResult<Option<SecondFactor>> {
    // A secret no configured key opens leaves the recovery codes working.
    if let Some(secret) = user.totp_secret.as_deref().and_then(|stored| secret_keys::open_or_log(state, user.id, stored)) {
        if let Some(step) = totp::matching_step(&secret, code, unix_now(state)) {
            return Ok(db.claim_totp_step(user.id, step).await?.then_some(SecondFactor::Totp));
        }
    }
    let normalized = totp::normalize_recovery_code(code);
    if normalized.len() == 16 && db.use_recovery_code(user.id, &hash_token(&normalized), state.clock.now()).await? {
        return Ok(Some(SecondFactor::RecoveryCode));
    }
    Ok(None)
}

/// Proves the second factor in a transaction of its own: a right code is
/// used up (a TOTP step once, a recovery code for good) and a wrong one
/// counts against the throttle, whatever the caller does next.
async fn prove_second_factor(state: &AppState, user: &UserRecord, code: &str, meta: &RequestMeta) -> ServiceResult<SecondFactor> {
    let subjects = mfa_subjects(user);
    // Reserved and committed before the code is looked at: twenty codes
    // sent at once with one token get the budget's five checks, no more.
    let reservation = throttle::reserve(state, &subjects, meta, Some(user.organization_id)).await?;
    let result = prove_reserved(state, user, code, &reservation, meta).await;
    reservation.settle(state, result).await
}

/// The rest of `prove_second_factor`, with the attempt reserved.
async fn prove_reserved(
    state: &AppState,
    user: &UserRecord,
    code: &str,
    reservation: &throttle::Reservation,
    meta: &RequestMeta,
) -> ServiceResult<SecondFactor> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let proven = verify_second_factor(state, &mut db, user, code).await?;
    let event = match proven {
        Some(SecondFactor::Totp) => None,
        Some(SecondFactor::RecoveryCode) => {
            Some((action::RECOVERY_CODE_USED, json!({ "remaining": db.unused_recovery_codes(user.id).await? })))
        }
        None => {
            reservation.fail(&mut db, now).await?;
            Some((action::MFA_FAILED, json!({})))
        }
    };
    if proven.is_some() {
        reservation.succeed(&mut db).await?;
    }
    if let Some((action, details)) = event {
        audit::record(&mut db, now, meta, Event::by_self(user, action, details)).await?;
    }
    db.commit().await?;
    proven.ok_or_else(|| ServiceError::Validation { field: Some("code"), message: BAD_CODE.into() })
}

/// The code step of sign-in: turns an `mfa_pending` session into the next
/// one (a new token; the pending one is dead).
pub async fn complete_sign_in(
    state: &AppState,
    principal: &Principal,
    code: &str,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<SignedIn> {
    allowed(state, principal, meta, &[SessionStage::MfaPending], "login").await?;
    let method = prove_second_factor(state, &principal.user, code, meta).await?;
    let mut db = state.store.begin().await?;
    let signed_in = advance(state, &mut db, principal, true, kind, meta).await?;
    audit::record(
        &mut db,
        state.clock.now(),
        meta,
        Event::by_self(
            &principal.user,
            action::LOGIN,
            json!({ "method": match method { SecondFactor::Totp => "totp", SecondFactor::RecoveryCode => "recovery_code" } }),
        ),
    )
    .await?;
    db.commit().await?;
    Ok(signed_in)
}

/// Turns MFA off; needs a current code or a recovery code, and is refused
/// while the organization requires MFA.
pub async fn disable(state: &AppState, principal: &Principal, code: &str, meta: &RequestMeta) -> ServiceResult<()> {
    allowed(state, principal, meta, &[SessionStage::Full], "disable_mfa").await?;
    super::reauth::require_recent(state, principal)?;
    let user = &principal.user;
    // Checked before a code is spent, and again where MFA goes off: the
    // organization may have started requiring it meanwhile.
    if let Err(error) = ensure_may_disable(user) {
        return Err(refuse_disable(state, principal, meta, error).await);
    }
    prove_second_factor(state, user, code, meta).await?;
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    if let Err(error) = ensure_may_disable(&locked_user(&mut db, principal).await?) {
        db.rollback().await?;
        return Err(refuse_disable(state, principal, meta, error).await);
    }
    db.set_totp(user.id, None, None, now).await?;
    db.replace_recovery_codes(user.id, &[]).await?;
    audit::record(&mut db, now, meta, Event::by_self(user, action::MFA_DISABLED, json!({}))).await?;
    db.commit().await?;
    Ok(())
}
