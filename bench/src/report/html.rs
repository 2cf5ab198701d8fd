//! `report.html`: one result set as a self-contained page. Charts are inline (SVG as data
//! URIs), the style sheet is inline, nothing is fetched from the network; the raw files are
//! linked relative to the page, which sits in the result set's own directory.
//!
//! Every string that comes from a user (scenario name and description, target names, URLs,
//! error texts, threshold keys, the command line) goes through [`escape`].

use std::fmt::Write as _;

use base64::Engine as _;

use super::charts::Chart;
use crate::model::{percent, RunStatus};
use crate::resultset::{self, HeldSummary, LatencyStats, ResultSet, TargetSummary};

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a relative file name for an `href` (then escaped as an attribute).
pub fn href(path: &str) -> String {
    let mut out = String::new();
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

pub const STYLE: &str = r#"
:root { --fg:#1d2330; --muted:#5b6474; --line:#d9dde5; --bg:#ffffff; --panel:#f6f7f9;
        --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
       color:var(--fg); background:var(--bg); }
main { max-width:1240px; margin:0 auto; padding:24px 20px 60px; }
h1 { font-size:26px; margin:0 0 4px; } h2 { font-size:19px; margin:34px 0 10px;
     border-bottom:1px solid var(--line); padding-bottom:4px; }
p.lede { color:var(--muted); margin:4px 0 14px; white-space:pre-wrap; }
.badge { display:inline-block; padding:1px 9px; border-radius:10px; font-size:13px;
         font-weight:600; color:#fff; vertical-align:middle; }
.badge.complete { background:var(--ok); } .badge.interrupted { background:var(--warn); }
.badge.failed, .badge.running { background:var(--bad); }
.pass { color:var(--ok); font-weight:600; } .fail { color:var(--bad); font-weight:600; }
table { border-collapse:collapse; margin:6px 0 10px; font-size:14px; }
th, td { border:1px solid var(--line); padding:4px 9px; text-align:left; vertical-align:top; }
th { background:var(--panel); font-weight:600; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.scroll { overflow-x:auto; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:2px 16px; margin:6px 0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; word-break:break-all; }
figure { margin:18px 0 26px; } figure img { width:100%; max-width:1200px; height:auto;
         border:1px solid var(--line); }
figcaption { color:var(--muted); font-size:14px; }
.error { background:#ffebe9; border:1px solid #ffb3ad; padding:8px 12px; white-space:pre-wrap; }
pre { background:var(--panel); padding:10px 12px; overflow-x:auto; font-size:13px; }
a { color:#0b5cad; }
footer { margin-top:40px; color:var(--muted); font-size:13px; }
"#;

/// The page of one result set, with `charts` embedded; their files are expected in `charts/`
/// beside the page. `index_href` links back to a site's index.
pub fn result_page(run: &ResultSet, charts: &[Chart], index_href: Option<&str>) -> String {
    let manifest = &run.manifest;
    let scenario = &manifest.scenario;
    let mut page = String::with_capacity(64 * 1024);
    let title = format!("{} — coldfront report", scenario.name);
    head(&mut page, &title);
    if let Some(index) = index_href {
        let _ = writeln!(
            page,
            "<p><a href=\"{}\">← all result sets</a></p>",
            escape(index)
        );
    }
    let _ = writeln!(
        page,
        "<h1>{} {}</h1>",
        escape(&scenario.name),
        status_badge(manifest.status)
    );
    if !scenario.description.is_empty() {
        let _ = writeln!(
            page,
            "<p class=\"lede\">{}</p>",
            escape(&scenario.description)
        );
    }
    if let Some(error) = &manifest.error {
        let _ = writeln!(
            page,
            "<p class=\"error\"><strong>The run failed:</strong> {}</p>",
            escape(error)
        );
    }
    if manifest.status == RunStatus::Interrupted {
        page.push_str(
            "<p class=\"error\">The run was interrupted: the numbers cover only what ran.</p>\n",
        );
    }

    page.push_str("<h2>Summary</h2>\n");
    summary_table(&mut page, run);
    errors_table(&mut page, run);
    held_table(&mut page, run);
    phases_section(&mut page, run);
    thresholds_section(&mut page, run);

    page.push_str("<h2>Charts</h2>\n");
    if charts.is_empty() {
        page.push_str("<p>No charts were drawn for this result set.</p>\n");
    }
    for chart in charts {
        chart_figure(&mut page, chart);
    }

    page.push_str("<h2>Scenario</h2>\n");
    scenario_section(&mut page, run);
    page.push_str("<h2>Environment</h2>\n");
    environment_section(&mut page, run);
    page.push_str("<h2>Raw files</h2>\n");
    raw_files(&mut page, run, charts);
    foot(&mut page, run);
    page
}

pub(super) fn head(page: &mut String, title: &str) {
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(title)
    );
}

pub(super) fn foot(page: &mut String, run: &ResultSet) {
    let _ = write!(
        page,
        "<footer>Written by coldfront {} from the result set in <code>{}</code>.</footer>\n\
         </main>\n</body>\n</html>\n",
        escape(env!("CARGO_PKG_VERSION")),
        escape(&run.dir.display().to_string())
    );
}

pub(super) fn status_badge(status: RunStatus) -> String {
    format!("<span class=\"badge {status}\">{status}</span>")
}

/// Milliseconds for people: three significant figures.
pub fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0} ms")
    } else if value >= 10.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.2} ms")
    }
}

