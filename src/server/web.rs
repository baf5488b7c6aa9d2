//! Cross-cutting HTTP rules: which requests may change state (Origin
//! check), which pages need a session, and the security headers every
//! response carries.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::auth::credentials::token_from_headers;
use super::error::ServiceError;
use super::service::auth::authenticate;
use super::state::AppState;

/// Refuses state-changing requests a browser sent from another site
/// (CSRF). Requests without `Origin`/`Sec-Fetch-Site` come from non-browser
/// clients, which cannot ride on a victim's cookie, and pass.
pub async fn origin_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(state.config.public_url.as_deref(), req.headers()) {
        return ServiceError::Forbidden("Cross-site request refused.".into()).into_response();
    }
    next.run(req).await
}

fn same_origin(public_url: Option<&str>, headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some(s) if s != "same-origin" && s != "none") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    match public_url {
        Some(public) => origin.eq_ignore_ascii_case(public),
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
            let bare = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
            bare.is_some_and(|b| !host.is_empty() && b.eq_ignore_ascii_case(host))
        }
    }
}

/// Pages that need a signed-in person, and pages only for signed-out ones.
const PROTECTED: [&str; 1] = ["/organizations"];
const GUEST_ONLY: [&str; 2] = ["/login", "/register"];

/// Sends page requests to where they belong before anything renders:
/// signed-out visitors of a console page to /login, signed-in visitors of
/// /login or /register to the console.
pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let protected = path == "/" || PROTECTED.iter().any(|p| path == *p || path.starts_with(&format!("{p}/")));
    let guest_only = GUEST_ONLY.contains(&path);
    if !protected && !guest_only {
        return next.run(req).await;
    }
    let token = token_from_headers(&state.config, req.headers());
    let signed_in = token.is_some() && authenticate(&state, token.as_deref()).await.is_ok();
    match (signed_in, protected, path) {
        (true, _, "/") | (true, false, _) => Redirect::to("/organizations").into_response(),
        (false, true, _) => Redirect::to("/login").into_response(),
        _ => next.run(req).await,
    }
}

pub async fn security_headers(req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_host_origin_passes_other_origins_do_not() {
        assert!(same_origin(None, &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])));
        assert!(!same_origin(None, &headers(&[("host", "127.0.0.1:3000"), ("origin", "http://evil.example")])));
        assert!(!same_origin(None, &headers(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
        assert!(same_origin(None, &headers(&[("host", "127.0.0.1:3000")])), "non-browser clients send no Origin");
    }

    #[test]
    fn public_url_decides_when_configured() {
        let h = headers(&[("host", "internal:3000"), ("origin", "https://console.example")]);
        assert!(same_origin(Some("https://console.example"), &h));
        assert!(!same_origin(Some("https://other.example"), &h));
    }

    #[test]
    fn cross_site_fetch_metadata_is_refused() {
        assert!(!same_origin(None, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(None, &headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(None, &headers(&[("sec-fetch-site", "same-origin")])));
    }
}
