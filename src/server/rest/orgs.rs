use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::Authenticated;
use crate::model::Organization;
use crate::server::error::{Problem, ServiceError};
use crate::server::service::orgs::{self, MAX_PAGE};
use crate::server::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Page {
    /// At most this many organizations (1–100, default 100).
    pub limit: Option<i64>,
    /// Skip this many (default 0).
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/organizations", tag = "organizations", params(Page), security(("bearer" = [])),
    responses(
        (status = 200, description = "The organizations the caller may see: all for a platform admin, else their own", body = [Organization]),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(page): Query<Page>,
) -> Result<axum::Json<Vec<Organization>>, ServiceError> {
    let list = orgs::list_visible(&state, &principal, page.limit.unwrap_or(MAX_PAGE), page.offset.unwrap_or(0)).await?;
    Ok(axum::Json(list))
}
