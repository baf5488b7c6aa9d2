//! Registration, sign-in (password, then second factor when enabled),
//! sign-out and "who is this request".

use chrono::Duration as ChronoDuration;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::{throttle, user_view, Credential, Principal};
use crate::model::{Email, OrgName, OrgStatus, Password, User, UserId, UserStatus};
use crate::server::auth::common_passwords;
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::password::Verified;
use crate::server::auth::token::{hash_token, random_token, API_TOKEN_PREFIX};
use crate::server::config::DomainConfig;
use crate::server::db::{Constraint, Db, NewSession, NewUser, OrgRecord, PendingRecord, SessionKind, SessionStage, UserRecord};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// What a registration form or `POST /api/auth/register` carries, unparsed.
#[derive(Debug, Clone)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: String,
    pub organization: Option<String>,
}

/// A new session: the token goes to the client once and is never stored.
/// Unless `stage` is `Full`, the session may only take that next step.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub stage: SessionStage,
    pub user: User,
    pub max_age_secs: u64,
}

/// The only message a failed password sign-in gets, whatever failed, so
/// it does not reveal which addresses have accounts.
pub(crate) const BAD_CREDENTIALS: &str = "Email or password is incorrect.";

/// Sessions that still owe a step live this long at most.
const PARTIAL_SESSION_TTL: ChronoDuration = ChronoDuration::minutes(10);

/// Where a registrant lands, decided by the product's rules.
pub(crate) enum Placement {
    Join(OrgRecord),
    Create(OrgName),
}

/// A new password that meets the policy: length, not the email, not one of
/// the 10,000 most common.
pub fn new_password(state: &AppState, raw: &str, email: &Email) -> ServiceResult<Password> {
    let password = Password::parse(raw, email, state.config.password_policy)?;
    if common_passwords::is_common(raw) {
        return Err(ServiceError::Validation {
            field: Some("password"),
            message: "This password is one of the most common ones and easy to guess. Choose another.".into(),
        });
    }
    Ok(password)
}

/// Where a registrant lands (issue 10, section 2). Only a *verified*
/// domain places anyone, and only into an organization with auto-join on;
/// an unverified claim neither places nor blocks. Asked twice: when someone
/// registers (so a refusal is told at once) and when their email link is
/// used (where it counts, as the organizations then are).
pub(crate) async fn place(db: &mut Db, config: &DomainConfig, email: &Email, org_name: Option<OrgName>) -> ServiceResult<Placement> {
    super::domains::ensure_placeable(config, email.domain(), "email")?;
    let verified_owner = db.org_by_verified_domain(email.domain()).await?;
    let auto_join = verified_owner.clone().filter(|o| o.auto_join);
    let Some(name) = org_name else {
        if let Some(org) = auto_join {
            refuse_if_removed(db, &org, email).await?;
            return Ok(Placement::Join(org));
        }
        return match db.default_org().await? {
            Some(org) => Ok(Placement::Join(org)),
            None => Err(ServiceError::bug("the default organization is missing")),
        };
    };
    if let Some(org) = db.org_by_name(name.as_str()).await? {
        if auto_join.as_ref().is_some_and(|d| d.id == org.id) {
            refuse_if_removed(db, &org, email).await?;
            return Ok(Placement::Join(org));
        }
        return Err(ServiceError::Forbidden(format!(
            "The organization “{}” already exists. To join it, ask one of its admins for an invitation (or register with \
             an address at one of its verified domains, if it lets those in).",
            org.name
        )));
    }
    if let Some(owner) = verified_owner {
        let how =
            if owner.auto_join { "Leave the organization field empty to join it." } else { "Ask one of its admins for an invitation." };
        return Err(ServiceError::Conflict(format!(
            "The domain {} is verified by the organization “{}”. {how}",
            email.domain(),
            owner.name
        )));
    }
    if super::domains::is_public_mail_domain(email.domain()) {
        return Err(ServiceError::Validation {
            field: Some("organization"),
            message: format!(
                "{} is a public email provider, so it cannot identify a new organization. Register with your work email, \
                 or leave the organization empty.",
                email.domain()
            ),
        });
    }
    Ok(Placement::Create(name))
}

