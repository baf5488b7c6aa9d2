//! `/api/invitations/{token}`: the invitee's side. Public: the token in the
//! link is the credential.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::TokenResponse;
use super::problems::{BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unavailable};
use super::schema::{NewPassword, PersonName};
use super::{ApiJson, ApiPath, Meta};
use crate::model::InvitationPreview;
use crate::server::db::SessionKind;
use crate::server::error::ServiceError;
use crate::server::service::invitations;
use crate::server::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    #[schema(value_type = PersonName)]
    pub name: String,
    #[schema(value_type = NewPassword)]
    pub password: String,
}

/// Look at an invitation
///
/// Public: the token from the link is the credential. 404 when it was used, revoked, replaced or has
/// expired.
#[utoipa::path(get, path = "/api/invitations/{token}", tag = "invitations", operation_id = "previewInvitation",
    security(()),
    params(("token" = String, Path, description = "The token from the invitation link")),
    responses(
        (status = 200, description = "Who invites whom", body = InvitationPreview),
        NotFound,
    ))]
pub async fn preview(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Result<axum::Json<InvitationPreview>, ServiceError> {
    Ok(axum::Json(invitations::preview(&state, &token).await?))
}

/// Accept an invitation
///
/// Public: the token from the link is the credential. Creates the account in the inviting organization
/// and signs in. 404 when the invitation was used, revoked, replaced or has expired; 409 when the seat
/// limit is reached or the email already has an account.
#[utoipa::path(post, path = "/api/invitations/{token}/accept", tag = "invitations", operation_id = "acceptInvitation", request_body = AcceptRequest,
    security(()),
    params(("token" = String, Path, description = "The token from the invitation link")),
    responses(
        (status = 201, description = "Account created in the inviting organization and signed in", body = TokenResponse,
            headers(("Location" = String, description = "`/api/auth/me`: the new account, as its owner sees it"))),
        BadRequest, Forbidden, NotFound, Conflict, TooManyRequests, Unavailable,
    ))]
pub async fn accept(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Result<Response, ServiceError> {
    let signed_in = invitations::accept(&state, &token, &req.name, &req.password, SessionKind::Api, &meta).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, "/api/auth/me")], axum::Json(TokenResponse::from(signed_in))).into_response())
}
