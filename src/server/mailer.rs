//! Outgoing mail: SMTP through `lettre` when `NEOSC_SMTP_URL` is set,
//! otherwise the log (development only: nobody receives it, and every
//! such mail says so with a warning). What a mail says is composed in
//! `service::mails`; this module only delivers it.
//!
//! Callers send after their transaction has committed, never inside one: a
//! slow or dead mail server must not hold database locks. A failure is
//! returned for the caller to log; the person can ask for the mail again.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::config::{MailConfig, SmtpSecurity};

/// `text` with the last path segment (the token) and any query of every
/// http(s) link replaced, so a logged mail shows which page it links to but
/// not the secret that opens it.
pub fn without_link_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("http://").into_iter().chain(rest.find("https://")).min() {
        out.push_str(&rest[..start]);
        let url_len = rest[start..].find(|c: char| c.is_whitespace() || c == '"' || c == '<').unwrap_or(rest.len() - start);
        let url = &rest[start..start + url_len];
        let after_host = url.find("//").map_or(0, |i| i + 2);
        let path = url[after_host..].find('/').map_or(url.len(), |i| after_host + i);
        let without_query = url[path..].find(['?', '#']).map_or(url.len(), |i| path + i);
        match url[path..without_query].rfind('/') {
            Some(i) if path + i + 1 < url.len() => {
                out.push_str(&url[..path + i + 1]);
                out.push_str("[secret removed from the log]");
            }
            _ => out.push_str(url),
        }
        rest = &rest[start + url_len..];
    }
    out.push_str(rest);
    out
}

/// One message, in both forms every mail has.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0:?} is not a deliverable address")]
    Address(String),
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("the mail server refused or could not be reached: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

pub type SharedMailer = Arc<Mailer>;

/// How long one SMTP command may take before the send fails.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

impl Mailer {
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config.from.parse().map_err(|e| anyhow::anyhow!("NEOSC_MAIL_FROM {:?}: {e}", config.from))?;
        let Some(smtp) = &config.smtp else {
            return Ok(Self { transport: Transport::Log, from });
        };
        let builder = match smtp.security {
            SmtpSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                .tls(Tls::Required(TlsParameters::new(smtp.host.clone())?)),
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                .tls(Tls::Wrapper(TlsParameters::new(smtp.host.clone())?)),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        tracing::info!(host = %smtp.host, port = smtp.port, security = ?smtp.security, from = %from, "mail goes out over SMTP");
        Ok(Self { transport: Transport::Smtp(builder.build()), from })
    }

    /// Whether mail really leaves the machine.
    pub fn is_configured(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Address(mail.to.clone()))?;
        match &self.transport {
            Transport::Log => {
                // The links carry one-time secrets (an invitation is an
                // account in the making), and logs travel further than
                // mailboxes: the log shows the mail with them cut off.
                tracing::warn!(
                    to = %mail.to,
                    subject = %mail.subject,
                    body = %without_link_secrets(&mail.text),
                    "mail is not configured (NEOSC_SMTP_URL unset): this mail was NOT sent, only logged; development only"
                );
                Ok(())
            }
            Transport::Smtp(smtp) => {
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))?;
                smtp.send(message).await?;
                tracing::info!(to = %mail.to, subject = %mail.subject, "mail sent");
                Ok(())
            }
        }
    }

    /// `send`, logging a failure instead of returning it: for mail whose
    /// loss the person can repair themselves (ask for the link again).
    pub async fn send_or_log(&self, mail: &Mail) -> bool {
        match self.send(mail).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(to = %mail.to, subject = %mail.subject, error = %e, "mail could not be sent; the recipient can ask for it again");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_link_secrets;

    #[test]
    fn logged_mail_keeps_no_link_secret() {
        let text = "Open this link within 7 days:\n\nhttps://console.example/invite/AbC-123_xyzTOKEN\n\nThanks";
        let logged = without_link_secrets(text);
        assert!(!logged.contains("AbC-123_xyzTOKEN"), "{logged}");
        assert!(logged.contains("https://console.example/invite/[secret removed from the log]"), "{logged}");
        assert!(logged.starts_with("Open this link within 7 days:") && logged.ends_with("\n\nThanks"));
        let two = without_link_secrets("a http://h:3000/verify-email/t1 b https://h/confirm-email/t2?x=y#z");
        assert_eq!(
            two,
            "a http://h:3000/verify-email/[secret removed from the log] b https://h/confirm-email/[secret removed from the log]"
        );
        assert_eq!(without_link_secrets("see https://h/ or https://h"), "see https://h/ or https://h", "nothing secret to cut");
        assert_eq!(without_link_secrets("no links here"), "no links here");
    }
}
