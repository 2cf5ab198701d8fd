//! Renderers of a [`Comparison`]: a terminal table, a pull-request comment in Markdown, and
//! JSON. Pure: each returns the text, the caller prints it.

use super::model::{Comparison, MetricComparison, RunInfo, RunToRunNoise, TargetComparison};
use super::stats::Verdict;
use crate::model::RunStatus;
use crate::model::{percent, Unit};

const HEADERS: [&str; 7] = [
    "metric",
    "A",
    "B",
    "change",
    "relative",
    "CI of change",
    "verdict",
];

/// The terminal table, one block per target.
pub(crate) fn text(comparison: &Comparison) -> String {
    let mut out = format!("coldfront compare: {}\n", comparison.scenario);
    for (side, first, all) in sides(comparison) {
        match all {
            [] => {
                out += &format!(
                    "  {side}  {}  ({})\n",
                    first.dir.display(),
                    run_facts(first)
                )
            }
            runs => {
                out += &format!("  {side}  {} runs\n", runs.len());
                for run in runs {
                    out += &format!("       {}  ({})\n", run.dir.display(), run_facts(run));
                }
            }
        }
    }
    out += &format!("  {}\n", noise_line(comparison));
    for target in &comparison.targets {
        out += &format!("\n{} ({})\n", target.name, target.kind);
        let mut headers = HEADERS.map(String::from);
        headers[5] = format!("{} CI of change", percent(comparison.method.confidence));
        let rows: Vec<[String; 7]> = target
            .metrics
            .iter()
            .map(|m| row(m, comparison.tolerance, text_verdict))
            .collect();
        out += &aligned(&headers, &rows);
        if target.metrics.is_empty() {
            out += "  (no metric measured by both)\n";
        }
    }
    out += &only_in_lines(comparison, |name| name.to_string());
    out += &format!("\nmethod: {}\n", method_line(comparison));
    out += &format!("verdict: {}\n", tally_line(comparison));
    out
}

/// A pull-request comment: heading, the two runs, a table per target, the method and a
/// verdict summary.
pub(crate) fn markdown(comparison: &Comparison) -> String {
    let mut out = format!("## coldfront compare: `{}`\n\n", comparison.scenario);
    out += "| | result set | started | revision | status |\n|---|---|---|---|---|\n";
    let named = |side: &str| match side {
        "A" => "**A** (baseline)",
        _ => "**B**",
    };
    let every_run = sides(comparison)
        .into_iter()
        .flat_map(|(side, first, all)| {
            let runs: Vec<&RunInfo> = if all.is_empty() {
                vec![first]
            } else {
                all.iter().collect()
            };
            runs.into_iter().map(move |run| (named(side), run))
        });
    for (side, run) in every_run {
        out += &format!(
            "| {side} | `{}` | {} | {} | {} |\n",
            run.dir.display(),
            run.started_at,
            run.git_revision
                .as_deref()
                .map(|r| format!("`{}`", short_revision(r)))
                .unwrap_or_else(|| "unknown".into()),
            run.status.described()
        );
    }
    for target in &comparison.targets {
        out += &format!("\n### `{}` ({})\n\n", target.name, target.kind);
        if target.metrics.is_empty() {
            out += "No metric measured by both.\n";
            continue;
        }
        out += &format!(
            "| metric | A | B | change | relative | {} CI of change | verdict |\n",
            percent(comparison.method.confidence)
        );
        out += "|:--|--:|--:|--:|--:|:--|:--|\n";
        for metric in &target.metrics {
            let cells = row(metric, comparison.tolerance, markdown_verdict);
            out += &format!("| {} |\n", cells.join(" | "));
        }
    }
    out += &format!("\n{}\n", noise_line(comparison));
    let only = only_in_lines(comparison, |name| format!("`{name}`"));
    if !only.is_empty() {
        out += &only;
    }
    out += &format!("\n**Method:** {}.\n", method_line(comparison));
    out += &format!("\n**Verdict:** {}\n", markdown_summary(comparison));
    out
}

/// The comparison as pretty JSON (the fields of [`Comparison`]).
pub(crate) fn json(comparison: &Comparison) -> String {
    let mut text = serde_json::to_string_pretty(comparison).expect("a comparison serializes");
    text.push('\n');
    text
}

/// One failed metric for the `--fail-on-regression` message:
/// `serverless latency.p99 +16.7% (1.800 ms → 2.100 ms, 95% CI of change [+0.100, +0.500] ms)`.
pub(crate) fn failure_line(target: &TargetComparison, metric: &MetricComparison) -> String {
    format!(
        "{} {} {} ({} → {}, CI of change {})",
        target.name,
        metric.metric,
        relative(metric.relative_change),
        value(metric, metric.a),
        value(metric, metric.b),
        interval(metric),
    )
}

fn row(
    metric: &MetricComparison,
    tolerance: f64,
    verdict: fn(&MetricComparison, f64) -> String,
) -> [String; 7] {
    [
        label(&metric.metric),
        value(metric, metric.a),
        value(metric, metric.b),
        change(metric),
        relative(metric.relative_change),
        interval(metric),
        verdict(metric, tolerance),
    ]
}

