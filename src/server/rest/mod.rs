//! The JSON API under `/api`, compatible with the product spec's curl
//! examples, described by an OpenAPI document generated from this code.
//!
//! Every route is declared once: `routes!(module::handler)` below mounts
//! the handler at the method and path of its `#[utoipa::path]`, and the
//! same attribute is its entry in the document. `Api` has no other way to
//! add a route, so a handler cannot be served without being documented.
//! Adding a route: write the handler with `#[utoipa::path(...)]` (summary
//! = first doc line, `operation_id`, responses from `problems`), then add
//! one `.routes(routes!(...))` line here and a row in `tests/api/matrix.rs`.

mod account;
mod audit;
mod audit_checkpoints;
mod audit_streams;
mod auth;
mod docs;
mod domains;
mod extract;
mod health;
mod invitations;
mod openapi;
mod orgs;
mod problems;
mod schema;
mod sso;
mod users;
mod workspaces;

use axum::routing::get;
use axum::Router;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

pub use extract::{AnyStage, ApiJson, ApiPath, ApiQuery, Authenticated, Meta};
pub use openapi::{apply_password_policy, ApiDoc};

use super::state::AppState;

/// The documented API under construction. Only `routes` adds to it, and
/// `routes!` takes method and path from the handler's `#[utoipa::path]`.
pub(crate) struct Api(OpenApiRouter<AppState>);

impl Api {
    fn routes(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        Api(self.0.routes(routes))
    }
}

/// Every API route with its OpenAPI entry. Several handlers in one
/// `routes!` share a path (one per method).
pub(crate) fn api() -> Api {
    Api(openapi::base())
        .routes(routes!(auth::register))
        .routes(routes!(auth::verify_email))
        .routes(routes!(auth::resend_verification))
        .routes(routes!(auth::login))
        .routes(routes!(auth::reauthenticate))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::mfa_step))
        .routes(routes!(sso::exchange))
        .routes(routes!(sso::nonce))
        .routes(routes!(sso::start))
        .routes(routes!(sso::link))
        .routes(routes!(sso::callback))
        .routes(routes!(account::change_password))
        .routes(routes!(account::sessions))
        .routes(routes!(account::end_session))
        .routes(routes!(account::tokens, account::create_token))
        .routes(routes!(account::token, account::revoke_token))
        .routes(routes!(account::mfa_status))
        .routes(routes!(account::request_email_confirmation))
        .routes(routes!(account::confirm_email))
        .routes(routes!(account::totp_setup))
        .routes(routes!(account::totp_confirm))
        .routes(routes!(account::mfa_disable))
        .routes(routes!(users::update))
        .routes(routes!(users::disable))
        .routes(routes!(users::enable))
        .routes(routes!(users::end_sessions))
        .routes(routes!(orgs::list, orgs::create))
        .routes(routes!(orgs::detail, orgs::update))
        .routes(routes!(orgs::suspend))
        .routes(routes!(orgs::activate))
        .routes(routes!(orgs::list_members))
        .routes(routes!(orgs::remove_member))
        .routes(routes!(orgs::list_invitations, orgs::invite))
        .routes(routes!(orgs::invitation, orgs::revoke_invitation))
        .routes(routes!(orgs::resend_invitation))
        .routes(routes!(domains::list, domains::add))
        .routes(routes!(domains::verify))
        .routes(routes!(domains::remove))
        .routes(routes!(audit::verify))
        .routes(routes!(audit_checkpoints::verify_checkpoint))
        .routes(routes!(audit_checkpoints::public_key))
        .routes(routes!(audit_checkpoints::list))
        .routes(routes!(audit_checkpoints::latest))
        .routes(routes!(audit_streams::get, audit_streams::create, audit_streams::update, audit_streams::delete))
        .routes(routes!(audit_streams::rotate_secret))
        .routes(routes!(audit::list))
        .routes(routes!(audit::list_installation))
        .routes(routes!(audit::export))
        .routes(routes!(invitations::preview))
        .routes(routes!(invitations::accept))
        .routes(routes!(workspaces::list, workspaces::create))
        .routes(routes!(workspaces::detail, workspaces::update, workspaces::delete))
        .routes(routes!(workspaces::start))
        .routes(routes!(workspaces::stop))
        .routes(routes!(workspaces::restart))
        .routes(routes!(workspaces::suspend))
        .routes(routes!(workspaces::resume))
        .routes(routes!(workspaces::list_templates, workspaces::create_template))
        .routes(routes!(workspaces::usage))
        .routes(routes!(workspaces::quotas, workspaces::update_quotas))
}

/// Served next to the API but not operations of it: the document itself,
/// its rendered reference, and the health check. `tests/api/matrix.rs`
/// lists them by hand.
pub const UNDOCUMENTED: &[(&str, &str)] =
    &[("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", docs::SCRIPT_PATH), ("GET", "/healthz")];

pub fn router() -> Router<AppState> {
    let (router, doc) = api().0.split_for_parts();
    router
        .route("/api/openapi.json", get(openapi::document).layer(axum::Extension(openapi::Served::new(openapi::finish(doc)))))
        .route("/api/docs", get(docs::page))
        .route(docs::SCRIPT_PATH, get(docs::script))
        .route("/healthz", get(health::healthz))
}

/// The OpenAPI document as served (before the installation's password
/// policy is written into it).
pub fn document() -> utoipa::openapi::OpenApi {
    openapi::finish(api().0.into_openapi())
}
