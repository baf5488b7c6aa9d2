//! `/api/organizations/{id}/audit/…`: the organization's audit log (issue
//! 13). Org admins of the organization and platform admins; another
//! organization's answers 404.

use axum::extract::State;

use super::problems::{Forbidden, NotFound, Unauthorized};
use super::schema::OrganizationId;
use super::{ApiPath, Authenticated, Meta};
use crate::server::error::ServiceError;
use crate::server::service::audit::{self, ChainReport};
use crate::server::service::org_id;
use crate::server::state::AppState;

/// Verify the audit log's hash chain
///
/// Replays the organization's events from seq 1 to the current head: each event must be present, follow the one
/// before (`prev_hash`) and hash to its stored `hash` (SHA-256 of the previous hash and the event's canonical JSON).
/// Answers `intact` with the head's seq and hash (keep them: a later answer must extend them), or the first seq
/// that does not hold and why.
#[utoipa::path(get, path = "/api/organizations/{id}/audit/verify", tag = "audit", operation_id = "verifyAuditLog",
    params(("id" = OrganizationId, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "What the replay found", body = ChainReport),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn verify(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<ChainReport>, ServiceError> {
    Ok(axum::Json(audit::verify_org(&state, &principal, org_id(&id)?, &meta).await?))
}