/// A metric's key for people: `latency.p999` → `latency p99.9`.
pub(crate) fn label(metric: &str) -> String {
    let (family, stat) = metric.split_once('.').unwrap_or((metric, ""));
    let family = match family {
        "latency" => "latency",
        "service_time" => "service time",
        "cold_latency" => "cold-start latency",
        "throughput_rps" => "throughput",
        "timeout_rate" => "timeout rate",
        "error_rate" => "error rate",
        "throttle_rate" => "throttle rate",
        "connections_open" => "client connections open",
        "db_connections" => "database connections",
        other => other,
    };
    match stat {
        "" => family.to_string(),
        "mean" => format!("{family} (mean)"),
        "p999" => format!("{family} p99.9"),
        stat => format!("{family} {stat}"),
    }
}

/// `v` with as many decimals as values of `magnitude` get (a change is written with the
/// precision of the values it is a change of).
fn number(unit: Unit, v: f64, magnitude: f64) -> String {
    let magnitude = magnitude.abs();
    match unit {
        Unit::Milliseconds if magnitude < 10.0 => format!("{v:.3}"),
        Unit::Milliseconds if magnitude < 100.0 => format!("{v:.2}"),
        Unit::Milliseconds => format!("{v:.1}"),
        Unit::Ratio => format!("{:.2}", v * 100.0),
        Unit::RequestsPerSecond | Unit::Count => format!("{v:.1}"),
    }
}

fn signed(unit: Unit, v: f64, magnitude: f64) -> String {
    let text = number(unit, v, magnitude);
    if text.starts_with('-') {
        text
    } else {
        format!("+{text}")
    }
}

/// Unit of a value, and of a change (a rate's change is in percentage points).
fn suffix(unit: Unit, is_change: bool) -> &'static str {
    match unit {
        Unit::Milliseconds => " ms",
        Unit::Ratio if is_change => " pp",
        Unit::Ratio => "%",
        Unit::RequestsPerSecond => " req/s",
        Unit::Count => "",
    }
}

/// The larger of A and B: every number of a row gets its precision.
fn magnitude(metric: &MetricComparison) -> f64 {
    metric.a.abs().max(metric.b.abs())
}

fn value(metric: &MetricComparison, v: f64) -> String {
    format!(
        "{}{}",
        number(metric.unit, v, magnitude(metric)),
        suffix(metric.unit, false)
    )
}

fn change(metric: &MetricComparison) -> String {
    let magnitude = magnitude(metric);
    format!(
        "{}{}",
        signed(metric.unit, metric.change, magnitude),
        suffix(metric.unit, true)
    )
}

fn relative(relative: Option<f64>) -> String {
    match relative {
        Some(r) => format!("{:+.1}%", r * 100.0),
        None => "from 0".into(),
    }
}

fn interval(metric: &MetricComparison) -> String {
    let magnitude = magnitude(metric);
    match metric.interval {
        Some(i) => format!(
            "[{}, {}]{}",
            signed(metric.unit, i.low, magnitude),
            signed(metric.unit, i.high, magnitude),
            suffix(metric.unit, true)
        ),
        None => "n/a".into(),
    }
}

fn verdict_words(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Improved => "improved",
        Verdict::Regressed => "regressed",
        Verdict::NoSignificantChange => "no significant change",
        Verdict::WithinNoise => "within run-to-run noise",
        Verdict::InsufficientData => "too little data",
    }
}

fn text_verdict(metric: &MetricComparison, tolerance: f64) -> String {
    let words = verdict_words(metric.verdict);
    match (metric.verdict, metric.allowance) {
        (Verdict::Regressed, _) if metric.beyond_tolerance => {
            format!("{words} (beyond {})", percent(tolerance))
        }
        (Verdict::Regressed, _) => format!("{words} (within {})", percent(tolerance)),
        (Verdict::WithinNoise, Some(allowance)) => format!("{words} (±{})", percent(allowance)),
        _ => words.to_string(),
    }
}

