//! Sign-in through Zitadel (OpenID Connect). The relying party in
//! `auth::oidc` verifies what the provider says; this module decides what it
//! means here: which organization (by the provider's org id, never by a
//! name the browser sends), which user (by issuer and `sub`, never by email
//! alone), which role (an exact, configured mapping), and whether the
//! sign-in satisfies the organization's MFA rule.

use chrono::Duration as ChronoDuration;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, action, Event, Target};
use super::auth::{insert_member, open_session_with, SignedIn};
use super::orgs::{create_org, org_target};
use super::{throttle, Principal};
use crate::model::{Email, OrgName, OrgStatus, Role, SsoRefusal, UserId, UserStatus};
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::oidc::{OidcError, OidcProvider, VerifiedLogin, RESOURCE_OWNER_SCOPE};
use crate::server::auth::token::{hash_token, random_token};
use crate::server::db::{Db, NewOidcFlow, NewUser, OrgRecord, SessionKind, SessionStage, UserRecord};
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// A sign-in has this long to come back from the provider.
pub const FLOW_TTL: ChronoDuration = ChronoDuration::minutes(10);
/// An ID token an API client brings must have been issued this recently.
const API_TOKEN_MAX_AGE: ChronoDuration = ChronoDuration::minutes(10);
/// The `external_id` of the organization for tokens that name none. No
/// Zitadel org id contains a colon.
pub const FALLBACK_EXTERNAL_ID: &str = "sso:default";

/// The redirect to the provider, and the cookie that binds the flow to
/// this browser.
pub struct SsoStart {
    pub redirect_to: String,
    pub flow_cookie: String,
}

/// What the provider's redirect back carried.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A finished browser sign-in and where the browser goes next.
pub struct SsoSignedIn {
    pub signed_in: SignedIn,
    pub return_to: String,
}

fn provider(state: &AppState) -> Result<&OidcProvider, SsoRefused> {
    state.oidc.as_ref().ok_or_else(|| SsoRefused {
        error: ServiceError::NotFound("Single sign-on is not configured.".into()),
        refusal: SsoRefusal::NotConfigured,
    })
}

/// A refused SSO sign-in: the error for the API, and the code the browser
/// is sent back to /login with.
#[derive(Debug)]
pub struct SsoRefused {
    pub error: ServiceError,
    pub refusal: SsoRefusal,
}

impl From<ServiceError> for SsoRefused {
    fn from(error: ServiceError) -> Self {
        let refusal = match error {
            ServiceError::ReauthRequired(_) => SsoRefusal::ReauthRequired,
            _ => SsoRefusal::Failed,
        };
        Self { error, refusal }
    }
}

impl From<crate::server::db::DbError> for SsoRefused {
    fn from(e: crate::server::db::DbError) -> Self {
        Self::from(ServiceError::from(e))
    }
}

/// Only paths of this console are places to return to; anything else (an
/// absolute URL, `//evil`) is an open redirect and becomes the default.
pub fn safe_return_to(raw: Option<&str>) -> String {
    match raw {
        // Control characters (a CR/LF in a header, a tab browsers drop to
        // turn `/\t/evil` into `//evil`) never make a place to return to.
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.starts_with("/auth/")
                && p.len() < 512
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/organizations".to_owned(),
    }
}

/// Starts a browser sign-in: a flow record keyed by a fresh cookie value,
/// and the provider's authorization URL.
/// `fresh` makes the provider ask the person again even if it has a session
/// of its own (the account page's "sign in again" for an SSO-only account).
pub async fn begin(state: &AppState, return_to: Option<&str>, fresh: bool, meta: &RequestMeta) -> Result<SsoStart, SsoRefused> {
    start_flow(state, &safe_return_to(return_to), None, fresh, meta).await
}

/// "Link Zitadel account" on the account page: a sign-in at the provider
/// whose identity is then linked to the signed-in account. The account's
/// owner proved it with their password (and second factor) to be signed
/// in; the provider proves the identity. Neither email needs to match or
/// be verified: this is the way in where automatic linking refuses
/// (`account_exists`).
pub async fn begin_link(state: &AppState, principal: &Principal, meta: &RequestMeta) -> Result<SsoStart, SsoRefused> {
    super::reauth::require_recent(state, principal)?;
    start_flow(state, "/account", Some(principal.user.id), false, meta).await
}

