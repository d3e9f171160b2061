//! Console sign-ins. A session stands for the admin token (or operator's authority) it was opened
//! with, and is read through it, so a revoked or expired token ends its sessions at once.

use sqlx::{Any, Row, Transaction};

use super::installation::{ADMIN_TOKEN_COLUMNS, AdminTokenRecord, admin_token_from_row};
use super::{Db, EnvStore, StoreError};
use crate::model::OPERATORS_ZONE;

/// A console session as stored: its cookie is known only by digest.
pub struct NewConsoleSession<'a> {
    pub session_digest: &'a str,
    pub token_id: &'a str,
    pub csrf: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

impl EnvStore<'_> {
    /// Ends the console sessions of the operator whose account is `user_id`, when this zone is
    /// the operators zone: part of the transaction that gives the account a new password or
    /// disables it.
    pub(super) async fn end_operator_sessions(
        &self,
        tx: &mut Transaction<'_, Any>,
        user_id: &str,
    ) -> Result<(), StoreError> {
        let sql = "DELETE FROM console_sessions WHERE token_id IN \
             (SELECT token_id FROM admin_tokens WHERE operator_sub = $2) AND EXISTS (SELECT 1 \
             FROM environments e JOIN projects p ON p.id = e.project_id \
             WHERE e.id = $1 AND p.name = $3 AND e.name = $4)";
        let (project, environment) = OPERATORS_ZONE;
        self.query(sql, (user_id, project, environment))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

impl Db {
    /// Stores a new session, and drops the expired ones of every operator.
    pub async fn insert_console_session(
        &self,
        session: &NewConsoleSession<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.query(
            "DELETE FROM console_sessions WHERE expires_at <= $1",
            (session.created_at,),
        )
        .execute(&mut *tx)
        .await?;
        let values = (
            session.session_digest,
            session.token_id,
            session.csrf,
            session.created_at,
            session.expires_at,
        );
        self.query(
            "INSERT INTO console_sessions (session_digest, token_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            values,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The admin token (or operator's authority) behind the session with this digest and the
    /// session's CSRF token, if both are in force at `now`. An operator's session also needs their
    /// account in the operators zone, still there and not disabled (a new password ends their
    /// sessions outright: `end_operator_sessions`).
    pub async fn find_console_session(
        &self,
        session_digest: &str,
        now: i64,
    ) -> Result<Option<(AdminTokenRecord, String)>, StoreError> {
        let (operators_project, operators_environment) = OPERATORS_ZONE;
        let sql = format!(
            "SELECT {ADMIN_TOKEN_COLUMNS}, csrf FROM admin_tokens JOIN \
             (SELECT token_id AS session_token, csrf, expires_at AS session_expires \
              FROM console_sessions WHERE session_digest = $1) opened \
             ON opened.session_token = admin_tokens.token_id \
             WHERE session_expires > $2 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2) \
             AND (operator_sub IS NULL OR EXISTS (SELECT 1 FROM users u \
              JOIN environments e ON e.id = u.env_id JOIN projects p ON p.id = e.project_id \
              WHERE p.name = $3 AND e.name = $4 AND u.user_id = admin_tokens.operator_sub \
              AND u.disabled_at IS NULL))"
        );
        let values = (
            session_digest,
            now,
            operators_project,
            operators_environment,
        );
        let row = self.query(&sql, values).fetch_optional(self.pool()).await?;
        row.map(|row| Ok((admin_token_from_row(&row)?, row.try_get("csrf")?)))
            .transpose()
    }

    pub async fn delete_console_session(&self, session_digest: &str) -> Result<(), StoreError> {
        self.query(
            "DELETE FROM console_sessions WHERE session_digest = $1",
            (session_digest,),
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
