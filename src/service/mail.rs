//! The mail of account flows: composed from askama templates (a text and an HTML part, labelled
//! in test environments), captured in test environments and queued for SMTP in live ones; and the
//! worker on every node that sends the queue, retrying until the server takes each message.

use std::sync::{Arc, Weak};
use std::time::Duration;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Error;
use crate::crypto::kek::Kek;
use crate::crypto::secrets;
use crate::events::retry::RetrySchedule;
use crate::model::{EnvKind, Environment, MailMessage, MailState};
use crate::store::{ClaimedMail, Db};

/// How long a reset link lives.
pub const RESET_LINK_SECONDS: i64 = 3600;
/// How long a verification link lives.
pub const VERIFICATION_LINK_SECONDS: i64 = 24 * 3600;
/// Messages one round sends, each claimed just before it is sent.
const MESSAGES_PER_ROUND: usize = 32;
/// Seconds a worker holds a message it is sending: longer than one send can take (each SMTP
/// step has `SMTP_TIMEOUT`).
const LEASE_SECONDS: i64 = 300;
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct ResetText<'a> {
    sandbox: bool,
    zone: &'a str,
    product: &'a str,
    email: &'a str,
    link: &'a str,
    valid_minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
struct ResetHtml<'a> {
    sandbox: bool,
    zone: &'a str,
    product: &'a str,
    email: &'a str,
    link: &'a str,
    valid_minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyText<'a> {
    sandbox: bool,
    zone: &'a str,
    product: &'a str,
    email: &'a str,
    link: &'a str,
    valid_hours: i64,
}

#[derive(Template)]
#[template(path = "mail/verify_email.html")]
struct VerifyHtml<'a> {
    sandbox: bool,
    zone: &'a str,
    product: &'a str,
    email: &'a str,
    link: &'a str,
    valid_hours: i64,
}

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    PasswordReset,
    EmailVerification,
}

/// Composes messages, and knows whether live environments can send them.
#[derive(Debug, Clone)]
pub struct Mailer {
    kek: Kek,
    default_from: String,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, default_from: &str, kek: Kek) -> anyhow::Result<Self> {
        default_from
            .parse::<Mailbox>()
            .map_err(|error| anyhow::anyhow!("AIRLOCK_MAIL_FROM {default_from:?}: {error}"))?;
        let smtp = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|error| anyhow::anyhow!("AIRLOCK_SMTP_URL: {error}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => None,
        };
        Ok(Mailer {
            kek,
            default_from: default_from.to_string(),
            smtp,
        })
    }

    /// Whether `environment` can have mail: test environments capture it; live ones need SMTP.
    pub fn can_mail(&self, environment: &Environment) -> bool {
        environment.kind == EnvKind::Test || self.smtp.is_some()
    }

    /// A message to `to` carrying `link`: captured as it is in test environments, queued with its
    /// bodies sealed in live ones (they hold a single-use link).
    pub fn compose(
        &self,
        environment: &Environment,
        (kind, to, link): (MailKind, &str, &str),
        now: i64,
    ) -> Result<MailMessage, Error> {
        let sandbox = environment.kind == EnvKind::Test;
        let zone = environment.slug();
        let product = environment
            .accounts
            .product_name
            .clone()
            .unwrap_or_else(|| environment.project.clone());
        let render = |result: Result<String, askama::Error>| result.map_err(Error::internal);
        let (subject, text, html) = match kind {
            MailKind::PasswordReset => {
                let valid_minutes = RESET_LINK_SECONDS / 60;
                let text = ResetText {
                    sandbox,
                    zone: &zone,
                    product: &product,
                    email: to,
                    link,
                    valid_minutes,
                };
                let html = ResetHtml {
                    sandbox,
                    zone: &zone,
                    product: &product,
                    email: to,
                    link,
                    valid_minutes,
                };
                (
                    format!("Reset your {product} password"),
                    render(text.render())?,
                    render(html.render())?,
                )
            }
            MailKind::EmailVerification => {
                let valid_hours = VERIFICATION_LINK_SECONDS / 3600;
                let text = VerifyText {
                    sandbox,
                    zone: &zone,
                    product: &product,
                    email: to,
                    link,
                    valid_hours,
                };
                let html = VerifyHtml {
                    sandbox,
                    zone: &zone,
                    product: &product,
                    email: to,
                    link,
                    valid_hours,
                };
                (
                    format!("Confirm your {product} address"),
                    render(text.render())?,
                    render(html.render())?,
                )
            }
        };
        let message_id = format!("msg_{}", secrets::random_id());
        let subject = if sandbox {
            format!("[SANDBOX] {subject}")
        } else {
            subject
        };
        let from = environment
            .accounts
            .mail_from
            .clone()
            .unwrap_or_else(|| self.default_from.clone());
        let (text, html, links, state) = if sandbox {
            (text, html, vec![link.to_string()], MailState::Captured)
        } else {
            let context = format!("mail:{message_id}");
            let seal = |body: &str| self.kek.seal(body.as_bytes(), &context);
            (seal(&text), seal(&html), Vec::new(), MailState::Pending)
        };
        Ok(MailMessage {
            message_id,
            from,
            to: to.to_string(),
            subject,
            text: Some(text),
            html: Some(html),
            links,
            state,
            attempts: 0,
            last_error: None,
            created_at: now,
            sent_at: None,
        })
    }

    /// Sends a queued message; `Err((permanent, why))` when the server would not take it.
    async fn send(&self, mail: &MailMessage) -> Result<(), (bool, String)> {
        let Some(smtp) = &self.smtp else {
            return Err((false, "no SMTP server is configured".into()));
        };
        let context = format!("mail:{}", mail.message_id);
        let open = |sealed: &Option<String>| -> Result<String, (bool, String)> {
            let sealed = sealed
                .as_deref()
                .ok_or((true, "the message has no body".to_string()))?;
            let body = self
                .kek
                .open(sealed, &context)
                .map_err(|e| (true, e.to_string()))?;
            String::from_utf8(body).map_err(|_| (true, "a corrupt body".to_string()))
        };
        let (text, html) = (open(&mail.text)?, open(&mail.html)?);
        let mailbox = |address: &str| -> Result<Mailbox, (bool, String)> {
            address
                .parse()
                .map_err(|e| (true, format!("{address}: {e}")))
        };
        let message = Message::builder()
            .from(mailbox(&mail.from)?)
            .to(mailbox(&mail.to)?)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| (true, e.to_string()))?;
        match smtp.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err((error.is_permanent(), error.to_string())),
        }
    }
}

