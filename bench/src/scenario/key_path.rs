//! Key paths as users write them in messages: `load.phases[2].rate`,
//! `thresholds."serverless.latency.p99"` (keys that are not bare TOML keys are quoted).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// The path from the document root to a key or array element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The document root (an empty path).
    pub(crate) fn root() -> KeyPath {
        KeyPath::default()
    }

    /// This path extended by a key.
    pub(crate) fn key(&self, key: &str) -> KeyPath {
        self.with(Segment::Key(key.to_owned()))
    }

    /// This path extended by an array index (0-based, as written in messages).
    pub(crate) fn index(&self, index: usize) -> KeyPath {
        self.with(Segment::Index(index))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn with(&self, segment: Segment) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(segment);
        KeyPath(segments)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write_key(f, key)?;
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        f.write_str(key)
    } else {
        write!(f, "\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_keys_join_with_dots_and_indexes_use_brackets() {
        let path = KeyPath::root()
            .key("load")
            .key("phases")
            .index(2)
            .key("rate");
        assert_eq!(path.to_string(), "load.phases[2].rate");
    }

    #[test]
    fn keys_that_are_not_bare_are_quoted() {
        let path = KeyPath::root()
            .key("thresholds")
            .key("serverless.latency.p99");
        assert_eq!(path.to_string(), r#"thresholds."serverless.latency.p99""#);
        assert_eq!(KeyPath::root().key("a\"b").to_string(), r#""a\"b""#);
    }
}
