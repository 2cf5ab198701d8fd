//! What stage 1 makes of one key: [`Field`] (absent, present with the wrong type, or given with
//! its span) and [`Named`] (a key the user chose, with its field). The words the raw tree, its
//! readers and the stage-2 checks share.

use toml::Spanned;

/// A key's value as stage 1 found it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<T> {
    /// The key is not in the file.
    Absent,
    /// The key is there with the wrong type; the error is already reported.
    Invalid,
    Given(Spanned<T>),
}

impl<T> Field<T> {
    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    /// Given with the wrong type (already reported).
    pub(crate) fn is_invalid(&self) -> bool {
        matches!(self, Field::Invalid)
    }

    pub(crate) fn given(&self) -> Option<&Spanned<T>> {
        match self {
            Field::Given(value) => Some(value),
            Field::Absent | Field::Invalid => None,
        }
    }
}

/// A key chosen by the user (a target name, a header, a threshold) and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Named<T> {
    pub name: Spanned<String>,
    pub value: Field<T>,
}
