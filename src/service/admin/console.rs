//! Console sign-in with an admin token, or as an operator (see `service::operators`): the browser
//! gets a session of its own, with a CSRF token bound to it. Every request reads the token (or the
//! operator's authority) again, so what it may do (reach, read-only, revocation, expiry) is always
//! its own.

use moka::sync::Cache;

use crate::crypto::secrets;
use crate::model::audit::Origin;
use crate::model::{Environment, EnvironmentId};
use crate::service::{Caller, Error};
use crate::store::{AdminTokenRecord, Db, NewConsoleSession};

use super::{AdminAccess, token_caller};

/// The zones each session has already been recorded in, on this node: `(session digest, zone)`.
pub type ZonesSeen = Cache<(String, EnvironmentId), ()>;

pub fn zones_seen() -> ZonesSeen {
    crate::service::cache::expiring(SESSION_SECONDS)
}

/// How long a console sign-in lasts, whatever is done with it.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// A signed-in console browser: who it acts as, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub caller: Caller,
    pub csrf: String,
    /// The digest of the session's cookie: its key, never the cookie itself.
    digest: String,
}

pub struct ConsoleSessions<'a> {
    pub(in crate::service) db: &'a Db,
    pub(in crate::service) access: AdminAccess<'a>,
    pub(in crate::service) zones_seen: &'a ZonesSeen,
}

impl ConsoleSessions<'_> {
    /// Opens a session for the admin token `token`: the session cookie's value, or `None` when no
    /// such token is in force.
    pub async fn sign_in(&self, token: &str, now: i64) -> Result<Option<String>, Error> {
        let Some(record) = self
            .db
            .find_admin_token(&secrets::digest(token), now)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.open(&record, now).await?))
    }

    /// Opens a session standing for `record` (an admin token, or an operator's authority): the
    /// session cookie's value.
    pub async fn open(&self, record: &AdminTokenRecord, now: i64) -> Result<String, Error> {
        let session = secrets::random_token();
        let csrf = secrets::random_token();
        let expires_at = match record.expires_at {
            Some(token_end) => token_end.min(now + SESSION_SECONDS),
            None => now + SESSION_SECONDS,
        };
        self.db
            .insert_console_session(&NewConsoleSession {
                session_digest: &secrets::digest(&session),
                token_id: &record.token_id,
                csrf: &csrf,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(session)
    }

    /// The session behind a cookie value, if it and its token are in force.
    pub async fn find(
        &self,
        session: &str,
        origin: Origin,
        now: i64,
    ) -> Result<Option<ConsoleSession>, Error> {
        let digest = secrets::digest(session);
        let found = self.db.find_console_session(&digest, now).await?;
        Ok(found.map(|(record, csrf)| ConsoleSession {
            caller: token_caller(record, origin),
            csrf,
            digest,
        }))
    }

    /// The environment `project/name` as the session may see it (`NotFound` otherwise). The
    /// token's use is recorded in the zone's log once per session and zone on this node, not at
    /// every page the operator opens.
    pub async fn environment(
        &self,
        session: &ConsoleSession,
        (project, name): (&str, &str),
        now: i64,
    ) -> Result<Environment, Error> {
        let environment = self
            .access
            .reachable(&session.caller, project, name)
            .await?;
        let key = (session.digest.clone(), environment.id.clone());
        if !self.zones_seen.contains_key(&key) {
            self.access
                .record_use(&environment, &session.caller, now)
                .await?;
            self.zones_seen.insert(key, ());
        }
        Ok(environment)
    }

    pub async fn sign_out(&self, session: &str) -> Result<(), Error> {
        Ok(self
            .db
            .delete_console_session(&secrets::digest(session))
            .await?)
    }
}
