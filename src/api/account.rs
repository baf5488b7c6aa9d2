//! Server functions of the account pages and the sign-in steps after the
//! password.

use leptos::prelude::*;
use uuid::Uuid;

use crate::model::{ApiTokenView, AppError, CreatedApiToken, MfaStatus, SessionView, TotpSetupView};

/// The code step of sign-in (TOTP or recovery code).
#[server(prefix = "/api/fn", endpoint = "complete_mfa")]
pub async fn complete_mfa(code: String) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let (call, principal) = sfn::principal_any_stage().await?;
    let next = service::mfa::complete_sign_in(&call.state, &principal, &code, SessionKind::Browser, &call.meta).await.map_err(sfn::fail)?;
    sfn::start_session(&call, &next).await
}

#[server(prefix = "/api/fn", endpoint = "mfa_status")]
pub async fn get_mfa_status() -> Result<MfaStatus, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal_any_stage().await?;
    service::account::mfa_status(&call.state, &principal).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "begin_totp")]
pub async fn begin_totp() -> Result<TotpSetupView, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal_any_stage().await?;
    let s = service::mfa::begin_enrolment(&call.state, &principal, &call.meta).await.map_err(sfn::fail)?;
    Ok(TotpSetupView { secret: s.secret, otpauth_uri: s.otpauth_uri, qr_svg: s.qr_svg })
}

/// Confirms the authenticator; returns the recovery codes (shown once).
/// When enrolment was owed, the browser gets its full session here.
#[server(prefix = "/api/fn", endpoint = "confirm_totp")]
pub async fn confirm_totp(code: String) -> Result<Vec<String>, AppError> {
    use crate::server::auth::credentials::session_cookie;
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let (call, principal) = sfn::principal_any_stage().await?;
    let (codes, next) =
        service::mfa::confirm_enrolment(&call.state, &principal, &code, SessionKind::Browser, &call.meta).await.map_err(sfn::fail)?;
    if let Some(next) = next {
        sfn::set_cookie(session_cookie(&call.state.config, &next.token, next.max_age_secs));
    }
    Ok(codes)
}

#[server(prefix = "/api/fn", endpoint = "disable_mfa")]
pub async fn disable_mfa(code: String) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::mfa::disable(&call.state, &principal, &code, &call.meta).await.map_err(sfn::fail)
}

/// Changes the password; every other session ends. When the change was
/// owed (one-time password), the browser moves on to the console.
#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let (call, principal) = sfn::principal_any_stage().await?;
    let next =
        service::account::change_password(&call.state, &principal, &current_password, &new_password, SessionKind::Browser, &call.meta)
            .await
            .map_err(sfn::fail)?;
    match next {
        Some(next) => sfn::start_session(&call, &next).await,
        None => Ok(()),
    }
}

/// Confirms the password again, for the changes that need a sign-in from
/// the last minutes; the browser's session is replaced by one signed in now.
#[server(prefix = "/api/fn", endpoint = "reauthenticate")]
pub async fn reauthenticate(password: String) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let (call, principal) = sfn::principal().await?;
    let next =
        service::reauth::reauthenticate(&call.state, &principal, &password, SessionKind::Browser, &call.meta).await.map_err(sfn::fail)?;
    // The new cookie only: the person stays on the page they were on and
    // repeats what asked for the confirmation.
    sfn::set_cookie(crate::server::auth::credentials::session_cookie(&call.state.config, &next.token, next.max_age_secs));
    Ok(())
}

#[server(prefix = "/api/fn", endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let list = service::account::list_sessions(&call.state, &principal).await.map_err(sfn::fail)?;
    Ok(list.iter().map(SessionView::from).collect())
}

#[server(prefix = "/api/fn", endpoint = "end_session")]
pub async fn end_session(id: Uuid) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::account::end_session(&call.state, &principal, id, &call.meta).await.map_err(sfn::fail)
}

#[server(prefix = "/api/fn", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<ApiTokenView>, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    let list = service::account::list_api_tokens(&call.state, &principal).await.map_err(sfn::fail)?;
    Ok(list.iter().map(ApiTokenView::from).collect())
}

/// `expires_in_days` comes from a form: empty means the default (90 days).
#[server(prefix = "/api/fn", endpoint = "create_token")]
pub async fn create_token(name: String, expires_in_days: String) -> Result<CreatedApiToken, AppError> {
    use crate::server::error::ServiceError;
    use crate::server::{service, sfn};

    let (call, principal) = sfn::principal().await?;
    let days = match expires_in_days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            sfn::fail(ServiceError::Validation { field: Some("expires_in_days"), message: "Expiry must be a number of days.".into() })
        })?),
    };
    let created = service::account::create_api_token(&call.state, &principal, &name, days, &call.meta).await.map_err(sfn::fail)?;
    Ok(CreatedApiToken { token: created.token, info: (&created.record).into() })
}

#[server(prefix = "/api/fn", endpoint = "revoke_token")]
pub async fn revoke_token(id: Uuid) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::account::revoke_api_token(&call.state, &principal, id, &call.meta).await.map_err(sfn::fail)
}

/// Mails a link that confirms the signed-in account's address; answers
/// whether the mail went out.
#[server(prefix = "/api/fn", endpoint = "request_email_confirmation")]
pub async fn request_email_confirmation() -> Result<bool, AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::email_confirmation::request(&call.state, &principal, &call.meta).await.map_err(sfn::fail)
}

/// Uses a confirmation link, signed in as the account it was made for.
#[server(prefix = "/api/fn", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    use crate::server::{service, sfn};
    let (call, principal) = sfn::principal().await?;
    service::email_confirmation::confirm(&call.state, &principal, &token, &call.meta).await.map_err(sfn::fail)
}
