//! Outgoing mail. There is no mail server yet, so the one implementation
//! writes the message to the log; the admin also sees the link in the UI.
//! An SMTP implementation plugs in behind the same trait.

use std::sync::Arc;

pub trait Mailer: Send + Sync + 'static {
    fn send_invitation(&self, to: &str, organization: &str, link: &str);
}

pub struct LogMailer;

impl Mailer for LogMailer {
    fn send_invitation(&self, to: &str, organization: &str, link: &str) {
        tracing::info!(%to, %organization, %link, "invitation (no mail server configured: copy the link to the invitee)");
    }
}

pub type SharedMailer = Arc<dyn Mailer>;
