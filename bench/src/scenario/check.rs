//! Stage 2 building blocks: one raw value → one typed value, or a reported error that says
//! what was expected and what was found.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::duration::{self, DurationError};
use super::error::{Diagnostics, Problem};
use super::field::Field;
use super::key_path::KeyPath;
use super::suggest;
use crate::model::names::MAX_NAME_CHARS;

/// An error was reported; the value it concerns is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported;

/// The outcome of checking a value.
pub(crate) type Checked<T> = Result<T, Reported>;

/// Reports `problem` about the value `value` at `path`.
pub(crate) fn fail<T, U>(
    value: &Spanned<T>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    problem: Problem,
) -> Checked<U> {
    diag.report(&value.span(), path, problem);
    Err(Reported)
}

/// `None` when absent, the checked value when given; an already-reported type error stays one.
pub(crate) fn optional<'f, T, U>(
    field: &'f Field<T>,
    check: impl FnOnce(&'f Spanned<T>) -> Checked<U>,
) -> Checked<Option<U>> {
    match field {
        Field::Absent => Ok(None),
        Field::Invalid => Err(Reported),
        Field::Given(value) => check(value).map(Some),
    }
}

/// Like [`optional`], but an absent key is reported at `table` (the span of its table).
pub(crate) fn required<'f, T, U>(
    field: &'f Field<T>,
    table: &Range<usize>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    expected: &str,
    check: impl FnOnce(&'f Spanned<T>, &mut Diagnostics) -> Checked<U>,
) -> Checked<U> {
    match field {
        Field::Absent => {
            diag.report(table, path, Problem::missing(expected));
            Err(Reported)
        }
        Field::Invalid => Err(Reported),
        Field::Given(value) => check(value, diag),
    }
}

/// The smallest duration a key accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MinDuration {
    Zero,
    Positive,
}

/// A duration string (`"250ms"`); `Positive` rejects `"0s"`.
pub(crate) fn duration(
    value: &Spanned<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    min: MinDuration,
) -> Checked<Duration> {
    match duration::parse(value.get_ref()) {
        Ok(d) if d.is_zero() && min == MinDuration::Positive => {
            let found = format!("{:?}", value.get_ref());
            fail(
                value,
                path,
                diag,
                Problem::invalid("a duration > 0 such as \"5s\"", found),
            )
        }
        Ok(d) => Ok(d),
        Err(error) => fail(value, path, diag, bad_duration(value.get_ref(), &error)),
    }
}

/// "expected a duration string such as "5s", found "-5s" (durations cannot be negative)".
pub(crate) fn bad_duration(text: &str, error: &DurationError) -> Problem {
    Problem::invalid(duration::EXPECTED, format!("{text:?} ({error})"))
}

/// An integer in `min..=max`, converted to the type the plan uses.
pub(crate) fn integer<T: TryFrom<i64>>(
    value: &Spanned<i64>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    min: i64,
    max: i64,
) -> Checked<T> {
    bounded_integer(value, path, diag, min..=max, None)
}

/// [`integer`], whose error also says `why` the bounds are what they are.
pub(crate) fn bounded_integer<T: TryFrom<i64>>(
    value: &Spanned<i64>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    bounds: std::ops::RangeInclusive<i64>,
    why: Option<&str>,
) -> Checked<T> {
    let n = *value.get_ref();
    let (min, max) = (*bounds.start(), *bounds.end());
    match T::try_from(n) {
        Ok(converted) if bounds.contains(&n) => Ok(converted),
        _ => {
            let mut expected = if max == i64::MAX {
                format!("an integer >= {min}")
            } else {
                format!("an integer from {min} to {max}")
            };
            if let Some(why) = why {
                expected = format!("{expected} ({why})");
            }
            fail(value, path, diag, Problem::invalid(expected, n.to_string()))
        }
    }
}

