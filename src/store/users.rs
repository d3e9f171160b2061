//! End users of one environment.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::grants::ACCESS_TOKEN_LIVE;
use super::{EnvStore, StoreError, flag};
use crate::model::{ClientId, GrantId, Secret, User, UserId};

const USER_COLUMNS: &str = "env_id, user_id, email, email_verified, name, password_hash, created_at, updated_at, fixture, \
     disabled_at, signed_up";

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        env_id: super::text(row, "env_id")?,
        user_id: super::text(row, "user_id")?,
        email: row.try_get("email")?,
        email_verified: row.try_get::<i64, _>("email_verified")? != 0,
        name: row.try_get("name")?,
        password_hash: Secret::new(row.try_get::<String, _>("password_hash")?),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        fixture: row.try_get::<i64, _>("fixture")? != 0,
        disabled_at: row.try_get("disabled_at")?,
        signed_up: row.try_get::<i64, _>("signed_up")? != 0,
    })
}

impl EnvStore<'_> {
    pub async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let values = (
            user.user_id.as_str(),
            &user.email,
            flag(user.email_verified),
            &user.name,
            user.password_hash.expose(),
            user.created_at,
            user.updated_at,
            flag(user.fixture),
            user.disabled_at,
            flag(user.signed_up),
        );
        self.execute(&sql, values).await?;
        Ok(())
    }

    async fn user_where(&self, condition: &str, value: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE env_id = $1 AND {condition}");
        let row = self.fetch_optional(&sql, (value,)).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn find_user(&self, user_id: &UserId) -> Result<Option<User>, StoreError> {
        self.user_where("user_id = $2", user_id.as_str()).await
    }

    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.user_where("email = $2", email).await
    }

    /// The user an access token speaks for, provided the token (`jti`) was not revoked and its
    /// grant is still in force.
    pub async fn user_of_live_token(
        &self,
        user_id: &UserId,
        jti: &str,
        grant_id: &GrantId,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE env_id = $1 AND user_id = $4 \
             AND {ACCESS_TOKEN_LIVE}"
        );
        let values = (jti, grant_id.as_str(), user_id.as_str());
        let row = self.fetch_optional(&sql, values).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE env_id = $1 ORDER BY created_at, user_id"
        );
        let rows = self.fetch_all(&sql, ()).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Rewrites a user's profile and password hash; false if there is no such user.
    pub async fn update_user(&self, user: &User) -> Result<bool, StoreError> {
        let sql = "UPDATE users SET email = $3, email_verified = $4, name = $5, password_hash = $6, \
             updated_at = $7 WHERE env_id = $1 AND user_id = $2";
        let values = (
            user.user_id.as_str(),
            &user.email,
            flag(user.email_verified),
            &user.name,
            user.password_hash.expose(),
            user.updated_at,
        );
        Ok(self.execute(sql, values).await? == 1)
    }

    /// How many of the user's grants (to `client_id`, or to any client) are in force.
    pub async fn count_live_grants(
        &self,
        user_id: &UserId,
        client_id: Option<&ClientId>,
    ) -> Result<u64, StoreError> {
        let sql = "SELECT COUNT(*) AS live FROM grants WHERE env_id = $1 AND user_id = $2 \
             AND ($3 = '' OR client_id = $3) AND revoked_at IS NULL";
        let client = client_id.map(ClientId::as_str).unwrap_or_default();
        let row = self.fetch_optional(sql, (user_id.as_str(), client)).await?;
        let live: i64 = match row {
            Some(row) => row.try_get("live")?,
            None => 0,
        };
        Ok(u64::try_from(live).unwrap_or(0))
    }

    /// Stores a user's new password hash and, in the same transaction, ends their sessions and,
    /// unless `keep_grants`, revokes their grants (so their refresh and access tokens die) and drops
    /// their unredeemed codes. False if there is no such user; the number of grants revoked otherwise.
    pub async fn change_password(
        &self,
        user: &User,
        keep_grants: bool,
    ) -> Result<Option<u64>, StoreError> {
        let id = user.user_id.as_str();
        let mut tx = self.db.begin_write().await?;
        let update = "UPDATE users SET password_hash = $3, updated_at = $4 \
             WHERE env_id = $1 AND user_id = $2";
        let values = (id, user.password_hash.expose(), user.updated_at);
        if self
            .query(update, values)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            != 1
        {
            tx.rollback().await?;
            return Ok(None);
        }
        let sessions = "DELETE FROM sessions WHERE env_id = $1 AND user_id = $2";
        self.query(sessions, (id,)).execute(&mut *tx).await?;
        self.end_operator_sessions(&mut tx, id).await?;
        let mut revoked = 0;
        if !keep_grants {
            let codes = "DELETE FROM authorization_codes WHERE env_id = $1 AND user_id = $2";
            self.query(codes, (id,)).execute(&mut *tx).await?;
            let grants = "UPDATE grants SET revoked_at = $3 \
                 WHERE env_id = $1 AND user_id = $2 AND revoked_at IS NULL";
            let done = self.query(grants, (id, user.updated_at));
            revoked = done.execute(&mut *tx).await?.rows_affected();
        }
        self.commit(tx).await?;
        Ok(Some(revoked))
    }

    /// Disables the user (`disabled_at` set: their sessions end, unredeemed codes go and grants are
    /// revoked, in one transaction) or enables them again. `None` if there is no such user;
    /// otherwise how many grants were revoked.
    pub async fn set_user_disabled(
        &self,
        user_id: &UserId,
        disabled_at: Option<i64>,
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        let id = user_id.as_str();
        let mut tx = self.db.begin_write().await?;
        let update = "UPDATE users SET disabled_at = $3, updated_at = $4 \
             WHERE env_id = $1 AND user_id = $2";
        let changed = self
            .query(update, (id, disabled_at, now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let mut revoked = 0;
        if disabled_at.is_some() {
            let sessions = "DELETE FROM sessions WHERE env_id = $1 AND user_id = $2";
            self.query(sessions, (id,)).execute(&mut *tx).await?;
            let codes = "DELETE FROM authorization_codes WHERE env_id = $1 AND user_id = $2";
            self.query(codes, (id,)).execute(&mut *tx).await?;
            self.end_operator_sessions(&mut tx, id).await?;
            let grants = "UPDATE grants SET revoked_at = $3 \
                 WHERE env_id = $1 AND user_id = $2 AND revoked_at IS NULL";
            revoked = self
                .query(grants, (id, now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        self.commit(tx).await?;
        Ok(Some(revoked))
    }

    /// Withdraws the user's consent to `client_id`, and in the same transaction revokes the grants
    /// it backed and drops their unredeemed codes. False if there was no such consent.
    pub async fn revoke_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let pair = (user_id.as_str(), client_id.as_str());
        let mut tx = self.db.begin_write().await?;
        let consent = "DELETE FROM consents WHERE env_id = $1 AND user_id = $2 AND client_id = $3";
        if self
            .query(consent, pair)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            != 1
        {
            tx.rollback().await?;
            return Ok(false);
        }
        let codes =
            "DELETE FROM authorization_codes WHERE env_id = $1 AND user_id = $2 AND client_id = $3";
        self.query(codes, pair).execute(&mut *tx).await?;
        let grants = "UPDATE grants SET revoked_at = $4 WHERE env_id = $1 AND user_id = $2 \
             AND client_id = $3 AND revoked_at IS NULL";
        let values = (user_id.as_str(), client_id.as_str(), now);
        self.query(grants, values).execute(&mut *tx).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    /// Deletes a user with their sessions, consents, codes and grants, in one transaction.
    pub async fn delete_user(&self, user_id: &UserId) -> Result<bool, StoreError> {
        let dependents = [
            "sessions",
            "consents",
            "authorization_codes",
            "refresh_tokens",
            "grants",
        ];
        let key = ("user_id", user_id.as_str());
        super::delete_with_dependents(self, "users", key, &dependents).await
    }
}
