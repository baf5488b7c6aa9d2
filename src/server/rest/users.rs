//! `/api/users/{id}/…`: what admins do to other accounts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, Authenticated, Meta};
use crate::model::Role;
use crate::server::error::{Problem, ServiceError};
use crate::server::service::{user_id, users};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndedSessions {
    pub ended: u64,
}

#[utoipa::path(post, path = "/api/users/{id}/role", tag = "users", request_body = RoleRequest, params(("id" = String, Path, example = "usr-0193f6a2-7c1e-7a4b-9d2e-5f8a1b3c4d5e")), security(("bearer" = [])),
    responses(
        (status = 204, description = "Role changed; effective on the user's next request"),
        (status = 403, description = "Not allowed to grant that role or manage that user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no platform admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_role(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> Result<StatusCode, ServiceError> {
    users::change_role(&state, &principal, user_id(&id)?, req.role, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/users/{id}/disable", tag = "users", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Disabled; every session ended"),
        (status = 404, description = "No such user in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last platform admin, or the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable(State(state): State<AppState>, Meta(meta): Meta, Authenticated(principal): Authenticated, Path(id): Path<String>) -> Result<StatusCode, ServiceError> {
    users::set_disabled(&state, &principal, user_id(&id)?, true, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/users/{id}/enable", tag = "users", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Enabled"),
        (status = 404, description = "No such user in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enable(State(state): State<AppState>, Meta(meta): Meta, Authenticated(principal): Authenticated, Path(id): Path<String>) -> Result<StatusCode, ServiceError> {
    users::set_disabled(&state, &principal, user_id(&id)?, false, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/users/{id}/sessions/end", tag = "users", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Every session of the user ended", body = EndedSessions),
        (status = 404, description = "No such user in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn end_sessions(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<EndedSessions>, ServiceError> {
    let ended = users::end_sessions(&state, &principal, user_id(&id)?, &meta).await?;
    Ok(axum::Json(EndedSessions { ended }))
}
