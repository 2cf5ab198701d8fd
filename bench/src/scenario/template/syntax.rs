//! The placeholder syntax: a string → text and placeholders, each placeholder with where it
//! was written, or every malformed placeholder with what was expected there. Nothing is looked
//! up here (a data column is only a name).
//!
//! Text is copied as written, except that `{{` always opens a placeholder, which ends at the
//! next `}}` outside a quoted item. Inside, words are separated by spaces; an item may be
//! quoted (`"New York"`, with `\"` and `\\`), and a placeholder that is one quoted item is that
//! text (`{{"{{"}}` writes `{{`).

use crate::scenario::error::Problem;
use crate::scenario::suggest;

/// What every placeholder may be, for messages.
pub(crate) const EXPECTED: &str = "a placeholder: {{seq}}, {{int MIN MAX}}, {{pick A B ...}}, \
                                   {{uuid}}, {{data.COLUMN}} or {{\"TEXT\"}}";

/// The names a misspelt placeholder is compared with.
const NAMES: [&str; 5] = ["seq", "int", "pick", "uuid", "data"];

/// A piece of a parsed string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text written as is (a quoted placeholder's text included).
    Text(String),
    Placeholder(Placeholder),
}

/// One placeholder and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder {
    /// Byte offset of its `{{` in the string.
    pub at: usize,
    /// The placeholder as written, `{{` to `}}`.
    pub written: String,
    pub kind: Kind,
}

/// What a placeholder writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `{{seq}}`: the request's sequence number.
    Seq,
    /// `{{int MIN MAX}}`: a random integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// `{{pick A B …}}`: one of the items, at random.
    Pick(Vec<String>),
    /// `{{uuid}}`: a random version-4 UUID.
    Uuid,
    /// `{{data.COLUMN}}`: the column of the request's current data row.
    Data(String),
}

/// A malformed placeholder: where (byte offset of its `{{` in the string) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub at: usize,
    pub problem: Problem,
}

/// A word of a placeholder: bare, or quoted (its text unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Bare(String),
    Quoted(String),
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Bare(text) | Token::Quoted(text) => text,
        }
    }
}

/// Parses `text` into its parts; adjacent text is one part. Every malformed placeholder is
/// reported (parsing goes on after its `}}`).
pub(crate) fn parse(text: &str) -> Result<Vec<Part>, Vec<SyntaxError>> {
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut literal = String::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let at = rest + found;
        literal.push_str(&text[rest..at]);
        let (tokens, end) = match tokens(text, at + 2) {
            Ok(scanned) => scanned,
            Err(problem) => {
                errors.push(SyntaxError { at, problem });
                break;
            }
        };
        let written = &text[at..end];
        match placeholder(&tokens, written) {
            Ok(Interpreted::Text(quoted)) => literal.push_str(&quoted),
            Ok(Interpreted::Kind(kind)) => {
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Placeholder(Placeholder {
                    at,
                    written: written.to_owned(),
                    kind,
                }));
            }
            Err(problem) => errors.push(SyntaxError { at, problem }),
        }
        rest = end;
    }
    if errors.is_empty() {
        literal.push_str(&text[rest.min(text.len())..]);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(parts)
    } else {
        Err(errors)
    }
}

/// The tokens of the placeholder whose body starts at `start`, and the offset just past its
/// `}}`.
fn tokens(text: &str, start: usize) -> Result<(Vec<Token>, usize), Problem> {
    let mut tokens = Vec::new();
    let mut at = start;
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("}}") {
            return Ok((tokens, at + 2));
        }
        if trimmed.is_empty() {
            return Err(Problem::invalid(
                "`}}` closing the placeholder",
                format!("the end of the text after {}", head(&text[start - 2..])),
            ));
        }
        let (token, len) = if trimmed.starts_with('"') {
            quoted(trimmed)?
        } else {
            bare(trimmed)
        };
        tokens.push(token);
        at += len;
    }
}