/// A removed member does not get back in by the domain rule; only a new
/// invitation readmits them.
async fn refuse_if_removed(db: &mut Db, org: &OrgRecord, email: &Email) -> ServiceResult<()> {
    if db.was_removed(org.id, email.as_str()).await? {
        // The organization is not named: the address alone must not tell
        // a stranger where it used to belong.
        return Err(ServiceError::Forbidden(
            "This address was removed from its organization. Ask one of its admins for a new invitation.".into(),
        ));
    }
    Ok(())
}

/// Inserts a member, turning the database's refusals into answers a person
/// understands.
pub(crate) async fn insert_member(db: &mut Db, org: &OrgRecord, new: &NewUser<'_>) -> ServiceResult<()> {
    db.insert_user(new).await.map_err(|e| match e.constraint() {
        Some(Constraint::UserEmail) => ServiceError::Conflict("An account with this email already exists.".into()),
        Some(Constraint::SeatLimit) => {
            ServiceError::Conflict(format!("“{}” has reached its seat limit of {} users.", org.name, org.seat_limit.unwrap_or_default()))
        }
        _ => e.into(),
    })
}

/// What a user still owes after the steps done so far.
pub(crate) fn next_stage(user: &UserRecord, second_factor_done: bool) -> SessionStage {
    if user.mfa_enabled && !second_factor_done {
        SessionStage::MfaPending
    } else if user.must_change_password {
        SessionStage::PasswordChangeRequired
    } else if user.organization_require_mfa && !user.mfa_enabled {
        SessionStage::EnrolRequired
    } else {
        SessionStage::Full
    }
}

/// Opens a session at `stage`, signed in with a password (and the second
/// factor, once the account has one and `stage` is past the code step).
/// Every step of a sign-in opens a new one (and the caller ends the old),
/// so a session id never outlives a change of privilege.
pub(crate) async fn open_session(
    state: &AppState,
    db: &mut Db,
    user: &UserRecord,
    stage: SessionStage,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<SignedIn> {
    open_session_as(state, db, user, stage, kind, meta, None, password_method(user, stage)).await
}

/// How a password sign-in that reached `stage` was proven: with the second
/// factor when the account has one and the code step is behind it.
fn password_method(user: &UserRecord, stage: SessionStage) -> &'static str {
    if user.mfa_enabled && stage != SessionStage::MfaPending {
        "password_mfa"
    } else {
        "password"
    }
}

/// `open_session`, remembering the ID token of an SSO sign-in.
pub(crate) async fn open_session_with(
    state: &AppState,
    db: &mut Db,
    user: &UserRecord,
    stage: SessionStage,
    kind: SessionKind,
    meta: &RequestMeta,
    id_token: Option<&str>,
) -> ServiceResult<SignedIn> {
    open_session_as(state, db, user, stage, kind, meta, id_token, "sso").await
}

/// Opens a session signed in by `method` (`password`, `password_mfa`,
/// `sso`; what audit events of its requests give as their session kind).
#[allow(clippy::too_many_arguments)]
async fn open_session_as(
    state: &AppState,
    db: &mut Db,
    user: &UserRecord,
    stage: SessionStage,
    kind: SessionKind,
    meta: &RequestMeta,
    id_token: Option<&str>,
    method: &'static str,
) -> ServiceResult<SignedIn> {
    let now = state.clock.now();
    let full = ChronoDuration::from_std(state.config.session_ttl).map_err(ServiceError::internal)?;
    let ttl = if stage == SessionStage::Full { full } else { full.min(PARTIAL_SESSION_TTL) };
    let token = random_token();
    db.insert_session(&NewSession {
        id: Uuid::now_v7(),
        token_hash: &hash_token(&token),
        user_id: user.id,
        kind,
        stage,
        now,
        expires_at: now + ttl,
        ip: meta.ip.as_deref(),
        user_agent: meta.user_agent.as_deref(),
        id_token,
        auth_method: method,
    })
    .await?;
    Ok(SignedIn { token, stage, user: user_view(user), max_age_secs: ttl.num_seconds().max(0) as u64 })
}

