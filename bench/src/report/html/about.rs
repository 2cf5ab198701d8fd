//! The parts of a result set's page that say what was run and where: the charts, the
//! scenario (facts, phases, requests, targets, the file), the environment and the raw files.

use std::fmt::Write as _;

use base64::Engine as _;

use super::{escape, fact_list, href, ms};
use crate::report::charts::Chart;
use crate::resultset::{self, ResultSet, ScenarioRecord};

pub(super) fn chart_figure(page: &mut String, chart: &Chart) {
    let data = base64::engine::general_purpose::STANDARD.encode(chart.svg.as_bytes());
    let _ = writeln!(
        page,
        "<figure id=\"{id}\"><img src=\"data:image/svg+xml;base64,{data}\" alt=\"{alt}\" \
         width=\"{w}\" height=\"{h}\">\n<figcaption>{title} — \
         <a href=\"charts/{id}.svg\">SVG</a> · <a href=\"charts/{id}.png\">PNG</a></figcaption></figure>",
        id = escape(chart.id),
        alt = escape(&chart.alt),
        title = escape(&chart.title),
        w = crate::report::charts::WIDTH,
        h = crate::report::charts::HEIGHT,
    );
}

pub(super) fn scenario_section(page: &mut String, run: &ResultSet) {
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
    phases_table(page, scenario);
    requests_table(page, scenario);
    targets_table(page, scenario);
    if !scenario.source_text.is_empty() {
        let _ = writeln!(
            page,
            "<details><summary>Scenario file</summary><pre>{}</pre></details>",
            escape(&scenario.source_text)
        );
    }
}

fn phases_table(page: &mut String, scenario: &ScenarioRecord) {
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
}

fn requests_table(page: &mut String, scenario: &ScenarioRecord) {
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
}

fn targets_table(page: &mut String, scenario: &ScenarioRecord) {
    page.push_str("<h3>Targets</h3>\n<table>\n<tr><th>target</th><th>kind</th><th>address</th><th>database</th></tr>\n");
    for target in &scenario.targets {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(&target.name),
            target.kind,
            escape(&match (target.url.as_deref(), target.tls_verified) {
                (Some(url), Some(false)) => format!("{url} (certificate not checked: --insecure)"),
                (url, _) => url.unwrap_or("—").to_string(),
            }),
            escape(target.database_url.as_deref().unwrap_or("—")),
        );
    }
    page.push_str("</table>\n");
}

pub(super) fn environment_section(page: &mut String, run: &ResultSet) {
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

/// The files of the result set a reader may want, linked when they exist.
pub(in crate::report) fn raw_file_names(run: &ResultSet) -> Vec<String> {
    let mut names = vec![
        resultset::MANIFEST_FILE.to_string(),
        resultset::SUMMARY_FILE.to_string(),
        resultset::TIMESERIES_FILE.to_string(),
        format!("{}.partial", resultset::TIMESERIES_FILE),
    ];
    for target in &run.manifest.scenario.targets {
        names.push(resultset::hlog_file(&target.name));
        names.push(format!("{}.partial", resultset::hlog_file(&target.name)));
        names.push(resultset::totals_hlog_file(&target.name));
        names.push(resultset::hgrm::latency_file(&target.name));
        names.push(resultset::hgrm::service_time_file(&target.name));
        names.push(format!("{}.log", target.name));
    }
    names.retain(|name| run.dir.join(name).is_file());
    names
}

pub(super) fn raw_files(page: &mut String, run: &ResultSet, charts: &[Chart]) {
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
                   <code>Tag=cold_latency</code>, <code>Tag=warm_latency</code>; \
                   <code>.totals.hlog</code>: the whole run's, one interval per distribution); \
                   the <code>.hgrm</code> files are the whole run's corrected latency and service \
                   time as HdrHistogram percentile distributions in milliseconds.</p>\n",
    );
}
