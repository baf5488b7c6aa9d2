//! The audit page's server functions: one page of an organization's log,
//! and a replay of its hash chain. Same rules as the REST API
//! (`service::audit_log`, `service::audit`).

use leptos::prelude::*;

use crate::model::{AppError, AuditFilter, AuditPage, ChainReport};

/// One page of organization `org_id`'s events matching `filter`, newest
/// first (`filter.before` from the previous page's `next_before`). An
/// absent filter is the whole log.
#[server(prefix = "/api/fn", endpoint = "list_audit_events")]
pub async fn list_audit_events(org_id: String, #[server(default)] filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let org = service::org_id(&org_id).map_err(sfn::fail)?;
    service::audit_log::list(&call.state, &principal, org, &filter, &call.meta).await.map_err(sfn::fail)
}

/// Replays organization `org_id`'s chain from seq 1 to its head.
#[server(prefix = "/api/fn", endpoint = "verify_audit_log")]
pub async fn verify_audit_log(org_id: String) -> Result<ChainReport, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let org = service::org_id(&org_id).map_err(sfn::fail)?;
    service::audit::verify_org(&call.state, &principal, org, &call.meta).await.map_err(sfn::fail)
}
