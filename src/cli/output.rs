//! How commands print: human text, or pretty JSON with `--json`; dates as UTC timestamps.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn print(json: bool, value: &impl Serialize, human: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        println!("{}", human());
    }
}

/// Epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`, for people reading the CLI.
pub fn utc_timestamp(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

/// Lines of a list, one per item.
pub fn lines<T>(items: &[T], line: impl Fn(&T) -> String) -> String {
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// The note under a secret that is printed only once.
pub const SHOWN_ONCE: &str = "(shown once: store it now)";

#[cfg(test)]
mod tests {
    use super::utc_timestamp;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_508_380), "2026-11-24T08:19:40Z");
        assert_eq!(utc_timestamp(-1), "1969-12-31T23:59:59Z");
    }
}
