//! `/api/organizations/{id}/domains/…`: the domains an organization claims
//! and proves (issue 10, section 2). Org admins of the organization and
//! platform admins; another organization's answers 404.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::problems::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::schema::{Domain, OrganizationId};
use super::{ApiJson, ApiPath, Authenticated, Meta};
use crate::model::OrganizationDomain;
use crate::server::error::ServiceError;
use crate::server::service::{org_domains, org_id};
use crate::server::state::AppState;

const ORG_ID: &str = "The organization's id";

/// `POST /api/organizations/{id}/domains`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomainRequest {
    /// Lower-cased; a leading `@` or trailing dot is dropped.
    #[schema(value_type = Domain)]
    pub domain: String,
}
const DOMAIN: &str = "One of the organization's domains";

/// List an organization's domains
///
/// Each with its status, how it was verified, and the TXT record that proves it: publish `txt_value` at
/// `txt_name`, then verify. Only verified domains place people who register (with auto-join on).
#[utoipa::path(get, path = "/api/organizations/{id}/domains", tag = "domains", operation_id = "listDomains",
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 200, description = "The domains, alphabetically", body = [OrganizationDomain]),
        Unauthorized, Forbidden, NotFound,
    ))]
pub async fn list(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Vec<OrganizationDomain>>, ServiceError> {
    Ok(axum::Json(org_domains::list(&state, &principal, org_id(&id)?, &meta).await?))
}

/// Add a domain
///
/// An unverified claim with a fresh token: it places nobody and blocks nobody until verified. 409 when the
/// organization lists it already. Public mailbox providers and reserved names are refused (400).
#[utoipa::path(post, path = "/api/organizations/{id}/domains", tag = "domains", operation_id = "addDomain", request_body = NewDomainRequest,
    params(("id" = OrganizationId, Path, description = ORG_ID)),
    responses(
        (status = 201, description = "Added, unverified", body = OrganizationDomain,
            headers(("Location" = String, description = "The domain's verify URL"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn add(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NewDomainRequest>,
) -> Result<Response, ServiceError> {
    let added = org_domains::add(&state, &principal, org_id(&id)?, &req.domain, &meta).await?;
    let location = format!("/api/organizations/{id}/domains/{}/verify", added.domain);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(added)).into_response())
}

/// Verify a domain
///
/// Looks up `TXT _neosc-challenge.<domain>` and marks the domain verified when it holds
/// `neosc-verify=<token>`. 422 says what DNS returned instead (no record, another value, NXDOMAIN, timeout);
/// 409 when another organization verified the domain. Verifying a verified domain answers it unchanged.
#[utoipa::path(post, path = "/api/organizations/{id}/domains/{domain}/verify", tag = "domains", operation_id = "verifyDomain",
    params(("id" = OrganizationId, Path, description = ORG_ID), ("domain" = Domain, Path, description = DOMAIN)),
    responses(
        (status = 200, description = "Verified", body = OrganizationDomain),
        Unauthorized, Forbidden, NotFound, Conflict, Unprocessable,
    ))]
pub async fn verify(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath((id, domain)): ApiPath<(String, String)>,
) -> Result<axum::Json<OrganizationDomain>, ServiceError> {
    Ok(axum::Json(org_domains::verify(&state, &principal, org_id(&id)?, &domain, &meta).await?))
}

/// Remove a domain
///
/// A verified domain stops placing people at once. The primary domain cannot be removed (409): make another
/// verified domain primary first.
#[utoipa::path(delete, path = "/api/organizations/{id}/domains/{domain}", tag = "domains", operation_id = "removeDomain",
    params(("id" = OrganizationId, Path, description = ORG_ID), ("domain" = Domain, Path, description = DOMAIN)),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized, Forbidden, NotFound, Conflict,
    ))]
pub async fn remove(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Authenticated(principal): Authenticated,
    ApiPath((id, domain)): ApiPath<(String, String)>,
) -> Result<StatusCode, ServiceError> {
    org_domains::remove(&state, &principal, org_id(&id)?, &domain, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
