use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, orgs};
use crate::model::{Organization, Role, User};
use crate::server::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(title = "NeoSC API", description = "Multi-tenant admin console for secure cloud workspaces."),
    paths(auth::register, auth::login, auth::logout, auth::me, orgs::list),
    components(schemas(Organization, User, Role, Problem, auth::RegisterRequest, auth::LoginRequest, auth::TokenResponse)),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Accounts and sessions"), (name = "organizations", description = "Tenants"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
