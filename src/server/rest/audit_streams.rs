//! `/api/organizations/{id}/audit/stream`: the organization's audit stream
//! to its SIEM (issue 13, README "Streaming to a SIEM"). Org admins of the
//! organization and platform admins; another organization's answers 404.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::problems::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::schema::OrganizationId;
use super::{ApiJson, ApiPath, Authenticated, Meta};
use crate::model::{AuditStream, AuditStreamChanges, CreatedAuditStream, NewAuditStream};
use crate::server::error::ServiceError;
use crate::server::service::{audit_stream, org_id};
use crate::server::state::AppState;

const ORG_ID: &str = "The organization's id";

/// Show the audit stream
///
/// Where the stream stands: the last seq the receiver acknowledged, the log's newest seq and the lag between them,
/// the last error and failures in a row, and when the next attempt is due. Never the secret.
#[utoipa::path(get, path = "/api/organizations/{id}/audit/stream", tag = "audit", operation_id = "getAuditStream",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The stream", body = AuditStream),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn get(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<AuditStream>, ServiceError> {
    Ok(axum::Json(audit_stream::get(&state, &principal, org_id(&id)?, &meta).await?))
}

/// Stream the audit log to a SIEM
///
/// Events are POSTed in seq order, up to 100 per request, signed with HMAC-SHA256 (`X-NeoSC-Signature`). The
/// URL must be `https://` on a public address (422 otherwise). The secret is generated unless given (at least 32
/// characters) and answered only here. By default only events recorded from now on are sent; `start_seq` or
/// `from_beginning` send older ones. One stream per organization (409 when there is one).
#[utoipa::path(post, path = "/api/organizations/{id}/audit/stream", tag = "audit", operation_id = "createAuditStream",
    request_body = NewAuditStream,
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = CreatedAuditStream,
            headers(("Location" = String, description = "The stream's URL"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unprocessable,
    ))]
pub async fn create(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewAuditStream>,
) -> Result<Response, ServiceError> {
    let created = audit_stream::create(&state, &principal, org_id(&id)?, &req, &meta).await?;
    let location = format!("/api/organizations/{id}/audit/stream");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(created)).into_response())
}

/// Change the audit stream
///
/// A new URL (checked like at creation), enabled or not, or `start_seq` to go on from another seq: back to send
/// events again, forward to skip. Any change makes the stream due at once with its failures forgotten.
#[utoipa::path(patch, path = "/api/organizations/{id}/audit/stream", tag = "audit", operation_id = "updateAuditStream",
    request_body = AuditStreamChanges,
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The stream as changed", body = AuditStream),
        BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable,
    ))]
pub async fn update(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(changes): ApiJson<AuditStreamChanges>,
) -> Result<axum::Json<AuditStream>, ServiceError> {
    Ok(axum::Json(audit_stream::update(&state, &principal, org_id(&id)?, &changes, &meta).await?))
}

/// Delete the audit stream
///
/// Nothing more is sent. Creating a stream again starts from the log's newest seq unless told otherwise.
#[utoipa::path(delete, path = "/api/organizations/{id}/audit/stream", tag = "audit", operation_id = "deleteAuditStream",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ServiceError> {
    audit_stream::delete(&state, &principal, org_id(&id)?, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate the audit stream's secret
///
/// A new generated secret, answered this once; requests are signed with it from now on.
#[utoipa::path(post, path = "/api/organizations/{id}/audit/stream/rotate-secret", tag = "audit",
    operation_id = "rotateAuditStreamSecret",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The stream and its new secret", body = CreatedAuditStream),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<CreatedAuditStream>, ServiceError> {
    Ok(axum::Json(audit_stream::rotate_secret(&state, &principal, org_id(&id)?, &meta).await?))
}
