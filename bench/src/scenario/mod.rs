//! Scenario files → validated [`Plan`]s, with errors that name file, line, column and key.
//!
//! Two stages: `raw` reads the TOML (spans kept, unknown keys and wrong TOML types reported)
//! into raw structs; `validate` (with `target`, `load`, `threshold`) turns those into
//! typed values with defaults and cross-field checks. Every error is collected; a file with any
//! error never yields a plan.
//!
//! Held connections (`held`): a `[[requests]]` entry has `kind = "http"` (default), `"sse"` or
//! `"websocket"`. A held kind needs `hold = "<duration>"`, the longest the generator keeps the
//! stream open, counted from its opening (the 200 or 101 answer); the load's `timeout` bounds
//! only the wait for that answer. `kind = "websocket"` may add `send_every = "<duration>"`: a
//! small text message at the opening and then that often. Held requests are always a `GET` on a
//! connection of their own (never a pooled one; it counts against `max_connections` for the
//! whole hold) and send no `body`; `hold` and `send_every` are rejected on `kind = "http"`,
//! `send_every` on `kind = "sse"`. How they are measured and recorded: `load::held`.
//!
//! Per-request values (`template`, checked by `values`): a request's path, header values and
//! body may hold placeholders (`{{seq}}`, `{{int 1 100}}`, `{{pick a b}}`, `{{uuid}}`,
//! `{{data.COLUMN}}` with `data = "users.csv"` and `data_order`), parsed here into templates
//! that the load path renders for each request.

mod check;
mod document;
mod duration;
pub(crate) use duration::parse as parse_duration;
mod error;
mod field;
mod held;
mod key_path;
mod load;
pub mod one_line;
pub(crate) mod plan;
mod raw;
mod reader;
mod suggest;
mod target;
pub(crate) mod template;
mod threshold;
mod validate;
mod values;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) use error::{Problem, ScenarioError, ScenarioErrors};
pub use plan::*;

use error::Diagnostics;

/// Parses and validates one file.
pub(crate) fn load_file(path: &Path) -> Result<Plan, ScenarioErrors> {
    let text =
        fs::read_to_string(path).map_err(|e| ScenarioErrors(vec![error::unreadable(path, e)]))?;
    parse_str(&text, path)
}

/// Parses and validates scenario text; `source` is the path used in messages and
/// [`Plan::source`].
pub(crate) fn parse_str(text: &str, source: &Path) -> Result<Plan, ScenarioErrors> {
    let mut diag = Diagnostics::new(source, text);
    let plan = match document::parse(text) {
        Ok(root) => {
            let raw = raw::read(&root, &mut diag);
            validate::plan(&raw, source, &mut diag).ok()
        }
        Err(syntax) => {
            diag.report_syntax(syntax.span, &syntax.message);
            None
        }
    };
    match plan {
        Some(plan) if !diag.has_errors() => Ok(Plan {
            source_text: text.to_string(),
            ..plan
        }),
        _ => {
            debug_assert!(
                diag.has_errors(),
                "a scenario was rejected without an error"
            );
            Err(ScenarioErrors(diag.into_errors()))
        }
    }
}

/// The requests of scenario `text` read as if from the file `source` (data files are found
/// beside it), or its errors, one per line. For the benches, which cannot name a [`Plan`].
#[doc(hidden)]
pub fn parse_requests(text: &str, source: &Path) -> Result<Vec<RequestTemplate>, String> {
    parse_str(text, source)
        .map(|plan| plan.requests)
        .map_err(|errors| errors.to_string())
}

/// Loads files and directories (a directory: its `*.toml` files, not recursive, in name
/// order). Returns every valid plan and every error found in any file.
pub(crate) fn load_paths(paths: &[PathBuf]) -> (Vec<Plan>, Vec<ScenarioError>) {
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match scenario_files(path) {
            Ok(files) => {
                for file in files {
                    match load_file(&file) {
                        Ok(plan) => plans.push(plan),
                        Err(file_errors) => errors.extend(file_errors),
                    }
                }
            }
            Err(error) => errors.push(error::unreadable(path, error)),
        }
    }
    errors.extend(duplicate_names(&plans));
    (plans, errors)
}

/// The file itself, or a directory's `*.toml` files sorted by name.
fn scenario_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(path)? {
        let file = entry?.path();
        if file.extension().is_some_and(|ext| ext == "toml") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Scenario names are result-set directory names: two files may not share one.
fn duplicate_names(plans: &[Plan]) -> Vec<ScenarioError> {
    let mut first_by_name: HashMap<&str, &Path> = HashMap::new();
    let mut errors = Vec::new();
    for plan in plans {
        let first = *first_by_name.entry(&plan.name).or_insert(&plan.source);
        if first != plan.source {
            errors.push(ScenarioError {
                file: plan.source.clone(),
                position: None,
                key: Some("name".into()),
                problem: Problem::DuplicateName {
                    name: plan.name.clone(),
                    first: first.to_path_buf(),
                },
            });
        }
    }
    errors
}
