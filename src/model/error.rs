use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// What went wrong, in terms a page can act on. The server maps its own
/// error enum onto this once (see `server::error`), the REST layer maps the
/// same kinds onto HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Validation,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    /// Understood, but the world does not match (a DNS record that is not
    /// there yet): 422.
    Unprocessable,
    /// Allowed, but only with a sign-in proven in the last few minutes
    /// (creating an API token, changing the second factor, linking an
    /// identity): 403 with its own problem `type`; confirm the password
    /// (`POST /api/auth/reauthenticate`) or sign in with SSO again.
    ReauthRequired,
    TooManyRequests,
    Unavailable,
    Internal,
    /// The request never reached our code or its answer could not be read.
    Transport,
}

/// The error every server function returns. `field` names the form field a
/// validation message belongs to, so forms can show it inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    pub field: Option<String>,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), field: None }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<super::ValidationError> for AppError {
    fn from(e: super::ValidationError) -> Self {
        Self { kind: ErrorKind::Validation, message: e.message, field: Some(e.field.to_string()) }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let kind = match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => ErrorKind::Validation,
            ServerFnErrorErr::ServerError(_) => ErrorKind::Internal,
            _ => ErrorKind::Transport,
        };
        Self::new(kind, value.to_string())
    }
}
