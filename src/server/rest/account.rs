//! `/api/account/…`: the caller's own password, sessions, API tokens and
//! second factor.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{CodeRequest, TokenResponse};
use super::problems::{BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unavailable};
use super::schema::{Int, NewPassword, TokenName};
use super::{AnyStage, ApiJson, ApiPath, Authenticated, Meta};
use crate::model::{ApiTokenView, CreatedApiToken, MfaStatus, SessionView, TotpSetupView};
use crate::server::db::SessionKind;
use crate::server::error::ServiceError;
use crate::server::service::{account, mfa};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// A wrong one answers 400 (`field: current_password`) and counts as a
    /// failed sign-in for throttling.
    #[schema(format = Password)]
    pub current_password: String,
    /// Must differ from the current one.
    #[schema(value_type = NewPassword)]
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    #[schema(value_type = TokenName)]
    pub name: String,
    /// Days until the token stops working (1 to the installation's `NEOSC_API_TOKEN_MAX_DAYS`, 365 unless
    /// set); omitted or `null`: 90. No token lives for ever. Creating one needs a sign-in from the last 5
    /// minutes (403 `reauthentication-required`: `POST /api/auth/reauthenticate`).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 365)]
    pub expires_in_days: Option<Int>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentResult {
    /// Ten one-time codes, shown this once.
    pub recovery_codes: Vec<String>,
    /// When enrolment was what the sign-in still owed: the new session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<TokenResponse>,
}

/// 204 when the session stays as it was, 200 with the new token when the
/// step moved the sign-in on.
fn maybe_token(next: Option<crate::server::service::auth::SignedIn>) -> Response {
    match next {
        Some(s) => axum::Json(TokenResponse::from(s)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Change the caller's password
///
/// Needs the current password (400 when wrong; repeated failures are throttled, 429). Every other session
/// of the account ends. A sign-in that owed a password change moves on: 200 with the new token. 409 for
/// an account that signs in through SSO and has no password here.
#[utoipa::path(post, path = "/api/account/password", tag = "account", operation_id = "changePassword", request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every other session ended"),
        (status = 200, description = "Changed; the sign-in moved on with this new token", body = TokenResponse),
        BadRequest, Unauthorized, Forbidden, Conflict, TooManyRequests, Unavailable,
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    Meta(meta): Meta,
    AnyStage(principal): AnyStage,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<Response, ServiceError> {
    let next = account::change_password(&state, &principal, &req.current_password, &req.new_password, SessionKind::Api, &meta).await?;
    Ok(maybe_token(next))
}

/// List the caller's sessions
#[utoipa::path(get, path = "/api/account/sessions", tag = "account", operation_id = "listSessions",
    responses((status = 200, description = "The caller's live sessions, newest first", body = [SessionView]), Unauthorized, Forbidden))]
pub async fn sessions(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<axum::Json<Vec<SessionView>>, ServiceError> {
    let list = account::list_sessions(&state, &principal).await?;
    Ok(axum::Json(list.iter().map(SessionView::from).collect()))
}

/// End one of the caller's sessions
///
/// Signs that browser or client out. 404 when the caller has no such session.
#[utoipa::path(delete, path = "/api/account/sessions/{id}", tag = "account", operation_id = "endSession",
    params(("id" = Uuid, Path, description = "A session id from `GET /api/account/sessions`")),
    responses(
        (status = 204, description = "Session ended"),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn end_session(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ServiceError> {
    account::end_session(&state, &principal, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the caller's API tokens
#[utoipa::path(get, path = "/api/account/tokens", tag = "account", operation_id = "listTokens",
    responses((status = 200, description = "The caller's API tokens, without their secrets", body = [ApiTokenView]), Unauthorized, Forbidden))]
pub async fn tokens(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<axum::Json<Vec<ApiTokenView>>, ServiceError> {
    let list = account::list_api_tokens(&state, &principal).await?;
    Ok(axum::Json(list.iter().map(ApiTokenView::from).collect()))
}

/// Create a personal API token
///
/// The token (`nsc_pat_…`) works as a bearer token until it expires or is revoked; it is shown this once.
/// Only from a signed-in session: a request authenticated with an API token is refused (403).
#[utoipa::path(post, path = "/api/account/tokens", tag = "account", operation_id = "createToken", request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created; the token is shown this once", body = CreatedApiToken,
            headers(("Location" = String, description = "The new token's URL"))),
        BadRequest, Unauthorized, Forbidden,
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<Response, ServiceError> {
    let created = account::create_api_token(&state, &principal, &req.name, req.expires_in_days.map(|d| d.0), &meta).await?;
    let location = format!("/api/account/tokens/{}", created.record.id);
    let body = CreatedApiToken { token: created.token, info: (&created.record).into() };
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(body)).into_response())
}

/// One of the caller's API tokens
#[utoipa::path(get, path = "/api/account/tokens/{id}", tag = "account", operation_id = "getToken",
    params(("id" = Uuid, Path, description = "An API token id")),
    responses(
        (status = 200, description = "The token, without its secret", body = ApiTokenView),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn token(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<axum::Json<ApiTokenView>, ServiceError> {
    let list = account::list_api_tokens(&state, &principal).await?;
    list.iter()
        .find(|t| t.id == id)
        .map(|t| axum::Json(ApiTokenView::from(t)))
        .ok_or_else(|| ServiceError::NotFound("No such API token.".into()))
}

/// Revoke one of the caller's API tokens
///
/// It stops working at once. 404 when the caller has no such token.
#[utoipa::path(delete, path = "/api/account/tokens/{id}", tag = "account", operation_id = "revokeToken",
    params(("id" = Uuid, Path, description = "An API token id")),
    responses(
        (status = 204, description = "Revoked"),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ServiceError> {
    account::revoke_api_token(&state, &principal, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's second factor
///
/// Also during a sign-in that owes MFA enrolment.
#[utoipa::path(get, path = "/api/account/mfa", tag = "account", operation_id = "mfaStatus",
    responses((status = 200, description = "The caller's second factor", body = MfaStatus), Unauthorized, Forbidden))]
pub async fn mfa_status(State(state): State<AppState>, AnyStage(principal): AnyStage) -> Result<axum::Json<MfaStatus>, ServiceError> {
    Ok(axum::Json(account::mfa_status(&state, &principal).await?))
}

/// Start setting up an authenticator app
///
/// A new TOTP secret, pending until `POST /api/account/mfa/totp/confirm`. 409 when MFA is already on.
#[utoipa::path(post, path = "/api/account/mfa/totp/setup", tag = "account", operation_id = "setupTotp",
    responses(
        (status = 200, description = "A new secret, pending until confirmed", body = TotpSetupView),
        Unauthorized, Forbidden, Conflict,
    ))]
pub async fn totp_setup(
    State(state): State<AppState>,
    Meta(meta): Meta,
    AnyStage(principal): AnyStage,
) -> Result<axum::Json<TotpSetupView>, ServiceError> {
    let setup = mfa::begin_enrolment(&state, &principal, &meta).await?;
    Ok(axum::Json(TotpSetupView { secret: setup.secret, otpauth_uri: setup.otpauth_uri, qr_svg: setup.qr_svg }))
}

/// Confirm the authenticator app and turn MFA on
///
/// With a current code from the app set up by `POST /api/account/mfa/totp/setup` (400 when wrong, 409
/// when no set-up is pending). Answers ten recovery codes, shown this once; a sign-in that owed enrolment
/// moves on with a new session.
#[utoipa::path(post, path = "/api/account/mfa/totp/confirm", tag = "account", operation_id = "confirmTotp", request_body = CodeRequest,
    responses(
        (status = 200, description = "MFA is on; recovery codes shown once", body = EnrolmentResult),
        BadRequest, Unauthorized, Forbidden, Conflict, TooManyRequests,
    ))]
pub async fn totp_confirm(
    State(state): State<AppState>,
    Meta(meta): Meta,
    AnyStage(principal): AnyStage,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<axum::Json<EnrolmentResult>, ServiceError> {
    let (recovery_codes, next) = mfa::confirm_enrolment(&state, &principal, &req.code, SessionKind::Api, &meta).await?;
    Ok(axum::Json(EnrolmentResult { recovery_codes, session: next.map(TokenResponse::from) }))
}

/// Turn MFA off
///
/// Needs a current code or a recovery code (400 when wrong). 403 when the organization requires MFA, 409
/// when MFA is already off.
#[utoipa::path(post, path = "/api/account/mfa/disable", tag = "account", operation_id = "disableMfa", request_body = CodeRequest,
    responses(
        (status = 204, description = "MFA is off"),
        BadRequest, Unauthorized, Forbidden, Conflict, TooManyRequests,
    ))]
