//! When a failed delivery is tried again: a schedule of delays, each stretched by jitter so that a
//! receiver coming back is not hit by every retry at once.

use std::str::FromStr;

/// Delays between attempts, in seconds; once they are used up the delivery has failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<u64>);

/// 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, then daily: about three days in all.
pub const DEFAULT_SCHEDULE: &str = "5s,30s,2m,10m,1h,6h,1d,1d,1d";

impl RetrySchedule {
    /// The wait before the next attempt after `attempts_made` failed ones; `None` when the
    /// schedule is used up. `jitter` in [0, 1) stretches the delay to between 80 % and 120 %.
    pub fn delay_after(&self, attempts_made: i64, jitter: f64) -> Option<u64> {
        let index = usize::try_from(attempts_made.max(1) - 1).ok()?;
        let base = *self.0.get(index)? as f64;
        let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
        Some((base * factor).round().max(1.0) as u64)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// A 2xx: delivered.
    Delivered,
    /// `410 Gone`: the receiver wants no more; the endpoint is disabled.
    Gone,
    /// Tried again after this many seconds.
    RetryIn(u64),
    /// The schedule is used up: the delivery has failed.
    GiveUp,
}

impl RetrySchedule {
    /// The step after attempt number `attempts_made`, which got `status` (none: no answer).
    pub fn next_step(&self, attempts_made: i64, status: Option<u16>, jitter: f64) -> NextStep {
        match status {
            Some(200..=299) => NextStep::Delivered,
            Some(410) => NextStep::Gone,
            _ => match self.delay_after(attempts_made, jitter) {
                Some(delay) => NextStep::RetryIn(delay),
                None => NextStep::GiveUp,
            },
        }
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        DEFAULT_SCHEDULE
            .parse()
            .unwrap_or(RetrySchedule(vec![5, 30, 120]))
    }
}

impl FromStr for RetrySchedule {
    type Err = String;

    /// A comma-separated list of durations: `90`, `5s`, `2m`, `1h`, `1d`.
    fn from_str(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(parse_duration)
            .collect::<Result<Vec<u64>, String>>()?;
        Ok(RetrySchedule(delays))
    }
}

fn parse_duration(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let count: u64 = digits
        .parse()
        .map_err(|_| format!("not a duration: {text:?}"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("not a duration: {text:?} (use s, m, h or d)")),
    };
    count
        .checked_mul(unit)
        .filter(|seconds| *seconds > 0)
        .ok_or_else(|| format!("not a usable duration: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_backs_off_for_about_three_days() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.delay_after(1, 0.5), Some(5));
        assert_eq!(schedule.delay_after(2, 0.5), Some(30));
        assert_eq!(schedule.delay_after(6, 0.5), Some(6 * 3600));
        assert_eq!(schedule.delay_after(9, 0.5), Some(86_400));
        assert_eq!(schedule.delay_after(10, 0.5), None);
        let total: u64 = (1..=9).filter_map(|n| schedule.delay_after(n, 0.5)).sum();
        assert!((3 * 86_400..4 * 86_400).contains(&total));
    }

    #[test]
    fn answers_decide_the_next_step() {
        let schedule: RetrySchedule = "10s,1m".parse().unwrap();
        assert_eq!(schedule.next_step(1, Some(204), 0.5), NextStep::Delivered);
        assert_eq!(schedule.next_step(1, Some(410), 0.5), NextStep::Gone);
        assert_eq!(schedule.next_step(1, Some(500), 0.5), NextStep::RetryIn(10));
        assert_eq!(schedule.next_step(2, None, 0.5), NextStep::RetryIn(60));
        assert_eq!(schedule.next_step(3, Some(301), 0.5), NextStep::GiveUp);
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let schedule: RetrySchedule = "100".parse().unwrap();
        assert_eq!(schedule.delay_after(1, 0.0), Some(80));
        assert_eq!(schedule.delay_after(1, 0.999_999), Some(120));
    }

    #[test]
    fn bad_durations_are_refused() {
        assert!("5s,x".parse::<RetrySchedule>().is_err());
        assert!("5w".parse::<RetrySchedule>().is_err());
        assert!("0s".parse::<RetrySchedule>().is_err());
        assert_eq!("1,2m".parse::<RetrySchedule>().unwrap().len(), 2);
    }
}
