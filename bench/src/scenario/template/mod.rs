//! Per-request values: placeholders in a request's path, header values and body, parsed once
//! when the scenario is read into [`Template`]s (text pieces and holes) and rendered for each
//! request straight into a byte buffer. The syntax is `syntax`'s, the values `render`'s, the
//! CSV data files `data`'s; stage 2 of a request's placeholders is `scenario::values`.
//!
//! Every value is a function of the scenario's `seed`, the request's index in `[[requests]]`,
//! the placeholder's place in the request and the request's sequence number `seq` (its number
//! in the schedule, whichever worker or shard sends it), so a run renders the same values
//! however it is split, and the same seed renders them again.

mod data;
mod render;
pub(crate) mod syntax;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub(crate) use data::{DataOrder, DataSource, DataTable};
pub(crate) use render::decimal;

use crate::rng::mix64;

/// Mixed into the seed so these streams are not the request mix's or the schedule's.
const SEED_SALT: u64 = 0x7e4d_1a7e_0000_0001;

/// The placeholders of one request, parsed: a [`Template`] for each of its path, header
/// values and body that has any. A request without placeholders has none of this and is sent
/// exactly as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Placeholders {
    /// The path and query (its text starts with `/`).
    pub(crate) path: Option<Template>,
    /// Header values with placeholders, by their index in the request's `headers`.
    pub(crate) headers: Vec<(usize, Template)>,
    pub(crate) body: Option<Template>,
}

impl Placeholders {
    /// The template of header `index` of the request, if its value has placeholders.
    pub(crate) fn header(&self, index: usize) -> Option<&Template> {
        self.headers
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, template)| template)
    }
}

/// Text with holes: rendered for request `seq` by copying the text and writing each hole's
/// value for `seq`. Adjacent text is one piece.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(Vec<u8>),
    Hole(Hole),
}

/// A placeholder, ready to render: its kind with its random stream's key, or its data column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Hole {
    /// `{{seq}}`.
    Seq,
    /// `{{int MIN MAX}}`: `min..=max`.
    Int { min: i64, max: i64, key: u64 },
    /// `{{pick A B …}}`: at least one item.
    Pick { items: Box<[Box<str>]>, key: u64 },
    /// `{{uuid}}`.
    Uuid { key: u64 },
    /// `{{data.COLUMN}}`: `column` of the row `source` gives request `seq`.
    Data {
        source: Arc<DataSource>,
        column: usize,
    },
}

impl Template {
    /// Appends text (joined to the text before it).
    pub(crate) fn push_text(&mut self, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some(Piece::Text(last)) => last.extend_from_slice(text),
            _ => self.pieces.push(Piece::Text(text.to_vec())),
        }
    }

    pub(crate) fn push_hole(&mut self, hole: Hole) {
        self.pieces.push(Piece::Hole(hole));
    }

    /// Appends another template's pieces.
    pub(crate) fn push_template(&mut self, other: &Template) {
        for piece in &other.pieces {
            match piece {
                Piece::Text(text) => self.push_text(text),
                Piece::Hole(hole) => self.push_hole(hole.clone()),
            }
        }
    }

    /// Whether it has any hole (else it is the same text for every request).
    pub(crate) fn has_holes(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Hole(_)))
    }

    /// The text, when it has no hole.
    pub(crate) fn as_text(&self) -> Option<&[u8]> {
        match self.pieces.as_slice() {
            [] => Some(&[]),
            [Piece::Text(text)] => Some(text),
            _ => None,
        }
    }
}

/// Where the random streams of one request's placeholders come from: the scenario's seed and
/// the request's index in `[[requests]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keys {
    seed: u64,
    request: u64,
}

impl Keys {
    pub(crate) fn new(seed: u64, request_index: usize) -> Keys {
        Keys {
            seed: mix64(seed ^ SEED_SALT),
            request: request_index as u64,
        }
    }

    /// The key of the request's placeholder number `ordinal` (path, then headers in order,
    /// then body).
    pub(crate) fn placeholder(self, ordinal: u32) -> u64 {
        mix64(self.seed ^ mix64((self.request << 32) | u64::from(ordinal)))
    }

    /// The key of the request's random data rows (`data_order = "random"`).
    pub(crate) fn data_rows(self) -> u64 {
        mix64(self.seed ^ mix64((self.request << 32) | 0xffff_ffff) ^ 0xda7a)
    }
}
