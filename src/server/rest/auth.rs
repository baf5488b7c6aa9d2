use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problems::{BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unavailable};
use super::schema::{EmailAddress, NewPassword, OrganizationToJoin, PersonName};
use super::{AnyStage, ApiJson, Authenticated, Meta};
use crate::model::User;
use crate::server::db::{SessionKind, SessionStage};
use crate::server::error::ServiceError;
use crate::server::service::auth::{self, RegisterInput, SignedIn};
use crate::server::service::verification::{self, Pending};
use crate::server::service::{mfa, reauth};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(value_type = EmailAddress)]
    pub email: String,
    #[schema(value_type = NewPassword)]
    pub password: String,
    #[schema(value_type = PersonName)]
    pub name: String,
    /// Join or create this organization; omitted, `null` or blank, the
    /// email's domain decides.
    #[schema(value_type = Option<OrganizationToJoin>)]
    pub organization: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Any string is accepted; one that is not an address of an account
    /// answers 401 like a wrong password.
    #[schema(max_length = 254, examples("user@neogenesys.com"))]
    pub email: String,
    /// Longer than 128 characters never matches.
    #[schema(min_length = 1, format = Password)]
    pub password: String,
}

/// A session token (send it as `Authorization: Bearer …`). When `stage`
/// is not `full` the token is good only for that next step
/// (`mfa_pending` → `POST /api/auth/mfa`, `enrol_required` → the TOTP
/// enrolment endpoints, `password_change_required` →
/// `POST /api/account/password`), and `user` is left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    #[schema(value_type = Stage)]
    pub stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// How far the sign-in has come; only `full` is a usable session.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Stage {
    Full,
    MfaPending,
    EnrolRequired,
    PasswordChangeRequired,
}

impl From<SignedIn> for TokenResponse {
    fn from(s: SignedIn) -> Self {
        let full = s.stage == SessionStage::Full;
        Self { token: s.token, stage: s.stage.as_str().into(), user: full.then_some(s.user) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// A 6-digit TOTP code or a recovery code.
    #[schema(min_length = 1, max_length = 64, examples("123456"))]
    pub code: String,
}

/// A registration waiting for its email link.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingRegistration {
    /// Where the link went.
    #[schema(value_type = EmailAddress)]
    pub email: String,
    /// The link works until then (24 hours); after it the registration is deleted.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// False when the mail server could not take the mail (the server logged why): ask for it again
    /// with `POST /api/auth/verify-email/resend`.
    pub mail_sent: bool,
}

impl From<Pending> for PendingRegistration {
    fn from(p: Pending) -> Self {
        Self { email: p.email, expires_at: p.expires_at, mail_sent: p.mail_sent }
    }
}

/// Register an account
///
/// Mails a one-time confirmation link (valid 24 hours) to the address; nothing else happens until it is
/// used (`POST /api/auth/verify-email`): the registration belongs to no organization, takes no seat and
/// cannot sign in (403 `email-unverified`). The organization is decided when the link is used, by these
/// rules (also checked now, so a refusal comes at once): none named, the one whose domain is the email's
/// domain, else the Default Organization, as `user`; a new name creates that organization with the email's
/// domain and makes the registrant its `org_admin` (409 when another organization owns the domain); an
/// existing name is joined only when the email's domain is its domain (else 403). 409 also when the email
/// has an account; 429 when a link went to the address less than a minute ago.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", operation_id = "register", request_body = RegisterRequest,
    security(()),
    responses(
        (status = 202, description = "Registered pending: the confirmation link is on its way", body = PendingRegistration),
        BadRequest, Forbidden, Conflict, TooManyRequests, Unavailable,
    ))]
pub async fn register(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Response, ServiceError> {
    let input = RegisterInput { email: req.email, password: req.password, name: req.name, organization: req.organization };
    let pending = verification::register(&state, input, &meta).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(PendingRegistration::from(pending))).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The token at the end of the mailed link (`…/verify-email/<token>`).
    #[schema(min_length = 1, max_length = 128, examples("q2K8l0cYf1y0m3Zl7Y1o5Q0Jb4aWc9dXh3Rk6uT2pVs"))]
    pub token: String,
}

/// Confirm an email address
///
/// Uses the mailed link: creates the account in the organization the registration rules give now, deletes
/// every other pending registration of the address, and signs in. 404 for a used, replaced or expired link;
/// 409 when the address got an account meanwhile (sign in instead); 403 or 409 when the rules refuse the
/// organization now (suspended, seat limit, domain taken).
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", operation_id = "verifyEmail", request_body = VerifyEmailRequest,
    security(()),
    responses(
        (status = 200, description = "Account created and signed in", body = TokenResponse),
        BadRequest, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<VerifyEmailRequest>,
) -> Result<axum::Json<TokenResponse>, ServiceError> {
    let signed_in = verification::verify(&state, &req.token, SessionKind::Api, &meta).await?;
    Ok(axum::Json(signed_in.into()))
}

