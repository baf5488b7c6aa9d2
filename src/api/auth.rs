use leptos::prelude::*;

use crate::model::{AppError, User};

/// Signs in with email and password; the browser gets the session cookie.
#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    match service::auth::login(&call.state, &email, &password, &call.meta, SessionKind::Browser).await {
        Ok(signed_in) => sfn::start_session(&call, &signed_in).await,
        // The right password of a registration whose link is unused: all
        // there is to show is "check your inbox".
        Err(crate::server::error::ServiceError::EmailUnverified(_)) => {
            leptos_axum::redirect(&crate::pages::paths::check_inbox(&email));
            Ok(())
        }
        Err(e) => Err(sfn::fail(e)),
    }
}

/// Registers pending and mails the confirmation link; the page goes on to
/// "check your inbox".
#[server(prefix = "/api/fn", endpoint = "register")]
pub async fn register(email: String, password: String, name: String, organization: Option<String>) -> Result<(), AppError> {
    use crate::server::service::auth::RegisterInput;
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    let input = RegisterInput { email, password, name, organization };
    let pending = service::verification::register(&call.state, input, &call.meta).await.map_err(sfn::fail)?;
    leptos_axum::redirect(&crate::pages::paths::check_inbox(&pending.email));
    Ok(())
}

/// Uses the mailed link: the account is made and signed in.
#[server(prefix = "/api/fn", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    let signed_in = service::verification::verify(&call.state, &token, SessionKind::Browser, &call.meta).await.map_err(sfn::fail)?;
    sfn::start_session(&call, &signed_in).await
}

/// A new confirmation link for the registration with this email and
/// password; answers the address it went to.
#[server(prefix = "/api/fn", endpoint = "resend_verification")]
pub async fn resend_verification(email: String, password: String) -> Result<String, AppError> {
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    let pending = service::verification::resend(&call.state, &email, &password, &call.meta).await.map_err(sfn::fail)?;
    if !pending.mail_sent {
        return Err(AppError::new(crate::model::ErrorKind::Unavailable, "The mail could not be sent just now. Try again in a minute."));
    }
    Ok(pending.email)
}

/// Ends the session on the server and removes the cookie. A session that
/// came from SSO then goes on to the provider's end-session endpoint
/// (RP-initiated logout), which sends the browser back to /login.
#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::auth::credentials::clear_cookie;
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    let mut next = "/login".to_owned();
    // Signing out without a live session still clears the browser.
    if let Ok(principal) = service::auth::authenticate_any_stage(&call.state, call.token.as_deref()).await {
        // Read before the session (and the ID token kept with it) is gone.
        if let Some(url) = service::sso::end_session_url(&call.state, principal.session_id()).await.map_err(sfn::fail)? {
            next = url;
        }
        service::auth::logout(&call.state, &principal, &call.meta).await.map_err(sfn::fail)?;
    }
    sfn::set_cookie(clear_cookie(&call.state.config));
    leptos_axum::redirect(&next);
    Ok(())
}

/// The single sign-on provider's display name when SSO is configured, for
/// the "Sign in with …" button.
#[server(prefix = "/api/fn", endpoint = "sso_provider")]
pub async fn sso_provider() -> Result<Option<String>, AppError> {
    use crate::server::sfn;

    let call = sfn::call()?;
    Ok(call.state.oidc.as_ref().map(|o| o.config().display_name.clone()))
}

/// The signed-in user, or `None`.
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    use crate::model::ErrorKind;
    use crate::server::{service, sfn};

    match sfn::principal().await {
        Ok((_, principal)) => Ok(Some(service::auth::me(&principal))),
        Err(e) if e.kind == ErrorKind::Unauthorized => {
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::OK);
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
