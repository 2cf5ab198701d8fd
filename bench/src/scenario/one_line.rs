//! One-line runs: `run --url URL --rate R --duration D …` as a scenario. The flags are written
//! out as the scenario TOML they stand for, and that text is read like any file — so a
//! one-liner is checked by the same rules, runs the same way, and its manifest (and
//! `--save-scenario`) keeps a file that runs it again. A problem the scenario's rules find is
//! reported against the flag that wrote the key, with the value given there.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::key_path::KeyPath;
use super::{parse_str, Plan};

/// The name a one-liner's scenario (and result set) takes unless `--name` gives one.
pub(crate) const DEFAULT_NAME: &str = "one-line";
/// Its one target's name (`target.latency.p99` in its summary).
pub(crate) const TARGET: &str = "target";
/// The `source` a one-liner's plan and manifest record.
pub(crate) const SOURCE: &str = "(command line)";
/// How long a one-liner's load lasts unless `--duration` says.
const DEFAULT_DURATION: &str = "10s";

/// The flags of a one-line run.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OneLine {
    /// Run one target at this URL (its path and query are the request's) instead of scenario
    /// files; the other flags of this group describe the load.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub url: Option<String>,
    /// Open model: requests per second.
    #[arg(long, value_name = "REQ_PER_S", requires = "url", conflicts_with_all = ["scenarios", "concurrency"], help_heading = "One-line run")]
    pub rate: Option<String>,
    /// Closed model: this many workers, each sending its next request when the last answered.
    #[arg(
        long,
        value_name = "N",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub concurrency: Option<String>,
    /// Closed model: each worker's pause between an answer and its next request.
    #[arg(
        long,
        value_name = "DURATION",
        requires = "concurrency",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub think_time: Option<String>,
    /// How long the load lasts (default 10s).
    #[arg(
        long,
        value_name = "DURATION",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub duration: Option<String>,
    /// Open model: "uniform" (default) or "poisson" arrivals.
    #[arg(
        long,
        value_name = "KIND",
        requires = "rate",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub arrivals: Option<String>,
    /// The request's method (default GET).
    #[arg(
        long,
        value_name = "METHOD",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub method: Option<String>,
    /// A request header, `NAME:VALUE` (repeatable).
    #[arg(
        long = "header",
        value_name = "NAME:VALUE",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub headers: Vec<String>,
    /// The request's body.
    #[arg(long, value_name = "TEXT", requires = "url", conflicts_with_all = ["scenarios", "body_file"], help_heading = "One-line run")]
    pub body: Option<String>,
    /// The request's body, read from this file (UTF-8 text).
    #[arg(
        long,
        value_name = "FILE",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub body_file: Option<PathBuf>,
    /// Client timeout per request (default 10s).
    #[arg(
        long,
        value_name = "DURATION",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub timeout: Option<String>,
    /// "keep-alive" (default) or "per-request".
    #[arg(
        long,
        value_name = "POLICY",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub connections: Option<String>,
    /// Connections open at once (default 256).
    #[arg(
        long,
        value_name = "N",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub max_connections: Option<String>,
    /// The scenario's name, and its result set's directory (default "one-line").
    #[arg(
        long,
        value_name = "NAME",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub name: Option<String>,
    /// A threshold, `METRIC OP VALUE` as in a scenario's [thresholds] (`latency.p99<50ms`,
    /// `error_rate < 1%`), on the one target (repeatable).
    #[arg(
        long = "threshold",
        value_name = "CONDITION",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub thresholds: Vec<String>,
    /// Also write the scenario these flags stand for to this file (the run still happens).
    #[arg(
        long,
        value_name = "FILE",
        requires = "url",
        conflicts_with = "scenarios",
        help_heading = "One-line run"
    )]
    pub save_scenario: Option<PathBuf>,
}

/// A key the flags wrote, and the flag (with its value) to blame for a problem with it.
struct Written {
    key: String,
    flag: String,
}

/// The scenario text the flags stand for, which flag wrote which key, and what the flags
/// could not write.
struct Scenario {
    text: String,
    written: Vec<Written>,
    errors: Vec<String>,
}

impl Scenario {
    /// Appends `key = value` (the value already TOML), written by `flag` given `given`.
    fn line(&mut self, table_path: &str, key: &str, value: &str, flag: &str, given: &str) {
        let _ = writeln!(self.text, "{key} = {value}");
        let full = if table_path.is_empty() {
            key.to_string()
        } else {
            format!("{table_path}.{key}")
        };
        let flag = match given {
            "" => flag.to_string(),
            given => format!("{flag} {}", shell_word(given)),
        };
        self.written.push(Written { key: full, flag });
    }

    /// Appends `key = N` when `given` is a number, else the problem `expected`.
    fn number(
        &mut self,
        table_path: &str,
        key: &str,
        given: &Option<String>,
        flag: &str,
        expected: &str,
    ) {
        let Some(given) = given else { return };
        match number(given, flag, expected) {
            Ok(n) => self.line(table_path, key, &n, flag, given),
            Err(error) => self.errors.push(error),
        }
    }