/// The mail worker of one node.
pub struct MailWorker {
    pub(super) db: Db,
    pub(super) mailer: Mailer,
    pub(super) schedule: RetrySchedule,
    pub(super) poll: Duration,
}

impl MailWorker {
    /// Runs until `alive` is dropped.
    pub fn spawn<T: Send + Sync + 'static>(self, alive: Weak<T>) {
        let owner = format!("node_{}", secrets::random_id());
        let worker = Arc::new(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(worker.poll);
            loop {
                ticks.tick().await;
                if alive.upgrade().is_none() {
                    break;
                }
                if let Err(error) = worker.round(&owner).await {
                    tracing::warn!(%error, "mail round failed");
                }
            }
        });
    }

    async fn round(&self, owner: &str) -> Result<(), Error> {
        for _ in 0..MESSAGES_PER_ROUND {
            let now = crate::clock::now();
            let claimed = self
                .db
                .claim_mail((owner, now + LEASE_SECONDS), now, 1)
                .await?;
            let Some(mail) = claimed.into_iter().next() else {
                break;
            };
            self.attempt(&mail, owner).await?;
        }
        Ok(())
    }

    async fn attempt(&self, claimed: &ClaimedMail, owner: &str) -> Result<(), Error> {
        let result = self.mailer.send(&claimed.message).await;
        let now = crate::clock::now();
        let attempts = claimed.message.attempts + 1;
        let outcome = match &result {
            Ok(()) => (MailState::Sent, None, None),
            Err((permanent, why)) => {
                let retry = (!permanent)
                    .then(|| self.schedule.delay_after(attempts, rand::random::<f64>()))
                    .flatten();
                tracing::warn!(message = %claimed.message.message_id, error = %why, "mail not sent");
                match retry {
                    Some(delay) => (
                        MailState::Pending,
                        Some(now + delay as i64),
                        Some(why.as_str()),
                    ),
                    None => (MailState::Failed, None, Some(why.as_str())),
                }
            }
        };
        self.db
            .record_mail_attempt(claimed, owner, outcome, now)
            .await?;
        Ok(())
    }
}
