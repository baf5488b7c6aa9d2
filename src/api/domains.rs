//! An organization's domains from its page: list, claim, prove through DNS,
//! remove. The rules (who may, what is claimable, what DNS must say) are
//! the service's (`server::service::org_domains`), as for the REST API.

use leptos::prelude::*;

use crate::model::{AppError, OrganizationDomain};

/// The organization id in a form, checked the way the REST API checks it.
#[cfg(feature = "ssr")]
fn org_uuid(raw: &str) -> Result<uuid::Uuid, AppError> {
    crate::server::service::org_id(raw).map_err(crate::server::sfn::fail)
}

/// The organization's domains, alphabetically, each with its TXT record.
#[server(prefix = "/api/fn", endpoint = "list_domains")]
pub async fn list_domains(id: String) -> Result<Vec<OrganizationDomain>, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::org_domains::list(&call.state, &principal, org_uuid(&id)?, &call.meta).await.map_err(sfn::fail)
}

/// Claims `domain` for the organization, unverified, with a fresh token.
#[server(prefix = "/api/fn", endpoint = "add_domain")]
pub async fn add_domain(id: String, domain: String) -> Result<OrganizationDomain, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::org_domains::add(&call.state, &principal, org_uuid(&id)?, &domain, &call.meta).await.map_err(sfn::fail)
}

/// Looks the TXT record up now; a failure (422) says what DNS returned.
#[server(prefix = "/api/fn", endpoint = "verify_domain")]
pub async fn verify_domain(id: String, domain: String) -> Result<OrganizationDomain, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::org_domains::verify(&call.state, &principal, org_uuid(&id)?, &domain, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "remove_domain")]
pub async fn remove_domain(id: String, domain: String) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::org_domains::remove(&call.state, &principal, org_uuid(&id)?, &domain, &call.meta).await.map_err(sfn::fail)
}
