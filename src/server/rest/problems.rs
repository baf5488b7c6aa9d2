//! The error responses of the API, declared once. Every one is RFC 9457
//! problem+json (`Problem`); a route lists the ones it can answer in its
//! `responses(...)`, next to its success response:
//!
//! ```text
//! responses((status = 200, body = OrganizationDetail), BadRequest, Unauthorized, Forbidden, NotFound)
//! ```
//!
//! These types only describe; the responses themselves come from
//! `ServiceError`'s single mapping to problem+json.

use utoipa::IntoResponses;

use crate::server::error::Problem;

/// 400: the body, a query parameter or a field is not valid (`field` names it).
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "Not valid: malformed JSON, a missing or unknown field, or a value the rules refuse; `field` names it when it is one field",
    content_type = "application/problem+json"
)]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// 401: no credential, or one that is unknown, expired or ended.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Not signed in: no bearer token or session cookie, or one that is unknown, expired or ended",
    content_type = "application/problem+json"
)]
pub struct Unauthorized(#[allow(dead_code)] Problem);

/// 403: signed in, but not allowed.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "Refused: the caller's role does not allow it, the sign-in still owes a step (MFA code, MFA enrolment, password change), or a browser sent it from another site",
    content_type = "application/problem+json"
)]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// 404: nothing of that id in the caller's scope.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "Nothing of that id in the caller's scope (another organization's resources answer the same)",
    content_type = "application/problem+json"
)]
pub struct NotFound(#[allow(dead_code)] Problem);

/// 409: the change conflicts with the current state.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "Conflicts with the current state: taken, limit reached, or a rule such as \"the last platform admin\"",
    content_type = "application/problem+json"
)]
pub struct Conflict(#[allow(dead_code)] Problem);

/// 422: understood, but what it checks is not so (yet).
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "The check failed against the outside world, e.g. the domain's TXT record is missing or holds another value; the detail says what was found",
    content_type = "application/problem+json"
)]
pub struct Unprocessable(#[allow(dead_code)] Problem);

/// 429: throttled; `Retry-After` says for how long.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "Too many attempts from this account or address (failed sign-ins or codes, or a budget of registrations or SSO starts); try again after `Retry-After` seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct TooManyRequests(#[allow(dead_code)] Problem);

/// 503: a dependency is busy or unreachable; `Retry-After` says when to retry.
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "Busy (password hashing queue full) or a dependency is unreachable; try again after `Retry-After` seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct Unavailable(#[allow(dead_code)] Problem);
