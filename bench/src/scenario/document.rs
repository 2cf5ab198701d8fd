//! The TOML text as a tree of values that remember where they were written.
//!
//! `toml_edit` parses (it keeps the span of every key and value); this module turns its items
//! into one small tree where every node and every key carries a byte span (`toml::Spanned`).
//! Implicit tables (`targets` in `[targets.serverless]`, `a` in `a.b = 1`) have no span of
//! their own; they take the span of the key that introduced them.

use std::ops::Range;

use toml::Spanned;
use toml_edit::{ImDocument, Item, Key, Table, Value};

/// A TOML value and its byte span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub span: Range<usize>,
    pub value: NodeValue,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeValue {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(String),
    Array(Vec<Node>),
    /// Entries in file order.
    Table(Vec<Entry>),
}

/// A key (with its own span) and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub key: Spanned<String>,
    pub node: Node,
}

/// A TOML syntax error: message and where.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub span: Option<Range<usize>>,
    pub message: String,
}

/// Parses TOML text into a tree whose root is a table spanning the start of the file.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let document = ImDocument::parse(text).map_err(|e| {
        let span = e.span();
        let message = match e.message().trim() {
            "" => unexpected_at(text, span.as_ref().map_or(text.len(), |s| s.start)),
            message => message
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("; "),
        };
        SyntaxError { span, message }
    })?;
    Ok(from_item(document.as_item(), 0..0))
}

/// What the parser met at `offset` when it says nothing itself (it stays silent at some
/// unexpected ends): always a reason, never an empty message.
fn unexpected_at(text: &str, offset: usize) -> String {
    match text.get(offset..).and_then(|rest| rest.chars().next()) {
        None => "unexpected end of file (a value or a closing bracket is missing)".into(),
        Some('\n' | '\r') => "unexpected end of line (a value is missing)".into(),
        Some(c) => format!("unexpected {c:?}"),
    }
}

fn from_item(item: &Item, fallback: Range<usize>) -> Node {
    match item {
        Item::Value(value) => from_value(value),
        Item::Table(table) => from_table(table, fallback),
        Item::ArrayOfTables(array) => {
            let tables = array
                .iter()
                .map(|table| from_table(table, fallback.clone()))
                .collect();
            node(array.span(), fallback, NodeValue::Array(tables))
        }
        Item::None => node(None, fallback, NodeValue::Table(Vec::new())),
    }
}

fn from_table(table: &Table, fallback: Range<usize>) -> Node {
    let entries = table
        .iter()
        .map(|(name, item)| {
            let key = key(name, table.key(name), &fallback);
            let node = from_item(item, key.span());
            Entry { key, node }
        })
        .collect();
    node(table.span(), fallback, NodeValue::Table(entries))
}

fn from_value(value: &Value) -> Node {
    let span = value.span().unwrap_or(0..0);
    let tree = match value {
        Value::String(s) => NodeValue::String(s.value().clone()),
        Value::Integer(i) => NodeValue::Integer(*i.value()),
        Value::Float(f) => NodeValue::Float(*f.value()),
        Value::Boolean(b) => NodeValue::Boolean(*b.value()),
        Value::Datetime(d) => NodeValue::Datetime(d.value().to_string()),
        Value::Array(array) => NodeValue::Array(array.iter().map(from_value).collect()),
        Value::InlineTable(table) => NodeValue::Table(
            table
                .iter()
                .map(|(name, value)| Entry {
                    key: key(name, table.key(name), &span),
                    node: from_value(value),
                })
                .collect(),
        ),
    };
    Node { span, value: tree }
}

/// The key with its span (the enclosing table's span if the parser kept none).
fn key(name: &str, key: Option<&Key>, fallback: &Range<usize>) -> Spanned<String> {
    let span = key.and_then(Key::span).unwrap_or_else(|| fallback.clone());
    Spanned::new(span, name.to_owned())
}

fn node(span: Option<Range<usize>>, fallback: Range<usize>, value: NodeValue) -> Node {
    Node {
        span: span.unwrap_or(fallback),
        value,
    }
}

impl NodeValue {
    /// "a string (\"ten\")", "an integer (5)", "a table": what was found, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            NodeValue::String(s) => format!("a string ({s:?})"),
            NodeValue::Integer(i) => format!("an integer ({i})"),
            NodeValue::Float(f) => format!("a float ({f})"),
            NodeValue::Boolean(b) => format!("a boolean ({b})"),
            NodeValue::Datetime(d) => format!("a datetime ({d})"),
            NodeValue::Array(_) => "an array".to_owned(),
            NodeValue::Table(_) => "a table".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(node: &Node) -> &[Entry] {
        match &node.value {
            NodeValue::Table(entries) => entries,
            other => panic!("not a table: {other:?}"),
        }
    }

    #[test]
    fn keys_and_values_keep_their_spans() {
        let text = "name = \"x\"\n[targets.a]\nurl = \"http://h\"\n";
        let root = parse(text).unwrap();
        let entries = table(&root);
        assert_eq!(&text[entries[0].key.span()], "name");
        assert_eq!(&text[entries[0].node.span.clone()], "\"x\"");
        // `targets` is implicit: it takes its key's span.
        assert_eq!(&text[entries[1].node.span.clone()], "targets");
        let a = &table(&entries[1].node)[0];
        assert_eq!(&text[a.key.span()], "a");
        assert!(text[a.node.span.clone()].starts_with("[targets.a]"));
    }

    #[test]
    fn arrays_of_tables_and_inline_tables_become_arrays_and_tables() {
        let text = "[[p]]\nr = { from = 1, to = 2.5 }\n[[p]]\nr = 3\n";
        let root = parse(text).unwrap();
        let NodeValue::Array(items) = &table(&root)[0].node.value else {
            panic!("not an array")
        };
        assert_eq!(items.len(), 2);
        let ramp = &table(&items[0])[0].node;
        assert_eq!(&text[ramp.span.clone()], "{ from = 1, to = 2.5 }");
        let to = &table(ramp)[1];
        assert_eq!(&text[to.key.span()], "to");
        assert_eq!(to.node.value, NodeValue::Float(2.5));
    }

    #[test]
    fn a_syntax_error_always_says_what_is_wrong() {
        for (text, expected) in [
            ("name = \"x\"\nseed = ", "unexpected end of file"),
            ("name = \"x\"\nseed = \n", "invalid string; expected"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(
                error.message.contains(expected),
                "{text:?}: {:?}",
                error.message
            );
        }
        for text in [
            "a = [1,", "a = {", "[a", "a = \"", "a = 1 2", "= 1", "a.b. = 1",
        ] {
            let error = parse(text).unwrap_err();
            assert!(!error.message.trim().is_empty(), "{text:?}: {error:?}");
        }
    }

    #[test]
    fn syntax_errors_have_a_span_and_a_message() {
        let error = parse("a = 1\na = 2\n").unwrap_err();
        assert_eq!(error.span, Some(6..7));
        assert!(error.message.contains("duplicate key"), "{}", error.message);
    }
}
