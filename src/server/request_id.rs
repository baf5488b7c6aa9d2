//! One id per request, so an operator can follow a request through the log
//! and a client can quote it from an error. The id travels as
//! `X-Request-Id` (kept from a proxy when it is a plain token, otherwise
//! made here), names the tracing span every log line of the request is
//! written in, comes back on the response, and is the `instance` of every
//! problem+json the request answers.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// Fresh ids: UUID v4, unguessable and without a clock in them.
#[derive(Clone, Copy, Default)]
pub struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).ok().map(RequestId::new)
    }
}

/// An id a proxy sent is kept only when it is a short plain token: it goes
/// into log lines and response headers, where anything else could forge
/// entries.
fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= 64 && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Outermost: drops an incoming id that is not acceptable, so
/// `SetRequestIdLayer` makes a fresh one instead.
pub async fn sanitize(mut req: Request, next: Next) -> Response {
    if req.headers().get(&HEADER).is_some_and(|v| !acceptable(v)) {
        req.headers_mut().remove(&HEADER);
    }
    next.run(req).await
}

/// Innermost: makes the id readable by code that has no request at hand
/// (the problem+json renderer).
pub async fn scope(req: Request, next: Next) -> Response {
    let id = request_id(&req).unwrap_or_default();
    CURRENT.scope(id, next.run(req)).await
}

fn request_id<B>(req: &axum::http::Request<B>) -> Option<String> {
    req.headers().get(&HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The span of a request: every log line written while serving it carries
/// its id.
pub fn span<B>(req: &axum::http::Request<B>) -> Span {
    tracing::info_span!(
        "request",
        id = %request_id(req).unwrap_or_default(),
        method = %req.method(),
        path = %loggable_path(req.uri().path()),
    )
}

/// Paths whose next segment is a one-time secret (an invitation, a
/// confirmation link): the span names the route, not the token, since the
/// span is on every log line of the request.
const SECRET_SEGMENT_AFTER: &[&str] = &["/invite/", "/verify-email/", "/confirm-email/", "/api/invitations/"];

/// `path` with the token segment of the routes above replaced by `{token}`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in SECRET_SEGMENT_AFTER {
        if let Some(rest) = path.strip_prefix(prefix) {
            let after_token = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}{{token}}{after_token}").into();
        }
    }
    path.into()
}

/// The id of the request being served, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok().filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_carry_no_link_tokens() {
        assert_eq!(loggable_path("/invite/s3cr3tTOKEN"), "/invite/{token}");
        assert_eq!(loggable_path("/api/invitations/s3cr3tTOKEN/accept"), "/api/invitations/{token}/accept");
        assert_eq!(loggable_path("/verify-email/abc"), "/verify-email/{token}");
        assert_eq!(loggable_path("/confirm-email/abc"), "/confirm-email/{token}");
        assert_eq!(loggable_path("/api/organizations/42/invitations"), "/api/organizations/42/invitations");
        assert_eq!(loggable_path("/invite"), "/invite");
    }

    #[test]
    fn only_plain_short_tokens_are_kept() {
        assert!(acceptable(&HeaderValue::from_static("0f8fad5b-d9cb-469f-a165-70867728950e")));
        assert!(acceptable(&HeaderValue::from_static("req_42.a")));
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("two words")));
        assert!(!acceptable(&HeaderValue::from_static("a\"b")));
        assert!(!acceptable(&HeaderValue::from_str(&"x".repeat(65)).unwrap()));
    }

    #[tokio::test]
    async fn current_is_the_scoped_id() {
        assert_eq!(current(), None);
        let seen = CURRENT.scope("abc".into(), async { current() }).await;
        assert_eq!(seen.as_deref(), Some("abc"));
    }
}