/// Send the confirmation link again
///
/// With the email and password of a registration still waiting for its link: a new link (the old one stops
/// working), at most one a minute and five per registration (429). 401 for a wrong email or password, like
/// sign-in, and throttled like it.
#[utoipa::path(post, path = "/api/auth/verify-email/resend", tag = "auth", operation_id = "resendVerification", request_body = LoginRequest,
    security(()),
    responses(
        (status = 202, description = "A new link is on its way", body = PendingRegistration),
        BadRequest, Unauthorized, Forbidden, TooManyRequests, Unavailable,
    ))]
pub async fn resend_verification(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ServiceError> {
    let pending = verification::resend(&state, &req.email, &req.password, &meta).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(PendingRegistration::from(pending))).into_response())
}

/// Sign in with email and password
///
/// Answers a token; with MFA on, its `stage` is `mfa_pending` and it is good only for `POST /api/auth/mfa`.
/// 401 for a wrong email or password (the same answer, at the same cost), 403 for a disabled account or a
/// suspended organization, 403 with type `https://neosc.dev/problems/email-unverified` for the right password
/// of a registration whose email link is unused, 429 after repeated failures for the account or the address.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", operation_id = "login", request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "Signed in, or the first step of it", body = TokenResponse),
        BadRequest, Unauthorized, Forbidden, TooManyRequests, Unavailable,
    ))]
pub async fn login(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<axum::Json<TokenResponse>, ServiceError> {
    let signed_in = auth::login(&state, &req.email, &req.password, &meta, SessionKind::Api).await?;
    Ok(axum::Json(signed_in.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthenticateRequest {
    /// The account's current password.
    #[schema(min_length = 1, format = Password)]
    pub password: String,
}

/// Confirm the password again (recent sign-in)
///
/// Creating an API token, setting up or turning off two-factor authentication and linking an SSO identity
/// need a sign-in from the last 5 minutes; otherwise they answer 403 with type
/// `https://neosc.dev/problems/reauthentication-required`. This proves the password again: the session
/// the request came with ends and the answer carries its replacement, signed in now. 400 for a wrong
/// password (counted like a failed sign-in: 429 after repeated failures), 409 for an account that signs in
/// only through SSO (start `/auth/sso/start` with `reauth=1` instead), 403 for an API token.
#[utoipa::path(post, path = "/api/auth/reauthenticate", tag = "auth", operation_id = "reauthenticate",
    request_body = ReauthenticateRequest,
    responses(
        (status = 200, description = "Confirmed: use this new token from now on", body = TokenResponse),
        BadRequest, Unauthorized, Forbidden, Conflict, TooManyRequests, Unavailable,
    ))]
pub async fn reauthenticate(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(req): ApiJson<ReauthenticateRequest>,
) -> Result<axum::Json<TokenResponse>, ServiceError> {
    let signed_in = reauth::reauthenticate(&state, &principal, &req.password, SessionKind::Api, &meta).await?;
    Ok(axum::Json(signed_in.into()))
}

/// Sign out
///
/// Ends the session the request came with, at any sign-in stage. A personal API token is not a session:
/// revoke it instead (400).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", operation_id = "logout",
    responses(
        (status = 204, description = "Session ended on the server"),
        BadRequest, Unauthorized, Forbidden,
    ))]
pub async fn logout(State(state): State<AppState>, Meta(meta): Meta, AnyStage(principal): AnyStage) -> Result<StatusCode, ServiceError> {
    auth::logout(&state, &principal, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", operation_id = "me",
    responses(
        (status = 200, description = "The signed-in user", body = User),
        Unauthorized, Forbidden,
    ))]
pub async fn me(Authenticated(principal): Authenticated) -> axum::Json<User> {
    axum::Json(auth::me(&principal))
}

/// Finish signing in with a second factor
///
/// With the `mfa_pending` token from `POST /api/auth/login`: a TOTP code or a recovery code. 400 for a
/// wrong or reused code, 403 when the session owes no code, 429 after repeated wrong codes.
#[utoipa::path(post, path = "/api/auth/mfa", tag = "auth", operation_id = "completeMfa", request_body = CodeRequest,
    responses(
        (status = 200, description = "Second factor accepted; a new token replaces the pending one", body = TokenResponse),
        BadRequest, Unauthorized, Forbidden, TooManyRequests,
    ))]
pub async fn mfa_step(
    State(state): State<AppState>,
    Meta(meta): Meta,
    AnyStage(principal): AnyStage,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<axum::Json<TokenResponse>, ServiceError> {
    let signed_in = mfa::complete_sign_in(&state, &principal, &req.code, SessionKind::Api, &meta).await?;
    Ok(axum::Json(signed_in.into()))
}
