//! The live metrics as text a Prometheus scraper reads: the Prometheus text format 0.0.4 or
//! OpenMetrics 1.0.0, chosen from the scrape's `Accept` header. A pure renderer: a board's
//! copy in, bytes out.
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `coldfront_requests_total` | counter | `target`, `outcome` |
//! | `coldfront_requests_in_flight` | gauge | `target` |
//! | `coldfront_connections_open` | gauge | `target` |
//! | `coldfront_connections_opened_total` | counter | `target` |
//! | `coldfront_cold_starts_total` | counter | `target` (once the target reports cold starts) |
//! | `coldfront_db_connections` | gauge | `target` (once a reading was taken) |
//! | `coldfront_latency_seconds` | histogram (`_bucket`, `_sum`, `_count`) | `target`, `le` |

use std::fmt::Write as _;

use super::live::TargetSnapshot;
use crate::model::Outcome;

/// One of the two text formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0.0: counters' families drop `_total`, units are declared, `# EOF` ends.
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when `accept` asks for it (version 1.0.0 or unversioned) with at least the
    /// weight it gives the Prometheus text format (`text/plain`, `text/*`, `*/*`), else the
    /// Prometheus text format.
    pub(crate) fn negotiate(accept: Option<&str>) -> Format {
        let (mut openmetrics, mut text) = (0.0f64, 0.0f64);
        for range in accept.unwrap_or("").split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let (mut q, mut version) = (1.0, None);
            for param in parts {
                match param.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                    Some(("q", v)) => q = v.parse().unwrap_or(0.0),
                    Some(("version", v)) => version = Some(v.trim_matches('"').to_string()),
                    _ => {}
                }
            }
            match media.as_str() {
                "application/openmetrics-text" if version.is_none_or(|v| v == "1.0.0") => {
                    openmetrics = openmetrics.max(q)
                }
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The exposition of `targets` in `format`.
pub(crate) fn render(targets: &[(String, TargetSnapshot)], format: Format) -> String {
    let mut out = String::new();
    for family in &FAMILIES {
        write_family_head(&mut out, format, family);
        for (target, snapshot) in targets {
            (family.samples)(&mut Samples {
                out: &mut out,
                name: family.name,
                target: escape_label(target),
                snapshot,
                format,
            });
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// A metric family: its name (a counter's with `_total`), type, help and how one target's
/// samples are written.
struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
    samples: fn(&mut Samples),
}

const FAMILIES: [Family; 7] = [
    Family {
        name: "coldfront_requests_total",
        kind: Kind::Counter,
        help: "Requests finished, by outcome.",
        samples: |s| {
            for outcome in Outcome::ALL {
                let outcome_label = format!("outcome=\"{}\"", outcome.as_str());
                let count = s.snapshot.outcomes.get(outcome);
                s.line("", &outcome_label, &count.to_string());
            }
        },
    },
    Family {
        name: "coldfront_requests_in_flight",
        kind: Kind::Gauge,
        help: "Requests sent and not yet finished, as of the last per-second tick.",
        samples: |s| s.value(Some(s.snapshot.in_flight)),
    },
    Family {
        name: "coldfront_connections_open",
        kind: Kind::Gauge,
        help: "Connections open to the target.",
        samples: |s| s.value(Some(s.snapshot.connections_open)),
    },
    Family {
        name: "coldfront_connections_opened_total",
        kind: Kind::Counter,
        help: "Connections opened to the target.",
        samples: |s| s.value(Some(s.snapshot.connections_opened)),
    },
    Family {
        name: "coldfront_cold_starts_total",
        kind: Kind::Counter,
        help: "Responses that reported a cold start (x-coldfront-cold).",
        samples: |s| s.value(s.snapshot.cold_starts),
    },
    Family {
        name: "coldfront_db_connections",
        kind: Kind::Gauge,
        help: "Database connections open by the target's role (latest reading).",
        samples: |s| s.value(s.snapshot.db_connections),
    },
    Family {
        name: "coldfront_latency_seconds",
        kind: Kind::Histogram,
        help: "Corrected latency: from each request's intended send time to its end.",
        samples: |s| s.latency(),
    },
];

/// `# HELP` and `# TYPE` (OpenMetrics: `# TYPE`, `# UNIT`, `# HELP`, with a counter's family
/// named without `_total`).
fn write_family_head(out: &mut String, format: Format, family: &Family) {
    let kind = match family.kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
    };
    let (name, help) = (family.name, family.help);
    match format {
        Format::Prometheus => {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
        }
        Format::OpenMetrics => {
            let name = name.strip_suffix("_total").unwrap_or(name);
            let _ = writeln!(out, "# TYPE {name} {kind}");
            if name.ends_with("_seconds") {
                let _ = writeln!(out, "# UNIT {name} seconds");
            }
            let _ = writeln!(out, "# HELP {name} {help}");
        }
    }
}

/// Writes one target's samples of one family.
struct Samples<'a> {
    out: &'a mut String,
    name: &'static str,
    /// Escaped.
    target: String,
    snapshot: &'a TargetSnapshot,
    format: Format,
}

impl Samples<'_> {
    /// `name{target="…"} value`, when the value is known.
    fn value(&mut self, value: Option<u64>) {
        if let Some(value) = value {
            self.line("", "", &value.to_string());
        }
    }

    /// `<name><suffix>{target="…"[,extra]} value`.
    fn line(&mut self, suffix: &str, extra: &str, value: &str) {
        let separator = if extra.is_empty() { "" } else { "," };
        let _ = writeln!(
            self.out,
            "{}{suffix}{{target=\"{}\"{separator}{extra}}} {value}",
            self.name, self.target
        );
    }

    /// Cumulative buckets up to `+Inf` (the count), then `_sum` and `_count`.
    fn latency(&mut self) {
        let latency = &self.snapshot.latency;
        for (bound, count) in latency.cumulative() {
            let le = match bound {
                Some(us) => le_label(us as f64 / 1e6, self.format),
                None => "+Inf".to_string(),
            };
            self.line("_bucket", &format!("le=\"{le}\""), &count.to_string());
        }
        self.line("_sum", "", &go_float(latency.sum_seconds()));
        self.line("_count", "", &latency.count().to_string());
    }
}

/// A bucket bound as Prometheus's own clients write it: Go's shortest `%g` (`0.001`, `2.5`,
/// `1e-05`); OpenMetrics's canonical form adds `.0` to a whole number (`1.0`).
fn le_label(seconds: f64, format: Format) -> String {
    let text = go_float(seconds);
    if format == Format::OpenMetrics && !text.contains(['.', 'e']) {
        format!("{text}.0")
    } else {
        text
    }
}

/// Go's `strconv.FormatFloat(x, 'g', -1, 64)` of a finite number: the shortest digits that
/// read back as `x`, with an exponent (at least two digits) below 1e-4 and from 1e6.
fn go_float(x: f64) -> String {
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` writes an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    if (-4..6).contains(&exponent) {
        format!("{x}")
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests;
