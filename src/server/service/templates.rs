//! Workspace templates: what workspaces are made from. Everyone signed in
//! may read them (the create dialog lists them); platform admins manage.

use super::Principal;
use crate::model::{NewTemplateRequest, WorkspaceTemplate};
use crate::server::auth::credentials::RequestMeta;
use crate::server::error::ServiceResult;
use crate::server::state::AppState;

pub async fn list(state: &AppState, principal: &Principal) -> ServiceResult<Vec<WorkspaceTemplate>> {
    todo!()
}

pub async fn create(state: &AppState, principal: &Principal, req: &NewTemplateRequest, meta: &RequestMeta) -> ServiceResult<WorkspaceTemplate> {
    todo!()
}
