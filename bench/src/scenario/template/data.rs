//! A request's data file (`data = "users.csv"`): CSV (RFC 4180: commas, optional double quotes
//! with `""` for a quote, LF or CRLF line ends) whose first row names the columns, read whole
//! when the scenario is read; and which row request `seq` uses (`data_order`).
//!
//! Empty lines are skipped (a one-column file writes an empty value as `""`); every row has as
//! many fields as the header; a UTF-8 byte-order mark at the start is ignored.

use super::render::{below, draw};

/// `data_order`: which row request `seq` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataOrder {
    /// Row `seq mod rows`: the rows in file order, over and over (the default).
    Sequential,
    /// A row drawn at random for each `seq` (reproducible from the seed).
    Random,
}

/// The rows of a data file, the header's names for its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataTable {
    columns: Vec<String>,
    /// Row-major: row `r`'s cells are `cells[r * columns.len()..][..columns.len()]`.
    cells: Vec<Box<str>>,
    /// The line each row starts on (1-based), for messages.
    lines: Vec<usize>,
}

/// A data file as a request's placeholders use it: its rows, their order, the key of its
/// random rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataSource {
    pub table: DataTable,
    pub order: DataOrder,
    pub key: u64,
}

impl DataSource {
    /// The cell of `column` in the row of request `seq`.
    pub(crate) fn cell(&self, seq: u64, column: usize) -> &str {
        let rows = self.table.rows();
        let row = match self.order {
            DataOrder::Sequential => (seq % rows as u64) as usize,
            DataOrder::Random => below(draw(self.key, seq), rows),
        };
        self.table.cell(row, column)
    }
}

impl DataTable {
    /// Reads CSV text: a header row and at least one row. The error says what is wrong and on
    /// which line.
    pub(crate) fn parse(text: &str) -> Result<DataTable, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut records = records(text)?.into_iter();
        let Some((_, columns)) = records.next() else {
            return Err("no header row (the file is empty)".into());
        };
        if let Some(twice) = columns
            .iter()
            .enumerate()
            .find(|(i, name)| columns[..*i].contains(name))
        {
            return Err(format!("column `{}` is named twice in the header", twice.1));
        }
        let mut table = DataTable {
            columns,
            cells: Vec::new(),
            lines: Vec::new(),
        };
        for (line, fields) in records {
            if fields.len() != table.columns.len() {
                return Err(format!(
                    "line {line} has {} fields where the header has {}",
                    fields.len(),
                    table.columns.len()
                ));
            }
            table
                .cells
                .extend(fields.into_iter().map(String::into_boxed_str));
            table.lines.push(line);
        }
        if table.lines.is_empty() {
            return Err("a header row but no rows of values".into());
        }
        Ok(table)
    }

    /// The header's column names, in order.
    pub(crate) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The index of the column `name`.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// How many rows (at least one).
    pub(crate) fn rows(&self) -> usize {
        self.lines.len()
    }

    pub(crate) fn cell(&self, row: usize, column: usize) -> &str {
        &self.cells[row * self.columns.len() + column]
    }

    /// Every value of `column`, with the line its row starts on.
    pub(crate) fn values(&self, column: usize) -> impl Iterator<Item = (usize, &str)> {
        (0..self.rows()).map(move |row| (self.lines[row], self.cell(row, column)))
    }
}

/// The records of CSV text, each with the line it starts on; empty lines skipped.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut quoted_any = false;
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                quoted_any = true;
                quoted_field(&mut chars, &mut field, &mut line)?;
            } else {
                while let Some(c) = chars.next_if(|&c| !matches!(c, ',' | '\n' | '\r')) {
                    field.push(c);
                }
            }
            fields.push(field);
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    chars.next_if_eq(&'\n');
                }
                Some(_) | None => {}
            }
            line += 1;
            break;
        }
        let empty_line = !quoted_any && fields.len() == 1 && fields[0].is_empty();
        if !empty_line {
            records.push((start, fields));
        }
    }
    Ok(records)
}

/// The rest of a quoted field (its opening quote read), unescaped into `field`; what follows
/// it must end the field.
fn quoted_field(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    field: &mut String,
    line: &mut usize,
) -> Result<(), String> {
    let opened = *line;
    loop {
        match chars.next() {
            None => {
                return Err(format!(
                    "the quoted field opened on line {opened} never closes"
                ))
            }
            Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
            Some('"') => break,
            Some(c) => {
                if c == '\n' {
                    *line += 1;
                }
                field.push(c);
            }
        }
    }
    match chars.peek() {
        None | Some(',' | '\n' | '\r') => Ok(()),
        Some(c) => Err(format!(
            "line {line}: `{c}` after a quoted field; expected `,` or the end of the line"
        )),
    }
}
