//! The tables of a result set's page: the summary per target, errors by kind, held
//! connections, figures by phase and threshold verdicts.

use std::fmt::Write as _;

use super::{escape, ms};
use crate::model::percent;
use crate::report::phases;
use crate::resultset::{HeldSummary, LatencyStats, ResultSet, TargetData, TargetSummary};

fn ms_or_dash(stats: Option<&LatencyStats>, pick: impl Fn(&LatencyStats) -> f64) -> String {
    match stats {
        Some(stats) if stats.count > 0 => ms(pick(stats)),
        _ => "—".into(),
    }
}

/// A row of the summary table: its label and its value for one target.
type Row = (&'static str, fn(&TargetSummary) -> String);

/// The summary table's rows, in order.
const SUMMARY_ROWS: &[Row] = &[
    ("requests", |s| s.requests.to_string()),
    ("throughput", |s| format!("{:.1} req/s", s.throughput_rps)),
    ("latency p50", |s| {
        ms_or_dash(Some(&s.latency_ms), |l| l.p50)
    }),
    ("latency p90", |s| {
        ms_or_dash(Some(&s.latency_ms), |l| l.p90)
    }),
    ("latency p99", |s| {
        ms_or_dash(Some(&s.latency_ms), |l| l.p99)
    }),
    ("latency p99.9", |s| {
        ms_or_dash(Some(&s.latency_ms), |l| l.p999)
    }),
    ("latency max", |s| {
        ms_or_dash(Some(&s.latency_ms), |l| l.max)
    }),
    ("service time p50", |s| {
        ms_or_dash(Some(&s.service_time_ms), |l| l.p50)
    }),
    ("service time p99", |s| {
        ms_or_dash(Some(&s.service_time_ms), |l| l.p99)
    }),
    ("ok", |s| s.ok.to_string()),
    ("error rate", |s| percent(s.error_rate)),
    ("timeouts", |s| {
        format!("{} ({})", s.timeouts, percent(s.timeout_rate))
    }),
    ("function timeouts", |s| s.function_timeouts.to_string()),
    ("throttled", |s| {
        format!("{} ({})", s.throttled, percent(s.throttle_rate))
    }),
    ("cold starts", |s| match s.cold_starts {
        Some(n) => n.to_string(),
        None => "not reported".into(),
    }),
    ("cold latency p50", |s| {
        ms_or_dash(s.cold_latency_ms.as_ref(), |l| l.p50)
    }),
    ("cold latency p99", |s| {
        ms_or_dash(s.cold_latency_ms.as_ref(), |l| l.p99)
    }),
    ("warm latency p50", |s| {
        ms_or_dash(s.warm_latency_ms.as_ref(), |l| l.p50)
    }),
    ("warm latency p99", |s| {
        ms_or_dash(s.warm_latency_ms.as_ref(), |l| l.p99)
    }),
    ("connections opened", |s| s.connections.opened.to_string()),
    ("connections open (max)", |s| {
        s.connections.max_open.to_string()
    }),
    ("database connections (max)", |s| match &s.db_connections {
        Some(db) => match db.ceiling {
            Some(ceiling) => format!("{} of {ceiling}", db.max),
            None => db.max.to_string(),
        },
        None => "not sampled".into(),
    }),
    ("load duration", |s| format!("{:.1} s", s.duration_s)),
];

pub(super) fn summary_table(page: &mut String, run: &ResultSet) {
    let targets: Vec<(&str, &TargetSummary)> = run
        .targets
        .iter()
        .filter_map(|t| t.summary.as_ref().map(|s| (t.name.as_str(), s)))
        .collect();
    if targets.is_empty() {
        page.push_str("<p>No target finished, so there is no summary.</p>\n");
        return;
    }
    page.push_str("<div class=\"scroll\"><table>\n<tr><th></th>");
    for (name, _) in &targets {
        let _ = write!(page, "<th>{}</th>", escape(name));
    }
    page.push_str("</tr>\n");
    for (label, value) in SUMMARY_ROWS {
        let _ = write!(page, "<tr><th>{label}</th>");
        for (_, summary) in &targets {
            let _ = write!(page, "<td class=\"num\">{}</td>", escape(&value(summary)));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table></div>\n");
}

pub(super) fn errors_table(page: &mut String, run: &ResultSet) {
    let with_errors: Vec<_> = run
        .targets
        .iter()
        .filter_map(|t| t.summary.as_ref().map(|s| (t, s)))
        .filter(|(_, s)| s.errors.values().any(|&n| n > 0))
        .collect();
    if with_errors.is_empty() {
        return;
    }
    page.push_str(
        "<h3>Errors by kind</h3>\n<table>\n<tr><th>target</th><th>kind</th><th>count</th></tr>\n",
    );
    for (target, summary) in &with_errors {
        for (kind, count) in summary.errors.iter().filter(|(_, &n)| n > 0) {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{count}</td></tr>",
                escape(&target.name),
                kind
            );
        }
    }
    page.push_str("</table>\n");
    failures_table(page, &with_errors);
}

/// Why requests failed before an answer, in words, most frequent first; every request of a
/// target failing is said above the table.
fn failures_table(page: &mut String, targets: &[(&TargetData, &TargetSummary)]) {
    let with_causes: Vec<_> = targets
        .iter()
        .filter(|(_, s)| !s.failures.is_empty())
        .collect();
    if with_causes.is_empty() {
        return;
    }
    for (target, summary) in &with_causes {
        if summary.ok == 0 {
            let _ = writeln!(
                page,
                "<p class=\"error\"><strong>Every request of {} failed</strong> ({} requests).</p>",
                escape(&target.name),
                summary.requests
            );
        }
    }
    page.push_str(
        "<h3>Why requests failed before an answer</h3>\n<table>\n\
         <tr><th>target</th><th>cause</th><th>count</th></tr>\n",
    );
    for (target, summary) in with_causes {
        for (cause, count) in summary.failures_by_count() {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{count}</td></tr>",
                escape(&target.name),
                escape(cause.describe())
            );
        }
    }
    page.push_str("</table>\n");
}

/// Held SSE and WebSocket connections: how each stream ended.
pub(super) fn held_table(page: &mut String, run: &ResultSet) {
    let targets: Vec<_> = run
        .targets
        .iter()
        .filter_map(|t| {
            let held = t.summary.as_ref()?.held.as_ref()?;
            Some((t.name.as_str(), held))
        })
        .collect();
    if targets.is_empty() {
        return;
    }
    type HeldRow = (&'static str, fn(&HeldSummary) -> String);
    let rows: &[HeldRow] = &[
        ("held requests", |h| h.requests.to_string()),
        ("opened (200 or 101)", |h| h.opened.to_string()),
        ("held to the end", |h| h.held.to_string()),
        ("ended by the server", |h| h.completed.to_string()),
        ("cut mid-stream", |h| h.cut.to_string()),
        ("refused", |h| {
            let statuses: Vec<String> = h
                .refused_by_status
                .iter()
                .map(|(status, n)| format!("{n}× {status}"))
                .collect();
            match statuses.is_empty() {
                true => h.refused.to_string(),
                false => format!("{} ({})", h.refused, statuses.join(", ")),
            }
        }),
        ("no answer", |h| h.failed.to_string()),
        ("messages received", |h| h.messages.to_string()),
        ("open at once (max)", |h| h.max_open.to_string()),
        ("first message p50", |h| {
            ms_or_dash(Some(&h.time_to_first_message_ms), |l| l.p50)
        }),
        ("first message p99", |h| {
            ms_or_dash(Some(&h.time_to_first_message_ms), |l| l.p99)
        }),
        ("stayed open p50", |h| {
            ms_or_dash(Some(&h.held_for_ms), |l| l.p50)
        }),
    ];
    page.push_str("<h3>Held connections (SSE, WebSocket)</h3>\n<table>\n<tr><th></th>");
    for (name, _) in &targets {
        let _ = write!(page, "<th>{}</th>", escape(name));
    }
    page.push_str("</tr>\n");
    for (label, value) in rows {
        let _ = write!(page, "<tr><th>{label}</th>");
        for (_, held) in &targets {
            let _ = write!(page, "<td class=\"num\">{}</td>", escape(&value(held)));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");
}

pub(super) fn phases_section(page: &mut String, run: &ResultSet) {
    if run.manifest.scenario.phases.len() < 2 || run.targets.is_empty() {
        return;
    }
    page.push_str(
        "<h3>By phase</h3>\n<p class=\"lede\">Requests count in the phase in which they \
         completed; percentiles are exact over the phase.</p>\n<div class=\"scroll\"><table>\n\
         <tr><th>target</th><th>phase</th><th>window</th><th>completed</th><th>errors</th>\
         <th>cold starts</th><th>p50</th><th>p99</th><th>cold p50</th></tr>\n",
    );
    for target in &run.targets {
        for figures in phases::by_phase(run, target) {
            let cold = match (figures.cold_starts, figures.cold_share()) {
                (Some(n), Some(share)) => format!("{n} ({})", percent(share)),
                (Some(n), None) => n.to_string(),
                (None, _) => "—".into(),
            };
            let latency =
                |pick: fn(&LatencyStats) -> f64| ms_or_dash(Some(&figures.latency_ms), pick);
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.1}–{:.1} s</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&target.name),
                escape(&figures.phase),
                figures.start_s,
                figures.start_s + figures.duration_s,
                figures.completed,
                figures.errors,
                escape(&cold),
                latency(|l| l.p50),
                latency(|l| l.p99),
                ms_or_dash(figures.cold_latency_ms.as_ref(), |l| l.p50),
            );
        }
    }
    page.push_str("</table></div>\n");
}

pub(super) fn thresholds_section(page: &mut String, run: &ResultSet) {
    let verdicts: Vec<_> = run
        .targets
        .iter()
        .filter_map(|t| t.summary.as_ref().map(|s| (t, s)))
        .flat_map(|(t, s)| s.thresholds.iter().map(move |v| (t, v)))
        .collect();
    page.push_str("<h2>Thresholds</h2>\n");
    if verdicts.is_empty() {
        page.push_str("<p>The scenario sets no thresholds.</p>\n");
        return;
    }
    let failed = verdicts.iter().filter(|(_, v)| v.failed()).count();
    let inconclusive = verdicts.iter().filter(|(_, v)| v.inconclusive).count();
    if inconclusive > 0 {
        let _ = writeln!(
            page,
            "<p class=\"warn\">{inconclusive} of {} thresholds inconclusive: their target was \
             generator-limited, so its latency and throughput include the generator's own \
             delay.</p>",
            verdicts.len()
        );
    }
    if failed > 0 {
        let _ = writeln!(
            page,
            "<p class=\"fail\">{failed} of {} thresholds failed.</p>",
            verdicts.len()
        );
    } else if inconclusive == 0 {
        let _ = writeln!(
            page,
            "<p class=\"pass\">All {} thresholds passed.</p>",
            verdicts.len()
        );
    }
    page.push_str(
        "<table>\n<tr><th>target</th><th>threshold</th><th>condition</th><th>measured</th><th>verdict</th></tr>\n",
    );
    for (target, verdict) in verdicts {
        let (class, word) = match (verdict.inconclusive, verdict.passed) {
            (true, _) => ("warn", "inconclusive"),
            (false, true) => ("pass", "pass"),
            (false, false) => ("fail", "FAIL"),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td>\
             <td class=\"num\">{}</td><td class=\"{class}\">{word}</td></tr>",
            escape(&target.name),
            escape(&verdict.key),
            escape(&verdict.condition),
            escape(&verdict.actual_text()),
        );
    }
    page.push_str("</table>\n");
}
