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
                tracing::warn!(
                    to = %mail.to,
                    subject = %mail.subject,
                    body = %mail.text,
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
