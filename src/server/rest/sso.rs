//! Zitadel SSO over HTTP: the browser's redirect flow (`/auth/sso/start`,
//! `/auth/callback`) and the API clients' ID-token exchange
//! (`POST /api/auth/sso`).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::TokenResponse;
use super::problems::{BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unavailable};
use super::{ApiJson, Meta};
use crate::model::stage_path;
use crate::server::auth::credentials::{cookie_value, flow_cookie, flow_cookie_name, session_cookie, token_from_headers};
use crate::server::db::SessionStage;
use crate::server::error::ServiceError;
use crate::server::service::{auth, sso};
use crate::server::state::AppState;

/// Back to the sign-in page with the code of the reason, which the page
/// turns into its own words.
fn to_login_with(refused: &sso::SsoRefused) -> Response {
    Redirect::to(&format!("/login?sso_error={}", refused.refusal.code())).into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartForm {
    /// A path of this console to land on after signing in.
    #[schema(examples("/organizations"))]
    return_to: Option<String>,
    /// `1` (or `true`): make the provider ask for the sign-in again even if it has a session of its own
    /// (`prompt=login`), as the account page does to confirm it is still you.
    #[schema(examples("1"))]
    reauth: Option<String>,
}

/// Start single sign-on (browser)
///
/// A plain form on /login, so it works before the WASM loads; POST, so it passes the Origin check and no
/// prefetch starts a flow. Sends the browser to the provider (the pages' `form-action` policy names the
/// issuer's origin for this redirect), or back to `/login?sso_error=…` when SSO is unavailable.
#[utoipa::path(post, path = "/auth/sso/start", tag = "sso (browser)", operation_id = "startSso",
    security(()),
    request_body(content = StartForm, content_type = "application/x-www-form-urlencoded", description = "The sign-in page's form; it may be empty"),
    responses(
        (status = 303, description = "To the provider's authorization endpoint, with a flow cookie; or back to /login?sso_error=… when SSO is unavailable",
            headers(("Location" = String, description = "Where the browser goes next"))),
        BadRequest, Forbidden,
    ))]
pub async fn start(State(state): State<AppState>, Meta(meta): Meta, form: Result<Form<StartForm>, FormRejection>) -> Response {
    let (return_to, fresh) = match form {
        Ok(Form(f)) => (f.return_to, matches!(f.reauth.as_deref(), Some("1" | "true" | "on"))),
        Err(e) => return ServiceError::validation(format!("Send the sign-in form: {}", e.body_text())).into_response(),
    };
    match sso::begin(&state, return_to.as_deref(), fresh, &meta).await {
        Ok(start) => {
            let mut res = Redirect::to(&start.redirect_to).into_response();
            let max_age = sso::FLOW_TTL.num_seconds().unsigned_abs();
            res.headers_mut().append(header::SET_COOKIE, flow_cookie(&state.config, &start.flow_cookie, max_age));
            res
        }
        Err(e) => to_login_with(&e),
    }
}

/// Finish single sign-on (browser)
///
/// The provider's redirect back. Success sets the session cookie (ending any session the browser came
/// with) and goes on to where the person was headed; failure goes back to `/login?sso_error=…` with the
/// reason. Malformed parameters are a failure like any other.
#[utoipa::path(get, path = "/auth/callback", tag = "sso (browser)", operation_id = "ssoCallback",
    security(()),
    params(
        ("code" = Option<String>, Query, description = "Authorization code"),
        ("state" = Option<String>, Query, description = "Must match the flow of this browser"),
        ("iss" = Option<String>, Query, description = "RFC 9207 issuer; must equal the configured issuer when present"),
        ("error" = Option<String>, Query, description = "The provider's error code"),
    ),
    responses(
        (status = 303, description = "Signed in: session cookie set, to the console (or the next sign-in step); refused: to /login?sso_error=…",
            headers(("Location" = String, description = "Where the browser goes next"))),
    ))]
pub async fn callback(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    params: Result<Query<sso::CallbackParams>, QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return Redirect::to("/login?sso_error=failed").into_response();
    };
    let cookie = cookie_value(&headers, flow_cookie_name(&state.config));
    let clear = flow_cookie(&state.config, "", 0);
    let mut res = match sso::callback(&state, cookie.as_deref(), params, &meta).await {
        Ok(done) => {
            let old = token_from_headers(&state.config, &headers);
            if let Err(e) = auth::discard_session(&state, old.as_deref()).await {
                tracing::warn!(error = %e, "could not end the session the browser came with");
            }
            let to = if done.signed_in.stage == SessionStage::Full { done.return_to } else { stage_path(done.signed_in.stage).to_owned() };
            let mut res = Redirect::to(&to).into_response();
            res.headers_mut().append(header::SET_COOKIE, session_cookie(&state.config, &done.signed_in.token, done.signed_in.max_age_secs));
            res
        }
        Err(e) => to_login_with(&e),
    };
    res.headers_mut().append(header::SET_COOKIE, clear);
    res
}

