//! Duration strings: `"500us"`, `"250ms"`, `"5s"`, `"1.5s"`, `"1m30s"`, `"2h"`, and why a
//! string is not one.

use std::fmt;
use std::time::Duration;

/// The units a duration string may use, with their length in nanoseconds.
const UNITS: [(&str, f64); 7] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

/// Shown in messages: what a duration looks like.
pub(crate) const EXPECTED: &str = "a duration string such as \"5s\"";

/// Why a string is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DurationError {
    Empty,
    Negative,
    /// A number without a unit (`"5"`).
    MissingUnit,
    /// A unit without a number, or something that is not a number (`"s"`, `"five s"`).
    NotANumber(String),
    UnknownUnit(String),
    TooLarge,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => f.write_str("empty"),
            DurationError::Negative => f.write_str("durations cannot be negative"),
            DurationError::MissingUnit => f.write_str("no unit; use ns, us, ms, s, m or h"),
            DurationError::NotANumber(s) => write!(f, "`{s}` is not a number"),
            DurationError::UnknownUnit(u) => {
                write!(f, "unknown unit `{u}`; use ns, us, ms, s, m or h")
            }
            DurationError::TooLarge => f.write_str("too large"),
        }
    }
}

/// Parses a duration string: one or more `<number><unit>` parts, summed.
pub(crate) fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let mut rest = text;
    let mut nanos = 0.0;
    while !rest.is_empty() {
        let (part, next) = split_part(rest);
        nanos += part_nanos(part)?;
        rest = next;
    }
    if nanos >= u64::MAX as f64 {
        return Err(DurationError::TooLarge);
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// Splits off the first `<number><unit>` part (up to the next digit after a unit).
fn split_part(text: &str) -> (&str, &str) {
    let is_number = |c: char| c.is_ascii_digit() || c == '.';
    let unit_start = text.find(|c| !is_number(c)).unwrap_or(text.len());
    let end = text[unit_start..]
        .find(is_number)
        .map_or(text.len(), |i| unit_start + i);
    text.split_at(end)
}

fn part_nanos(part: &str) -> Result<f64, DurationError> {
    let unit_start = part
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(part.len());
    let (number, unit) = part.split_at(unit_start);
    let unit = unit.trim();
    let value: f64 = number
        .parse()
        .map_err(|_| DurationError::NotANumber(part.trim().to_owned()))?;
    if unit.is_empty() {
        return Err(DurationError::MissingUnit);
    }
    let (_, unit_nanos) = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .ok_or_else(|| DurationError::UnknownUnit(unit.to_owned()))?;
    Ok(value * unit_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        let ms = Duration::from_millis;
        assert_eq!(parse("250ms"), Ok(ms(250)));
        assert_eq!(parse("5s"), Ok(ms(5_000)));
        assert_eq!(parse("1m"), Ok(ms(60_000)));
        assert_eq!(parse("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse("2h"), Ok(ms(7_200_000)));
        assert_eq!(parse("1.5s"), Ok(ms(1_500)));
        assert_eq!(parse("0.1s"), Ok(ms(100)));
        assert_eq!(parse("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse("750ns"), Ok(Duration::from_nanos(750)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse("1m 30s"), Ok(ms(90_000)));
    }

    #[test]
    fn says_why_a_string_is_not_a_duration() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("-5s"), Err(DurationError::Negative));
        assert_eq!(parse("5"), Err(DurationError::MissingUnit));
        assert_eq!(parse("5sec"), Err(DurationError::UnknownUnit("sec".into())));
        assert_eq!(
            parse("five s"),
            Err(DurationError::NotANumber("five s".into()))
        );
        assert_eq!(
            parse("1.2.3s"),
            Err(DurationError::NotANumber("1.2.3s".into()))
        );
        assert_eq!(parse("s"), Err(DurationError::NotANumber("s".into())));
        assert_eq!(parse("99999999999h"), Err(DurationError::TooLarge));
    }
}
