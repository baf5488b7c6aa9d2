//! `/api/account/…`: the caller's own password, sessions, API tokens and
//! second factor.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{CodeRequest, TokenResponse};
use super::{AnyStage, ApiJson, Authenticated, Meta};
use crate::model::{ApiTokenView, CreatedApiToken, MfaStatus, SessionView, TotpSetupView};
use crate::server::db::SessionKind;
use crate::server::error::{Problem, ServiceError};
use crate::server::service::{account, mfa};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// Days until the token stops working (1–366); omitted, it does not expire.
    pub expires_in_days: Option<i64>,
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

#[utoipa::path(post, path = "/api/account/password", tag = "account", request_body = ChangePasswordRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; every other session ended"),
        (status = 200, description = "Changed; the sign-in moved on with this new token", body = TokenResponse),
        (status = 400, description = "Wrong current password or weak new one", body = Problem, content_type = "application/problem+json"),
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

#[utoipa::path(get, path = "/api/account/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The caller's live sessions, newest first", body = [SessionView])))]
pub async fn sessions(State(state): State<AppState>, Authenticated(principal): Authenticated) -> Result<axum::Json<Vec<SessionView>>, ServiceError> {
    let list = account::list_sessions(&state, &principal).await?;
    Ok(axum::Json(list.iter().map(SessionView::from).collect()))
}

#[utoipa::path(post, path = "/api/account/sessions/{id}/end", tag = "account", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Session ended"),
        (status = 404, description = "The caller has no such session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_session(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ServiceError> {
    account::end_session(&state, &principal, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/account/tokens", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The caller's API tokens", body = [ApiTokenView])))]
pub async fn tokens(State(state): State<AppState>, Authenticated(principal): Authenticated) -> Result<axum::Json<Vec<ApiTokenView>>, ServiceError> {
    let list = account::list_api_tokens(&state, &principal).await?;
    Ok(axum::Json(list.iter().map(ApiTokenView::from).collect()))
}

#[utoipa::path(post, path = "/api/account/tokens", tag = "account", request_body = CreateTokenRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the token is shown this once", body = CreatedApiToken),
        (status = 400, description = "Bad name or expiry", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, axum::Json<CreatedApiToken>), ServiceError> {
    let created = account::create_api_token(&state, &principal, &req.name, req.expires_in_days, &meta).await?;
    Ok((StatusCode::CREATED, axum::Json(CreatedApiToken { token: created.token, info: (&created.record).into() })))
}

#[utoipa::path(post, path = "/api/account/tokens/{id}/revoke", tag = "account", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "The caller has no such token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ServiceError> {
    account::revoke_api_token(&state, &principal, id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/account/mfa", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The caller's second factor", body = MfaStatus)))]
pub async fn mfa_status(State(state): State<AppState>, AnyStage(principal): AnyStage) -> Result<axum::Json<MfaStatus>, ServiceError> {
    Ok(axum::Json(account::mfa_status(&state, &principal).await?))
}

#[utoipa::path(post, path = "/api/account/mfa/totp/setup", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, description = "A new secret, pending until confirmed", body = TotpSetupView),
        (status = 409, description = "MFA is already on", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn totp_setup(State(state): State<AppState>, AnyStage(principal): AnyStage) -> Result<axum::Json<TotpSetupView>, ServiceError> {
    let setup = mfa::begin_enrolment(&state, &principal).await?;
    Ok(axum::Json(TotpSetupView { secret: setup.secret, otpauth_uri: setup.otpauth_uri, qr_svg: setup.qr_svg }))
}

#[utoipa::path(post, path = "/api/account/mfa/totp/confirm", tag = "account", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "MFA is on; recovery codes shown once", body = EnrolmentResult),
        (status = 400, description = "Wrong code", body = Problem, content_type = "application/problem+json"),
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

#[utoipa::path(post, path = "/api/account/mfa/disable", tag = "account", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "MFA is off"),
        (status = 400, description = "Wrong code", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The organization requires MFA", body = Problem, content_type = "application/problem+json"),
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
