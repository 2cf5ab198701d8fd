//! A JSON value as block-style YAML: mappings and sequences indented by two spaces, strings
//! double-quoted with JSON's escapes (a YAML double-quoted scalar accepts them all), multi-line
//! strings as literal blocks (`|`) so a pod's script reads as written.

use serde_json::Value;

pub(super) fn write(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => mapping(out, map, 0),
        Value::Array(items) if !items.is_empty() => sequence(out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
}

fn mapping(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key_text(key));
        out.push(':');
        nested(out, value, indent);
    }
}

fn sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            // A mapping in a sequence starts on the dash's line.
            Value::Object(map) if !map.is_empty() => {
                let mut first = true;
                for (key, value) in map {
                    if !first {
                        out.push_str(&" ".repeat(indent + 2));
                    } else {
                        out.push(' ');
                    }
                    first = false;
                    out.push_str(&key_text(key));
                    out.push(':');
                    nested(out, value, indent + 2);
                }
            }
            other => nested(out, other, indent),
        }
    }
}

/// What follows a key's colon or a dash: a nested block on the next lines, or a scalar.
fn nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            mapping(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, indent + 2);
        }
        Value::String(text) if text.contains('\n') && literal_safe(text) => {
            out.push_str(" |");
            if !text.ends_with('\n') {
                out.push('-');
            }
            out.push('\n');
            for line in text.trim_end_matches('\n').split('\n') {
                if !line.is_empty() {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
}

/// Whether a literal block holds `text` exactly: printable lines, the first not indented (its
/// indentation would be taken for the block's), at most one trailing newline.
fn literal_safe(text: &str) -> bool {
    !text.starts_with([' ', '\t'])
        && !text.ends_with("\n\n")
        && text.chars().all(|c| c == '\n' || !c.is_control())
}

/// A key plain when YAML reads it back as the same string (`apiVersion`, `s.toml`,
/// `app.kubernetes.io/name`), else double-quoted.
fn key_text(key: &str) -> String {
    const WORDS: [&str; 11] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "",
    ];
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
        && !WORDS.contains(&key.to_ascii_lowercase().as_str());
    if plain {
        key.to_string()
    } else {
        inline(&Value::String(key.to_string()))
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
        // JSON's own text: numbers, booleans, null and double-quoted strings are YAML too.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_yaml_of_maps_sequences_and_scripts() {
        let value = json!({
            "kind": "Job",
            "spec": {"completions": 3, "list": [{"name": "a", "command": ["sh", "-c", "set -eu\necho \"hi\"\n"]}, "x"]},
            "empty": {},
            "on": "1 2",
        });
        let mut out = String::new();
        write(&mut out, &value);
        // serde_json's maps keep their keys sorted.
        assert_eq!(
            out,
            "empty: {}\n\
             kind: \"Job\"\n\
             \"on\": \"1 2\"\n\
             spec:\n\
             \x20 completions: 3\n\
             \x20 list:\n\
             \x20   - command:\n\
             \x20       - \"sh\"\n\
             \x20       - \"-c\"\n\
             \x20       - |\n\
             \x20         set -eu\n\
             \x20         echo \"hi\"\n\
             \x20     name: \"a\"\n\
             \x20   - \"x\"\n"
        );
    }
}
