//! Alerts by email over SMTP (lettre), behind the `email` feature.

use crate::error::{ConfigError, SendError};
use crate::rules::Alert;
use crate::sinks::{AlertSink, EmailConfig};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minimax_errors::Lang;
use std::time::Duration;

/// Mails alerts.
pub struct EmailSink {
    config: EmailConfig,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    lang: Lang,
}

impl EmailSink {
    /// An email sink; checks the addresses and sets up the SMTP transport.
    pub fn new(config: EmailConfig, lang: Lang) -> Result<EmailSink, ConfigError> {
        config
            .from
            .parse::<Mailbox>()
            .map_err(|e| ConfigError::Email(format!("email from {:?}: {e}", config.from)))?;
        for to in &config.to {
            to.parse::<Mailbox>()
                .map_err(|e| ConfigError::Email(format!("email to {to:?}: {e}")))?;
        }
        let builder = if config.tls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| ConfigError::Email(format!("SMTP server {}: {e}", config.host)))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        };
        let mut builder = builder
            .port(config.port.unwrap_or(if config.tls { 587 } else { 25 }))
            .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(EmailSink {
            transport: builder.build(),
            config,
            lang,
        })
    }
}

#[async_trait::async_trait]
impl AlertSink for EmailSink {
    fn name(&self) -> String {
        format!("email via {}", self.config.host)
    }

    async fn send(&self, alert: &Alert) -> Result<(), SendError> {
        let mut message = Message::builder()
            .from(
                self.config
                    .from
                    .parse::<Mailbox>()
                    .map_err(SendError::other)?,
            )
            .subject(alert.title(self.lang));
        for to in &self.config.to {
            message = message.to(to.parse::<Mailbox>().map_err(SendError::other)?);
        }
        // MIME-Version, Content-Type with its charset, a Message-ID: what readers need to show
        // Chinese and "—" right, and what relays expect of a message that is not spam.
        let message = message
            .message_id(None)
            .singlepart(lettre::message::SinglePart::plain(alert.text(self.lang)))
            .map_err(SendError::other)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(SendError::other)
    }
}
