//! A recent sign-in, for the changes that would turn a briefly stolen
//! session into lasting access: minting an API token, changing the second
//! factor, linking another identity. The thief has the session, not the
//! password (nor the SSO account), so asking for either again within a
//! few minutes stops them; the owner confirms once and goes on.

use chrono::Duration;
use serde_json::json;

use super::audit::{self, action, Event};
use super::auth::{open_session, SignedIn};
use super::{throttle, Credential, Principal};
use crate::model::Email;
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::password::Verified;
use crate::server::db::{SessionKind, SessionStage};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// How long a sign-in counts as recent.
pub const RECENT: Duration = Duration::minutes(5);

/// Refuses unless the caller's session was signed in within `RECENT`.
/// Sessions still owing a sign-in step pass: they are the sign-in itself,
/// minutes old at most (an organization's required enrolment happens there).
pub fn require_recent(state: &AppState, principal: &Principal) -> ServiceResult<()> {
    if principal.stage != SessionStage::Full {
        return Ok(());
    }
    let Some(at) = principal.authenticated_at else {
        return Err(ServiceError::ReauthRequired(
            "An API token cannot do this. Sign in (POST /api/auth/login) and confirm with the password.".into(),
        ));
    };
    if state.clock.now() - at <= RECENT {
        return Ok(());
    }
    let how =
        if principal.user.password_hash.is_some() { "Confirm your password to continue." } else { "Sign in with SSO again to continue." };
    Err(ServiceError::ReauthRequired(format!("For your security, this needs a sign-in from the last 5 minutes. {how}")))
}

/// Proves the caller's password again and replaces their session with a
/// new one, signed in now. Failures count against the same throttle as a
/// sign-in, so a stolen session is no oracle for guessing the password.
pub async fn reauthenticate(
    state: &AppState,
    principal: &Principal,
    password: &str,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<SignedIn> {
    let Credential::Session(session_id) = principal.credential else {
        let error = ServiceError::Forbidden("API tokens are not sessions; sign in to get a session.".into());
        return Err(audit::refuse(state, principal, meta, "reauthenticate", "api_token_not_allowed", None, error).await);
    };
    if principal.stage != SessionStage::Full {
        let error = ServiceError::Forbidden("Finish signing in first.".into());
        return Err(audit::refuse(state, principal, meta, "reauthenticate", "sign_in_incomplete", None, error).await);
    }
    let user = &principal.user;
    let Some(phc) = user.password_hash.clone() else {
        return Err(ServiceError::Conflict(
            "This account signs in through SSO and has no password here. Sign in with SSO again instead.".into(),
        ));
    };
    if password.is_empty() {
        return Err(ServiceError::Validation { field: Some("password"), message: "Password is required.".into() });
    }
    let email = Email::parse(&user.email)?;
    let subjects = throttle::subjects(email.as_str(), meta);
    // Reserved before the hash runs, like a sign-in: this is a password
    // guess too, and a stolen session must not make it a cheaper one.
    let reservation = throttle::reserve(state, &subjects, meta, Some(user.organization_id)).await?;
    let result = reauthenticate_reserved(state, principal, session_id, phc, password, &reservation, kind, meta).await;
    reservation.settle(state, result).await
}

/// The rest of `reauthenticate`, with the attempt reserved.
#[allow(clippy::too_many_arguments)]
async fn reauthenticate_reserved(
    state: &AppState,
    principal: &Principal,
    session_id: uuid::Uuid,
    phc: String,
    password: &str,
    reservation: &throttle::Reservation,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<SignedIn> {
    let user = &principal.user;
    let too_long = password.chars().count() > state.config.password_policy.max_chars;
    let verified = if too_long { Verified::No } else { state.hasher.verify(password.to_owned(), phc).await? };
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    // Checked outside the transaction (hashing holds no lock): it counts
    // only if that password is still the account's.
    let current = db.user_by_id_for_update(user.id).await?.filter(|u| u.password_hash == user.password_hash);
    let Some(current) = current.filter(|_| verified != Verified::No) else {
        reservation.fail(&mut db, now).await?;
        audit::record(&mut db, now, meta, Event::by_self(user, action::REAUTHENTICATION_FAILED, json!({}))).await?;
        db.commit().await?;
        return Err(ServiceError::Validation { field: Some("password"), message: "The password is not correct.".into() });
    };
    if let Verified::YesRehash(new_hash) = &verified {
        db.set_password_hash(current.id, new_hash, current.must_change_password, now).await?;
    }
    reservation.succeed(&mut db).await?;
    db.delete_session(session_id).await?;
    // The stage is what the account owes now (a reset password or a newly
    // required second factor are not skipped by confirming the password).
    let stage = super::auth::next_stage(&current, true);
    let signed_in = open_session(state, &mut db, &current, stage, kind, meta).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event::by_self(user, action::REAUTHENTICATE, json!({ "method": "password", "session": kind.as_str() })),
    )
    .await?;
    db.commit().await?;
    Ok(signed_in)
}
