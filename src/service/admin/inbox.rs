//! An environment's mail: in test environments the captured inbox (each message whole, with its
//! links, so a test can follow them); in live ones the log of what was sent, without the bodies.

use crate::model::{EnvKind, Environment, MailMessage};
use crate::service::{Error, operators};
use crate::store::{Db, EnvStore};

/// The longest listing.
const MAX_LIMIT: i64 = 1000;

pub struct Inbox<'a> {
    pub(in crate::service) db: &'a Db,
}

/// A live environment's bodies are sealed (they held single-use links): never shown. Nor are the
/// operators zone's, whatever its kind: a reset link there opens the console.
fn shown(environment: &Environment, mut message: MailMessage) -> MailMessage {
    if environment.kind == EnvKind::Live || operators::is_operators_zone(environment) {
        message.text = None;
        message.html = None;
        message.links = Vec::new();
    }
    message
}

impl Inbox<'_> {
    /// Messages, newest first, optionally to one address.
    pub async fn list(
        &self,
        environment: &Environment,
        to: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MailMessage>, Error> {
        let limit = if limit <= 0 {
            100
        } else {
            limit.min(MAX_LIMIT)
        };
        let to = to.map(|to| to.trim().to_ascii_lowercase());
        let messages = EnvStore::new(self.db, &environment.id)
            .list_mail(to.as_deref(), limit)
            .await?;
        Ok(messages
            .into_iter()
            .map(|message| shown(environment, message))
            .collect())
    }

    pub async fn show(
        &self,
        environment: &Environment,
        message_id: &str,
    ) -> Result<MailMessage, Error> {
        let message = EnvStore::new(self.db, &environment.id)
            .find_mail(message_id)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(shown(environment, message))
    }
}