    /// The flag that wrote `key` (or a key inside it).
    fn flag_of(&self, key: &str) -> Option<&str> {
        self.written
            .iter()
            .filter(|w| {
                key == w.key
                    || key.starts_with(&format!("{}.", w.key))
                    || key.starts_with(&format!("{}[", w.key))
            })
            .max_by_key(|w| w.key.len())
            .map(|w| w.flag.as_str())
    }
}

impl OneLine {
    /// The scenario the flags stand for, read and checked: its plan and its text, or every
    /// problem, each naming the flag it comes from.
    pub(crate) fn plan(&self) -> Result<(Plan, String), Vec<String>> {
        let (scenario, mut errors) = self.scenario();
        let read = parse_str(&scenario.text, Path::new(SOURCE));
        if let Err(problems) = &read {
            for error in &problems.0 {
                let flag = error.key.as_deref().and_then(|key| scenario.flag_of(key));
                match flag {
                    Some(flag) => errors.push(format!("{flag}: {}", error.problem)),
                    // What a flag refused above left out (a missing rate) is said there.
                    None if !errors.is_empty() => {}
                    None => errors.push(format!("the one-line flags: {}", error.problem)),
                }
            }
        }
        match read {
            Ok(plan) if errors.is_empty() => Ok((plan, scenario.text)),
            _ => Err(errors),
        }
    }

    /// Writes the flags out as scenario TOML, with the problems of what TOML cannot say (a URL
    /// without a scheme and host, a rate that is not a number, a header without a colon),
    /// whose keys are left out.
    fn scenario(&self) -> (Scenario, Vec<String>) {
        let mut s = Scenario {
            text: String::new(),
            written: Vec::new(),
            errors: Vec::new(),
        };
        let url = self.url.as_deref().unwrap_or_default();
        let (base, path) = split_url(url).unwrap_or_else(|| {
            s.errors.push(format!(
                "--url {}: expected an http:// or https:// URL such as \
                 http://127.0.0.1:8080/api/health",
                shell_word(url)
            ));
            (String::new(), String::from("/"))
        });
        self.write_head(&mut s, url, &base);
        self.write_load(&mut s);
        self.write_request(&mut s, url, &path);
        self.write_thresholds(&mut s);
        let errors = std::mem::take(&mut s.errors);
        (s, errors)
    }

    /// Name, description and the one target.
    fn write_head(&self, s: &mut Scenario, url: &str, base: &str) {
        let name = self.name.as_deref().unwrap_or(DEFAULT_NAME);
        s.line("", "name", &toml_string(name), "--name", name);
        let what = match (&self.rate, &self.concurrency) {
            (Some(rate), _) => format!("{rate} requests/s"),
            (None, Some(workers)) => format!("{workers} closed-model workers"),
            (None, None) => {
                s.errors.push(
                    "--url: give --rate (requests per second, open model) or --concurrency \
                     (workers, closed model)"
                        .into(),
                );
                String::new()
            }
        };
        let description = format!(
            "One-line run: {} {url} at {what} for {}.",
            self.method.as_deref().unwrap_or("GET"),
            self.duration()
        );
        s.line("", "description", &toml_string(&description), "--url", url);
        let _ = writeln!(s.text, "\n[targets.{TARGET}]");
        // A URL refused above is left out (its problem is said once).
        if !base.is_empty() {
            let table = format!("targets.{TARGET}");
            s.line(&table, "url", &toml_string(base), "--url", url);
        }
    }

    /// `[load]` and its one phase.
    fn write_load(&self, s: &mut Scenario) {
        s.text.push_str("\n[load]\n");
        let model = if self.concurrency.is_some() {
            "closed"
        } else {
            "open"
        };
        let by = "--rate or --concurrency";
        s.line("load", "model", &toml_string(model), by, "");
        let strings = [
            (&self.arrivals, "arrivals", "--arrivals"),
            (&self.timeout, "timeout", "--timeout"),
            (&self.connections, "connections", "--connections"),
        ];
        for (value, key, flag) in strings {
            if let Some(value) = value {
                s.line("load", key, &toml_string(value), flag, value);
            }
        }
        let max = &self.max_connections;
        s.number(
            "load",
            "max_connections",
            max,
            "--max-connections",
            "a whole number of connections",
        );

        s.text.push_str("\n[[load.phases]]\n");
        let phase = "load.phases[0]";
        let duration = self.duration();
        s.line(
            phase,
            "duration",
            &toml_string(duration),
            "--duration",
            duration,
        );
        s.number(
            phase,
            "rate",
            &self.rate,
            "--rate",
            "a number of requests per second",
        );
        let workers = &self.concurrency;
        s.number(
            phase,
            "concurrency",
            workers,
            "--concurrency",
            "a whole number of workers",
        );
        if let Some(think) = &self.think_time {
            s.line(
                phase,
                "think_time",
                &toml_string(think),
                "--think-time",
                think,
            );
        }
    }