/// The password step. With MFA enabled the session it opens is only good
/// for the code step (`complete_mfa`).
pub async fn login(state: &AppState, email: &str, password: &str, meta: &RequestMeta, kind: SessionKind) -> ServiceResult<SignedIn> {
    let email = Email::parse(email).map_err(|_| ServiceError::Unauthorized(BAD_CREDENTIALS.into()))?;
    if password.is_empty() {
        return Err(ServiceError::Validation { field: Some("password"), message: "Password is required.".into() });
    }
    let subjects = throttle::subjects(email.as_str(), meta);
    let (user, pending) = {
        let mut conn = state.store.conn().await?;
        let user = conn.user_by_email(email.as_str()).await?;
        // An address without an account may have a registration waiting
        // for its link; its password gets the "check your inbox" answer.
        let pending = match user {
            None => conn.newest_pending_for_email(email.as_str(), state.clock.now()).await?,
            Some(_) => None,
        };
        (user, pending)
    };
    let org = user.as_ref().map(|u| u.organization_id);
    // Reserved (or refused, and that recorded) before any password work is
    // spent, so concurrent guesses cannot outrun the count.
    let reservation = throttle::reserve(state, &subjects, meta, org).await?;
    let result = check_password(state, &email, password, user, pending, &reservation, meta, kind).await;
    reservation.settle(state, result).await
}

/// The rest of `login`, with the attempt reserved.
#[allow(clippy::too_many_arguments)]
async fn check_password(
    state: &AppState,
    email: &Email,
    password: &str,
    user: Option<UserRecord>,
    pending: Option<PendingRecord>,
    reservation: &throttle::Reservation,
    meta: &RequestMeta,
    kind: SessionKind,
) -> ServiceResult<SignedIn> {
    let too_long = password.chars().count() > state.config.password_policy.max_chars;
    let phc = user.as_ref().and_then(|u| u.password_hash.clone()).or_else(|| pending.as_ref().map(|p| p.password_hash.clone()));
    let verified = match phc {
        Some(phc) if !too_long => state.hasher.verify(password.to_owned(), phc).await?,
        _ => {
            state.hasher.verify_dummy(password.chars().take(128).collect()).await?;
            Verified::No
        }
    };
    if let (None, Some(_)) = (&user, &pending) {
        if verified != Verified::No {
            // Nothing to sign in to yet; the page offers to resend the link.
            // No organization yet either: the installation's chain. The
            // answer already tells the registration exists (to whoever has
            // its password); the event tells no one else.
            let event = Event {
                org: None,
                actor: None,
                action: action::LOGIN_DENIED,
                target: None,
                details: json!({ "email": email.as_str(), "reason": "email_unverified" }),
            };
            audit::record_refusal(state, meta, event).await?;
            return Err(super::verification::unverified(email));
        }
    }
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    // The password was checked outside the transaction (hashing holds no
    // lock); the account is read again here, locked, and the sign-in goes
    // on only if that password is still the account's. A change or reset
    // meanwhile makes it a failure, and a rehash never brings an old
    // password back.
    let current = match &user {
        Some(checked) => db.user_by_id_for_update(checked.id).await?.filter(|u| u.password_hash == checked.password_hash),
        None => None,
    };
    let user = match (current, verified) {
        (Some(current), Verified::Yes) => current,
        (Some(current), Verified::YesRehash(new_hash)) => {
            db.set_password_hash(current.id, &new_hash, current.must_change_password, now).await?;
            current
        }
        _ => {
            reservation.fail(&mut db, now).await?;
            audit::record(
                &mut db,
                now,
                meta,
                Event {
                    org: user.as_ref().map(|u| u.organization_id),
                    actor: None,
                    action: action::LOGIN_FAILED,
                    target: user.as_ref().map(|u| Target { kind: "user", id: UserId(u.id).to_string() }),
                    details: json!({ "email": email.as_str(), "reason": "bad_credentials" }),
                },
            )
            .await?;
            db.commit().await?;
            return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
        }
    };
    // Before the success is counted: a disabled account's right password
    // is refunded (by `settle`), not taken as proof of anything.
    if let Err((reason, error)) = may_sign_in(&user) {
        // The password was right, so the account is named (its owner, or
        // whoever has their password, tried): `login_denied` in its
        // organization. Committed with the transaction (a rehash in it is
        // harmless); `settle` then refunds the attempt.
        audit::record(
            &mut db,
            now,
            meta,
            Event {
                org: Some(user.organization_id),
                actor: Some(user.id),
                action: action::LOGIN_DENIED,
                target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
                details: json!({ "reason": reason }),
            },
        )
        .await?;
        db.commit().await?;
        return Err(error);
    }
    reservation.succeed(&mut db).await?;
    let stage = next_stage(&user, false);
    let signed_in = open_session(state, &mut db, &user, stage, kind, meta).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event::by_self(&user, action::LOGIN, json!({ "method": "password", "session": kind.as_str(), "stage": stage.as_str() })),
    )
    .await?;
    db.commit().await?;
    Ok(signed_in)
}

