//! The service layer's error, mapped once to HTTP (RFC 9457 problem+json)
//! and once to the `AppError` server functions return.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::db::DbError;
use crate::model::{AppError, ErrorKind, QuotaRefusal, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{message}")]
    Validation { field: Option<&'static str>, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// A 403 of its own kind: the password was right, but the account
    /// waits for its email link. Its problem `type` is distinct, and the
    /// sign-in page sends the browser to "check your inbox".
    #[error("{0}")]
    EmailUnverified(String),
    /// A 403 of its own kind: the change needs a sign-in proven in the
    /// last minutes (see `service::reauth`).
    #[error("{0}")]
    ReauthRequired(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A check against the outside world failed: a domain's TXT record
    /// was missing or wrong. 422, with what was found.
    #[error("{0}")]
    Unprocessable(String),
    /// A change refused by a workspace quota, with the numbers.
    #[error("{0}")]
    QuotaExceeded(QuotaRefusal),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: u64 },
    #[error("{message}")]
    Unavailable { message: String, retry_after_secs: u64 },
    /// A fault of ours or below us. The cause, with its whole chain, goes to
    /// the log (see `log`); the client gets a fixed sentence.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn validation(message: impl Into<String>) -> Self {
        ServiceError::Validation { field: None, message: message.into() }
    }

    pub fn unauthenticated() -> Self {
        ServiceError::Unauthorized("Sign in to continue.".into())
    }

    /// An internal error caused by `e`, kept whole (with its sources) for
    /// the log.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ServiceError::Internal(e.into())
    }

    /// An internal error that is a broken expectation of ours, with no
    /// underlying error to keep (a row that must exist, missing context).
    pub fn bug(what: &'static str) -> Self {
        ServiceError::Internal(anyhow::Error::msg(what))
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::Validation { .. } => ErrorKind::Validation,
            ServiceError::Unauthorized(_) => ErrorKind::Unauthorized,
            ServiceError::Forbidden(_) | ServiceError::EmailUnverified(_) => ErrorKind::Forbidden,
            ServiceError::ReauthRequired(_) => ErrorKind::ReauthRequired,
            ServiceError::NotFound(_) => ErrorKind::NotFound,
            ServiceError::Conflict(_) | ServiceError::QuotaExceeded(_) => ErrorKind::Conflict,
            ServiceError::Unprocessable(_) => ErrorKind::Unprocessable,
            ServiceError::TooManyRequests { .. } => ErrorKind::TooManyRequests,
            ServiceError::Unavailable { .. } => ErrorKind::Unavailable,
            ServiceError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// What the client may read. Internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            ServiceError::Internal(_) => "Something went wrong on our side. Please try again.".into(),
            other => other.to_string(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ServiceError::TooManyRequests { retry_after_secs, .. } | ServiceError::Unavailable { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// What the log and the audit trail may read: the message, and for an
    /// internal error its whole cause chain ("internal error: outer: inner:
    /// root"), which `Display` leaves to `source()`.
    pub fn log_detail(&self) -> String {
        match self {
            ServiceError::Internal(cause) => format!("internal error: {cause:#}"),
            other => other.to_string(),
        }
    }

    /// Logs an internal error with its whole cause chain; other kinds are
    /// answers, not faults, and are not logged.
    fn log(&self) {
        if let ServiceError::Internal(_) = self {
            tracing::error!(error = %self.log_detail(), "internal error");
        }
    }
}

/// A database error a service did not turn into an answer is a fault.
impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        ServiceError::Internal(e.into())
    }
}

impl From<ValidationError> for ServiceError {
    fn from(e: ValidationError) -> Self {
        ServiceError::Validation { field: Some(e.field), message: e.message }
    }
}

/// The HTTP status of each kind, shared by REST and server functions.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Validation => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden | ErrorKind::ReauthRequired => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal | ErrorKind::Transport => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The stable `type` URI of each kind; clients may switch on it.
pub fn problem_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Validation => "https://neosc.dev/problems/validation",
        ErrorKind::Unauthorized => "https://neosc.dev/problems/unauthorized",
        ErrorKind::Forbidden => "https://neosc.dev/problems/forbidden",
        ErrorKind::ReauthRequired => "https://neosc.dev/problems/reauthentication-required",
        ErrorKind::NotFound => "https://neosc.dev/problems/not-found",
        ErrorKind::Conflict => "https://neosc.dev/problems/conflict",
        ErrorKind::Unprocessable => "https://neosc.dev/problems/unprocessable",
        ErrorKind::TooManyRequests => "https://neosc.dev/problems/too-many-requests",
        ErrorKind::Unavailable => "https://neosc.dev/problems/unavailable",
        ErrorKind::Internal | ErrorKind::Transport => "https://neosc.dev/problems/internal",
    }
}

/// The `type` of the 403 a sign-in gets while its email link is unused.
pub const EMAIL_UNVERIFIED_TYPE: &str = "https://neosc.dev/problems/email-unverified";

/// RFC 9457 problem details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field the problem is about, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// This occurrence: the request id (also the `X-Request-Id` response
    /// header and the field of every log line of the request), to quote
    /// when reporting it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The quota a refused workspace change would pass: its name, what is
    /// used, what the change asked for and the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaRefusal>,
}

impl Problem {
    pub fn new(kind: ErrorKind, detail: String, field: Option<String>) -> Self {
        let status = status_of(kind);
        Self {
            type_: problem_type(kind).into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            field,
            instance: super::request_id::current().map(|id| format!("urn:neosc:request:{id}")),
            quota: None,
        }
    }

    pub fn into_response_with(self, retry_after: Option<u64>) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(self)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        self.log();
        let field = match &self {
            ServiceError::Validation { field, .. } => field.map(str::to_owned),
            _ => None,
        };
        let retry = self.retry_after();
        let mut problem = Problem::new(self.kind(), self.public_message(), field);
        match self {
            ServiceError::QuotaExceeded(refusal) => problem.quota = Some(refusal),
            ServiceError::EmailUnverified(_) => problem.type_ = EMAIL_UNVERIFIED_TYPE.into(),
            _ => {}
        }
        problem.into_response_with(retry)
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        e.log();
        let field = match &e {
            ServiceError::Validation { field, .. } => field.map(str::to_owned),
            _ => None,
        };
        AppError { kind: e.kind(), message: e.public_message(), field }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause_for_the_log_only() {
        let io = std::io::Error::other("disk on fire");
        let e = ServiceError::internal(anyhow::Error::new(io).context("writing the audit event"));
        assert_eq!(e.log_detail(), "internal error: writing the audit event: disk on fire");
        assert!(std::error::Error::source(&e).is_some(), "the cause is the error's source");
        assert!(!e.public_message().contains("fire"));
        let app: AppError = e.into();
        assert_eq!(app.kind, ErrorKind::Internal);
        assert!(!app.message.contains("fire"));
    }
}
