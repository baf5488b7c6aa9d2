//! Confirming the address of an account that exists already: one made from
//! an invitation link the admin saw (the admin could have used it), or one
//! from before verified email. Until confirmed, the address counts for
//! nothing that rests on it (SSO linking, domains). The link works only
//! while signed in as that account, so it proves that the mailbox's owner
//! and the account's owner are one person: an admin who used a shown link
//! has the password but not the mail; the mailbox's owner the reverse.

use chrono::Duration;
use serde_json::json;

use super::audit::{self, action, Event, Target};
use super::{mails, Principal};
use crate::model::UserId;
use crate::server::auth::credentials::RequestMeta;
use crate::server::auth::token::{hash_token, random_token};
use crate::server::db::UserRecord;
use crate::server::error::{ServiceError, ServiceResult};
use crate::server::state::AppState;

/// How long a link works.
pub const VALID_FOR: Duration = Duration::hours(24);
/// The least time between two links of one account.
pub const RESEND_AFTER: Duration = Duration::seconds(60);

const DEAD_LINK: &str = "This confirmation link is not valid for the account you are signed in with: it was used, replaced by a \
                         newer one, has expired, or was made for another account or address. Ask for a new one on your account page.";

pub fn link(state: &AppState, token: &str) -> String {
    let base = state.config.public_url.clone().unwrap_or_else(|| format!("http://{}", state.leptos_options.site_addr));
    format!("{base}/confirm-email/{token}")
}

/// Makes and mails the account's link (its own transaction; the mail goes
/// after the commit). False when the mail could not be sent.
pub(crate) async fn send(state: &AppState, user: &UserRecord, meta: &RequestMeta) -> ServiceResult<bool> {
    let now = state.clock.now();
    let token = random_token();
    let mut db = state.store.begin().await?;
    if let Some(sent) = db.email_confirmation_sent_at(user.id, now).await? {
        let wait = sent + RESEND_AFTER - now;
        if wait > Duration::zero() {
            let secs = ((wait.num_milliseconds() + 999) / 1000).max(1) as u64;
            return Err(ServiceError::TooManyRequests {
                message: format!("A confirmation link was sent moments ago. Check your inbox, or try again in {secs} s."),
                retry_after_secs: secs,
            });
        }
    }
    db.upsert_email_confirmation(user.id, &user.email, &hash_token(&token), now, now + VALID_FOR).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(user.organization_id),
            actor: Some(user.id),
            action: action::REQUEST_EMAIL_CONFIRMATION,
            target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
            details: json!({ "email": user.email }),
        },
    )
    .await?;
    db.commit().await?;
    let mail = mails::confirm_address(&user.email, &user.name, &link(state, &token), VALID_FOR.num_hours());
    Ok(state.mailer.send_or_log(&mail).await)
}

/// `POST /api/account/email/confirmation`: a new link for the signed-in
/// account. 409 when its address is confirmed already.
pub async fn request(state: &AppState, principal: &Principal, meta: &RequestMeta) -> ServiceResult<bool> {
    let user = state.store.conn().await?.user_by_id(principal.user.id).await?.ok_or_else(ServiceError::unauthenticated)?;
    if user.email_verified_at.is_some() {
        return Err(ServiceError::Conflict(format!("{} is confirmed already.", user.email)));
    }
    send(state, &user, meta).await
}

/// `POST /api/account/email/confirm {"token"}`: uses the link, signed in as
/// the account it was made for.
pub async fn confirm(state: &AppState, principal: &Principal, token: &str, meta: &RequestMeta) -> ServiceResult<()> {
    let now = state.clock.now();
    let mut db = state.store.begin().await?;
    let user = db.user_by_id_for_update(principal.user.id).await?.ok_or_else(ServiceError::unauthenticated)?;
    if !db.take_email_confirmation(user.id, &user.email, &hash_token(token.trim()), now).await? {
        return Err(ServiceError::NotFound(DEAD_LINK.into()));
    }
    db.set_email_verified(user.id, now).await?;
    audit::record(
        &mut db,
        now,
        meta,
        Event {
            org: Some(user.organization_id),
            actor: Some(user.id),
            action: action::CONFIRM_EMAIL,
            target: Some(Target { kind: "user", id: UserId(user.id).to_string() }),
            details: json!({ "email": user.email }),
        },
    )
    .await?;
    db.commit().await?;
    Ok(())
}
