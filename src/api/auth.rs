use leptos::prelude::*;

use crate::model::{AppError, User};

/// Signs in with email and password; the browser gets the session cookie.
#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    let signed_in = service::auth::login(&call.state, &email, &password, &call.meta, SessionKind::Browser).await.map_err(sfn::fail)?;
    sfn::start_session(&call, &signed_in).await
}

/// Creates an account (and maybe its organization) and signs it in.
#[server(prefix = "/api/fn", endpoint = "register")]
pub async fn register(email: String, password: String, name: String, organization: Option<String>) -> Result<(), AppError> {
    use crate::server::db::SessionKind;
    use crate::server::service::auth::RegisterInput;
    use crate::server::{service, sfn};

    let call = sfn::call()?;
    let input = RegisterInput { email, password, name, organization };
    let signed_in = service::auth::register(&call.state, input, &call.meta, SessionKind::Browser).await.map_err(sfn::fail)?;
    sfn::start_session(&call, &signed_in).await
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
