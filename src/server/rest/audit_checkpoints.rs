//! Signed checkpoints of the audit log (issue 13): the installation's
//! public key for everyone, an organization's checkpoints for its org
//! admins and platform admins (another organization's answer 404).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::problems::{BadRequest, Forbidden, NotFound, Unauthorized};
use super::schema::OrganizationId;
use super::{ApiJson, ApiPath, Authenticated, Meta};
use crate::server::error::ServiceError;
use crate::server::service::audit_checkpoints::{self, Checkpoint, CheckpointCheck, CheckpointFile, PublicKeyInfo};
use crate::server::service::org_id;
use crate::server::state::AppState;

const ORG_ID: &str = "The organization's id";

/// The key audit checkpoints are signed with
///
/// The installation's Ed25519 public key, raw (base64) and as PEM, with its `key_id` (the first 16 hex digits of
/// SHA-256 of the raw key). Public: keep it outside the installation to verify checkpoints with.
#[utoipa::path(get, path = "/api/audit/public-key", tag = "audit", operation_id = "auditPublicKey",
    security(()),
    responses((status = 200, description = "The public key", body = PublicKeyInfo)))]
pub async fn public_key(State(state): State<AppState>) -> axum::Json<PublicKeyInfo> {
    axum::Json(audit_checkpoints::public_key(&state))
}

/// List the organization's signed audit checkpoints
///
/// Newest first (at most 100), one per day on which the audit log had new events: the statement
/// `{"chain","seq","hash","signed_at","key_id"}` and its Ed25519 signature (base64) over the statement's compact
/// JSON in that field order.
#[utoipa::path(get, path = "/api/organizations/{id}/audit/checkpoints", tag = "audit", operation_id = "listAuditCheckpoints",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The checkpoints, newest first", body = [Checkpoint]),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn list(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Vec<Checkpoint>>, ServiceError> {
    Ok(axum::Json(audit_checkpoints::list_org(&state, &principal, org_id(&id)?, &meta).await?))
}

/// Download the newest signed audit checkpoint
///
/// A JSON file `{statement, signature, public_key}` to keep outside the installation. Later,
/// `POST /api/organizations/{id}/audit/verify` with it (or `neosc audit verify --org … --checkpoint FILE`) proves
/// that the log still holds what it held then. 404 until the first checkpoint is signed.
#[utoipa::path(get, path = "/api/organizations/{id}/audit/checkpoints/latest", tag = "audit", operation_id = "downloadLatestAuditCheckpoint",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The newest checkpoint, as an attachment", body = CheckpointFile,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"neosc-audit-checkpoint-<org>-<day>.json\""))),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn latest(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ServiceError> {
    let org = org_id(&id)?;
    let (day, file) = audit_checkpoints::latest_org(&state, &principal, org, &meta).await?;
    let name = format!("attachment; filename=\"neosc-audit-checkpoint-{}-{day}.json\"", crate::model::OrgId(org));
    Ok(([(header::CONTENT_DISPOSITION, name)], axum::Json(file)).into_response())
}

/// Check a kept audit checkpoint
///
/// Verifies the checkpoint's signature with this installation's key, replays the organization's chain, and checks
/// that its event at the checkpoint's `seq` still has the checkpoint's `hash`. `holds: false` with a `reason` when
/// it does not: a chain rewritten and re-hashed after the checkpoint replays intact but fails here.
#[utoipa::path(post, path = "/api/organizations/{id}/audit/verify", tag = "audit", operation_id = "verifyAuditCheckpoint",
    request_body = CheckpointFile,
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "What the check found", body = CheckpointCheck),
        BadRequest, Unauthorized, Forbidden, NotFound,
    ))]
pub async fn verify_checkpoint(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(file): ApiJson<CheckpointFile>,
) -> Result<axum::Json<CheckpointCheck>, ServiceError> {
    Ok(axum::Json(audit_checkpoints::verify_org_checkpoint(&state, &principal, org_id(&id)?, &file, &meta).await?))
}
