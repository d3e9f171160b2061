//! How commands print: human text, or pretty JSON with `--json`; dates as UTC timestamps.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::is_clean_text;

pub fn print(json: bool, value: &impl Serialize, human: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        println!("{}", escaped(&human(), &['\n']));
    }
}

/// `text` with every control and bidi-override character written as a visible `\u{…}` escape, but
/// those in `kept`: a name stored with a terminal escape sequence must not drive the operator's
/// terminal, nor a newline in one fake a line of a list.
fn escaped(text: &str, kept: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let mut one = [0u8; 4];
        if kept.contains(&c) || is_clean_text(c.encode_utf8(&mut one)) {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    out
}

/// Epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`, for people reading the CLI.
pub fn utc_timestamp(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

/// Lines of a list, one per item (a line break inside an item is escaped).
pub fn lines<T>(items: &[T], line: impl Fn(&T) -> String) -> String {
    let line = |item| escaped(&line(item), &[]);
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// The note under a secret that is printed only once.
pub const SHOWN_ONCE: &str = "(shown once: store it now)";

#[cfg(test)]
mod tests {
    use super::{escaped, lines, utc_timestamp};

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escaped("a\u{1b}[2Jb\n", &['\n']), "a\\u{1b}[2Jb\n");
        assert_eq!(escaped("x\u{202e}y", &[]), "x\\u{202e}y");
        assert_eq!(
            lines(&["one\ntwo", "é"], |s| s.to_string()),
            "one\\u{a}two\né"
        );
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_508_380), "2026-11-24T08:19:40Z");
        assert_eq!(utc_timestamp(-1), "1969-12-31T23:59:59Z");
    }
}
