//! `report.html`: one result set as a self-contained page. Charts are inline (SVG as data
//! URIs), the style sheet is inline, nothing is fetched from the network; the raw files are
//! linked relative to the page, which sits in the result set's own directory.
//!
//! Every string that comes from a user (scenario name and description, target names, URLs,
//! error texts, threshold keys, the command line) goes through [`escape`].
//!
//! The page's sections live in [`tables`] (summary, errors, held requests, phases,
//! thresholds) and [`about`] (charts, scenario, environment, raw files); the page of a
//! repeated set (`run --repeat`) in [`repeated`].

mod about;
mod repeated;
mod tables;

use std::fmt::Write as _;

use super::charts::Chart;
use crate::model::RunStatus;
use crate::resultset::ResultSet;

pub(super) use about::raw_file_names;
pub use repeated::repeated_page;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
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
pub(crate) fn href(path: &str) -> String {
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

pub(crate) const STYLE: &str = r#"
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
.warn { color:var(--warn); font-weight:600; }
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

/// A banner for each target whose numbers include the generator's own delay: the first thing
/// a reader must know before reading its latency as the target's.
fn generator_banners(page: &mut String, run: &ResultSet) {
    for target in &run.targets {
        let generator = target.summary.as_ref().and_then(|s| s.generator.as_ref());
        let Some(warning) =
            generator.and_then(|g| crate::progress::generator_warning(&target.name, g))
        else {
            continue;
        };
        let text = warning.trim_start_matches("warning: ");
        let _ = writeln!(
            page,
            "<p class=\"error generator\"><strong>Generator-limited:</strong> {} See the \
             send-lag chart.</p>",
            escape(text)
        );
    }
}

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
    title_block(&mut page, manifest);
    let unverified: Vec<&str> = scenario
        .targets
        .iter()
        .filter(|t| t.tls_verified == Some(false))
        .map(|t| t.name.as_str())
        .collect();
    if !unverified.is_empty() {
        let _ = writeln!(
            page,
            "<p class=\"error\"><strong>TLS certificates not checked</strong> (--insecure) for {}: \
             these figures are not from a verified connection.</p>",
            escape(&unverified.join(", "))
        );
    }
    if manifest.status == RunStatus::Interrupted {
        page.push_str(
            "<p class=\"error\">The run was interrupted: the numbers cover only what ran.</p>\n",
        );
    }
    generator_banners(&mut page, run);

    page.push_str("<h2>Summary</h2>\n");
    tables::summary_table(&mut page, run);
    tables::errors_table(&mut page, run);
    tables::held_table(&mut page, run);
    tables::phases_section(&mut page, run);
    tables::thresholds_section(&mut page, run);

    page.push_str("<h2>Charts</h2>\n");
    if charts.is_empty() {
        page.push_str("<p>No charts were drawn for this result set.</p>\n");
    }
    for chart in charts {
        about::chart_figure(&mut page, chart);
    }

    page.push_str("<h2>Scenario</h2>\n");
    about::scenario_section(&mut page, run);
    page.push_str("<h2>Environment</h2>\n");
    about::environment_section(&mut page, run);
    page.push_str("<h2>Raw files</h2>\n");
    about::raw_files(&mut page, run, charts);
    foot(&mut page, run);
    page
}

/// The page's title: the scenario's name and status, its description, why it failed.
pub(super) fn title_block(page: &mut String, manifest: &crate::resultset::Manifest) {
    let scenario = &manifest.scenario;
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
pub(crate) fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0} ms")
    } else if value >= 10.0 {
        format!("{value:.1} ms")
    } else {
        format!("{value:.2} ms")
    }
}

/// `2026-11-24T20:05:02.185Z` → `2026-11-24 20:05 UTC`; anything else as it is.
pub(crate) fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) if rfc3339.ends_with('Z') => format!("{date} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

pub(super) fn fact_list(page: &mut String, facts: &[(&str, String)]) {
    page.push_str("<dl class=\"facts\">\n");
    for (name, value) in facts {
        let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(value));
    }
    page.push_str("</dl>\n");
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
