use serde::{Deserialize, Serialize};

/// Where a session was opened: the browser gets it as a cookie, an API
/// client as a bearer token. Both work either way. Stored in `sessions.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Browser,
    Api,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
        }
    }
}

/// How far a sign-in has got. Only `Full` sessions reach the console; the
/// others may do exactly the one thing their name says. Stored in
/// `sessions.stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    Full,
    MfaPending,
    EnrolRequired,
    PasswordChangeRequired,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::Full => "full",
            SessionStage::MfaPending => "mfa_pending",
            SessionStage::EnrolRequired => "enrol_required",
            SessionStage::PasswordChangeRequired => "password_change_required",
        }
    }
}
