//! Stage 1 primitives: reading spanned TOML tables and arrays into [`Field`]s. Wrong TOML
//! types are reported with what was expected; unknown keys with the closest valid key.

use toml::Spanned;

use super::document::{Entry, Node, NodeValue};
use super::error::{Diagnostics, Problem};
use super::field::{Field, Named};
use super::key_path::KeyPath;
use super::suggest;

pub(crate) const AN_INTEGER: &str = "an integer";

/// A reader of one kind of value: the node, its key path, where to report.
pub(crate) type Read<T> = fn(&Node, &KeyPath, &mut Diagnostics) -> Field<T>;

/// A table whose keys the user chooses (`[targets.NAME]`), each value read by `read`.
pub(crate) fn named_tables<T>(
    node: &Node,
    path: &KeyPath,
    diag: &mut Diagnostics,
    what: &str,
    read: Read<T>,
) -> Field<Vec<Named<T>>> {
    let Some(entries) = table_entries(node, path, diag, what) else {
        return Field::Invalid;
    };
    let named = entries
        .iter()
        .map(|entry| Named {
            name: entry.key.clone(),
            value: read(&entry.node, &path.key(entry.key.get_ref()), diag),
        })
        .collect();
    Field::Given(Spanned::new(node.span.clone(), named))
}

/// A table of user-chosen keys with string values (`[thresholds]`, `headers`); `expected`
/// describes a string value given what was found instead.
pub(crate) fn named_strings(
    node: &Node,
    path: &KeyPath,
    diag: &mut Diagnostics,
    expected: fn(&NodeValue) -> &'static str,
) -> Field<Vec<Named<String>>> {
    let Some(entries) = table_entries(node, path, diag, "a table") else {
        return Field::Invalid;
    };
    let named = entries
        .iter()
        .map(|entry| Named {
            name: entry.key.clone(),
            value: string(
                &entry.node,
                &path.key(entry.key.get_ref()),
                expected(&entry.node.value),
                diag,
            ),
        })
        .collect();
    Field::Given(Spanned::new(node.span.clone(), named))
}

/// An array (of tables, `what` says which), each element read by `read`.
pub(crate) fn array<T>(
    node: &Node,
    path: &KeyPath,
    diag: &mut Diagnostics,
    what: &str,
    read: Read<T>,
) -> Field<Vec<Field<T>>> {
    let NodeValue::Array(items) = &node.value else {
        let expected = format!("an array of tables ({what})");
        diag.report(
            &node.span,
            path,
            Problem::invalid(expected, node.value.describe()),
        );
        return Field::Invalid;
    };
    let fields = items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item, &path.index(i), diag))
        .collect();
    Field::Given(Spanned::new(node.span.clone(), fields))
}

pub(crate) fn table_entries<'n>(
    node: &'n Node,
    path: &KeyPath,
    diag: &mut Diagnostics,
    what: &str,
) -> Option<&'n [Entry]> {
    match &node.value {
        NodeValue::Table(entries) => Some(entries),
        other => {
            let expected = if what.starts_with('[') {
                format!("a table ({what})")
            } else {
                what.to_owned()
            };
            diag.report(
                &node.span,
                path,
                Problem::invalid(expected, other.describe()),
            );
            None
        }
    }
}

pub(crate) fn string(
    node: &Node,
    path: &KeyPath,
    expected: &str,
    diag: &mut Diagnostics,
) -> Field<String> {
    match &node.value {
        NodeValue::String(s) => Field::Given(Spanned::new(node.span.clone(), s.clone())),
        other => {
            diag.report(
                &node.span,
                path,
                Problem::invalid(expected, other.describe()),
            );
            Field::Invalid
        }
    }
}

/// The entries of one table with a fixed set of keys; unknown keys are reported on opening.
pub(crate) struct TableReader<'n, 'd, 'a> {
    entries: &'n [Entry],
    path: KeyPath,
    diag: &'d mut Diagnostics<'a>,
    /// Keys suggested for unknown keys (`rat` → `rate`): already reported if missing.
    misspelt: Vec<String>,
}

impl<'n, 'd, 'a> TableReader<'n, 'd, 'a> {
    /// `None` (after reporting) when `node` is not a table.
    pub(crate) fn open(
        node: &'n Node,
        path: &KeyPath,
        known: &[&str],
        diag: &'d mut Diagnostics<'a>,
    ) -> Option<Self> {
        let entries = table_entries(node, path, diag, "a table")?;
        let misspelt = entries
            .iter()
            .filter(|e| !known.contains(&e.key.get_ref().as_str()))
            .filter_map(|entry| report_unknown_key(entry, path, known, diag))
            .collect();
        Some(TableReader {
            entries,
            path: path.clone(),
            diag,
            misspelt,
        })
    }

    /// The value of `key`, read by `read` if present.
    pub(crate) fn field<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(&Node, &KeyPath, &mut Diagnostics) -> Field<T>,
    ) -> Field<T> {
        match self.entries.iter().find(|e| e.key.get_ref() == key) {
            Some(entry) => read(&entry.node, &self.path.key(key), self.diag),
            None if self.misspelt.iter().any(|k| k == key) => Field::Invalid,
            None => Field::Absent,
        }
    }

    pub(crate) fn string(&mut self, key: &str, expected: &str) -> Field<String> {
        self.field(key, |n, p, d| string(n, p, expected, d))
    }

    pub(crate) fn integer(&mut self, key: &str) -> Field<i64> {
        self.field(key, |node, path, diag| match &node.value {
            NodeValue::Integer(i) => Field::Given(Spanned::new(node.span.clone(), *i)),
            other => {
                diag.report(
                    &node.span,
                    path,
                    Problem::invalid(AN_INTEGER, other.describe()),
                );
                Field::Invalid
            }
        })
    }

    pub(crate) fn boolean(&mut self, key: &str) -> Field<bool> {
        self.field(key, |node, path, diag| match &node.value {
            NodeValue::Boolean(b) => Field::Given(Spanned::new(node.span.clone(), *b)),
            other => {
                diag.report(
                    &node.span,
                    path,
                    Problem::invalid("a boolean (true or false)", other.describe()),
                );
                Field::Invalid
            }
        })
    }

    /// An integer or a float.
    pub(crate) fn number(&mut self, key: &str) -> Field<f64> {
        self.field(key, |node, path, diag| match &node.value {
            NodeValue::Integer(i) => Field::Given(Spanned::new(node.span.clone(), *i as f64)),
            NodeValue::Float(f) => Field::Given(Spanned::new(node.span.clone(), *f)),
            other => {
                diag.report(
                    &node.span,
                    path,
                    Problem::invalid("a number", other.describe()),
                );
                Field::Invalid
            }
        })
    }
}

/// Reports an unknown key; returns the key it suggests instead, if any.
fn report_unknown_key(
    entry: &Entry,
    path: &KeyPath,
    known: &[&str],
    diag: &mut Diagnostics,
) -> Option<String> {
    let key = entry.key.get_ref();
    let suggestion = suggest::closest(key, known.iter().copied());
    let problem = Problem::UnknownKey {
        expected: known.iter().map(|k| k.to_string()).collect(),
        suggestion: suggestion.clone(),
    };
    diag.report(&entry.key.span(), &path.key(key), problem);
    suggestion
}
