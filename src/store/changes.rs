//! Telling the other nodes what changed, so they drop it from their caches at once: PostgreSQL's
//! LISTEN/NOTIFY on one channel. A SQLite database has one node: there is no one to tell.

use sqlx::postgres::PgListener;

use super::{Backend, Db, StoreError};

const CHANNEL: &str = "airlock_changes";

/// This node's subscription to every node's announcements.
pub struct ChangeListener(PgListener);

impl ChangeListener {
    /// The next announcement; `None` when the connection dropped (it reconnects on the next
    /// call, and whatever was announced meanwhile is lost).
    pub async fn next(&mut self) -> Result<Option<String>, StoreError> {
        let notification = self.0.try_recv().await?;
        Ok(notification.map(|notification| notification.payload().to_string()))
    }
}

impl Db {
    /// Announces `change` to every node listening (this one included), after it committed.
    pub async fn announce_change(&self, change: &str) -> Result<(), StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        self.query("SELECT pg_notify($1, $2)", (CHANNEL, change))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A listener of the announcements, on a connection of its own; `None` on SQLite.
    pub async fn listen_for_changes(&self) -> Result<Option<ChangeListener>, StoreError> {
        let Some(url) = self.postgres_url() else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(ChangeListener(listener)))
    }
}
