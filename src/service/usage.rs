//! Usage metering: per environment and day, sign-ins, tokens by grant, webhook deliveries, and the
//! subjects active (signed in or refreshed). Counted in each node's memory, with no database write
//! on the request's path, and added to the database every `AIRLOCK_USAGE_FLUSH_SECONDS`; a node
//! that crashes loses at most one interval of counts.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde::Serialize;
use time::{Date, Month};

use super::{Airlock, Error};
use crate::model::{EnvKind, EnvironmentId};

const DAY: i64 = 86_400;

type CountKey = (EnvironmentId, i64, &'static str);
type SubjectKey = (EnvironmentId, i64, String);

#[derive(Debug, Default)]
struct Pending {
    counts: HashMap<CountKey, i64>,
    subjects: HashSet<SubjectKey>,
}

/// This node's counts since its last flush.
#[derive(Debug, Default)]
pub struct UsageMeter {
    pending: Mutex<Pending>,
}

impl UsageMeter {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One more `metric` in `env_id` today.
    pub fn count(&self, env_id: &EnvironmentId, now: i64, metric: &'static str) {
        *self
            .pending()
            .counts
            .entry((env_id.clone(), now.div_euclid(DAY), metric))
            .or_default() += 1;
    }

    /// `subject` was active in `env_id` today.
    pub fn active(&self, env_id: &EnvironmentId, now: i64, subject: &str) {
        let key = (env_id.clone(), now.div_euclid(DAY), subject.to_string());
        self.pending().subjects.insert(key);
    }

    fn take(&self) -> Pending {
        std::mem::take(&mut *self.pending())
    }

    /// Puts back what a failed flush took, to go with the next one.
    fn restore(&self, taken: Pending) {
        let mut pending = self.pending();
        for (key, count) in taken.counts {
            *pending.counts.entry(key).or_default() += count;
        }
        pending.subjects.extend(taken.subjects);
    }
}

/// One environment's usage over a month.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneUsage {
    pub environment: String,
    pub kind: &'static str,
    /// Distinct subjects that signed in or refreshed in the month.
    pub monthly_active_users: i64,
    /// The most on one day of the month.
    pub peak_daily_active_users: i64,
    pub counts: HashMap<String, i64>,
}

/// A project's usage over a month: every zone, and what is billable (live zones only).
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub project: String,
    pub month: String,
    pub zones: Vec<ZoneUsage>,
    pub billable: HashMap<String, i64>,
}

/// The first and last day (days since the epoch) of `month` (`YYYY-MM`), or of the month of `now`.
pub(super) fn month_days(month: Option<&str>, now: i64) -> Result<(String, i64, i64), Error> {
    let invalid = || Error::Invalid("month is YYYY-MM".into());
    let (year, number) = match month {
        Some(month) => {
            let (year, number) = month.split_once('-').ok_or_else(invalid)?;
            (
                year.parse::<i32>().map_err(|_| invalid())?,
                number.parse::<u8>().map_err(|_| invalid())?,
            )
        }
        None => {
            let today = time::OffsetDateTime::from_unix_timestamp(now).map_err(|_| invalid())?;
            (today.year(), u8::from(today.month()))
        }
    };
    let month = Month::try_from(number).map_err(|_| invalid())?;
    let first = Date::from_calendar_date(year, month, 1).map_err(|_| invalid())?;
    let days = i64::from(month.length(year));
    let epoch = Date::from_calendar_date(1970, Month::January, 1).map_err(|_| invalid())?;
    let first_day = i64::from((first - epoch).whole_days() as i32);
    Ok((
        format!("{year:04}-{number:02}"),
        first_day,
        first_day + days - 1,
    ))
}

impl Airlock {
    /// Adds this node's counts to the database; on failure they wait for the next flush.
    pub async fn flush_usage(&self) -> Result<(), Error> {
        let taken = self.usage.take();
        if taken.counts.is_empty() && taken.subjects.is_empty() {
            return Ok(());
        }
        let counts: Vec<(EnvironmentId, i64, String, i64)> = taken
            .counts
            .iter()
            .map(|((env_id, day, metric), count)| {
                (env_id.clone(), *day, metric.to_string(), *count)
            })
            .collect();
        let subjects: Vec<SubjectKey> = taken.subjects.iter().cloned().collect();
        if let Err(error) = self.db.add_usage(&counts, &subjects).await {
            self.usage.restore(taken);
            return Err(error.into());
        }
        Ok(())
    }

    /// `project`'s usage in `month` (`YYYY-MM`; this month by default), optionally one zone's.
    pub async fn usage(
        &self,
        project: &str,
        environment: Option<&str>,
        month: Option<&str>,
        now: i64,
    ) -> Result<UsageReport, Error> {
        let (month, first, last) = month_days(month, now)?;
        let mut zones = Vec::new();
        let mut billable: HashMap<String, i64> = HashMap::new();
        let environments = self.db.list_environments().await?;
        let chosen = environments
            .iter()
            .filter(|e| e.project == project)
            .filter(|e| environment.is_none_or(|name| e.name == name));
        for zone in chosen {
            let totals = self.db.usage_totals(&zone.id, (first, last)).await?;
            let counts: HashMap<String, i64> = totals.counts.into_iter().collect();
            if zone.kind == EnvKind::Live {
                for (metric, count) in &counts {
                    *billable.entry(metric.clone()).or_default() += count;
                }
                *billable.entry("monthly_active_users".into()).or_default() +=
                    totals.active_subjects;
            }
            zones.push(ZoneUsage {
                environment: zone.slug(),
                kind: zone.kind.as_str(),
                monthly_active_users: totals.active_subjects,
                peak_daily_active_users: totals.peak_daily_subjects,
                counts,
            });
        }
        if zones.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(UsageReport {
            project: project.to_string(),
            month,
            zones,
            billable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(
            month_days(Some("1970-01"), 0).unwrap(),
            ("1970-01".into(), 0, 30)
        );
        let (_, first, last) = month_days(Some("2024-02"), 0).unwrap();
        assert_eq!(last - first, 28, "a leap February");
        assert_eq!(month_days(None, 40 * DAY).unwrap().0, "1970-02");
        assert!(month_days(Some("2024-13"), 0).is_err());
        assert!(month_days(Some("next"), 0).is_err());
    }

    #[test]
    fn a_failed_flush_loses_nothing() {
        let meter = UsageMeter::default();
        let env = EnvironmentId::from("e".to_string());
        meter.count(&env, 0, "signins");
        meter.active(&env, 0, "usr_1");
        let taken = meter.take();
        meter.count(&env, 0, "signins");
        meter.restore(taken);
        let pending = meter.take();
        assert_eq!(pending.counts[&(env.clone(), 0, "signins")], 2);
        assert_eq!(pending.subjects.len(), 1);
    }
}
