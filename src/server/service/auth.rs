//! Registration, sign-in, sign-out and "who is this request".

use chrono::Duration as ChronoDuration;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::orgs::{create_org, org_target};
use super::{user_view, Principal};
use crate::model::{Email, OrgName, Password, PersonName, Role, User, UserId};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::password::Verified;
use crate::server::auth::token::{hash_token, random_token};
use crate::server::db::{Db, DbError, NewSession, NewUser, OrgRecord, SessionKind};
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
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub user: User,
    pub max_age_secs: u64,
}

/// The only message a failed password sign-in gets, whatever failed, so
/// it does not reveal which addresses have accounts.
const BAD_CREDENTIALS: &str = "Email or password is incorrect.";

/// Where a registrant lands, decided by the product's rules.
enum Placement {
    Join(OrgRecord),
    Create(OrgName),
}

pub async fn register(state: &AppState, input: RegisterInput, meta: &RequestMeta, kind: SessionKind) -> ServiceResult<SignedIn> {
    let email = Email::parse(&input.email)?;
    let name = PersonName::parse(&input.name)?;
    let org_name = match input.organization.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Some(OrgName::parse(raw)?),
        None => None,
    };
    let password = Password::parse(&input.password, &email, state.config.password_policy)?;
    // Hash before the transaction opens, so no write lock is held while the
    // CPU-heavy part runs.
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = state.clock.now();

    let mut db = state.store.write().await?;
    if db.user_by_email(email.as_str()).await?.is_some() {
        return Err(ServiceError::Conflict("An account with this email already exists. Sign in instead.".into()));
    }
    let user_id = Uuid::now_v7();
    let (org, role) = match place(&mut db, &email, org_name).await? {
        Placement::Join(org) => (org, Role::User),
        Placement::Create(name) => {
            let org = create_org(&mut db, &name, email.domain(), false, now).await?;
            audit::record(&mut db, now, meta, Event {
                org: Some(org.id),
                actor: Some(user_id),
                action: action::CREATE_ORGANIZATION,
                target: Some(org_target(&org)),
                details: json!({ "name": org.name, "domain": org.domain, "source": "registration" }),
            })
            .await?;
            (org, Role::OrgAdmin)
        }
    };
    if org.status != "active" {
        return Err(ServiceError::Forbidden(format!("“{}” is suspended and does not accept new members.", org.name)));
    }
    insert_member(&mut db, &org, &NewUser {
        id: user_id,
        organization_id: org.id,
        email: email.as_str(),
        name: name.as_str(),
        password_hash: Some(&hash),
        role: role.as_str(),
        now,
    })
    .await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(org.id),
        actor: Some(user_id),
        action: action::ADD_USER_TO_ORG,
        target: Some(Target { kind: "user", id: UserId(user_id).to_string() }),
        details: json!({ "email": email.as_str(), "role": role.as_str(), "source": "registration" }),
    })
    .await?;
    let signed_in = open_session(state, &mut db, user_id, kind, meta).await?;
    db.commit().await?;
    Ok(signed_in)
}

/// The seed's assignment rules, made safe: naming an existing organization
/// joins it only with an address at its domain.
async fn place(db: &mut Db, email: &Email, org_name: Option<OrgName>) -> ServiceResult<Placement> {
    let Some(name) = org_name else {
        if let Some(org) = db.org_by_domain(email.domain()).await? {
            return Ok(Placement::Join(org));
        }
        return match db.default_org().await? {
            Some(org) => Ok(Placement::Join(org)),
            None => Err(ServiceError::internal("the default organization is missing")),
        };
    };
    if let Some(org) = db.org_by_name(name.as_str()).await? {
        if org.domain.eq_ignore_ascii_case(email.domain()) {
            return Ok(Placement::Join(org));
        }
        return Err(ServiceError::Forbidden(format!(
            "The organization “{}” already exists and only accepts addresses at {}. Ask one of its admins for an invitation.",
            org.name, org.domain
        )));
    }
    if let Some(owner) = db.org_by_domain(email.domain()).await? {
        return Err(ServiceError::Conflict(format!(
            "The domain {} already belongs to the organization “{}”. Leave the organization field empty to join it.",
            email.domain(),
            owner.name
        )));
    }
    Ok(Placement::Create(name))
}

/// Inserts a member, turning the database's refusals into answers a person
/// understands.
pub(crate) async fn insert_member(db: &mut Db, org: &OrgRecord, new: &NewUser<'_>) -> ServiceResult<()> {
    db.insert_user(new).await.map_err(|e| match e {
        e if e.is_unique_on("email") => ServiceError::Conflict("An account with this email already exists.".into()),
        e if e.is_check_on("seat_limit") || matches!(&e, DbError::Check(_)) => ServiceError::Conflict(format!(
            "“{}” has reached its seat limit of {} users.",
            org.name,
            org.seat_limit.unwrap_or_default()
        )),
        e => e.into(),
    })
}