async fn start_flow(
    state: &AppState,
    return_to: &str,
    link_user_id: Option<Uuid>,
    fresh: bool,
    meta: &RequestMeta,
) -> Result<SsoStart, SsoRefused> {
    let oidc = provider(state)?;
    spend_sso_budget(state, meta).await?;
    let request = match oidc.authorization_request(fresh).await {
        Ok(r) => r,
        Err(e) => return Err(refuse(state, meta, Refusal::from(e)).await),
    };
    let cookie = random_token();
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    db.insert_oidc_flow(&NewOidcFlow {
        id_hash: &hash_token(&cookie),
        state: &request.state,
        nonce: &request.nonce,
        pkce_verifier: &request.pkce_verifier,
        return_to,
        link_user_id,
        now,
        expires_at: now + FLOW_TTL,
    })
    .await?;
    db.commit().await?;
    Ok(SsoStart { redirect_to: request.url, flow_cookie: cookie })
}

/// The provider's redirect back: the flow this browser started (found by
/// its cookie, used once), `state`, then the code exchange and token checks.
pub async fn callback(
    state: &AppState,
    flow_cookie: Option<&str>,
    params: CallbackParams,
    meta: &RequestMeta,
) -> Result<SsoSignedIn, SsoRefused> {
    let oidc = provider(state)?;
    let flow = match flow_cookie {
        Some(c) => {
            let mut db = state.store.begin().await?;
            let flow = db.take_oidc_flow(&hash_token(c)).await?;
            db.commit().await?;
            flow
        }
        None => None,
    };
    let Some(flow) = flow else {
        return Err(refuse(
            state,
            meta,
            Refusal::code("flow_missing", "no sign-in in progress for this browser (missing, used or foreign flow cookie)"),
        )
        .await);
    };
    if state.clock.now() >= flow.expires_at {
        return Err(refuse(state, meta, Refusal::code("flow_expired", "the sign-in took longer than 10 minutes")).await);
    }
    let state_ok = params.state.as_deref().is_some_and(|s| constant_time_eq(s.as_bytes(), flow.state.as_bytes()));
    if !state_ok {
        return Err(refuse(state, meta, Refusal::code("state_mismatch", "the state parameter does not match this browser's sign-in")).await);
    }
    if let Some(error) = params.error.as_deref() {
        let detail = format!("{error}: {}", params.error_description.as_deref().unwrap_or(""));
        return Err(refuse(state, meta, Refusal::code("provider_error", detail)).await);
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(refuse(state, meta, Refusal::code("missing_code", "the callback carries no code")).await);
    };
    let login = match oidc.finish(code, params.iss.as_deref(), &flow.pkce_verifier, &flow.nonce).await {
        Ok(l) => l,
        Err(e) => return Err(refuse(state, meta, Refusal::from(e)).await),
    };
    // Recorded as used, so the same token can never be exchanged again
    // (`POST /api/auth/sso`), even after it travelled in a logout URL.
    {
        let mut db = state.store.begin().await?;
        let fresh = db.claim_id_token(&hash_token(login.raw_id_token.trim()), login.expires_at).await?;
        db.commit().await?;
        if !fresh {
            return Err(refuse(state, meta, Refusal::code("id_token_replayed", "this ID token was already used for a session")).await);
        }
    }
    if let Some(user_id) = flow.link_user_id {
        if let Err(r) = link_to_account(state, user_id, &login, meta).await {
            return Err(refuse(state, meta, r).await);
        }
    }
    let signed_in = sign_in(state, login, SessionKind::Browser, "oidc_code_flow", meta).await?;
    Ok(SsoSignedIn { signed_in, return_to: flow.return_to })
}