/// `2026-11-24T20:05:02.185Z` → `2026-11-24 20:05 UTC`; anything else as it is.
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

fn ms_or_dash(stats: Option<&LatencyStats>, pick: impl Fn(&LatencyStats) -> f64) -> String {
    match stats {
        Some(stats) if stats.count > 0 => ms(pick(stats)),
        _ => "—".into(),
    }
}

fn summary_table(page: &mut String, run: &ResultSet) {
    let targets: Vec<(&str, &TargetSummary)> = run
        .targets
        .iter()
        .filter_map(|t| t.summary.as_ref().map(|s| (t.name.as_str(), s)))
        .collect();
    if targets.is_empty() {
        page.push_str("<p>No target finished, so there is no summary.</p>\n");
        return;
    }
    type Row = (&'static str, fn(&TargetSummary) -> String);
    let rows: &[Row] = &[
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
    page.push_str("<div class=\"scroll\"><table>\n<tr><th></th>");
    for (name, _) in &targets {
        let _ = write!(page, "<th>{}</th>", escape(name));
    }
    page.push_str("</tr>\n");
    for (label, value) in rows {
        let _ = write!(page, "<tr><th>{label}</th>");
        for (_, summary) in &targets {
            let _ = write!(page, "<td class=\"num\">{}</td>", escape(&value(summary)));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table></div>\n");
}

fn errors_table(page: &mut String, run: &ResultSet) {
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
    for (target, summary) in with_errors {
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
}

/// Held SSE and WebSocket connections: how each stream ended.
fn held_table(page: &mut String, run: &ResultSet) {
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
    type Row = (&'static str, fn(&HeldSummary) -> String);
    let rows: &[Row] = &[
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

fn phases_section(page: &mut String, run: &ResultSet) {
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
        for figures in super::phases::by_phase(run, target) {
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

fn thresholds_section(page: &mut String, run: &ResultSet) {
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
    let failed = verdicts.iter().filter(|(_, v)| !v.passed).count();
    if failed == 0 {
        let _ = writeln!(
            page,
            "<p class=\"pass\">All {} thresholds passed.</p>",
            verdicts.len()
        );
    } else {
        let _ = writeln!(
            page,
            "<p class=\"fail\">{failed} of {} thresholds failed.</p>",
            verdicts.len()
        );
    }
    page.push_str(
        "<table>\n<tr><th>target</th><th>threshold</th><th>condition</th><th>measured</th><th>verdict</th></tr>\n",
    );
    for (target, verdict) in verdicts {
        let (class, word) = if verdict.passed {
            ("pass", "pass")
        } else {
            ("fail", "FAIL")
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

fn chart_figure(page: &mut String, chart: &Chart) {
    let data = base64::engine::general_purpose::STANDARD.encode(chart.svg.as_bytes());
    let _ = writeln!(
        page,
        "<figure id=\"{id}\"><img src=\"data:image/svg+xml;base64,{data}\" alt=\"{alt}\" \
         width=\"{w}\" height=\"{h}\">\n<figcaption>{title} — \
         <a href=\"charts/{id}.svg\">SVG</a> · <a href=\"charts/{id}.png\">PNG</a></figcaption></figure>",
        id = escape(chart.id),
        alt = escape(&chart.alt),
        title = escape(&chart.title),
        w = super::charts::WIDTH,
        h = super::charts::HEIGHT,
    );
}

fn scenario_section(page: &mut String, run: &ResultSet) {
    let scenario = &run.manifest.scenario;
    let mut facts = vec![
        ("started", run.manifest.started_at.clone()),
        (
            "ended",
            run.manifest.ended_at.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            "load model",
            match &scenario.arrivals {
                Some(arrivals) => format!("{} ({arrivals} arrivals)", scenario.model),
                None => scenario.model.to_string(),
            },
        ),
        (
            "connections",
            format!(
                "{} (at most {})",
                scenario.connections, scenario.max_connections
            ),
        ),
        ("client timeout", ms(scenario.timeout_ms)),
        ("seed", scenario.seed.to_string()),
    ];
    if scenario.duration_scale != 1.0 {
        facts.push((
            "duration scale",
            format!(
                "{} (every phase shortened or lengthened by this factor)",
                scenario.duration_scale
            ),
        ));
    }
    facts.push(("source", scenario.source.display().to_string()));
    fact_list(page, &facts);

    page.push_str("<h3>Phases</h3>\n<table>\n<tr><th>phase</th><th>starts</th><th>lasts</th><th>load</th></tr>\n");
    for phase in &scenario.phases {
        let load = match (phase.rate_from, phase.rate_to, phase.concurrency) {
            (Some(from), Some(to), _) if from != to => format!("{from} → {to} req/s"),
            (Some(0.0), _, _) => "idle".into(),
            (Some(rate), _, _) => format!("{rate} req/s"),
            (_, _, Some(concurrency)) => match phase.think_time_ms {
                Some(think) => format!("{concurrency} concurrent, {} think time", ms(think)),
                None => format!("{concurrency} concurrent"),
            },
            _ => "idle".into(),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{:.1} s</td><td class=\"num\">{:.1} s</td><td>{}</td></tr>",
            escape(&phase.name),
            phase.start_s,
            phase.duration_s,
            escape(&load)
        );
    }
    page.push_str("</table>\n");

    page.push_str(
        "<h3>Requests</h3>\n<table>\n<tr><th>name</th><th>weight</th><th>request</th></tr>\n",
    );
    for request in &scenario.requests {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td><td><code>{} {}</code></td></tr>",
            escape(&request.name),
            request.weight,
            escape(&request.method),
            escape(&request.path)
        );
    }
    page.push_str("</table>\n");

    page.push_str("<h3>Targets</h3>\n<table>\n<tr><th>target</th><th>kind</th><th>address</th><th>database</th></tr>\n");
    for target in &scenario.targets {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(&target.name),
            target.kind,
            escape(target.url.as_deref().unwrap_or("—")),
            escape(target.database_url.as_deref().unwrap_or("—")),
        );
    }
    page.push_str("</table>\n");
    if !scenario.source_text.is_empty() {
        let _ = writeln!(
            page,
            "<details><summary>Scenario file</summary><pre>{}</pre></details>",
            escape(&scenario.source_text)
        );
    }
}

fn environment_section(page: &mut String, run: &ResultSet) {
    let manifest = &run.manifest;
    let host = &manifest.host;
    let facts = vec![
        ("host", host.hostname.clone()),
        ("system", format!("{} {}", host.os, host.arch)),
        (
            "CPUs",
            format!(
                "{} ({} for the load generator)",
                host.cpus, host.generator_cpus
            ),
        ),
        ("coldfront", manifest.coldfront_version.clone()),
        (
            "git revision",
            manifest
                .git_revision
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        ),
        ("command", manifest.command.join(" ")),
    ];
    fact_list(page, &facts);
}

fn fact_list(page: &mut String, facts: &[(&str, String)]) {
    page.push_str("<dl class=\"facts\">\n");
    for (name, value) in facts {
        let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(value));
    }
    page.push_str("</dl>\n");
}

/// The files of the result set a reader may want, linked when they exist.
pub(super) fn raw_file_names(run: &ResultSet) -> Vec<String> {
    let mut names = vec![
        resultset::MANIFEST_FILE.to_string(),
        resultset::SUMMARY_FILE.to_string(),
        resultset::TIMESERIES_FILE.to_string(),
        format!("{}.partial", resultset::TIMESERIES_FILE),
    ];
    for target in &run.manifest.scenario.targets {
        names.push(resultset::hlog_file(&target.name));
        names.push(format!("{}.partial", resultset::hlog_file(&target.name)));
        names.push(format!("{}.log", target.name));
    }
    names.retain(|name| run.dir.join(name).is_file());
    names
}

fn raw_files(page: &mut String, run: &ResultSet, charts: &[Chart]) {
    page.push_str("<ul>\n");
    for name in raw_file_names(run) {
        let _ = writeln!(
            page,
            "<li><a href=\"{}\">{}</a></li>",
            escape(&href(&name)),
            escape(&name)
        );
    }
    for chart in charts {
        let _ = writeln!(
            page,
            "<li>charts/{id}.svg, charts/{id}.png: <a href=\"charts/{id}.svg\">SVG</a> · \
             <a href=\"charts/{id}.png\">PNG</a></li>",
            id = escape(chart.id)
        );
    }
    page.push_str(
        "</ul>\n<p>The <code>.hlog</code> files are HdrHistogram interval logs in \
                   microseconds (untagged: corrected latency; <code>Tag=service_time</code>, \
                   <code>Tag=cold_latency</code>, <code>Tag=warm_latency</code>).</p>\n",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn href_percent_encodes_everything_but_safe_path_characters() {
        assert_eq!(href("a b/c\"d.hlog"), "a%20b/c%22d.hlog");
        assert_eq!(href("ok-name_1.csv"), "ok-name_1.csv");
    }

    #[test]
    fn start_times_are_shortened_to_the_minute() {
        assert_eq!(
            short_time("2026-11-24T20:05:02.185Z"),
            "2026-11-24 20:05 UTC"
        );
        assert_eq!(short_time("yesterday"), "yesterday");
    }

    #[test]
    fn milliseconds_keep_three_significant_figures() {
        assert_eq!(ms(1.234), "1.23 ms");
        assert_eq!(ms(12.34), "12.3 ms");
        assert_eq!(ms(123.4), "123 ms");
    }
}
