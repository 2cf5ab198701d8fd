//! `--junit FILE`: verdicts as JUnit XML, the report format CI systems read (GitLab, Jenkins,
//! GitHub test reporters). A pure renderer: [`Suite`]s of [`Case`]s in, the document's text
//! out; `run` makes one suite per scenario from its threshold verdicts, `compare` one from the
//! metrics `--fail-on-regression` judges.
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <testsuites name="coldfront" tests="2" failures="1" errors="0" skipped="0" time="4.210">
//!   <testsuite name="quickstart" tests="2" failures="1" errors="0" skipped="0" time="4.210">
//!     <testcase classname="quickstart.persistent" name="*.error_rate &lt; 1%"/>
//!     <testcase classname="quickstart.persistent" name="persistent.latency.p99 &lt; 50ms">
//!       <failure message="actual 187.20 ms" type="threshold">FAIL persistent: …</failure>
//!     </testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//!
//! An inconclusive verdict (the generator was the bottleneck) is `<skipped message=
//! "inconclusive: …">`: it neither passes nor fails, as in the run's exit code.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::resultset::{Summary, ThresholdVerdict};

/// Refuses, before any work, a `--junit` path that could not be written: its directory
/// missing, or the path itself a directory.
pub(crate) fn check_path(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        anyhow::bail!(
            "--junit {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        anyhow::bail!("--junit {}: is a directory, not a file", path.display());
    }
    Ok(())
}

/// Writes the document of `suites` to `path`, atomically.
pub(crate) fn write(path: &Path, suites: &[Suite]) -> anyhow::Result<()> {
    crate::resultset::io::write_atomic(path, render(suites).as_bytes())
        .with_context(|| format!("writing --junit {}", path.display()))
}

/// One `<testsuite>`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Suite {
    pub name: String,
    /// Seconds the suite took, when known.
    pub time_s: Option<f64>,
    pub cases: Vec<Case>,
}

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Case {
    pub classname: String,
    pub name: String,
    pub result: CaseResult,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CaseResult {
    Passed,
    /// `<failure message="…" type="…">detail</failure>`.
    Failed {
        kind: &'static str,
        message: String,
        detail: String,
    },
    /// `<skipped message="…"/>`.
    Skipped {
        message: String,
    },
}

impl Suite {
    fn count(&self, which: fn(&CaseResult) -> bool) -> usize {
        self.cases.iter().filter(|case| which(&case.result)).count()
    }

    fn failures(&self) -> usize {
        self.count(|result| matches!(result, CaseResult::Failed { .. }))
    }

    fn skipped(&self) -> usize {
        self.count(|result| matches!(result, CaseResult::Skipped { .. }))
    }
}

/// One scenario's threshold verdicts: a case per verdict per target (`classname`
/// `scenario.target`, `name` the key and condition as written), in target order.
pub(crate) fn threshold_suite(summary: &Summary, time_s: Option<f64>) -> Suite {
    let cases = summary
        .targets
        .iter()
        .flat_map(|(target, t)| {
            let reason = t.generator.as_ref().and_then(|g| g.reason.clone());
            t.thresholds
                .iter()
                .map(move |verdict| threshold_case(&summary.scenario, target, verdict, &reason))
        })
        .collect();
    Suite {
        name: summary.scenario.clone(),
        time_s,
        cases,
    }
}

fn threshold_case(
    scenario: &str,
    target: &str,
    verdict: &ThresholdVerdict,
    generator_reason: &Option<String>,
) -> Case {
    let actual = verdict.actual_text();
    let result = if verdict.inconclusive {
        let why = generator_reason
            .as_deref()
            .unwrap_or("the generator was the bottleneck");
        CaseResult::Skipped {
            message: format!("inconclusive: actual {actual}; {why}"),
        }
    } else if verdict.passed {
        CaseResult::Passed
    } else {
        CaseResult::Failed {
            kind: "threshold",
            message: format!("actual {actual}"),
            detail: format!(
                "FAIL {target}: {} {} (actual {actual})",
                verdict.key, verdict.condition
            ),
        }
    };
    Case {
        classname: format!("{scenario}.{target}"),
        name: format!("{} {}", verdict.key, verdict.condition),
        result,
    }
}

/// The whole document: `<testsuites>` with the totals of its suites.
pub(crate) fn render(suites: &[Suite]) -> String {
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let skipped: usize = suites.iter().map(Suite::skipped).sum();
    let time: Option<f64> = suites.iter().map(|s| s.time_s).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"coldfront\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"{skipped}\"{}>",
        time_attribute(time)
    );
    for suite in suites {
        render_suite(&mut out, suite);
    }
    out.push_str("</testsuites>\n");
    out
}

