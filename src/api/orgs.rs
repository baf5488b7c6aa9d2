use leptos::prelude::*;

use crate::model::{AppError, Organization};

/// The organizations the caller may see (all for a platform admin).
#[server(prefix = "/api/fn", endpoint = "list_organizations")]
pub async fn list_organizations() -> Result<Vec<Organization>, AppError> {
    use crate::server::service::orgs::{list_visible, MAX_PAGE};
    use crate::server::sfn;

    let (call, principal) = sfn::principal().await?;
    list_visible(&call.state, &principal, MAX_PAGE, 0).await.map_err(sfn::fail)
}
