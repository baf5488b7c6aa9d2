//! The JSON API under `/api`, compatible with the product spec's curl
//! examples, described by an OpenAPI document generated from this code.

mod account;
mod auth;
mod extract;
mod health;
mod invitations;
mod openapi;
mod orgs;
mod sso;
mod users;

use axum::routing::{get, post};
use axum::Router;

pub use extract::{AnyStage, ApiJson, Authenticated, Meta};
pub use openapi::ApiDoc;

use super::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/mfa", post(auth::mfa_step))
        .route("/api/auth/sso", post(sso::exchange))
        .route("/auth/sso/start", post(sso::start))
        .route("/auth/callback", get(sso::callback))
        .route("/api/account/password", post(account::change_password))
        .route("/api/account/sessions", get(account::sessions))
        .route("/api/account/sessions/{id}/end", post(account::end_session))
        .route("/api/account/tokens", get(account::tokens).post(account::create_token))
        .route("/api/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/api/account/mfa", get(account::mfa_status))
        .route("/api/account/mfa/totp/setup", post(account::totp_setup))
        .route("/api/account/mfa/totp/confirm", post(account::totp_confirm))
        .route("/api/account/mfa/disable", post(account::mfa_disable))
        .route("/api/users/{id}/role", post(users::change_role))
        .route("/api/users/{id}/disable", post(users::disable))
        .route("/api/users/{id}/enable", post(users::enable))
        .route("/api/users/{id}/sessions/end", post(users::end_sessions))
        .route("/api/organizations", get(orgs::list).post(orgs::create))
        .route("/api/organizations/{id}", get(orgs::detail).post(orgs::update))
        .route("/api/organizations/{id}/suspend", post(orgs::suspend))
        .route("/api/organizations/{id}/activate", post(orgs::activate))
        .route("/api/organizations/{id}/members", get(orgs::list_members))
        .route("/api/organizations/{id}/members/{user_id}/remove", post(orgs::remove_member))
        .route("/api/organizations/{id}/invitations", get(orgs::list_invitations).post(orgs::invite))
        .route("/api/organizations/{id}/invitations/{invitation_id}/revoke", post(orgs::revoke_invitation))
        .route("/api/organizations/{id}/invitations/{invitation_id}/resend", post(orgs::resend_invitation))
        .route("/api/invitations/{token}", get(invitations::preview))
        .route("/api/invitations/{token}/accept", post(invitations::accept))
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(health::healthz))
}