/// One of a fixed set of strings (`"open"`, `"closed"`), with a suggestion when misspelt.
pub(crate) fn one_of<T: Copy>(
    value: &Spanned<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    choices: &[(&str, T)],
) -> Checked<T> {
    let text = value.get_ref();
    if let Some((_, choice)) = choices.iter().find(|(name, _)| name == text) {
        return Ok(*choice);
    }
    let names: Vec<String> = choices
        .iter()
        .map(|(name, _)| format!("{name:?}"))
        .collect();
    let problem = Problem::Invalid {
        expected: format!("one of {}", names.join(", ")),
        found: format!("{text:?}"),
        suggestion: suggest::closest(text, choices.iter().map(|(name, _)| *name)),
    };
    fail(value, path, diag, problem)
}

/// A name made of lowercase ASCII letters, digits and the characters in `extra`.
pub(crate) fn name(
    value: &Spanned<String>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    extra: &[char],
    example: &str,
) -> Checked<String> {
    let text = value.get_ref();
    if crate::model::names::is_name(text, extra) {
        return Ok(text.clone());
    }
    let mut allowed = vec!["lowercase letters".to_owned(), "digits".to_owned()];
    allowed.extend(extra.iter().map(|c| format!("`{c}`")));
    let last = allowed.pop().unwrap_or_default();
    let problem = Problem::Invalid {
        expected: format!(
            "a name of {} and {last}, at most {MAX_NAME_CHARS} characters (like {example:?})",
            allowed.join(", ")
        ),
        found: format!("{text:?}"),
        suggestion: slug(text).filter(|slug| slug != text && slug.len() <= MAX_NAME_CHARS),
    };
    fail(value, path, diag, problem)
}

/// `"Cold Start!"` → `"cold-start"`: lowercase, runs of other characters become `-`.
fn slug(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|word| !word.is_empty())
        .collect();
    (!words.is_empty()).then(|| words.join("-"))
}

/// Every item checked (so every error is reported), then all of them or none.
pub(crate) fn all<T>(items: Vec<Checked<T>>) -> Checked<Vec<T>> {
    items.into_iter().collect()
}

/// A list that must have at least one item (`what`: "[[requests]]"); absent is reported at
/// `parent` (the span of the enclosing table).
pub(crate) fn non_empty<'f, T>(
    field: &'f Field<Vec<T>>,
    parent: &Range<usize>,
    path: &KeyPath,
    diag: &mut Diagnostics,
    what: &str,
) -> Checked<&'f [T]> {
    let (span, items) = match field {
        Field::Absent => (parent.clone(), &[][..]),
        Field::Invalid => return Err(Reported),
        Field::Given(list) => (list.span(), list.get_ref().as_slice()),
    };
    if items.is_empty() {
        diag.report(
            &span,
            path,
            Problem::Empty {
                what: what.to_owned(),
            },
        );
        return Err(Reported);
    }
    Ok(items)
}

/// The span of a value that is given (with any type), for "not allowed here" errors.
pub(crate) fn given_span<T>(field: &Field<T>) -> Option<Range<usize>> {
    field.given().map(Spanned::span)
}

/// A path written relative to the scenario file `source` (or absolute): resolved, and it must
/// be an existing regular file.
pub(crate) fn file_beside(
    value: &Spanned<String>,
    source: &std::path::Path,
    path: &KeyPath,
    diag: &mut Diagnostics,
) -> Checked<std::path::PathBuf> {
    let resolved = beside(source, value.get_ref());
    if resolved.is_file() {
        return Ok(resolved);
    }
    let found = format!(
        "{:?} ({} is not a file)",
        value.get_ref(),
        resolved.display()
    );
    fail(
        value,
        path,
        diag,
        Problem::invalid("a file, relative to the scenario file", found),
    )
}

/// `written` resolved against the directory of the scenario file `source`.
pub(crate) fn beside(source: &std::path::Path, written: &str) -> std::path::PathBuf {
    let dir = source.parent().unwrap_or(std::path::Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    dir.join(written)
}
