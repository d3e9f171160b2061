//! Self-service account flows as data: single-use links, the environment's account policy, and
//! the mail they send.

use serde::Serialize;

/// What a single-use link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    PasswordReset,
    EmailVerification,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::PasswordReset => "password_reset",
            LinkPurpose::EmailVerification => "email_verification",
        }
    }
}

/// The account flows an environment offers, and how its mail is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountPolicy {
    /// People may create their own accounts (the login page links to sign-up; `prompt=create`).
    pub signup: bool,
    /// Sign-in stops at "check your inbox" until the address is verified.
    pub require_verified_email: bool,
    pub password_min_length: i64,
    /// The sender of the environment's mail; the installation's default when `None`.
    pub mail_from: Option<String>,
    /// The name mail calls the product; the project's name when `None`.
    pub product_name: Option<String>,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy {
            signup: false,
            require_verified_email: false,
            password_min_length: 8,
            mail_from: None,
            product_name: None,
        }
    }
}

/// Where a message stands. Test environments capture mail and never send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailState {
    Captured,
    Pending,
    Sent,
    Failed,
}

impl MailState {
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Captured => "captured",
            MailState::Pending => "pending",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "captured" => Some(MailState::Captured),
            "pending" => Some(MailState::Pending),
            "sent" => Some(MailState::Sent),
            "failed" => Some(MailState::Failed),
            _ => None,
        }
    }
}

/// One message of an environment's.
#[derive(Debug, Clone, Serialize)]
pub struct MailMessage {
    pub message_id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The bodies; in live environments sealed until sent, and gone once sent (they hold
    /// single-use links).
    pub text: Option<String>,
    pub html: Option<String>,
    /// The links the message carries, so a test can follow them.
    pub links: Vec<String>,
    pub state: MailState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}
