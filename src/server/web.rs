//! Cross-cutting HTTP rules: which requests may change state (Origin
//! check), which pages need a session, and the security headers every
//! response carries.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::auth::credentials::token_from_headers;
use super::db::SessionStage;
use super::error::ServiceError;
use super::service::auth::authenticate_any_stage;
use super::state::AppState;
use crate::model::stage_path;

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

/// What a page asks of the visitor's session.
enum PageKind {
    /// The console: a complete sign-in.
    Console,
    /// Sign-in and registration: for visitors not signed in.
    GuestOnly,
    /// A step of sign-in: sessions at one of these stages.
    Step(&'static [SessionStage]),
}

fn classify(path: &str) -> Option<PageKind> {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    match path {
        "/login" | "/register" => Some(PageKind::GuestOnly),
        "/login/mfa" => Some(PageKind::Step(&[SessionStage::MfaPending])),
        "/account/mfa" => Some(PageKind::Step(&[SessionStage::EnrolRequired, SessionStage::Full])),
        "/account/password" => Some(PageKind::Step(&[SessionStage::PasswordChangeRequired, SessionStage::Full])),
        "/" => Some(PageKind::Console),
        _ if under("/organizations") || under("/account") => Some(PageKind::Console),
        _ => None,
    }
}

/// Sends page requests where they belong before anything renders: signed
/// out visitors of the console to /login, signed-in visitors of /login to
/// the console, and sign-ins that still owe a step to that step's page.
pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let Some(kind) = classify(&path) else { return next.run(req).await };
    let token = token_from_headers(&state.config, req.headers());
    let stage = match token {
        Some(t) => authenticate_any_stage(&state, Some(&t)).await.ok().map(|p| p.stage),
        None => None,
    };
    let go = |to: &str| Redirect::to(to).into_response();
    match (kind, stage) {
        (PageKind::Console, Some(SessionStage::Full)) if path == "/" => go("/organizations"),
        (PageKind::Console, Some(SessionStage::Full)) => next.run(req).await,
        (PageKind::Console, Some(stage)) => go(stage_path(stage)),
        (PageKind::Console, None) => go("/login"),
        (PageKind::GuestOnly, Some(SessionStage::Full)) => go("/organizations"),
        (PageKind::GuestOnly, _) => next.run(req).await,
        (PageKind::Step(allowed), Some(stage)) if allowed.contains(&stage) => next.run(req).await,
        (PageKind::Step(_), Some(stage)) => go(stage_path(stage)),
        (PageKind::Step(_), None) => go("/login"),
    }
}

/// The policy of a rendered page: only our own files and the inline
/// hydration scripts that carry this response's nonce may run.
/// With SSO, forms may also lead to the identity provider: the sign-in
/// form and sign-out are redirected there, and browsers apply
/// `form-action` to those redirects.
pub fn page_csp(nonce: &str, sso_origin: Option<&str>) -> String {
    let sso = sso_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'{sso}; frame-ancestors 'none'"
    )
}

/// Sets the page's CSP from the nonce the renderer was given. Called while
/// the shell renders, before any byte is sent.
pub fn set_page_csp() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        let sso = use_context::<AppState>().and_then(|s| s.oidc.as_ref().and_then(|o| o.issuer_origin()));
        if let Ok(v) = HeaderValue::from_str(&page_csp(&nonce.to_string(), sso.as_deref())) {
            res.insert_header(header::CONTENT_SECURITY_POLICY, v);
        }
    }
}

pub async fn security_headers(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    // API answers and sign-in redirects carry tokens, TOTP secrets, recovery
    // codes and invitation links: no cache (the browser's, a proxy's) may
    // keep one. Pages and assets decide their own caching.
    let private = req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/auth/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if private {
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    // Behind https, browsers must never try plain http again (and a
    // downgrade by a network attacker fails).
    if state.config.https() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
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