/// Link my account to the SSO provider (browser)
///
/// The account page's "Link Zitadel account" form, signed in: a sign-in at the provider whose identity is
/// then linked to this account, when that identity is nobody else's and the provider places the person in
/// this account's organization (else back to `/login?sso_error=…`). The way to link where automatic
/// linking refuses (`account_exists`).
#[utoipa::path(post, path = "/auth/sso/link", tag = "sso (browser)", operation_id = "linkSso",
    responses(
        (status = 303, description = "To the provider's authorization endpoint, with a flow cookie; or back to /account?sso_error=… when SSO is unavailable",
            headers(("Location" = String, description = "Where the browser goes next"))),
        Unauthorized, Forbidden,
    ))]
pub async fn link(State(state): State<AppState>, Meta(meta): Meta, super::Authenticated(principal): super::Authenticated) -> Response {
    match sso::begin_link(&state, &principal, &meta).await {
        Ok(start) => {
            let mut res = Redirect::to(&start.redirect_to).into_response();
            let max_age = sso::FLOW_TTL.num_seconds().unsigned_abs();
            res.headers_mut().append(header::SET_COOKIE, flow_cookie(&state.config, &start.flow_cookie, max_age));
            res
        }
        Err(e) => Redirect::to(&format!("/account?sso_error={}", e.refusal.code())).into_response(),
    }
}

/// A nonce for the client's own authorization request.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ApiNonce {
    /// Put it in the authorization request's `nonce`; the ID token carries it back.
    pub nonce: String,
    /// Exchange the ID token before then.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Get a nonce for an SSO sign-in (API clients)
///
/// Before its own authorization code flow at the provider, an API client asks for a nonce and puts it in
/// the authorization request. `POST /api/auth/sso` accepts only ID tokens carrying a nonce from here,
/// each once, within 10 minutes. 404 when SSO is not configured.
#[utoipa::path(post, path = "/api/auth/sso/nonce", tag = "auth", operation_id = "ssoNonce",
    security(()),
    responses(
        (status = 201, description = "A fresh nonce, good once for 10 minutes", body = ApiNonce),
        Forbidden, NotFound, TooManyRequests,
    ))]
pub async fn nonce(
    State(state): State<AppState>,
    Meta(meta): Meta,
) -> Result<(axum::http::StatusCode, axum::Json<ApiNonce>), ServiceError> {
    let (nonce, expires_at) = sso::issue_api_nonce(&state, &meta).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(ApiNonce { nonce, expires_at })))
}

/// An ID token from the client's own authorization code flow with PKCE
/// at the same provider (audience: NeoSC's client id). Any other field,
/// such as a `profile` or `roles`, is ignored: only the signed token counts.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SsoRequest {
    /// A compact JWS.
    #[schema(min_length = 1)]
    pub id_token: String,
}

/// Sign in with an ID token from the SSO provider
///
/// For API clients that ran their own authorization code flow with PKCE at the same provider for NeoSC's
/// client id, with a nonce from `POST /api/auth/sso/nonce` in its authorization request. The token is
/// verified (signature, issuer, audience, at most 10 minutes old, that nonce) and works once;
/// organization and role come from its claims only. 401 when it fails verification, is stale or was
/// used; 403 when policy refuses (MFA required, account linking refused, disabled, suspended); 404 when
/// SSO is not configured; 409 when the seat limit is reached; 503 when the provider cannot be reached.
#[utoipa::path(post, path = "/api/auth/sso", tag = "auth", operation_id = "ssoSignIn", request_body = SsoRequest,
    security(()),
    responses(
        (status = 200, description = "Signed in; organization and role come from the verified token", body = TokenResponse),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ))]
pub async fn exchange(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<SsoRequest>,
) -> Result<axum::Json<TokenResponse>, ServiceError> {
    let signed_in = sso::sign_in_with_id_token(&state, &req.id_token, &meta).await?;
    Ok(axum::Json(signed_in.into()))
}
