//! Extractors that turn a request into service inputs: the caller, their
//! request metadata, and JSON bodies whose errors are problem+json.

use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::server::auth::credentials::{token_from_headers, RequestMeta, SessionKindSlot};
use crate::server::error::ServiceError;
use crate::server::service::{auth, Principal};
use crate::server::state::AppState;

/// The signed-in caller, from the bearer token or the session cookie.
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from_headers(&state.config, &parts.headers);
        let principal = auth::authenticate(state, token.as_deref()).await?;
        note_session_kind(parts, &principal);
        Ok(Authenticated(principal))
    }
}

/// A caller whose session may still owe a sign-in step (MFA code, MFA
/// enrolment, password change); only the endpoints for those steps take it.
pub struct AnyStage(pub Principal);

impl FromRequestParts<AppState> for AnyStage {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from_headers(&state.config, &parts.headers);
        let principal = auth::authenticate_any_stage(state, token.as_deref()).await?;
        note_session_kind(parts, &principal);
        Ok(AnyStage(principal))
    }
}

/// Puts how the caller was authenticated where the request's `Meta` sees
/// it, whichever of the two extractors ran first.
fn note_session_kind(parts: &mut Parts, principal: &Principal) {
    if let Some(kind) = principal.session_kind() {
        SessionKindSlot::of(&mut parts.extensions).set(kind);
    }
}

/// Who is asking: IP and user agent, and (once the caller is resolved) how
/// they were authenticated.
pub struct Meta(pub RequestMeta);

impl FromRequestParts<AppState> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let connect = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        let meta = RequestMeta::from_parts(&state.config, &parts.headers, connect);
        Ok(Meta(RequestMeta { session: SessionKindSlot::of(&mut parts.extensions), ..meta }))
    }
}

/// `axum::Json`, but a body that is not valid JSON or misses a field is a
/// 400 problem+json that says what is wrong. Every request body is a JSON
/// object: serde would also fill a struct from an array (`[null, null]`
/// as its first two fields), which the schema does not allow, so anything
/// but an object is refused before the fields are read.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ServiceError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(ServiceError::validation("The body must be a JSON object.".to_owned()));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ServiceError::validation(format!("The body does not match the expected fields: {e}")))
    }
}

impl From<JsonRejection> for ServiceError {
    fn from(r: JsonRejection) -> Self {
        let message = match &r {
            JsonRejection::MissingJsonContentType(_) => "Send the body as JSON with Content-Type: application/json.".to_owned(),
            JsonRejection::JsonSyntaxError(_) => format!("The body is not valid JSON: {}", r.body_text()),
            _ => format!("The body does not match the expected fields: {}", r.body_text()),
        };
        ServiceError::validation(message)
    }
}

/// `axum::extract::Query`, but a malformed query string is a 400
/// problem+json naming what is wrong.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ServiceError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for ServiceError {
    fn from(r: QueryRejection) -> Self {
        ServiceError::validation(format!("The query string does not match the expected parameters: {}", r.body_text()))
    }
}

/// `axum::extract::Path`, but a segment that cannot be what the route
/// names (for example not a UUID) answers 404 problem+json: no such thing.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ServiceError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for ServiceError {
    fn from(_: PathRejection) -> Self {
        ServiceError::NotFound("No such resource.".into())
    }
}
