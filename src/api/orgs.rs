use leptos::prelude::*;

use crate::model::{AppError, Organization, Page};

/// One page of the organizations the caller may see (all for a platform
/// admin), optionally only those whose name or domain contains `q`.
#[server(prefix = "/api/fn", endpoint = "list_organizations")]
pub async fn list_organizations(q: Option<String>, offset: i64) -> Result<Page<Organization>, AppError> {
    use crate::server::service::orgs::{list_visible, MAX_PAGE};
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    list_visible(&call.state, &principal, q.as_deref(), MAX_PAGE, offset).await.map_err(sfn::fail)
}
