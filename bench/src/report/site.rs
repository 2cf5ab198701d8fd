//! The static site of several result sets: `index.html` listing each one (scenario, date,
//! status, headline numbers) and one directory per result set with its page, its charts and
//! a copy of its raw files, so the directory can be published as it is on any static host.
//! Result sets that already sit inside the site directory (`results/reference/*` reported
//! `--out results/reference`) are used where they are, not copied. The set of a
//! `run --repeat` is published as its repetitions.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::html::{self, escape, href, ms};
use super::write_page;
use crate::model::percent;
use crate::resultset::ResultSet;

/// One result set as published in the site.
pub(crate) struct Published {
    pub run: ResultSet,
    /// Directory name inside the site.
    pub slug: String,
    /// The result set already lives in the site directory: nothing is copied.
    pub in_place: bool,
}

/// Writes the site for `sets` into `out`; returns the path of `index.html`.
pub(crate) fn write_site(sets: &[PathBuf], out: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let out_abs = absolute(out);
    let mut published = Vec::new();
    let mut taken = BTreeSet::new();
    // The set of a `run --repeat` is published as its repetitions, each a set of its own.
    let mut expanded = Vec::new();
    for dir in sets {
        let repetitions = super::repetition_dirs(dir)?;
        if repetitions.is_empty() {
            expanded.push(dir.clone());
        }
        expanded.extend(repetitions);
    }
    for dir in &expanded {
        let dir_abs = absolute(dir);
        if dir_abs == out_abs {
            anyhow::bail!(
                "{}: the site directory is a result set given to report; choose another --out",
                out.display()
            );
        }
        let run = ResultSet::read(dir)?;
        // A result set inside the site stays where it is, under its path there (a repetition
        // of `results/reference/repeated/crud-steady` is `repeated/crud-steady/rep-1`).
        let in_place = dir_abs.starts_with(&out_abs);
        let slug = if in_place {
            let relative = dir_abs.strip_prefix(&out_abs).expect("inside the site");
            let segments: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segments.iter().any(|segment| !url_safe(segment)) {
                anyhow::bail!(
                    "{}: a result set inside the site needs URL-safe directory names",
                    dir.display()
                );
            }
            let slug = segments.join("/");
            taken.insert(slug.clone());
            slug
        } else {
            unique_slug(&slug_for(dir, &run), &mut taken)
        };
        published.push(Published {
            run,
            slug,
            in_place,
        });
    }
    for entry in &published {
        let page_dir = out.join(&entry.slug);
        std::fs::create_dir_all(&page_dir)
            .with_context(|| format!("creating {}", page_dir.display()))?;
        if !entry.in_place {
            for name in html::raw_file_names(&entry.run) {
                let from = entry.run.dir.join(&name);
                let to = page_dir.join(&name);
                std::fs::copy(&from, &to)
                    .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
            }
        }
        let back = format!("{}index.html", "../".repeat(entry.slug.split('/').count()));
        write_page(&entry.run, &page_dir, Some(&back))?;
    }
    let index = out.join("index.html");
    crate::resultset::io::write_atomic(&index, index_page(&published).as_bytes())
        .with_context(|| format!("writing {}", index.display()))?;
    Ok(index)
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The result set's directory name, made safe for a URL path segment; a repetition of a
/// `run --repeat` set is named after its set too (`crud-steady-rep-2`), as `rep-2` alone
/// says neither which scenario nor which run it was.
fn slug_for(dir: &Path, run: &ResultSet) -> String {
    let dir = absolute(dir);
    let name = |path: &Path| path.file_name().map(|n| n.to_string_lossy().into_owned());
    let base = match (name(&dir), dir.parent().and_then(name)) {
        (Some(rep), Some(set)) if crate::resultset::repetition_index(&rep).is_some() => {
            format!("{set}-{rep}")
        }
        (Some(own), _) => own,
        (None, _) => run.manifest.scenario.name.clone(),
    };
    let slug: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches(|c| c == '.' || c == '-').to_string();
    if slug.is_empty() {
        "result-set".into()
    } else {
        slug
    }
}

/// Whether `segment` is a path segment a URL holds as it is (what [`slug_for`] makes).
fn url_safe(segment: &str) -> bool {
    !segment.is_empty()
        && !segment.starts_with(['.', '-'])
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn unique_slug(base: &str, taken: &mut BTreeSet<String>) -> String {
    let mut slug = base.to_string();
    let mut n = 2;
    while !taken.insert(slug.clone()) {
        slug = format!("{base}-{n}");
        n += 1;
    }
    slug
}

fn index_page(published: &[Published]) -> String {
    let mut page = String::new();
    html::head(&mut page, "coldfront results");
    page.push_str(
        "<h1>coldfront results</h1>\n<p class=\"lede\">Serverless functions or a persistent \
         server, measured. Each result set below links to its report: charts, summary, \
         threshold verdicts and the raw files.</p>\n",
    );
    let _ = writeln!(
        page,
        "<div class=\"scroll\"><table>\n<tr><th>result set</th><th>started</th><th>status</th>\
         <th>target</th><th class=\"num\">p50</th><th class=\"num\">p99</th>\
         <th class=\"num\">throughput</th><th class=\"num\">errors</th>\
         <th class=\"num\">throttled</th><th class=\"num\">timeouts</th>\
         <th>thresholds</th></tr>"
    );
    for entry in published {
        let run = &entry.run;
        let scenario = &run.manifest.scenario;
        let rows = run.targets.len().max(1);
        let link = format!("{}/report.html", href(&entry.slug));
        let description = scenario.description.lines().next().unwrap_or("");
        let _ = write!(
            page,
            "<tr><td rowspan=\"{rows}\"><a href=\"{}\"><strong>{}</strong></a><br>\
             <span class=\"lede\">{}</span></td><td rowspan=\"{rows}\">{}</td>\
             <td rowspan=\"{rows}\">{}</td>",
            escape(&link),
            escape(&scenario.name),
            escape(description),
            escape(&html::short_time(&run.manifest.started_at)),
            html::status_badge(run.manifest.status),
        );
        if run.targets.is_empty() {
            page.push_str("<td colspan=\"8\">no target ran</td></tr>\n");
            continue;
        }
        for (i, target) in run.targets.iter().enumerate() {
            if i > 0 {
                page.push_str("<tr>");
            }
            let _ = write!(page, "<td>{}</td>", escape(&target.name));
            match &target.summary {
                Some(s) => {
                    let failed = s.thresholds.iter().filter(|v| v.failed()).count();
                    let inconclusive = s.thresholds.iter().filter(|v| v.inconclusive).count();
                    let verdict = match (s.thresholds.len(), failed, inconclusive) {
                        (0, _, _) => "—".to_string(),
                        (n, 0, 0) => format!("<span class=\"pass\">{n} passed</span>"),
                        (n, 0, i) => format!("<span class=\"warn\">{i} of {n} inconclusive</span>"),
                        (n, f, _) => format!("<span class=\"fail\">{f} of {n} failed</span>"),
                    };
                    let _ = writeln!(
                        page,
                        "<td class=\"num\">{}</td><td class=\"num\">{}</td>\
                         <td class=\"num\">{:.1} req/s</td><td class=\"num\">{}</td>\
                         <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{verdict}</td></tr>",
                        ms(s.latency_ms.p50),
                        ms(s.latency_ms.p99),
                        s.throughput_rps,
                        // A 429 is the platform or the app refusing for capacity: shown apart,
                        // so a rate limit doing its job does not read as a failing target.
                        percent((s.error_rate - s.throttle_rate).max(0.0)),
                        percent(s.throttle_rate),
                        percent(s.timeout_rate),
                    );
                }
                None => page.push_str("<td colspan=\"7\">no summary (the run stopped)</td></tr>\n"),
            }
        }
    }
    page.push_str("</table></div>\n");
    let _ = write!(
        page,
        "<footer>Written by coldfront {}. Charts are drawn from each result set's \
         <code>.hlog</code> and <code>timeseries.csv</code>.</footer>\n</main>\n</body>\n</html>\n",
        escape(env!("CARGO_PKG_VERSION"))
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_url_safe() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique_slug("crud", &mut taken), "crud");
        assert_eq!(unique_slug("crud", &mut taken), "crud-2");
        assert_eq!(unique_slug("crud", &mut taken), "crud-3");
    }

    #[test]
    fn a_repetition_is_named_after_its_set() {
        let run = crate::testing::synthetic::sample();
        let slug = |dir: &str| slug_for(Path::new(dir), &run);
        assert_eq!(
            slug("/no/such/results/crud-steady/rep-2"),
            "crud-steady-rep-2"
        );
        assert_eq!(slug("/no/such/results/crud-steady"), "crud-steady");
        assert_eq!(
            slug("/no/such/results/rep-02"),
            "rep-02",
            "not a repetition's name"
        );
        assert_eq!(slug("/no/such/my set!"), "my-set");
        // Inside the site, a set keeps its path when every segment may stand in a URL.
        assert!(["repeated", "crud-steady", "rep-1", "a_b.c"]
            .iter()
            .all(|s| url_safe(s)));
        assert!(["my set", "", ".hidden", "-x", "é"]
            .iter()
            .all(|s| !url_safe(s)));
    }

    /// A rate limit doing its job is not a failing target: 429s have their own column.
    #[test]
    fn the_index_shows_throttled_requests_apart_from_errors() {
        let mut run = crate::testing::synthetic::sample();
        let summary = run.targets[0].summary.as_mut().unwrap();
        (summary.error_rate, summary.throttle_rate) = (0.9, 0.8);
        let page = index_page(&[Published {
            run,
            slug: "quickstart".into(),
            in_place: false,
        }]);
        assert!(page.contains("<th class=\"num\">throttled</th>"), "{page}");
        assert!(
            page.contains("<td class=\"num\">10%</td><td class=\"num\">80%</td>"),
            "errors without the throttled, then the throttled: {page}"
        );
    }
}