/// A bare word at the start of `rest`: up to a space or `}}`.
fn bare(rest: &str) -> (Token, usize) {
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') || rest[i..].starts_with("}}") {
            end = i;
            break;
        }
    }
    (Token::Bare(rest[..end].to_owned()), end)
}

/// A quoted item at the start of `rest` (which starts with `"`), unescaped.
fn quoted(rest: &str) -> Result<(Token, usize), Problem> {
    let mut text = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((Token::Quoted(text), i + 1)),
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\'))) => text.push(escaped),
                other => {
                    let found = other.map_or("the end of the text".into(), |(_, c)| {
                        format!("`\\{c}` in {}", head(rest))
                    });
                    return Err(Problem::invalid("`\\\"` or `\\\\` in a quoted item", found));
                }
            },
            c => text.push(c),
        }
    }
    Err(Problem::invalid(
        "`\"` closing the quoted item",
        format!("the end of the text after {}", head(rest)),
    ))
}

/// The first few characters of `text`, for messages.
fn head(text: &str) -> String {
    let cut: String = text.chars().take(24).collect();
    if cut.len() < text.len() {
        format!("`{cut}…`")
    } else {
        format!("`{cut}`")
    }
}

/// What one placeholder's tokens mean.
enum Interpreted {
    /// `{{"TEXT"}}`: the text itself.
    Text(String),
    Kind(Kind),
}

/// The meaning of a placeholder's tokens; `written` is the placeholder, for messages.
fn placeholder(tokens: &[Token], written: &str) -> Result<Interpreted, Problem> {
    let found = || format!("`{written}`");
    let (name, args) = match tokens {
        [] => return Err(Problem::invalid(EXPECTED, found())),
        [Token::Quoted(text)] => return Ok(Interpreted::Text(text.clone())),
        [Token::Quoted(_), ..] => {
            let expected = "one quoted text, as in {{\"{{\"}}; {{pick ...}} picks among items";
            return Err(Problem::invalid(expected, found()));
        }
        [Token::Bare(name), args @ ..] => (name.as_str(), args),
    };
    let no_arguments = |kind: Kind, expected: &str| {
        if args.is_empty() {
            Ok(Interpreted::Kind(kind))
        } else {
            Err(Problem::invalid(expected, found()))
        }
    };
    match name {
        "seq" => no_arguments(Kind::Seq, "{{seq}} without arguments"),
        "uuid" => no_arguments(Kind::Uuid, "{{uuid}} without arguments"),
        "int" => int(args).ok_or_else(|| {
            let expected = "{{int MIN MAX}} with two integers, MIN <= MAX, as in {{int 1 100}}";
            Problem::invalid(expected, found())
        }),
        "pick" if !args.is_empty() => {
            let items = args.iter().map(|t| t.text().to_owned()).collect();
            Ok(Interpreted::Kind(Kind::Pick(items)))
        }
        "pick" => Err(Problem::invalid(
            "{{pick A B ...}} with at least one item",
            found(),
        )),
        _ => match name.strip_prefix("data.") {
            Some(column) if !column.is_empty() => no_arguments(
                Kind::Data(column.to_owned()),
                "{{data.COLUMN}} without arguments",
            ),
            _ => Err(Problem::Invalid {
                expected: EXPECTED.into(),
                found: found(),
                suggestion: suggest::closest(name, NAMES).map(|s| match s.as_str() {
                    "data" => "data.COLUMN".to_owned(),
                    _ => s,
                }),
            }),
        },
    }
}

/// `{{int MIN MAX}}`'s two bounds, when they are two integers in order.
fn int(args: &[Token]) -> Option<Interpreted> {
    let [Token::Bare(min), Token::Bare(max)] = args else {
        return None;
    };
    let (min, max) = (min.parse::<i64>().ok()?, max.parse::<i64>().ok()?);
    (min <= max).then_some(Interpreted::Kind(Kind::Int { min, max }))
}
