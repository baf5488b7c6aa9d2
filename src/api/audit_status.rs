//! The audit page's chain status line: the replay's verdict and the day of
//! the latest signed checkpoint.

use leptos::prelude::*;

use crate::model::{AppError, AuditChainStatus};

/// Replays the organization's chain (org admins of it, platform admins).
#[server(prefix = "/api/fn", endpoint = "get_audit_chain_status")]
pub async fn get_audit_chain_status(id: String) -> Result<AuditChainStatus, AppError> {
    use crate::server::service::{audit, audit_checkpoints, org_id};
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    let org = org_id(&id).map_err(sfn::fail)?;
    let report = audit::verify_org(&call.state, &principal, org, &call.meta).await.map_err(sfn::fail)?;
    let checkpoints = audit_checkpoints::list_org(&call.state, &principal, org, &call.meta).await.map_err(sfn::fail)?;
    Ok(AuditChainStatus {
        intact: report.intact,
        head_seq: report.head_seq.unwrap_or_default(),
        first_broken_seq: report.first_broken_seq,
        reason: report.reason,
        purged_through_seq: report.purged_through_seq,
        last_checkpoint: checkpoints.into_iter().next().map(|c| c.day),
    })
}