    /// The one `[[requests]]` entry: method, path, headers, body.
    fn write_request(&self, s: &mut Scenario, url: &str, path: &str) {
        s.text.push_str("\n[[requests]]\n");
        let request = "requests[0]";
        if let Some(method) = &self.method {
            s.line(request, "method", &toml_string(method), "--method", method);
        }
        s.line(request, "path", &toml_string(path), "--url", url);
        let mut fields = Vec::new();
        for header in &self.headers {
            match header.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    let (name, value) = (name.trim(), value.trim());
                    fields.push(format!("{} = {}", toml_string(name), toml_string(value)));
                    s.written.push(Written {
                        key: format!("{request}.{}", KeyPath::root().key("headers").key(name)),
                        flag: format!("--header {}", shell_word(header)),
                    });
                }
                _ => s.errors.push(format!(
                    "--header {}: expected NAME:VALUE, such as `authorization: Bearer t0ken`",
                    shell_word(header)
                )),
            }
        }
        if !fields.is_empty() {
            let _ = writeln!(s.text, "headers = {{ {} }}", fields.join(", "));
            s.written.push(Written {
                key: format!("{request}.headers"),
                flag: "--header".into(),
            });
        }
        match self.body_text() {
            Ok(Some((body, flag, given))) => {
                s.line(request, "body", &toml_string(&body), flag, &given);
            }
            Ok(None) => {}
            Err(error) => s.errors.push(error),
        }
    }

    /// `[thresholds]`, each on the one target unless it names `*` or `target`.
    fn write_thresholds(&self, s: &mut Scenario) {
        if !self.thresholds.is_empty() {
            s.text.push_str("\n[thresholds]\n");
        }
        for condition in &self.thresholds {
            let Some((metric, bound)) = split_threshold(condition) else {
                s.errors.push(format!(
                    "--threshold {}: expected METRIC OP VALUE with OP one of <, <=, >, >=, \
                     such as `latency.p99<50ms`",
                    shell_word(condition)
                ));
                continue;
            };
            let key = if metric.starts_with("*.") || metric.starts_with(&format!("{TARGET}.")) {
                metric
            } else {
                format!("{TARGET}.{metric}")
            };
            let _ = writeln!(s.text, "{} = {}", toml_string(&key), toml_string(&bound));
            s.written.push(Written {
                key: KeyPath::root().key("thresholds").key(&key).to_string(),
                flag: format!("--threshold {}", shell_word(condition)),
            });
        }
    }

    fn duration(&self) -> &str {
        self.duration.as_deref().unwrap_or(DEFAULT_DURATION)
    }

    /// The body from `--body` or `--body-file`, with the flag it came from.
    fn body_text(&self) -> Result<Option<(String, &'static str, String)>, String> {
        if let Some(body) = &self.body {
            return Ok(Some((body.clone(), "--body", body.clone())));
        }
        let Some(path) = &self.body_file else {
            return Ok(None);
        };
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| {
            format!(
                "--body-file {}: cannot read it: {error}",
                shell_word(&shown)
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            format!(
                "--body-file {}: expected UTF-8 text (a scenario's body is a TOML string)",
                shell_word(&shown)
            )
        })?;
        Ok(Some((text, "--body-file", shown)))
    }
}

/// `scheme://authority` and the path and query (`/` when there is none), or `None` when
/// `url` has no `http://` or `https://` scheme and host.
fn split_url(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() {
        return None;
    }
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    Some((format!("{scheme}://{authority}"), path))
}

/// `METRIC OP VALUE` → the metric and `OP VALUE` (as a scenario writes it).
fn split_threshold(condition: &str) -> Option<(String, String)> {
    let at = condition.find(['<', '>'])?;
    let (metric, bound) = condition.split_at(at);
    let metric = metric.trim();
    let bound = bound.trim();
    let (op, value) = if bound.starts_with("<=") || bound.starts_with(">=") {
        bound.split_at(2)
    } else {
        bound.split_at(1)
    };
    let value = value.trim();
    if metric.is_empty() || value.is_empty() {
        return None;
    }
    Some((metric.to_string(), format!("{op} {value}")))
}

/// `given` as a TOML number, or a message that says `expected`.
fn number(given: &str, flag: &str, expected: &str) -> Result<String, String> {
    let trimmed = given.trim().replace('_', "");
    if let Ok(n) = trimmed.parse::<i64>() {
        return Ok(n.to_string());
    }
    match trimmed.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(format!("{x:?}")),
        _ => Err(format!("{flag} {}: expected {expected}", shell_word(given))),
    }
}

/// A TOML basic string holding `text` (quoted; `\`, `"` and control characters escaped).
pub(crate) fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value as it would be typed in a shell: quoted when it holds anything but plain characters.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests;