async fn open_session(
    state: &AppState,
    db: &mut Db,
    user_id: Uuid,
    kind: SessionKind,
    meta: &RequestMeta,
) -> ServiceResult<SignedIn> {
    let now = state.clock.now();
    let ttl = state.config.session_ttl;
    let token = random_token();
    db.insert_session(&NewSession {
        id: Uuid::now_v7(),
        token_hash: &hash_token(&token),
        user_id,
        kind,
        now,
        expires_at: now + ChronoDuration::from_std(ttl).map_err(ServiceError::internal)?,
        ip: meta.ip.as_deref(),
        user_agent: meta.user_agent.as_deref(),
    })
    .await?;
    let user = db.user_by_id(user_id).await?.ok_or_else(|| ServiceError::internal("user vanished"))?;
    Ok(SignedIn { token, user: user_view(&user), max_age_secs: ttl.as_secs() })
}

pub async fn login(state: &AppState, email: &str, password: &str, meta: &RequestMeta, kind: SessionKind) -> ServiceResult<SignedIn> {
    let email = Email::parse(email).map_err(|_| ServiceError::Unauthorized(BAD_CREDENTIALS.into()))?;
    if password.is_empty() {
        return Err(ServiceError::Validation { field: Some("password"), message: "Password is required.".into() });
    }
    if password.chars().count() > state.config.password_policy.max_chars {
        return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
    }
    let user = state.store.read().await?.user_by_email(email.as_str()).await?;
    let now = state.clock.now();
    let verified = match user.as_ref().and_then(|u| u.password_hash.clone()) {
        Some(phc) => state.hasher.verify(password.to_owned(), phc).await?,
        None => {
            state.hasher.verify_dummy(password.to_owned()).await?;
            Verified::No
        }
    };
    let mut db = state.store.write().await?;
    let user = match (user, verified) {
        (Some(user), Verified::Yes) => user,
        (Some(user), Verified::YesRehash(new_hash)) => {
            db.set_password_hash(user.id, &new_hash, now).await?;
            user
        }
        (user, _) => {
            audit::record(&mut db, now, meta, Event {
                org: user.as_ref().map(|u| u.organization_id),
                actor: None,
                action: action::LOGIN_FAILED,
                target: user.as_ref().map(|u| Target { kind: "user", id: UserId(u.id).to_string() }),
                details: json!({ "email": email.as_str(), "reason": "bad_credentials" }),
            })
            .await?;
            db.commit().await?;
            return Err(ServiceError::Unauthorized(BAD_CREDENTIALS.into()));
        }
    };
    if user.status != "active" {
        return Err(ServiceError::Forbidden("This account is disabled. Contact your organization's admin.".into()));
    }
    if user.organization_status != "active" {
        return Err(ServiceError::Forbidden(format!("Your organization “{}” is suspended.", user.organization_name)));
    }
    let signed_in = open_session(state, &mut db, user.id, kind, meta).await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(user.organization_id),
        actor: Some(user.id),
        action: action::LOGIN,
        target: None,
        details: json!({ "method": "password", "session": kind.as_str() }),
    })
    .await?;
    db.commit().await?;
    Ok(signed_in)
}

/// Ends the caller's session on the server; the token is dead from now on.
pub async fn logout(state: &AppState, principal: &Principal, meta: &RequestMeta) -> ServiceResult<()> {
    let now = state.clock.now();
    let mut db = state.store.write().await?;
    db.delete_session(principal.session_id).await?;
    audit::record(&mut db, now, meta, Event {
        org: Some(principal.org_id()),
        actor: Some(principal.user.id),
        action: action::LOGOUT,
        target: None,
        details: json!({}),
    })
    .await?;
    db.commit().await?;
    Ok(())
}

/// How often `last_seen_at` is written: often enough for a sessions list,
/// rarely enough that reads do not turn into writes.
const TOUCH_EVERY_SECS: i64 = 60;

/// Resolves a token to the signed-in caller, or `Unauthorized`.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> ServiceResult<Principal> {
    let token = token.ok_or_else(ServiceError::unauthenticated)?;
    let now = state.clock.now();
    let mut db = state.store.read().await?;
    let session = db.session_by_token_hash(&hash_token(token)).await?.ok_or_else(ServiceError::unauthenticated)?;
    if now >= session.expires_at {
        db.delete_session(session.id).await?;
        return Err(ServiceError::Unauthorized("Your session has expired. Sign in again.".into()));
    }
    let user = db.user_by_id(session.user_id).await?.ok_or_else(ServiceError::unauthenticated)?;
    if user.status != "active" || user.organization_status != "active" {
        db.delete_session(session.id).await?;
        return Err(ServiceError::unauthenticated());
    }
    if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
        db.touch_session(session.id, now).await?;
    }
    let role = Role::parse(&user.role).ok_or_else(|| ServiceError::internal(format!("unknown role {}", user.role)))?;
    Ok(Principal { session_id: session.id, user, role })
}

/// The caller as the API shows them.
pub fn me(principal: &Principal) -> User {
    user_view(&principal.user)
}
