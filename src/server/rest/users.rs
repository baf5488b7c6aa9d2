//! `/api/users/{id}…`: what admins do to other accounts.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problems::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::schema::UserId;
use super::{ApiJson, ApiPath, Authenticated, Meta};
use crate::model::Role;
use crate::server::error::ServiceError;
use crate::server::service::{user_id, users};
use crate::server::state::AppState;

/// The changes to make. `role` is the one field that can change today.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// Effective on the user's next request. Only platform admins grant or
    /// take `platform_admin`.
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndedSessions {
    /// How many sessions ended.
    #[schema(minimum = 0)]
    pub ended: u64,
}

/// Change a user's role
///
/// Org admins manage their own organization's non-platform members; platform admins anyone (403
/// otherwise). 409 when it would leave no active platform admin. A user of another organization
/// answers 404.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", operation_id = "updateUser", request_body = UpdateUserRequest,
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Changed"),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn update(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<StatusCode, ServiceError> {
    users::change_role(&state, &principal, user_id(&id)?, req.role, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a user
///
/// Every session of theirs ends and they cannot sign in until enabled again. 409 for the caller
/// themselves or the last active platform admin.
#[utoipa::path(post, path = "/api/users/{id}/disable", tag = "users", operation_id = "disableUser",
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Disabled; every session ended"),
        Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn disable(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ServiceError> {
    users::set_disabled(&state, &principal, user_id(&id)?, true, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a user again
#[utoipa::path(post, path = "/api/users/{id}/enable", tag = "users", operation_id = "enableUser",
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Enabled"),
        Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn enable(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ServiceError> {
    users::set_disabled(&state, &principal, user_id(&id)?, false, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of a user
///
/// Signs them out everywhere; their API tokens keep working.
#[utoipa::path(delete, path = "/api/users/{id}/sessions", tag = "users", operation_id = "endUserSessions",
    params(("id" = UserId, Path, description = "The user's id")),
    responses(
        (status = 200, description = "Every session of the user ended", body = EndedSessions),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn end_sessions(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<EndedSessions>, ServiceError> {
    let ended = users::end_sessions(&state, &principal, user_id(&id)?, &meta).await?;
    Ok(axum::Json(EndedSessions { ended }))
}