pub async fn mfa_disable(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<StatusCode, ServiceError> {
    mfa::disable(&state, &principal, &req.code, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the confirmation mail went out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationSent {
    /// False when the mail server refused or could not be reached (logged); ask again in a minute.
    pub mail_sent: bool,
}

/// Send a link that confirms my email address
///
/// For an account whose address was never confirmed (made from an invitation link the admin saw, or before
/// verified email): mails a link, valid 24 hours, that works only while signed in as this account. At most
/// one a minute (429); 409 when the address is confirmed already.
#[utoipa::path(post, path = "/api/account/email/confirmation", tag = "account", operation_id = "requestEmailConfirmation",
    responses(
        (status = 202, description = "Mailed", body = ConfirmationSent),
        Unauthorized, Forbidden, Conflict, TooManyRequests,
    ))]
pub async fn request_email_confirmation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
) -> Result<(StatusCode, axum::Json<ConfirmationSent>), ServiceError> {
    let mail_sent = crate::server::service::email_confirmation::request(&state, &principal, &meta).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(ConfirmationSent { mail_sent })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmEmailRequest {
    /// The token from the mailed link (`/confirm-email/<token>`).
    #[schema(min_length = 1, max_length = 200)]
    pub token: String,
}

/// Confirm my email address
///
/// With the token from the mailed link, signed in as the account it was made for. 404 when the link is not
/// valid for this account (used, replaced, expired, another account's or another address's).
#[utoipa::path(post, path = "/api/account/email/confirm", tag = "account", operation_id = "confirmEmail", request_body = ConfirmEmailRequest,
    responses(
        (status = 204, description = "Confirmed"),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
pub async fn confirm_email(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(req): ApiJson<ConfirmEmailRequest>,
) -> Result<StatusCode, ServiceError> {
    crate::server::service::email_confirmation::confirm(&state, &principal, &req.token, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