/// Each side's first run and, when it has several, all of them.
fn sides(comparison: &Comparison) -> [(&'static str, &RunInfo, &[RunInfo]); 2] {
    [
        ("A", &comparison.a, &comparison.a_runs),
        ("B", &comparison.b, &comparison.b_runs),
    ]
}

/// Whether the intervals hold run-to-run noise, in words.
fn noise_line(comparison: &Comparison) -> String {
    match comparison.run_to_run_noise {
        RunToRunNoise::Measured => format!(
            "run-to-run noise: measured ({} run{} of A, {} of B); each side's value is the mean \
             of its runs'",
            comparison.runs.a,
            if comparison.runs.a == 1 { "" } else { "s" },
            comparison.runs.b
        ),
        RunToRunNoise::NotMeasured => "run-to-run noise: not measured (one run a side); a \
             change counts only beyond the noise allowance identical runs stay within (see \
             --noise-allowance; repeat runs with `run --repeat N` to measure it)"
            .to_string(),
    }
}

fn markdown_verdict(metric: &MetricComparison, tolerance: f64) -> String {
    let words = verdict_words(metric.verdict);
    match metric.verdict {
        Verdict::Improved => format!("🟢 {words}"),
        Verdict::Regressed if metric.beyond_tolerance => {
            format!("🔴 **{words}** (beyond {})", percent(tolerance))
        }
        Verdict::Regressed => format!("🟠 {words} (within {})", percent(tolerance)),
        Verdict::WithinNoise => match metric.allowance {
            Some(allowance) => format!("{words} (±{})", percent(allowance)),
            None => words.to_string(),
        },
        Verdict::NoSignificantChange | Verdict::InsufficientData => words.to_string(),
    }
}

/// Left-aligned first and last columns, right-aligned numbers between, indented by two.
fn aligned(headers: &[String; 7], rows: &[[String; 7]]) -> String {
    let width = |k: usize| {
        rows.iter()
            .map(|r| r[k].chars().count())
            .chain([headers[k].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..7).map(width).collect();
    let line = |cells: &[String; 7]| {
        let mut text = String::from(" ");
        for (k, cell) in cells.iter().enumerate() {
            let pad = widths[k] - cell.chars().count();
            let right_aligned = (1..5).contains(&k);
            text.push(' ');
            if right_aligned {
                text += &" ".repeat(pad);
                text += cell;
            } else {
                text += cell;
                text += &" ".repeat(pad);
            }
            text.push(' ');
        }
        format!("{}\n", text.trim_end())
    };
    let mut out = line(headers);
    for row in rows {
        out += &line(row);
    }
    out
}

fn run_facts(run: &RunInfo) -> String {
    let mut facts = format!("started {}", run.started_at);
    if let Some(revision) = &run.git_revision {
        facts += &format!(", revision {}", short_revision(revision));
    }
    if run.status != RunStatus::Complete {
        facts += &format!(", {}", run.status.described());
    }
    facts
}

fn short_revision(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

fn only_in_lines(comparison: &Comparison, name: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for (side, names) in [("A", &comparison.only_in_a), ("B", &comparison.only_in_b)] {
        if !names.is_empty() {
            let names: Vec<String> = names.iter().map(|n| name(n)).collect();
            out += &format!("\nonly in {side} (not compared): {}\n", names.join(", "));
        }
    }
    out
}

fn method_line(comparison: &Comparison) -> String {
    let mut line = interval_method(comparison);
    if comparison.metrics_judged > 1 {
        line += &format!(
            "; --fail-on-regression judges the {} metrics together (a regression fails only \
             when still significant at 5%/{}), so identical runs fail it at most 5% of the time",
            comparison.metrics_judged, comparison.metrics_judged
        );
    }
    line
}

fn interval_method(comparison: &Comparison) -> String {
    let method = &comparison.method;
    if comparison.run_to_run_noise == RunToRunNoise::Measured {
        return format!(
            "{}: each run's value of the metric is one observation; {} Student t interval of \
             the difference of the sides' means (Welch's when both sides have two runs or \
             more, else with the variance of the side that has); significant when it \
             excludes 0",
            method.name,
            percent(method.confidence)
        );
    }
    format!(
        "{}: {} resamples of each run's seconds, drawn within each {} (seed {}), {} \
         percentile confidence interval of B − A; significant when it excludes 0, and no \
         interval from fewer than {} seconds with data",
        method.name,
        method.resamples,
        method.resampled_within,
        method.seed,
        percent(method.confidence),
        method.min_seconds
    )
}

fn tally_line(comparison: &Comparison) -> String {
    let tally = comparison.tally();
    // Changes within the noise allowance are named only when there are some: with the
    // allowance set to 0 the words would always read "0 within run-to-run noise".
    let within_noise = match tally.within_noise {
        0 => String::new(),
        n => format!(", {n} within run-to-run noise"),
    };
    format!(
        "{} regressed ({} beyond the {} tolerance), {} improved, {} no significant \
         change{within_noise}, {} too little data",
        tally.regressed,
        tally.beyond_tolerance,
        percent(comparison.tolerance),
        tally.improved,
        tally.unchanged,
        tally.insufficient
    )
}

fn markdown_summary(comparison: &Comparison) -> String {
    let failures: Vec<String> = comparison
        .failures()
        .map(|(t, m)| {
            format!(
                "`{}` {} ({})",
                t.name,
                label(&m.metric),
                relative(m.relative_change)
            )
        })
        .collect();
    let headline = if failures.is_empty() {
        format!(
            "✅ no significant regression beyond the {} tolerance.",
            percent(comparison.tolerance)
        )
    } else {
        format!(
            "❌ {} significant regression{} beyond the {} tolerance: {}.",
            failures.len(),
            if failures.len() == 1 { "" } else { "s" },
            percent(comparison.tolerance),
            failures.join(", ")
        )
    };
    format!("{headline} {}.\n", tally_line(comparison))
}

#[cfg(test)]
mod tests;
