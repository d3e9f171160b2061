//! Single-use account links (password reset, email verification), stored as digests, each written
//! with the message that carries it; and redeeming them, each change in one transaction.

use sqlx::{Any, Transaction};

use super::{EnvStore, StoreError};
use crate::model::{LinkPurpose, MailMessage, UserId};

/// A link as stored: the digest of its secret, what it is for, whose it is, until when.
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    pub digest: &'a str,
    pub purpose: LinkPurpose,
    pub user_id: &'a UserId,
    /// The address it is sent to.
    pub email: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A link is live while unused, unexpired, and its user still has the address it went to (an
/// address change or a deleted account leaves it dead).
const LIVE_LINK: &str = "used_at IS NULL AND expires_at > $4 AND email = (SELECT u.email FROM \
     users u WHERE u.env_id = account_links.env_id AND u.user_id = account_links.user_id)";

/// Consumes a live link of `purpose` in `tx`: its user, or `None` when it is unknown, used,
/// expired or dead (all alike).
async fn consume_link(
    store: &EnvStore<'_>,
    tx: &mut Transaction<'static, Any>,
    (digest, purpose): (&str, LinkPurpose),
    now: i64,
) -> Result<Option<UserId>, StoreError> {
    let sql = format!(
        "UPDATE account_links SET used_at = $4 WHERE env_id = $1 AND link_digest = $2 \
         AND purpose = $3 AND {LIVE_LINK} RETURNING user_id"
    );
    let row = store
        .query(&sql, (digest, purpose.as_str(), now))
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| super::text(&row, "user_id").map_err(StoreError::from))
        .transpose()
}

impl EnvStore<'_> {
    /// Writes `link` and the message that carries it, in one transaction.
    pub async fn insert_link_with_mail(
        &self,
        link: &NewLink<'_>,
        mail: &MailMessage,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write().await?;
        let sql = "INSERT INTO account_links (env_id, link_digest, purpose, user_id, email, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let values = (
            link.digest,
            link.purpose.as_str(),
            link.user_id.as_str(),
            link.email,
            link.created_at,
            link.expires_at,
        );
        self.query(sql, values).execute(&mut *tx).await?;
        self.insert_mail(&mut tx, mail).await?;
        self.commit(tx).await
    }

    /// The user of a live link of `purpose`, without using it (to show the form it leads to).
    pub async fn live_link(
        &self,
        digest: &str,
        purpose: LinkPurpose,
        now: i64,
    ) -> Result<Option<UserId>, StoreError> {
        let sql = format!(
            "SELECT user_id FROM account_links WHERE env_id = $1 AND link_digest = $2 \
             AND purpose = $3 AND {LIVE_LINK}"
        );
        let row = self
            .fetch_optional(&sql, (digest, purpose.as_str(), now))
            .await?;
        row.map(|row| super::text(&row, "user_id").map_err(StoreError::from))
            .transpose()
    }

    /// Redeems a reset link: the new password hash, and in the same transaction the user's
    /// sessions end, their grants are revoked (with every refresh and access token), their
    /// unredeemed codes and other reset links go. The user, or `None` for a link that is unknown,
    /// used or expired.
    pub async fn reset_password_by_link(
        &self,
        digest: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<UserId>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let purpose = LinkPurpose::PasswordReset;
        let Some(user_id) = consume_link(self, &mut tx, (digest, purpose), now).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let id = user_id.as_str();
        let password = "UPDATE users SET password_hash = $3, updated_at = $4 \
             WHERE env_id = $1 AND user_id = $2";
        self.query(password, (id, password_hash, now))
            .execute(&mut *tx)
            .await?;
        for sql in [
            "DELETE FROM sessions WHERE env_id = $1 AND user_id = $2",
            "DELETE FROM authorization_codes WHERE env_id = $1 AND user_id = $2",
        ] {
            self.query(sql, (id,)).execute(&mut *tx).await?;
        }
        self.end_operator_sessions(&mut tx, id).await?;
        for sql in [
            "UPDATE grants SET revoked_at = $3 WHERE env_id = $1 AND user_id = $2 \
             AND revoked_at IS NULL",
            "UPDATE account_links SET used_at = $3 WHERE env_id = $1 AND user_id = $2 \
             AND purpose = 'password_reset' AND used_at IS NULL",
        ] {
            self.query(sql, (id, now)).execute(&mut *tx).await?;
        }
        self.commit(tx).await?;
        Ok(Some(user_id))
    }

    /// Redeems a verification link: the user's address is verified. The user, or `None` for a
    /// link that is unknown, used or expired.
    pub async fn verify_email_by_link(
        &self,
        digest: &str,
        now: i64,
    ) -> Result<Option<UserId>, StoreError> {
        let mut tx = self.db.begin_write().await?;
        let purpose = LinkPurpose::EmailVerification;
        let Some(user_id) = consume_link(self, &mut tx, (digest, purpose), now).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let sql = "UPDATE users SET email_verified = 1, updated_at = $3 \
             WHERE env_id = $1 AND user_id = $2";
        self.query(sql, (user_id.as_str(), now))
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(Some(user_id))
    }
}
