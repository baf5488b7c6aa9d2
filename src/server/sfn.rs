//! What server functions need from the request: the app state, who is
//! asking, and a way to answer with the right status and cookies. Server
//! functions are public POST endpoints, so each one calls `principal()`
//! (or deliberately does not, for sign-in and registration).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use leptos::prelude::{expect_context, use_context};
use leptos_axum::ResponseOptions;

use super::auth::credentials::{session_cookie, token_from_headers, RequestMeta};
use super::error::{status_of, ServiceError};
use super::service::{auth, Principal};
use super::state::AppState;
use crate::model::{stage_path, AppError};

pub struct Call {
    pub state: AppState,
    pub meta: RequestMeta,
    pub token: Option<String>,
}

pub fn call() -> Result<Call, AppError> {
    let state = use_context::<AppState>().ok_or_else(|| fail(ServiceError::bug("AppState missing from context")))?;
    let parts = use_context::<Parts>().ok_or_else(|| fail(ServiceError::bug("request parts missing from context")))?;
    let meta = RequestMeta::from_parts(&state.config, &parts.headers, parts.extensions.get::<ConnectInfo<SocketAddr>>());
    let token = token_from_headers(&state.config, &parts.headers);
    Ok(Call { state, meta, token })
}

/// The signed-in caller, or an `Unauthorized` error.
pub async fn principal() -> Result<(Call, Principal), AppError> {
    let call = call()?;
    let principal = auth::authenticate(&call.state, call.token.as_deref()).await.map_err(fail)?;
    note_session_kind(&call, &principal);
    Ok((call, principal))
}

/// The caller even if their sign-in still owes a step; for the pages that
/// take those steps.
pub async fn principal_any_stage() -> Result<(Call, Principal), AppError> {
    let call = call()?;
    let principal = auth::authenticate_any_stage(&call.state, call.token.as_deref()).await.map_err(fail)?;
    note_session_kind(&call, &principal);
    Ok((call, principal))
}

/// How the caller was authenticated, for the audit events of this call.
fn note_session_kind(call: &Call, principal: &Principal) {
    if let Some(kind) = principal.session_kind() {
        call.meta.session.set(kind);
    }
}

/// Maps a service error to the server function's error, with the same HTTP
/// status the REST API would give.
pub fn fail(e: ServiceError) -> AppError {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(status_of(e.kind()));
    }
    e.into()
}

/// Gives the browser a new session: ends the one it came with (so no
/// session id survives a sign-in step), sets the cookie, and sends the page
/// on to what the sign-in still owes, or the console.
pub async fn start_session(call: &Call, signed_in: &auth::SignedIn) -> Result<(), AppError> {
    auth::discard_session(&call.state, call.token.as_deref()).await.map_err(fail)?;
    set_cookie(session_cookie(&call.state.config, &signed_in.token, signed_in.max_age_secs));
    leptos_axum::redirect(stage_path(signed_in.stage));
    Ok(())
}

pub fn set_cookie(value: HeaderValue) {
    expect_context::<ResponseOptions>().append_header(header::SET_COOKIE, value);
}
