//! `/api/invitations/{token}`: the invitee's side. Public: the token in the
//! link is the credential.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::TokenResponse;
use super::{ApiJson, Meta};
use crate::model::InvitationPreview;
use crate::server::db::SessionKind;
use crate::server::error::{Problem, ServiceError};
use crate::server::service::invitations;
use crate::server::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub name: String,
    pub password: String,
}

#[utoipa::path(get, path = "/api/invitations/{token}", tag = "invitations", params(("token" = String, Path)),
    responses(
        (status = 200, description = "Who invites whom", body = InvitationPreview),
        (status = 404, description = "Used, revoked, replaced or expired", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn preview(State(state): State<AppState>, Path(token): Path<String>) -> Result<axum::Json<InvitationPreview>, ServiceError> {
    Ok(axum::Json(invitations::preview(&state, &token).await?))
}

#[utoipa::path(post, path = "/api/invitations/{token}/accept", tag = "invitations", request_body = AcceptRequest, params(("token" = String, Path)),
    responses(
        (status = 201, description = "Account created in the inviting organization and signed in", body = TokenResponse),
        (status = 400, description = "Invalid name or password", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Used, revoked, replaced or expired", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Seat limit reached, or the email already has an account", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Result<(StatusCode, axum::Json<TokenResponse>), ServiceError> {
    let signed_in = invitations::accept(&state, &token, &req.name, &req.password, SessionKind::Api, &meta).await?;
    Ok((StatusCode::CREATED, axum::Json(signed_in.into())))
}
