//! Stage 2 of a request's per-request values: `data` and `data_order`, and the placeholders of
//! its `path`, header values and `body` (syntax and rendering: `template`), each compiled into
//! a [`Template`]. Errors point at the placeholder itself: a malformed one, a data column the
//! file does not have, `{{data.…}}` without `data`, a value that cannot go where it is written
//! (a space in a path), a data file that cannot be read.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use toml::Spanned;

use super::check::{self, fail, optional, Checked, Reported};
use super::error::{Diagnostics, Problem};
use super::key_path::KeyPath;
use super::raw::RawRequest;
use super::suggest;
use super::template::syntax::{self, Kind, Part, Placeholder};
use super::template::{DataOrder, DataSource, DataTable, Hole, Keys, Placeholders, Template};

const ORDERS: [(&str, DataOrder); 2] = [
    ("sequential", DataOrder::Sequential),
    ("random", DataOrder::Random),
];

/// Where a string with placeholders goes, which decides the values it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Path,
    Header,
    Body,
}

impl Place {
    /// Whether `value` may be written here as it is.
    fn accepts(self, value: &str) -> bool {
        match self {
            Place::Path => value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@/?".contains(&b)),
            Place::Header => value
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b)),
            Place::Body => true,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Place::Path => {
                "values that can go in a path: letters, digits and -._~%!$&'()*+,;=:@/? \
                 (percent-encode the others)"
            }
            Place::Header => "values that can go in a header: visible ASCII characters and spaces",
            Place::Body => "any value",
        }
    }
}

/// One request's placeholders while its keys are checked: its data file and the templates
/// compiled so far, numbered in the order they are met (path, headers, body).
pub(crate) struct RequestValues {
    keys: Keys,
    /// The `data` file as written, and its rows; `Err` when it was reported unusable.
    data: Checked<Option<(String, Arc<DataSource>)>>,
    ordinal: u32,
    placeholders: Placeholders,
}

impl RequestValues {
    /// Reads the request's `data` and `data_order` (a file relative to `source`).
    pub(crate) fn new(
        raw: &RawRequest,
        path: &KeyPath,
        source: &Path,
        keys: Keys,
        diag: &mut Diagnostics,
    ) -> RequestValues {
        RequestValues {
            keys,
            data: data(raw, path, source, keys, diag),
            ordinal: 0,
            placeholders: Placeholders {
                path: None,
                headers: Vec::new(),
                body: None,
            },
        }
    }

    /// The path's template, when it has placeholders, and its text with every placeholder
    /// written as `0` (to check the rest is a path).
    pub(crate) fn path(
        &mut self,
        value: &Spanned<String>,
        path: &KeyPath,
        diag: &mut Diagnostics,
    ) -> Checked<Option<String>> {
        let template = self.compile(value, path, Place::Path, diag)?;
        let sample = template.as_ref().map(|(_, sample)| sample.clone());
        self.placeholders.path = template.map(|(t, _)| t);
        Ok(sample)
    }

    /// Header `index`'s template, when its value has placeholders, and its text with every
    /// placeholder written as `0`.
    pub(crate) fn header(
        &mut self,
        index: usize,
        value: &Spanned<String>,
        path: &KeyPath,
        diag: &mut Diagnostics,
    ) -> Checked<Option<String>> {
        let template = self.compile(value, path, Place::Header, diag)?;
        Ok(template.map(|(t, sample)| {
            self.placeholders.headers.push((index, t));
            sample
        }))
    }

    /// The body's template, when it has placeholders.
    pub(crate) fn body(
        &mut self,
        value: &Spanned<String>,
        path: &KeyPath,
        diag: &mut Diagnostics,
    ) -> Checked<()> {
        self.placeholders.body = self
            .compile(value, path, Place::Body, diag)?
            .map(|(t, _)| t);
        Ok(())
    }

    /// The request's placeholders (`None` when it has none); an error if its data file was.
    pub(crate) fn finish(self) -> Checked<Option<Placeholders>> {
        self.data?;
        let p = self.placeholders;
        let any = p.path.is_some() || !p.headers.is_empty() || p.body.is_some();
        Ok(any.then_some(p))
    }

    /// `value` as a template and as a sample (placeholders written `0`), when it has any `{{`.
    fn compile(
        &mut self,
        value: &Spanned<String>,
        path: &KeyPath,
        place: Place,
        diag: &mut Diagnostics,
    ) -> Checked<Option<(Template, String)>> {
        let text = value.get_ref();
        if !text.contains("{{") {
            return Ok(None);
        }
        let parts = syntax::parse(text).map_err(|errors| {
            for error in errors {
                let span = inner_span(diag, &value.span(), text, error.at);
                diag.report(&span, path, error.problem);
            }
            Reported
        })?;
        let mut template = Template::default();
        let mut sample = String::new();
        let mut result = Ok(());
        for part in parts {
            match part {
                Part::Text(text) => {
                    template.push_text(text.as_bytes());
                    sample.push_str(&text);
                }
                Part::Placeholder(placeholder) => {
                    let span = inner_span(diag, &value.span(), text, placeholder.at);
                    match self.hole(&placeholder, place, (&span, path), diag) {
                        Ok(hole) => template.push_hole(hole),
                        Err(Reported) => result = Err(Reported),
                    }
                    sample.push('0');
                }
            }
        }
        result.map(|()| Some((template, sample)))
    }

