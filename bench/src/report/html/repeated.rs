//! `report.html` of the set of a `run --repeat N`: the pooled summary and thresholds, then the
//! spread between repetitions (each one's figures per target, their mean and how far they
//! range), with a link to each repetition's own page and charts.

use std::fmt::Write as _;

use super::{about, escape, head, ms, tables, title_block};
use crate::model::percent;
use crate::resultset::{RepetitionFigures, ResultSet};

/// The page of a repeated set, `run` being its pooled view
/// ([`ResultSet::read_pooled`](crate::resultset::ResultSet::read_pooled)).
pub fn repeated_page(run: &ResultSet) -> String {
    let manifest = &run.manifest;
    let scenario = &manifest.scenario;
    let record = manifest.repetitions.as_ref();
    let (count, completed) = record.map_or((0, 0), |r| (r.count, r.completed));
    let mut page = String::with_capacity(32 * 1024);
    head(&mut page, &format!("{} — coldfront report", scenario.name));
    title_block(&mut page, manifest);
    let _ = writeln!(
        page,
        "<p>{completed} of {count} repetitions completed. Each ran every target in turn, so the \
         targets interleave (A B A B …) and a drift of the machine falls on all of them. The \
         summary pools the completed repetitions: counts added, percentiles of the added \
         histograms, throughput over their load time together. How far the repetitions \
         spread is the run-to-run noise; <code>coldfront compare</code> builds its intervals \
         from it.</p>"
    );
    page.push_str("<h2>Summary of all repetitions</h2>\n");
    tables::summary_table(&mut page, run);
    tables::errors_table(&mut page, run);
    tables::thresholds_section(&mut page, run);
    page.push_str("<h2>Repetitions</h2>\n");
    spread_tables(&mut page, run);
    page.push_str("<h2>Scenario</h2>\n");
    about::scenario_section(&mut page, run);
    page.push_str("<h2>Environment</h2>\n");
    about::environment_section(&mut page, run);
    super::foot(&mut page, run);
    page
}

/// A figure of one repetition: its column heading and value.
type Column = (
    &'static str,
    fn(&RepetitionFigures) -> f64,
    fn(f64) -> String,
);

const COLUMNS: [Column; 7] = [
    ("requests", |r| r.requests as f64, |v| format!("{v:.0}")),
    (
        "throughput",
        |r| r.throughput_rps,
        |v| format!("{v:.1} req/s"),
    ),
    ("latency p50", |r| r.latency_ms.p50, ms),
    ("latency p90", |r| r.latency_ms.p90, ms),
    ("latency p99", |r| r.latency_ms.p99, ms),
    ("latency p99.9", |r| r.latency_ms.p999, ms),
    ("error rate", |r| r.error_rate, percent),
];

/// Per target, a row per repetition (linked to its page), then the mean and half the range as
/// a share of the mean.
fn spread_tables(page: &mut String, run: &ResultSet) {
    let record = run.manifest.repetitions.as_ref();
    let dirs = record.map(|r| r.dirs.as_slice()).unwrap_or_default();
    for target in &run.targets {
        let Some(summary) = &target.summary else {
            continue;
        };
        let figures = &summary.repetitions;
        let _ = writeln!(page, "<h3>{}</h3>", escape(&target.name));
        page.push_str("<div class=\"scroll\"><table>\n<tr><th>repetition</th>");
        for (heading, _, _) in COLUMNS {
            let _ = write!(page, "<th>{heading}</th>");
        }
        page.push_str("</tr>\n");
        for figure in figures {
            let k = figure.repetition;
            let label = match dirs.get(k as usize - 1) {
                Some(dir) => format!(
                    "<a href=\"{}/report.html\">{k}</a>",
                    escape(&super::href(dir))
                ),
                None => k.to_string(),
            };
            let _ = write!(page, "<tr><td>{label}</td>");
            for (_, value, format) in COLUMNS {
                let _ = write!(
                    page,
                    "<td class=\"num\">{}</td>",
                    escape(&format(value(figure)))
                );
            }
            page.push_str("</tr>\n");
        }
        if figures.len() > 1 {
            spread_rows(page, figures);
        }
        page.push_str("</table></div>\n");
    }
}

/// The mean of each column, and half its range ((max − min) / 2) as a share of the mean.
fn spread_rows(page: &mut String, figures: &[RepetitionFigures]) {
    let stats = |value: fn(&RepetitionFigures) -> f64| {
        let values: Vec<f64> = figures.iter().map(value).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let (low, high) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        (mean, high - low)
    };
    page.push_str("<tr><th>mean</th>");
    for (_, value, format) in COLUMNS {
        let _ = write!(
            page,
            "<td class=\"num\">{}</td>",
            escape(&format(stats(value).0))
        );
    }
    page.push_str("</tr>\n<tr><th>± half range ÷ mean</th>");
    for (_, value, _) in COLUMNS {
        let (mean, range) = stats(value);
        let text = if mean > 0.0 {
            format!("±{}", percent(range / mean / 2.0))
        } else {
            "—".to_string()
        };
        let _ = write!(page, "<td class=\"num\">{}</td>", escape(&text));
    }
    page.push_str("</tr>\n");
}
