//! The JSON API under `/api`, compatible with the product spec's curl
//! examples, described by an OpenAPI document generated from this code.

mod auth;
mod extract;
mod health;
mod openapi;
mod orgs;

use axum::routing::{get, post};
use axum::Router;

pub use extract::{ApiJson, Authenticated, Meta};
pub use openapi::ApiDoc;

use super::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/organizations", get(orgs::list))
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(health::healthz))
}