/// Whether the account may sign in; if not, the reason code and the answer.
fn may_sign_in(user: &UserRecord) -> Result<(), (&'static str, ServiceError)> {
    if user.status != UserStatus::Active {
        return Err(("account_disabled", ServiceError::Forbidden("This account is disabled. Contact your organization's admin.".into())));
    }
    if user.organization_status != OrgStatus::Active {
        return Err(("org_suspended", ServiceError::Forbidden(format!("Your organization “{}” is suspended.", user.organization_name))));
    }
    Ok(())
}

/// Moves a partial session on to its next stage: ends it and opens a new
/// one, so the token that was good for one step is dead afterwards.
pub(crate) async fn advance(
    state: &AppState,
    db: &mut Db,
    principal: &Principal,
    second_factor_done: bool,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<SignedIn> {
    let user = db.user_by_id(principal.user.id).await?.ok_or_else(ServiceError::unauthenticated)?;
    if let Some(id) = principal.session_id() {
        db.delete_session(id).await?;
    }
    let stage = next_stage(&user, second_factor_done);
    // A session signed in by SSO stays one through the steps it owes.
    let method = if principal.session_method.as_deref() == Some("sso") { "sso" } else { password_method(&user, stage) };
    open_session_as(state, db, &user, stage, kind, meta, None, method).await
}

/// Ends the caller's session on the server; the token is dead from now on.
pub async fn logout(state: &AppState, principal: &Principal, meta: &RequestMeta) -> ServiceResult<()> {
    let Some(session) = principal.session_id() else {
        return Err(ServiceError::validation("API tokens are not sessions; revoke the token instead."));
    };
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    db.delete_session(session).await?;
    audit::record(&mut db, now, meta, Event::by_self(&principal.user, action::LOGOUT, json!({}))).await?;
    db.commit().await?;
    Ok(())
}

/// How often `last_seen_at` is written: often enough for a sessions list
/// and the idle timeout, rarely enough that reads do not turn into writes.
const TOUCH_EVERY_SECS: i64 = 60;

/// Whether a session still signs anyone in: before its absolute expiry and
/// used within the idle timeout. The sessions list asks the same question,
/// so it never shows a session that would be refused.
pub fn session_is_live(state: &AppState, s: &crate::server::db::SessionRecord, now: chrono::DateTime<chrono::Utc>) -> ServiceResult<bool> {
    let idle = ChronoDuration::from_std(state.config.session_idle).map_err(ServiceError::internal)?;
    Ok(now < s.expires_at && now - s.last_seen_at < idle)
}

/// Resolves a token to a fully signed-in caller, or `Unauthorized`.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> ServiceResult<Principal> {
    let principal = authenticate_any_stage(state, token).await?;
    match principal.stage {
        SessionStage::Full => Ok(principal),
        SessionStage::MfaPending => Err(ServiceError::Unauthorized("Enter your authentication code to finish signing in.".into())),
        SessionStage::EnrolRequired => {
            Err(ServiceError::Forbidden("Your organization requires two-factor authentication. Set it up to continue.".into()))
        }
        SessionStage::PasswordChangeRequired => Err(ServiceError::Forbidden("Choose a new password to continue.".into())),
    }
}