    /// One placeholder ready to render, its values checked for `place`.
    fn hole(
        &mut self,
        placeholder: &Placeholder,
        place: Place,
        (span, path): (&Range<usize>, &KeyPath),
        diag: &mut Diagnostics,
    ) -> Checked<Hole> {
        let key = self.keys.placeholder(self.ordinal);
        self.ordinal += 1;
        let written = &placeholder.written;
        match &placeholder.kind {
            Kind::Seq => Ok(Hole::Seq),
            Kind::Uuid => Ok(Hole::Uuid { key }),
            Kind::Int { min, max } => Ok(Hole::Int {
                min: *min,
                max: *max,
                key,
            }),
            Kind::Pick(items) => match items.iter().find(|item| !place.accepts(item)) {
                Some(item) => {
                    let origin = format!("an item of `{written}`");
                    diag.report(span, path, refused(place, item, &origin));
                    Err(Reported)
                }
                None => Ok(Hole::Pick {
                    items: items.iter().map(|i| i.as_str().into()).collect(),
                    key,
                }),
            },
            Kind::Data(column) => {
                let (file, source) = match &self.data {
                    Ok(Some(data)) => data.clone(),
                    Ok(None) => {
                        let reason = format!(
                            "`{written}` takes a column of the request's data file; add \
                             `data = \"FILE.csv\"` to this request"
                        );
                        diag.report(span, path, Problem::not_allowed(reason));
                        return Err(Reported);
                    }
                    Err(Reported) => return Err(Reported),
                };
                let Some(index) = source.table.column(column) else {
                    let problem = unknown_column(&file, column, source.table.columns());
                    diag.report(span, path, problem);
                    return Err(Reported);
                };
                let refusal = source
                    .table
                    .values(index)
                    .find(|(_, value)| !place.accepts(value))
                    .map(|(line, value)| refused(place, value, &format!("{file} line {line}")));
                match refusal {
                    Some(problem) => {
                        diag.report(span, path, problem);
                        Err(Reported)
                    }
                    None => Ok(Hole::Data {
                        source,
                        column: index,
                    }),
                }
            }
        }
    }
}

/// A value `place` cannot take, and where it came from.
fn refused(place: Place, value: &str, origin: &str) -> Problem {
    Problem::invalid(place.expected(), format!("{value:?} ({origin})"))
}

fn unknown_column(file: &str, column: &str, columns: &[String]) -> Problem {
    let names: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
    Problem::UnknownName {
        what: format!("{file} column"),
        name: column.to_owned(),
        expected: names.join(", "),
        suggestion: suggest::closest(column, columns.iter().map(String::as_str))
            .map(|c| format!("data.{c}")),
    }
}

/// The request's `data` file, read, with its `data_order`.
fn data(
    raw: &RawRequest,
    path: &KeyPath,
    source: &Path,
    keys: Keys,
    diag: &mut Diagnostics,
) -> Checked<Option<(String, Arc<DataSource>)>> {
    let order = optional(&raw.data_order, |v| {
        check::one_of(v, &path.key("data_order"), diag, &ORDERS)
    });
    let Some(file) = raw.data.given() else {
        if let (Some(value), false) = (raw.data_order.given(), raw.data.is_invalid()) {
            let reason = "`data_order` says in which order the rows of `data = \"FILE.csv\"` \
                          are used, and this request has no `data`";
            return fail(
                value,
                &path.key("data_order"),
                diag,
                Problem::not_allowed(reason),
            );
        }
        return if raw.data.is_invalid() {
            Err(Reported)
        } else {
            order.map(|_| None)
        };
    };
    let key = path.key("data");
    let resolved = check::file_beside(file, source, &key, diag)?;
    let text = std::fs::read_to_string(&resolved).or_else(|error| {
        let found = format!("{:?} ({}: {error})", file.get_ref(), resolved.display());
        let expected = "a readable CSV file (UTF-8), relative to the scenario file";
        fail(file, &key, diag, Problem::invalid(expected, found))
    })?;
    let table = DataTable::parse(&text).or_else(|reason| {
        let found = format!("{:?} ({reason})", file.get_ref());
        let expected = "a CSV file with a header row naming its columns and at least one row";
        fail(file, &key, diag, Problem::invalid(expected, found))
    })?;
    let source = DataSource {
        table,
        order: order?.unwrap_or(DataOrder::Sequential),
        key: keys.data_rows(),
    };
    Ok(Some((file.get_ref().clone(), Arc::new(source))))
}

/// The span of the character at byte `offset` of a string value, when the value is written
/// in the file as it reads (no escapes); else the span of the whole value.
fn inner_span(diag: &Diagnostics, value: &Range<usize>, text: &str, offset: usize) -> Range<usize> {
    let written = diag.source(value).unwrap_or_default();
    let inner = ["\"\"\"", "'''", "\"", "'"].iter().find_map(|quote| {
        let inner = written.strip_prefix(quote)?.strip_suffix(quote)?;
        // A multi-line string drops a line end right after its opening quotes.
        let lead = match quote.len() {
            3 if inner.starts_with("\r\n") => 2,
            3 if inner.starts_with('\n') => 1,
            _ => 0,
        };
        (&inner[lead..] == text).then_some(quote.len() + lead)
    });
    match inner {
        Some(start) => {
            let at = value.start + start + offset;
            at..at + 2
        }
        None => value.clone(),
    }
}