fn render_suite(out: &mut String, suite: &Suite) {
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\"{}>",
        escape(&suite.name),
        suite.cases.len(),
        suite.failures(),
        suite.skipped(),
        time_attribute(suite.time_s)
    );
    for case in &suite.cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&case.classname),
            escape(&case.name)
        );
        match &case.result {
            CaseResult::Passed => out.push_str("/>\n"),
            CaseResult::Failed {
                kind,
                message,
                detail,
            } => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    escape(message),
                    escape(kind),
                    escape(detail)
                );
            }
            CaseResult::Skipped { message } => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

fn time_attribute(time_s: Option<f64>) -> String {
    match time_s {
        Some(seconds) if seconds.is_finite() => format!(" time=\"{seconds:.3}\""),
        _ => String::new(),
    }
}

/// `text` for an XML attribute value or element content: the five markup characters as
/// entities, tab and line breaks as character references (so an attribute keeps them), and
/// the characters XML 1.0 cannot hold at all (other control characters, U+FFFE, U+FFFF) as
/// U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Unit;

    fn verdict(key: &str, passed: bool, inconclusive: bool, actual: f64) -> ThresholdVerdict {
        ThresholdVerdict {
            key: key.into(),
            condition: "< 50ms".into(),
            actual: Some(actual),
            unit: Unit::Milliseconds,
            passed,
            inconclusive,
            reason: None,
        }
    }

    #[test]
    fn escapes_markup_quotes_breaks_and_what_xml_cannot_hold() {
        assert_eq!(escape("plain text"), "plain text");
        assert_eq!(
            escape(r#"a<b>&"c"'d'"#),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("line\nnext\tcol\r"), "line&#10;next&#9;col&#13;");
        assert_eq!(
            escape("bell\u{7} nul\u{0} \u{ffff}"),
            "bell\u{fffd} nul\u{fffd} \u{fffd}"
        );
        assert_eq!(escape("p99 → 5 µs ✓"), "p99 → 5 µs ✓");
    }

    #[test]
    fn renders_passes_failures_and_skips_with_their_counts() {
        let cases = vec![
            Case {
                classname: "s.t".into(),
                name: "t.latency.p99 < 50ms".into(),
                result: CaseResult::Passed,
            },
            Case {
                classname: "s.t".into(),
                name: "*.error_rate < 1%".into(),
                result: CaseResult::Failed {
                    kind: "threshold",
                    message: "actual 2%".into(),
                    detail: "FAIL t: *.error_rate < 1% (actual 2%)".into(),
                },
            },
            Case {
                classname: "s.u".into(),
                name: "u.requests > 10".into(),
                result: CaseResult::Skipped {
                    message: "inconclusive: \"late\"".into(),
                },
            },
        ];
        let suites = [
            Suite {
                name: "s".into(),
                time_s: Some(1.5),
                cases,
            },
            Suite {
                name: "empty".into(),
                time_s: None,
                cases: Vec::new(),
            },
        ];
        let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="coldfront" tests="3" failures="1" errors="0" skipped="1">
  <testsuite name="s" tests="3" failures="1" errors="0" skipped="1" time="1.500">
    <testcase classname="s.t" name="t.latency.p99 &lt; 50ms"/>
    <testcase classname="s.t" name="*.error_rate &lt; 1%">
      <failure message="actual 2%" type="threshold">FAIL t: *.error_rate &lt; 1% (actual 2%)</failure>
    </testcase>
    <testcase classname="s.u" name="u.requests &gt; 10">
      <skipped message="inconclusive: &quot;late&quot;"/>
    </testcase>
  </testsuite>
  <testsuite name="empty" tests="0" failures="0" errors="0" skipped="0">
  </testsuite>
</testsuites>
"#;
        assert_eq!(render(&suites), expected);
    }

    #[test]
    fn a_verdict_per_target_becomes_a_case_named_by_key_and_condition() {
        let mut summary = crate::testing::synthetic::sample().summary;
        summary.scenario = "api".into();
        let names: Vec<String> = summary.targets.keys().cloned().collect();
        for (index, target) in summary.targets.values_mut().enumerate() {
            target.thresholds = vec![
                verdict("*.latency.p99", index == 0, false, 187.2),
                verdict("*.latency.p50", false, true, 60.0),
            ];
        }
        let suite = threshold_suite(&summary, Some(3.0));
        assert_eq!(suite.name, "api");
        assert_eq!(suite.cases.len(), 2 * names.len());
        let first = &suite.cases[0];
        assert_eq!(first.classname, format!("api.{}", names[0]));
        assert_eq!(first.name, "*.latency.p99 < 50ms");
        assert_eq!(first.result, CaseResult::Passed);
        match &suite.cases[1].result {
            CaseResult::Skipped { message } => {
                assert!(
                    message.starts_with("inconclusive: actual 60.00 ms"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        if names.len() > 1 {
            match &suite.cases[2].result {
                CaseResult::Failed { message, .. } => assert_eq!(message, "actual 187.20 ms"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(suite.failures(), names.len() - 1);
        assert_eq!(suite.skipped(), names.len());
    }
}
