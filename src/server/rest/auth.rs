use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AnyStage, ApiJson, Authenticated, Meta};
use crate::model::User;
use crate::server::db::{SessionKind, SessionStage};
use crate::server::error::{Problem, ServiceError};
use crate::server::service::auth::{self, RegisterInput, SignedIn};
use crate::server::service::mfa;
use crate::server::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "user@neogenesys.com")]
    pub email: String,
    pub password: String,
    #[schema(example = "John Doe")]
    pub name: String,
    /// Join or create this organization; omitted, the email's domain decides.
    #[schema(example = "Neogenesys")]
    pub organization: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
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
    #[schema(example = "full")]
    pub stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
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
    pub code: String,
}

#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in", body = TokenResponse),
        (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The named organization does not accept this email's domain", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email or domain already taken, or seat limit reached", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, axum::Json<TokenResponse>), ServiceError> {
    let input = RegisterInput { email: req.email, password: req.password, name: req.name, organization: req.organization };
    let signed_in = auth::register(&state, input, &meta, SessionKind::Api).await?;
    Ok((StatusCode::CREATED, axum::Json(signed_in.into())))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Invalid input", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Email or password is incorrect", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Account disabled or organization suspended", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<axum::Json<TokenResponse>, ServiceError> {
    let signed_in = auth::login(&state, &req.email, &req.password, &meta, SessionKind::Api).await?;
    Ok(axum::Json(signed_in.into()))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Session ended on the server"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    Meta(meta): Meta,
    AnyStage(principal): AnyStage,
) -> Result<StatusCode, ServiceError> {
    auth::logout(&state, &principal, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(Authenticated(principal): Authenticated) -> axum::Json<User> {
    axum::Json(auth::me(&principal))
}

#[utoipa::path(post, path = "/api/auth/mfa", tag = "auth", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 200, description = "Second factor accepted; a new token replaces the pending one", body = TokenResponse),
        (status = 400, description = "Wrong or reused code", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No pending sign-in", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes", body = Problem, content_type = "application/problem+json"),
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
