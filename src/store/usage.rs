//! Usage counts per environment and day, added to by each node's flush.

use sqlx::Row;

use super::{Db, StoreError};
use crate::model::EnvironmentId;

/// One environment's counts over a span of days: `(metric, total)`, and its distinct subjects.
#[derive(Debug, Clone, Default)]
pub struct UsageTotals {
    pub counts: Vec<(String, i64)>,
    pub active_subjects: i64,
    /// The most subjects active on one day of the span.
    pub peak_daily_subjects: i64,
}

impl Db {
    /// Adds `counts` (`env_id`, day, metric, count) and records `subjects` (`env_id`, day,
    /// subject) as active, in one transaction.
    pub async fn add_usage(
        &self,
        counts: &[(EnvironmentId, i64, String, i64)],
        subjects: &[(EnvironmentId, i64, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let add = "INSERT INTO usage_counts (env_id, day, metric, count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (env_id, day, metric) DO UPDATE SET count = usage_counts.count + excluded.count";
        for (env_id, day, metric, count) in counts {
            self.query(add, (env_id.as_str(), *day, metric.as_str(), *count))
                .execute(&mut *tx)
                .await?;
        }
        let active = "INSERT INTO usage_subjects (env_id, day, subject) VALUES ($1, $2, $3) \
             ON CONFLICT (env_id, day, subject) DO NOTHING";
        for (env_id, day, subject) in subjects {
            self.query(active, (env_id.as_str(), *day, subject.as_str()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `env_id`'s totals over days `first..=last`.
    pub async fn usage_totals(
        &self,
        env_id: &EnvironmentId,
        (first, last): (i64, i64),
    ) -> Result<UsageTotals, StoreError> {
        let counts = "SELECT metric, CAST(SUM(count) AS BIGINT) AS total FROM usage_counts \
             WHERE env_id = $1 AND day BETWEEN $2 AND $3 GROUP BY metric ORDER BY metric";
        let rows = self
            .query(counts, (env_id.as_str(), first, last))
            .fetch_all(self.pool())
            .await?;
        let counts = rows
            .iter()
            .map(|row| Ok((row.try_get("metric")?, row.try_get("total")?)))
            .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
        let distinct = "SELECT COUNT(DISTINCT subject) AS active FROM usage_subjects \
             WHERE env_id = $1 AND day BETWEEN $2 AND $3";
        let row = self
            .query(distinct, (env_id.as_str(), first, last))
            .fetch_one(self.pool())
            .await?;
        let active_subjects = row.try_get("active")?;
        let peak = "SELECT COALESCE(MAX(active), 0) AS peak FROM (SELECT COUNT(*) AS active \
             FROM usage_subjects WHERE env_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day) daily";
        let row = self
            .query(peak, (env_id.as_str(), first, last))
            .fetch_one(self.pool())
            .await?;
        Ok(UsageTotals {
            counts,
            active_subjects,
            peak_daily_subjects: row.try_get("peak")?,
        })
    }
}