/// Like `authenticate`, but also accepts sessions that owe a step; only
/// the endpoints that take that step use it.
pub async fn authenticate_any_stage(state: &AppState, token: Option<&str>) -> ServiceResult<Principal> {
    let token = token.ok_or_else(ServiceError::unauthenticated)?;
    let now = state.clock.now();
    // Every request comes through here, so no transaction: on SQLite one
    // would take the writer lock for each request. The only writes (last
    // seen, ending a dead session) are single statements that decide
    // nothing, which autocommit keeps whole.
    let mut db = state.store.conn().await?;
    let hash = hash_token(token);
    let (credential, stage, user_id, authenticated_at, session_method) = if token.starts_with(API_TOKEN_PREFIX) {
        let t = db.api_token_by_hash(&hash).await?.ok_or_else(ServiceError::unauthenticated)?;
        if t.expires_at.is_some_and(|e| now >= e) {
            return Err(ServiceError::Unauthorized("This API token has expired.".into()));
        }
        if t.last_used_at.is_none_or(|seen| (now - seen).num_seconds() >= TOUCH_EVERY_SECS) {
            db.touch_api_token(t.id, now).await?;
        }
        (Credential::ApiToken(t.id), SessionStage::Full, t.user_id, None, None)
    } else {
        let s = db.session_by_token_hash(&hash).await?.ok_or_else(ServiceError::unauthenticated)?;
        if !session_is_live(state, &s, now)? {
            db.delete_session(s.id).await?;
            return Err(ServiceError::Unauthorized("Your session has expired. Sign in again.".into()));
        }
        if (now - s.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
            db.touch_session(s.id, now).await?;
        }
        (Credential::Session(s.id), s.stage, s.user_id, Some(s.created_at), s.auth_method)
    };
    let user = db.user_by_id(user_id).await?.ok_or_else(ServiceError::unauthenticated)?;
    if user.status != UserStatus::Active || user.organization_status != OrgStatus::Active {
        if let Credential::Session(id) = credential {
            db.delete_session(id).await?;
        }
        return Err(ServiceError::unauthenticated());
    }
    let stage = owed_step(&user, stage);
    Ok(Principal { credential, stage, role: user.role, user, authenticated_at, session_method })
}

/// What the account owes now, whatever the credential was granted with: a
/// password an operator reset, or a second factor the organization began
/// to require after the session or API token was made. Checked at every
/// request, so neither a live session nor a token outlives the rule.
fn owed_step(user: &UserRecord, granted: SessionStage) -> SessionStage {
    if granted != SessionStage::Full {
        return granted;
    }
    if user.must_change_password {
        SessionStage::PasswordChangeRequired
    } else if user.organization_require_mfa && !(user.mfa_enabled || user.sso_mfa) {
        SessionStage::EnrolRequired
    } else {
        SessionStage::Full
    }
}

/// The caller as the API shows them.
pub fn me(principal: &Principal) -> User {
    user_view(&principal.user)
}

/// Seconds since the epoch by the app's clock, for TOTP.
pub(crate) fn unix_now(state: &AppState) -> i64 {
    state.clock.now().timestamp()
}

/// Ends the session `token` names, if it is one. Sign-in calls it with the
/// cookie the browser came with, so the old session id dies with the
/// privilege change.
pub async fn discard_session(state: &AppState, token: Option<&str>) -> ServiceResult<()> {
    if let Some(token) = token.filter(|t| !t.starts_with(API_TOKEN_PREFIX)) {
        state.store.conn().await?.delete_session_by_token_hash(&hash_token(token)).await?;
    }
    Ok(())
}
