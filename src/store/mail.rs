//! Each environment's mail: captured (test environments) or queued for SMTP (live ones), written in
//! the transaction of the change that causes it; and the queue the mail workers drain by lease.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Db, EnvStore, StoreError};
use crate::model::{EnvironmentId, MailMessage, MailState};

const MAIL_COLUMNS: &str = "message_id, from_address, to_address, subject, text_body, html_body, \
     links, state, attempts, last_error, created_at, sent_at";

fn mail_from_row(row: &AnyRow) -> Result<MailMessage, StoreError> {
    let state: String = row.try_get("state")?;
    let links: String = row.try_get("links")?;
    Ok(MailMessage {
        message_id: row.try_get("message_id")?,
        from: row.try_get("from_address")?,
        to: row.try_get("to_address")?,
        subject: row.try_get("subject")?,
        text: row.try_get("text_body")?,
        html: row.try_get("html_body")?,
        links: serde_json::from_str(&links).map_err(|_| StoreError::Corrupt("links".into()))?,
        state: MailState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("mail state {state}")))?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

/// A queued message a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedMail {
    pub env_id: EnvironmentId,
    pub message: MailMessage,
    pub lease_until: i64,
}

impl EnvStore<'_> {
    pub(super) async fn insert_mail(
        &self,
        tx: &mut Transaction<'static, Any>,
        mail: &MailMessage,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO mail_messages (env_id, {MAIL_COLUMNS}, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12)"
        );
        let links =
            serde_json::to_string(&mail.links).map_err(|e| StoreError::Other(e.to_string()))?;
        let values = (
            &mail.message_id,
            &mail.from,
            &mail.to,
            &mail.subject,
            &mail.text,
            &mail.html,
            links,
            mail.state.as_str(),
            mail.attempts,
            &mail.last_error,
            mail.created_at,
            mail.sent_at,
        );
        self.query(&sql, values).execute(&mut **tx).await?;
        Ok(())
    }

    /// Messages, newest first, optionally to one address.
    pub async fn list_mail(
        &self,
        to: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MailMessage>, StoreError> {
        let sql = format!(
            "SELECT {MAIL_COLUMNS} FROM mail_messages WHERE env_id = $1 \
             AND ($2 = '' OR to_address = $2) ORDER BY created_at DESC, message_id DESC LIMIT $3"
        );
        let rows = self
            .fetch_all(&sql, (to.unwrap_or_default(), limit))
            .await?;
        rows.iter().map(mail_from_row).collect()
    }

    pub async fn find_mail(&self, message_id: &str) -> Result<Option<MailMessage>, StoreError> {
        let sql = format!(
            "SELECT {MAIL_COLUMNS} FROM mail_messages WHERE env_id = $1 AND message_id = $2"
        );
        let row = self.fetch_optional(&sql, (message_id,)).await?;
        row.as_ref().map(mail_from_row).transpose()
    }
}

impl Db {
    /// Takes the lease of up to `limit` queued messages that are due, in one transaction.
    pub async fn claim_mail(
        &self,
        (owner, until): (&str, i64),
        now: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        let due = "SELECT env_id, message_id FROM mail_messages WHERE state = 'pending' \
             AND next_attempt_at <= $1 AND lease_until <= $1 ORDER BY next_attempt_at LIMIT $2";
        let claim = "UPDATE mail_messages SET lease_owner = $3, lease_until = $4 \
             WHERE env_id = $1 AND message_id = $2 AND state = 'pending' AND lease_until <= $5";
        let load = format!(
            "SELECT env_id, {MAIL_COLUMNS} FROM mail_messages WHERE env_id = $1 AND message_id = $2"
        );
        let mut tx = self.begin_write().await?;
        let rows = self.query(due, (now, limit)).fetch_all(&mut *tx).await?;
        let mut keys: Vec<(String, String)> = rows
            .iter()
            .map(|row| Ok((row.try_get("env_id")?, row.try_get("message_id")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        keys.sort();
        let mut claimed = Vec::new();
        for (env_id, message_id) in keys {
            let values = (env_id.as_str(), message_id.as_str(), owner, until, now);
            if self
                .query(claim, values)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                != 1
            {
                continue;
            }
            let key = (env_id.as_str(), message_id.as_str());
            if let Some(row) = self.query(&load, key).fetch_optional(&mut *tx).await? {
                claimed.push(ClaimedMail {
                    env_id: super::text(&row, "env_id")?,
                    message: mail_from_row(&row)?,
                    lease_until: until,
                });
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records an attempt while the lease holds: sent (its bodies, which hold single-use links,
    /// removed), or failed for now (tried again at `retry_at`) or for good (`None`).
    pub async fn record_mail_attempt(
        &self,
        claimed: &ClaimedMail,
        owner: &str,
        (outcome, retry_at, error): (MailState, Option<i64>, Option<&str>),
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE mail_messages SET state = $5, attempts = attempts + 1, \
             next_attempt_at = $6, last_error = $7, sent_at = $8, lease_owner = NULL, \
             lease_until = 0, text_body = CASE WHEN $5 = 'sent' THEN NULL ELSE text_body END, \
             html_body = CASE WHEN $5 = 'sent' THEN NULL ELSE html_body END \
             WHERE env_id = $1 AND message_id = $2 AND lease_owner = $3 AND lease_until = $4";
        let sent_at = (outcome == MailState::Sent).then_some(now);
        let values = (
            claimed.env_id.as_str(),
            claimed.message.message_id.as_str(),
            owner,
            claimed.lease_until,
            outcome.as_str(),
            retry_at.unwrap_or(now),
            error,
            sent_at,
        );
        let done = self.query(sql, values).execute(self.pool()).await?;
        Ok(done.rows_affected() == 1)
    }
}