/// Links the identity to the account that started the flow from its
/// account page, when the identity is nobody else's and the provider puts
/// the person in that account's organization.
async fn link_to_account(state: &AppState, user_id: Uuid, login: &VerifiedLogin, meta: &RequestMeta) -> Result<(), Refusal> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let user = db
        .user_by_id_for_update(user_id)
        .await?
        .ok_or_else(|| Refusal::code("link_account_gone", "the account that started the link no longer exists"))?;
    match db.user_id_by_identity(&login.issuer, &login.subject).await? {
        Some(owner) if owner == user.id => return Ok(()),
        Some(_) => {
            return Err(Refusal::policy(
                "identity_taken",
                ServiceError::Conflict("This identity provider account is linked to another NeoSC account already.".into()),
                Some(user.organization_id),
            ))
        }
        None => {}
    }
    let org = match &login.org {
        Some(o) => db.org_by_external_id(&o.external_id).await?,
        None => None,
    };
    if org.map(|o| o.id) != Some(user.organization_id) {
        return Err(Refusal::policy(
            "link_refused_other_organization",
            ServiceError::Forbidden(
                "Your identity provider places you in another organization than this account's, so they cannot be linked. \
                 Ask an admin."
                    .into(),
            ),
            Some(user.organization_id),
        ));
    }
    db.insert_identity(&login.issuer, &login.subject, user.id, login.email.as_deref(), now).await?;
    db.clear_removed_identity(user.organization_id, &login.issuer, &login.subject).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(user.organization_id),
            actor: Some(user.id),
            action: action::LINK_SSO_IDENTITY,
            target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
            details: json!({ "issuer": login.issuer, "sub": login.subject, "email": login.email, "source": "account_page" }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// `POST /api/auth/sso`: an ID token the API client got with its own PKCE
/// flow. Checked exactly like the browser's (signature, issuer, audience =
/// our client id, expiry), fresh, and good for one session only. Nothing
/// else the client sends is looked at.
pub async fn sign_in_with_id_token(state: &AppState, id_token: &str, meta: &RequestMeta) -> ServiceResult<SignedIn> {
    exchange_id_token(state, id_token, meta).await.map_err(|r| r.error)
}

async fn exchange_id_token(state: &AppState, id_token: &str, meta: &RequestMeta) -> Result<SignedIn, SsoRefused> {
    let oidc = provider(state)?;
    let login = match oidc.verify_external(id_token, API_TOKEN_MAX_AGE).await {
        Ok(l) => l,
        Err(e) => return Err(refuse(state, meta, Refusal::from(e)).await),
    };
    {
        let now = state.clock.now();
        let mut db = state.store.begin().await?;
        // The token must carry a nonce NeoSC issued to an API client, used
        // once: a token minted for anything else (a browser's sign-in,
        // another relying party's flow) is not accepted here.
        let issued = match login.nonce.as_deref() {
            Some(n) => db.take_api_nonce(&hash_token(n), now).await?,
            None => false,
        };
        let fresh = issued && db.claim_id_token(&hash_token(login.raw_id_token.trim()), login.expires_at).await?;
        db.commit().await?;
        if !issued {
            return Err(refuse(
                state,
                meta,
                Refusal::code("api_nonce_invalid", "the ID token's nonce is not one NeoSC issued (POST /api/auth/sso/nonce), or was used"),
            )
            .await);
        }
        if !fresh {
            return Err(refuse(state, meta, Refusal::code("id_token_replayed", "this ID token was already exchanged for a session")).await);
        }
    }
    sign_in(state, login, SessionKind::Api, "id_token", meta).await
}

/// Each SSO start (a browser's flow, an API client's nonce or ID token)
/// writes a row or asks the provider: a budget per client address per
/// minute, every start counted.
async fn spend_sso_budget(state: &AppState, meta: &RequestMeta) -> ServiceResult<()> {
    if let Some(ip) = throttle::client_key(meta) {
        let subject = throttle::Policy::rate(
            &format!("sso_start:ip:{ip}"),
            throttle::SSO_STARTS_PER_MINUTE,
            ChronoDuration::minutes(1),
            state.clock.now(),
        );
        throttle::reserve(state, &[subject], meta, None).await?;
    }
    Ok(())
}

/// How long an API client's nonce may wait for its ID token.
pub const API_NONCE_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// A nonce for an API client's own authorization request: it puts it in
/// the request, the provider puts it in the ID token, and
/// `POST /api/auth/sso` accepts the token once because of it.
pub async fn issue_api_nonce(state: &AppState, meta: &RequestMeta) -> ServiceResult<(String, chrono::DateTime<chrono::Utc>)> {
    if state.oidc.is_none() {
        return Err(ServiceError::NotFound("Single sign-on is not configured.".into()));
    }
    spend_sso_budget(state, meta).await?;
    let nonce = random_token();
    let now = state.clock.now();
    let expires_at = now + API_NONCE_TTL;
    let mut db = state.store.begin().await?;
    db.insert_api_nonce(&hash_token(&nonce), now, expires_at).await?;
    db.commit().await?;
    Ok((nonce, expires_at))
}

/// Where signing out should send the browser after our session ended: the
/// provider's end-session endpoint when the session came from SSO.
pub async fn end_session_url(state: &AppState, session_id: Option<Uuid>) -> ServiceResult<Option<String>> {
    let (Some(oidc), Some(session)) = (state.oidc.as_ref(), session_id) else { return Ok(None) };
    let id_token = state.store.conn().await?.session_id_token(session).await?;
    match id_token {
        Some(token) => Ok(oidc.end_session_url(Some(&token)).await),
        None => Ok(None),
    }
}

/// Why an SSO sign-in was refused: what the person is told, and what the
/// audit trail records.
struct Refusal {
    error: ServiceError,
    code: &'static str,
    detail: String,
    org: Option<Uuid>,
}

impl Refusal {
    fn code(code: &'static str, detail: impl Into<String>) -> Self {
        let e = OidcError { code, detail: detail.into() };
        Self::from(e)
    }

    fn policy(code: &'static str, error: ServiceError, org: Option<Uuid>) -> Self {
        Self { detail: error.log_detail(), error, code, org }
    }
}

impl From<OidcError> for Refusal {
    fn from(e: OidcError) -> Self {
        let error = if e.code == "discovery_failed" {
            ServiceError::Unavailable { message: e.public_message().into(), retry_after_secs: 10 }
        } else {
            ServiceError::Unauthorized(e.public_message().into())
        };
        Self { error, code: e.code, detail: e.detail, org: None }
    }
}

/// What the browser is told, by kind of refusal.
fn public_refusal(code: &str) -> SsoRefusal {
    match code {
        "discovery_failed" => SsoRefusal::Unavailable,
        "flow_missing" | "flow_expired" | "state_mismatch" => SsoRefusal::Expired,
        "provider_error" => SsoRefusal::Denied,
        "mfa_required" => SsoRefusal::MfaRequired,
        "link_refused_unverified_email" | "link_refused_other_organization" | "link_refused_local_unverified" => SsoRefusal::AccountExists,
        "organization_changed" => SsoRefusal::OrgChanged,
        "seat_limit_or_conflict" => SsoRefusal::SeatLimit,
        "removed_member" => SsoRefusal::Removed,
        "missing_org_claim" => SsoRefusal::Denied,
        "identity_taken" => SsoRefusal::AccountExists,
        "organization_suspended" => SsoRefusal::Suspended,
        "user_disabled" => SsoRefusal::Disabled,
        _ => SsoRefusal::Failed,
    }
}

/// Records the refusal in its own transaction (whatever the sign-in wrote
/// was rolled back) and hands back the refusal to answer with: a rule of
/// ours refusing a person the provider vouched for (a 403) is
/// `sso_login_denied`; anything else (the provider's answer did not hold,
/// a conflict) is `sso_login_failed`.
async fn refuse(state: &AppState, meta: &RequestMeta, r: Refusal) -> SsoRefused {
    tracing::warn!(reason = r.code, detail = %r.detail, "SSO sign-in refused");
    let now = state.clock.now();
    let issuer = state.oidc.as_ref().map(|o| o.issuer().to_owned());
    let recorded = async {
        let mut db = state.store.begin().await?;
        audit::record(
            &mut db,
            now,
            meta,
            Event {
                org: r.org,
                actor: None,
                action: if matches!(r.error, ServiceError::Forbidden(_)) { action::SSO_LOGIN_DENIED } else { action::SSO_LOGIN_FAILED },
                target: None,
                details: json!({ "reason": r.code, "detail": r.detail, "issuer": issuer }),
            },
        )
        .await?;
        db.commit().await?;
        Ok::<_, ServiceError>(())
    }
    .await;
    if let Err(e) = recorded {
        tracing::error!(error = %e.log_detail(), "could not record sso_login_failed");
    }
    SsoRefused { refusal: public_refusal(r.code), error: r.error }
}

/// The verified login becomes a session: organization, user, role and MFA
/// in one transaction, so a refusal half-way leaves nothing behind.
async fn sign_in(
    state: &AppState,
    login: VerifiedLogin,
    kind: SessionKind,
    method: &str,
    meta: &RequestMeta,
) -> Result<SignedIn, SsoRefused> {
    let mut db = state.store.begin().await?;
    match sign_in_tx(state, &mut db, &login, kind, method, meta).await {
        Ok((signed_in, linked)) => {
            db.commit().await?;
            // Told after the commit: the mail says what happened.
            if let Some(to) = linked {
                state.mailer.send_or_log(&super::mails::identity_linked(&to, &login.issuer)).await;
            }
            Ok(signed_in)
        }
        Err(r) => {
            drop(db);
            Err(refuse(state, meta, r).await)
        }
    }
}

impl From<ServiceError> for Refusal {
    fn from(e: ServiceError) -> Self {
        let code = match &e {
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Forbidden(_) => "forbidden",
            _ => "error",
        };
        Refusal::policy(code, e, None)
    }
}

impl From<crate::server::db::DbError> for Refusal {
    fn from(e: crate::server::db::DbError) -> Self {
        Refusal::from(ServiceError::from(e))
    }
}

async fn sign_in_tx(
    state: &AppState,
    db: &mut Db,
    login: &VerifiedLogin,
    kind: SessionKind,
    method: &str,
    meta: &RequestMeta,
) -> Result<(SignedIn, Option<String>), Refusal> {
    let now = state.clock.now();
    let org = resolve_org(state, db, login, meta).await?;
    if org.status != OrgStatus::Active {
        return Err(Refusal::policy(
            "organization_suspended",
            ServiceError::Forbidden(format!("Your organization “{}” is suspended.", org.name)),
            Some(org.id),
        ));
    }
    let (user, linked) = resolve_user(state, db, login, &org, meta).await?;
    if user.status != UserStatus::Active {
        return Err(Refusal::policy(
            "user_disabled",
            ServiceError::Forbidden("This account is disabled. Contact your organization's admin.".into()),
            Some(org.id),
        ));
    }

    let role = apply_role(state, db, login, &org, &user, meta).await?;
    let mfa = login.second_factor();
    db.set_user_sso_mfa(user.id, mfa, now).await?;
    db.touch_identity(&login.issuer, &login.subject, login.email.as_deref(), now).await?;
    let user = db.user_by_id(user.id).await?.ok_or_else(|| ServiceError::bug("the signed-in user's row is missing"))?;

    if org.require_mfa && !mfa && !user.mfa_enabled {
        return Err(Refusal::policy(
            "mfa_required",
            ServiceError::Forbidden(format!(
                "“{}” requires two-factor authentication. Sign in to Zitadel with a second factor (for example an \
                 authenticator app or a security key) and try again.",
                org.name
            )),
            Some(org.id),
        ));
    }
    // The provider vouches for the first factor. A local TOTP the person
    // set up is still asked for unless the provider already saw a second one.
    let stage = if user.mfa_enabled && !mfa { SessionStage::MfaPending } else { SessionStage::Full };
    let signed_in = open_session_with(state, db, &user, stage, kind, meta, Some(&login.raw_id_token)).await?;
    audit::record(
        db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(user.id),
            action: action::SSO_LOGIN,
            target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
            details: json!({
                "issuer": login.issuer,
                "sub": login.subject,
                "organization": org.name,
                "external_org_id": org.external_id,
                "role": role.as_str(),
                "mfa": mfa,
                "method": method,
                "session": kind.as_str(),
                "stage": stage.as_str(),
            }),
        },
    )
    .await?;
    Ok((signed_in, linked.then(|| user.email.clone())))
}

