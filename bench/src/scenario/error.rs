//! Scenario errors: where (file, line, column, key path) and what (expected vs found, with a
//! suggestion), plus the collector both parsing stages report into.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::key_path::KeyPath;

/// One problem in one scenario file. Displays as one line:
/// `scenarios/x.toml:12:1: load.phases[1].rat: unknown key; expected one of … (did you mean `rate`?)`
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}{problem}", location(.file, .position), key_prefix(.key))]
pub(crate) struct ScenarioError {
    pub file: PathBuf,
    /// Where in the file; `None` for file-level problems (unreadable file).
    pub position: Option<Position>,
    /// The key path (`load.phases[2].rate`, `thresholds."serverless.latency.p99"`);
    /// `None` for file-level and syntax problems.
    pub key: Option<String>,
    pub problem: Problem,
}

/// A 1-based line and column (the column counts characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub line: usize,
    pub column: usize,
}

/// What is wrong, in words that say what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Problem {
    #[error("cannot read the scenario: {reason}")]
    Unreadable { reason: String },
    #[error("invalid TOML: {message}")]
    Syntax { message: String },
    #[error("unknown key; expected one of {}{}", .expected.join(", "), did_you_mean(.suggestion))]
    UnknownKey {
        expected: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("missing required key; expected {expected}")]
    MissingKey { expected: String },
    #[error("at least one {what} is needed")]
    Empty { what: String },
    #[error("expected {expected}, found {found}{}", did_you_mean(.suggestion))]
    Invalid {
        expected: String,
        found: String,
        suggestion: Option<String>,
    },
    #[error("unknown {what} `{name}`; expected one of {expected}{}", did_you_mean(.suggestion))]
    UnknownName {
        what: String,
        name: String,
        expected: String,
        suggestion: Option<String>,
    },
    #[error("not allowed here: {reason}")]
    NotAllowed { reason: String },
    #[error("scenario name `{name}` is already used by {}", .first.display())]
    DuplicateName { name: String, first: PathBuf },
}

impl Problem {
    pub(crate) fn invalid(expected: impl Into<String>, found: impl Into<String>) -> Problem {
        Problem::Invalid {
            expected: expected.into(),
            found: found.into(),
            suggestion: None,
        }
    }

    pub(crate) fn missing(expected: impl Into<String>) -> Problem {
        Problem::MissingKey {
            expected: expected.into(),
        }
    }

    pub(crate) fn not_allowed(reason: impl Into<String>) -> Problem {
        Problem::NotAllowed {
            reason: reason.into(),
        }
    }
}

fn location(file: &Path, position: &Option<Position>) -> String {
    match position {
        Some(p) => format!("{}:{}:{}: ", file.display(), p.line, p.column),
        None => format!("{}: ", file.display()),
    }
}

fn key_prefix(key: &Option<String>) -> String {
    key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default()
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// Every error found in one or more scenario files; displays one per line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

impl IntoIterator for ScenarioErrors {
    type Item = ScenarioError;
    type IntoIter = std::vec::IntoIter<ScenarioError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Collects the errors of one file, turning byte spans into line:column.
pub(crate) struct Diagnostics<'a> {
    file: &'a Path,
    text: &'a str,
    line_starts: Vec<usize>,
    errors: Vec<ScenarioError>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Diagnostics {
            file,
            text,
            line_starts,
            errors: Vec::new(),
        }
    }

    /// Reports `problem` at the byte span `span` about the key `path`.
    pub(crate) fn report(&mut self, span: &Range<usize>, path: &KeyPath, problem: Problem) {
        let key = (!path.is_empty()).then(|| path.to_string());
        let position = Some(self.position(span.start));
        self.push(position, key, problem);
    }

    /// Reports a problem that has a position but no key (a TOML syntax error).
    pub(crate) fn report_syntax(&mut self, span: Option<Range<usize>>, message: &str) {
        let position = span.map(|s| self.position(s.start));
        let message = message.trim().replace('\n', "; ");
        self.push(position, None, Problem::Syntax { message });
    }

    fn push(&mut self, position: Option<Position>, key: Option<String>, problem: Problem) {
        let file = self.file.to_path_buf();
        self.errors.push(ScenarioError {
            file,
            position,
            key,
            problem,
        });
    }

    /// The text of the file at `span` (a value as written, quotes and escapes included).
    pub(crate) fn source(&self, span: &Range<usize>) -> Option<&'a str> {
        self.text.get(span.clone())
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The errors in file order.
    pub(crate) fn into_errors(mut self) -> Vec<ScenarioError> {
        self.errors.sort_by_key(|e| e.position);
        self.errors
    }

    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        Position { line, column }
    }
}

/// An error about a whole file (it could not be read).
pub(crate) fn unreadable(file: &Path, reason: impl fmt::Display) -> ScenarioError {
    ScenarioError {
        file: file.to_path_buf(),
        position: None,
        key: None,
        problem: Problem::Unreadable {
            reason: reason.to_string(),
        },
    }
}