/// The organization the token names, created on first sight.
async fn resolve_org(state: &AppState, db: &mut Db, login: &VerifiedLogin, meta: &RequestMeta) -> Result<OrgRecord, Refusal> {
    let now = state.clock.now();
    let config = state.oidc.as_ref().map(|o| o.config());
    // Asked for the resource owner: a token without it was obtained some
    // other way (the scope dropped from the authorize URL) and must not
    // choose its own tenant.
    let wants_owner = config.is_some_and(|c| c.scopes.iter().any(|s| s == RESOURCE_OWNER_SCOPE));
    let missing = || {
        Refusal::policy(
            "missing_org_claim",
            ServiceError::Forbidden(
                "Your identity provider did not say which organization you belong to. Sign in again from this page; if \
                 it persists, ask an admin."
                    .into(),
            ),
            None,
        )
    };
    if wants_owner && !login.resource_owner_claimed {
        return Err(missing());
    }
    let (external_id, name, primary_domain) = match (&login.org, config.and_then(|c| c.fallback_org.clone())) {
        (Some(o), _) => (o.external_id.clone(), o.name.clone(), o.primary_domain.clone()),
        // The shared tenant exists only where the operator named it.
        (None, Some(fallback)) => (FALLBACK_EXTERNAL_ID.to_owned(), Some(fallback), None),
        (None, None) => return Err(missing()),
    };
    if external_id.len() > 200 || external_id.chars().any(char::is_control) {
        return Err(Refusal::code("invalid_org_claim", "the organization id claim is not a plausible id"));
    }
    if let Some(org) = db.org_by_external_id(&external_id).await? {
        return Ok(org);
    }
    let name = free_org_name(db, name.as_deref(), &external_id).await?;
    let domain = free_domain(db, primary_domain.as_deref(), &external_id).await?;
    let mut org = create_org(db, &name, &domain, false, now).await?;
    db.set_org_external_id(org.id, &external_id).await?;
    // Zitadel verifies an organization's domains itself; with the operator's
    // say-so (NEOSC_OIDC_TRUST_IDP_DOMAINS) that proof counts here too.
    // Otherwise the domain is a claim its admins prove by DNS.
    let trusted = state.config.domains.trust_idp && primary_domain.as_deref().is_some_and(|p| p.trim().eq_ignore_ascii_case(&domain));
    if trusted {
        if let Some(claim) = db.org_domain(org.id, &domain).await? {
            match super::org_domains::mark_verified(db, &org, &claim, crate::model::DomainMethod::Idp, None, now, meta).await {
                Ok(()) => {}
                // Verified by another organization meanwhile: this one keeps
                // a claim, which blocks nobody.
                Err(ServiceError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    audit::record(
        db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: None,
            action: action::CREATE_ORGANIZATION,
            target: Some(org_target(&org)),
            details: json!({ "name": org.name, "domain": org.domain, "source": "sso", "issuer": login.issuer, "external_id": external_id }),
        },
    )
    .await?;
    org.external_id = Some(external_id);
    Ok(org)
}

/// The provider's organization name, or a variant of it when a local
/// organization already has that name (names are unique, and an SSO org
/// never takes over a local one).
async fn free_org_name(db: &mut Db, claimed: Option<&str>, external_id: &str) -> Result<OrgName, Refusal> {
    let short: String = external_id.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect();
    let base = claimed.and_then(|n| OrgName::parse(n).ok()).map(|n| n.as_str().to_owned());
    let candidates = match &base {
        Some(b) => vec![b.clone(), format!("{b} (Zitadel)"), format!("{b} (Zitadel {short})")],
        None => vec![format!("Zitadel organization {short}")],
    };
    for candidate in candidates {
        if let Ok(name) = OrgName::parse(&candidate) {
            if db.org_by_name(name.as_str()).await?.is_none() {
                return Ok(name);
            }
        }
    }
    Err(Refusal::policy(
        "org_name_taken",
        ServiceError::Conflict("An organization with the name your identity provider gives already exists.".into()),
        None,
    ))
}

/// The provider's primary domain when it is a real, non-public-mail domain
/// no other organization verified; else a reserved `.sso.invalid`
/// placeholder, which never places anyone.
async fn free_domain(db: &mut Db, claimed: Option<&str>, external_id: &str) -> Result<String, Refusal> {
    if let Some(d) = claimed.map(|d| d.trim().to_ascii_lowercase()) {
        let valid = Email::parse(&format!("sso@{d}")).is_ok();
        if valid && !super::domains::is_public_mail_domain(&d) && db.verified_domain_owner(&d).await?.is_none() {
            return Ok(d);
        }
    }
    let label: String = external_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .chars()
        .take(50)
        .collect();
    let label = if label.is_empty() { "org".to_owned() } else { label };
    Ok(format!("{label}.sso.invalid"))
}

/// The user for (issuer, sub): known already, linked to an existing local
/// account under strict conditions, or created in the organization. True
/// when this sign-in linked an existing account.
async fn resolve_user(
    state: &AppState,
    db: &mut Db,
    login: &VerifiedLogin,
    org: &OrgRecord,
    meta: &RequestMeta,
) -> Result<(UserRecord, bool), Refusal> {
    let now = state.clock.now();
    if let Some(user_id) = db.user_id_by_identity(&login.issuer, &login.subject).await? {
        let user = db.user_by_id(user_id).await?.ok_or_else(|| ServiceError::bug("an identity's user row is missing"))?;
        if user.organization_id != org.id {
            return Err(Refusal::policy(
                "organization_changed",
                ServiceError::Forbidden(
                    "Your identity provider now places you in a different organization than your NeoSC account. \
                     Ask an admin to move your account."
                        .into(),
                ),
                Some(user.organization_id),
            ));
        }
        return Ok((user, false));
    }

    let raw_email =
        login.email.as_deref().ok_or_else(|| Refusal::code("missing_email", "neither the ID token nor userinfo carries an email"))?;
    let email = Email::parse(raw_email).map_err(|_| Refusal::code("invalid_email", format!("{raw_email:?} is not an email address")))?;

    if let Some(existing) = db.user_by_email(email.as_str()).await? {
        // Linking hands the provider's user this account: only when the
        // provider vouches for the address and both agree on the tenant.
        if !login.email_verified {
            return Err(Refusal::policy(
                "link_refused_unverified_email",
                ServiceError::Forbidden(
                    "An account with this email already exists, and your identity provider has not verified the address. \
                     Sign in with your password, or verify the email at the identity provider."
                        .into(),
                ),
                Some(existing.organization_id),
            ));
        }
        if existing.organization_id != org.id {
            return Err(Refusal::policy(
                "link_refused_other_organization",
                ServiceError::Forbidden(
                    "An account with this email already exists in a different organization than the one your identity \
                     provider names. Sign in with your password, or ask an admin."
                        .into(),
                ),
                Some(existing.organization_id),
            ));
        }
        // The local side must have proved the mailbox too: an account whose
        // address nobody confirmed could be a squatter's, waiting for the
        // real owner's first SSO sign-in to hand it their identity.
        if existing.email_verified_at.is_none() {
            return Err(Refusal::policy(
                "link_refused_local_unverified",
                ServiceError::Forbidden(
                    "An account with this email already exists, and its address was never confirmed. Sign in with its \
                     password, or ask an admin."
                        .into(),
                ),
                Some(existing.organization_id),
            ));
        }
        db.insert_identity(&login.issuer, &login.subject, existing.id, Some(email.as_str()), now).await?;
        db.clear_removed_identity(org.id, &login.issuer, &login.subject).await?;
        // From now on the identity provider speaks for this account: whatever
        // was signed in before (sessions, API tokens) ends, and the owner is
        // told by mail.
        let sessions_ended = db.delete_sessions_of_user(existing.id, None).await?;
        let tokens_revoked = db.delete_api_tokens_of_user(existing.id).await?;
        audit::record(
            db,
            now,
            meta,
            Event {
                org: Some(org.id),
                actor: Some(existing.id),
                action: action::LINK_SSO_IDENTITY,
                target: Some(Target { kind: "user", id: UserId(existing.id).to_string() }),
                details: json!({ "issuer": login.issuer, "sub": login.subject, "email": email.as_str(),
                    "sessions_ended": sessions_ended, "api_tokens_revoked": tokens_revoked }),
            },
        )
        .await?;
        return Ok((existing, true));
    }

    // A removed member stays out under any address the provider now sends:
    // their (issuer, sub) was kept at removal. An account made by a new
    // invitation is linked above instead, which is the way back in.
    if db.was_removed(org.id, email.as_str()).await? || db.identity_was_removed(org.id, &login.issuer, &login.subject).await? {
        return Err(Refusal::policy(
            "removed_member",
            ServiceError::Forbidden("This address was removed from its organization. Ask one of its admins for a new invitation.".into()),
            Some(org.id),
        ));
    }
    let name = login
        .name
        .clone()
        .filter(|n| crate::model::PersonName::parse(n).is_ok())
        .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("SSO user").to_owned());
    let user_id = Uuid::now_v7();
    let role = mapped_role(state, login, org);
    insert_member(
        db,
        org,
        &NewUser {
            id: user_id,
            organization_id: org.id,
            email: email.as_str(),
            name: &name,
            password_hash: None,
            role,
            // Verified only on the provider's word.
            email_verified_at: login.email_verified.then_some(now),
            now,
        },
    )
    .await
    .map_err(|e| Refusal { code: "seat_limit_or_conflict", detail: e.log_detail(), error: e, org: Some(org.id) })?;
    // The address now has its account: a pending registration of it (maybe
    // a squatter's) goes, nothing of it carries over.
    let pending_deleted = db.delete_pending_for_email(email.as_str()).await?;
    db.insert_identity(&login.issuer, &login.subject, user_id, Some(email.as_str()), now).await?;
    audit::record(
        db,
        now,
        meta,
        Event {
            org: Some(org.id),
            actor: Some(user_id),
            action: action::ADD_USER_TO_ORG,
            target: Some(Target { kind: "user", id: UserId(user_id).to_string() }),
            details: json!({
                "email": email.as_str(), "role": role, "source": "sso", "issuer": login.issuer, "sub": login.subject,
                "email_verified": login.email_verified, "pending_deleted": pending_deleted,
            }),
        },
    )
    .await?;
    Ok((db.user_by_id(user_id).await?.ok_or_else(|| ServiceError::bug("the new member's row is missing"))?, false))
}

/// The role the provider's claims give in this organization: role keys
/// matched exactly against the configured map, counted only when granted
/// in this organization (Zitadel lists the org ids per role), the highest
/// mapped role winning.
fn mapped_role(state: &AppState, login: &VerifiedLogin, org: &OrgRecord) -> Role {
    let Some(oidc) = state.oidc.as_ref() else { return Role::User };
    let external = org.external_id.as_deref().unwrap_or_default();
    let rank = |r: Role| match r {
        Role::PlatformAdmin => 2,
        Role::OrgAdmin => 1,
        Role::User => 0,
    };
    login
        .roles
        .iter()
        // Only grants made in this organization: a role granted elsewhere
        // (another Zitadel organization, or none named) gives nothing here.
        .filter(|g| g.org_ids.iter().any(|id| id == external))
        .filter_map(|g| oidc.config().role_map.iter().find(|(key, _)| key == &g.key).map(|(_, role)| *role))
        .max_by_key(|r| rank(*r))
        .unwrap_or(Role::User)
}

/// Brings the user's role in line with the claims at every sign-in. A
/// platform admin made here stays one: SSO never demotes them.
async fn apply_role(
    state: &AppState,
    db: &mut Db,
    login: &VerifiedLogin,
    org: &OrgRecord,
    user: &UserRecord,
    meta: &RequestMeta,
) -> Result<Role, Refusal> {
    let current = user.role;
    let wanted = mapped_role(state, login, org);
    let next = if current == Role::PlatformAdmin { Role::PlatformAdmin } else { wanted };
    if next != current {
        let now = state.clock.now();
        db.set_user_role(user.id, next, now).await?;
        audit::record(
            db,
            now,
            meta,
            Event {
                org: Some(org.id),
                actor: None,
                action: action::CHANGE_USER_ROLE,
                target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
                details: json!({ "from": current, "to": next, "source": "sso" }),
            },
        )
        .await?;
    }
    Ok(next)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_to(Some("/organizations/org-1")), "/organizations/org-1");
        for bad in
            ["https://evil.test/", "//evil.test", "/\\evil.test", "evil", "/auth/callback", "/\t/evil.test", "/ok\r\nSet-Cookie: x=1"]
        {
            assert_eq!(safe_return_to(Some(bad)), "/organizations", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/organizations");
    }
}
