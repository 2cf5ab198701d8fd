//! End-to-end tests of the formats other tools read: `--junit` (JUnit XML of `run`'s threshold
//! verdicts and of `compare --fail-on-regression`), parsed by a real XML parser (Python's
//! `xml.etree`), and the `.hgrm` percentile distributions beside each `.hlog`.

use std::path::Path;
use std::time::Duration;

use super::support::*;

/// The JUnit file at `path`, parsed by Python's `xml.etree` (so it must be well-formed XML):
/// `{"tag", "attrib", "suites": [{"tag", "attrib", "cases": [{"tag", "attrib", "failure",
/// "skipped"}]}]}`, `failure` with the element's attributes and its `text`.
fn parse_junit(path: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def case(c):
    f, s = c.find("failure"), c.find("skipped")
    return {"tag": c.tag, "attrib": c.attrib,
            "failure": None if f is None else dict(f.attrib, text=f.text or ""),
            "skipped": None if s is None else s.attrib}
print(json.dumps({"tag": root.tag, "attrib": root.attrib,
                  "suites": [{"tag": s.tag, "attrib": s.attrib, "cases": [case(c) for c in s]}
                             for s in root]}))
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{} is not well-formed XML: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn attribute<'a>(element: &'a serde_json::Value, name: &str) -> &'a str {
    element["attrib"][name]
        .as_str()
        .unwrap_or_else(|| panic!("no attribute {name} in {element}"))
}

fn count(element: &serde_json::Value, name: &str) -> usize {
    attribute(element, name).parse().unwrap()
}

#[test]
fn run_writes_threshold_verdicts_as_junit_xml_with_one_failure() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("junit")
        .target_url("t", &server.url())
        .phase("duration = \"1s\"\nrate = 50")
        .request("path = \"/sleep/5\"")
        .threshold("t.latency.p99", "< 1ms")
        .threshold("*.error_rate", "< 1%");
    let scenario = write_scenario(dir.path(), "junit", &text);
    let out = dir.path().join("out");
    let junit = dir.path().join("reports").join("junit.xml");

    // A directory that does not exist is refused before any load.
    let output = run_coldfront_with(&out, &[&scenario], &["--junit", junit.to_str().unwrap()]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--junit") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert_eq!((server.connections(), server.requests()), (0, 0));
    assert!(!out.exists());

    std::fs::create_dir(dir.path().join("reports")).unwrap();
    let output = run_coldfront_with(&out, &[&scenario], &["--junit", junit.to_str().unwrap()]);
    assert_exit(&output, 1);
    let xml = parse_junit(&junit);
    assert_eq!(xml["tag"], "testsuites");
    assert_eq!(
        (
            count(&xml, "tests"),
            count(&xml, "failures"),
            count(&xml, "skipped")
        ),
        (2, 1, 0)
    );
    let suites = xml["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 1);
    let suite = &suites[0];
    assert_eq!(suite["tag"], "testsuite");
    assert_eq!(attribute(suite, "name"), "junit");
    assert_eq!((count(suite, "tests"), count(suite, "failures")), (2, 1));
    let seconds: f64 = attribute(suite, "time").parse().unwrap();
    assert!((1.0..60.0).contains(&seconds), "{seconds}");

    let cases = suite["cases"].as_array().unwrap();
    let mut names: Vec<&str> = cases.iter().map(|c| attribute(c, "name")).collect();
    names.sort();
    assert_eq!(names, ["*.error_rate < 1%", "t.latency.p99 < 1ms"]);
    assert!(cases.iter().all(|c| attribute(c, "classname") == "junit.t"));
    assert!(cases
        .iter()
        .all(|c| c["tag"] == "testcase" && c["skipped"].is_null()));
    let failed: Vec<_> = cases.iter().filter(|c| !c["failure"].is_null()).collect();
    assert_eq!(failed.len(), 1, "{cases:?}");
    assert_eq!(attribute(failed[0], "name"), "t.latency.p99 < 1ms");
    let verdicts = &read_summary(&out.join("junit")).targets["t"].thresholds;
    let p99 = verdicts.iter().find(|v| v.key == "t.latency.p99").unwrap();
    let message = failed[0]["failure"]["message"].as_str().unwrap();
    assert_eq!(message, format!("actual {:.2} ms", p99.actual.unwrap()));
    assert!(p99.actual.unwrap() >= 5.0, "{message}");
}

/// One `.hgrm` file: its rows (value in ms, percentile as a fraction, total count) and the
/// footer's max and total count, after checking the layout of every line.
struct Distribution {
    rows: Vec<(f64, f64, u64)>,
    max: f64,
    total_count: u64,
}

fn read_hgrm(path: &Path) -> Distribution {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("       Value     Percentile TotalCount 1/(1-Percentile)")
    );
    assert_eq!(lines.next(), Some(""));
    let lines: Vec<&str> = lines.collect();
    let (rows, footer) = lines.split_at(lines.len() - 3);
    let mut parsed = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let last = index == rows.len() - 1;
        // "%12.3f %2.12f %10d %14.2f", the last row (100%) without its final column.
        assert_eq!(row.len(), if last { 38 } else { 53 }, "{row:?}");
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields.len(), if last { 3 } else { 4 }, "{row:?}");
        assert_eq!(fields[1] == "1.000000000000", last, "{row:?}");
        parsed.push((
            fields[0].parse().unwrap(),
            fields[1].parse().unwrap(),
            fields[2].parse().unwrap(),
        ));
    }
    assert!(footer[0].starts_with("#[Mean    = ") && footer[0].contains(", StdDeviation   = "));
    assert!(footer[1].starts_with("#[Max     = ") && footer[1].contains(", Total count    = "));
    assert_eq!(
        footer[2],
        "#[Buckets =           22, SubBuckets     =         2048]"
    );
    let number = |line: &str, at: usize| -> String {
        let value = line.split(['=', ',', ']']).nth(at).unwrap();
        value.trim().to_string()
    };
    Distribution {
        rows: parsed,
        max: number(footer[1], 1).parse().unwrap(),
        total_count: number(footer[1], 3).parse().unwrap(),
    }
}

/// The rows agree with the summary's statistics of the same histogram: p50, p90 and the max
/// are rows; p99 (between two ticks) is where the counts say it is.
fn assert_agrees(file: &Path, stats: &coldfront::resultset::LatencyStats) {
    let hgrm = read_hgrm(file);
    let at = |percentile: f64| {
        hgrm.rows
            .iter()
            .find(|row| row.1 == percentile)
            .unwrap_or_else(|| panic!("{}: no row at {percentile}", file.display()))
            .0
    };
    let what = file.display();
    assert_eq!(hgrm.total_count, stats.count, "{what}");
    assert_eq!(at(0.5), stats.p50, "{what}: p50");
    assert_eq!(at(0.9), stats.p90, "{what}: p90");
    assert_eq!(at(1.0), stats.max, "{what}: max");
    assert_eq!(hgrm.max, stats.max, "{what}: max");
    let &(_, _, last_count) = hgrm.rows.last().unwrap();
    assert_eq!(last_count, stats.count, "{what}");
    let p99_count = (0.99 * stats.count as f64).ceil() as u64;
    for &(value, percentile, total_count) in &hgrm.rows {
        assert_eq!(
            total_count >= p99_count,
            value >= stats.p99,
            "{what}: row at {percentile} ({value} ms, {total_count}) against p99 {}",
            stats.p99
        );
    }
    assert!(hgrm
        .rows
        .windows(2)
        .all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
}

#[test]
fn hgrm_files_agree_with_the_summary_and_report_writes_them_again() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let text = ScenarioText::new("spectrum")
        .target_url("t", &server.url())
        .phase("duration = \"2s\"\nrate = 250")
        .request("path = \"/sleep/1\"");
    let scenario = write_scenario(dir.path(), "spectrum", &text);
    let out = dir.path().join("out");
    assert_exit(&run_coldfront(&out, &[&scenario]), 0);
    let set = out.join("spectrum");
    let t = &read_summary(&set).targets["t"];
    assert!(t.latency_ms.count >= 400, "{}", t.latency_ms.count);
    assert_agrees(&set.join("t.hgrm"), &t.latency_ms);
    assert_agrees(&set.join("t.service_time.hgrm"), &t.service_time_ms);
    // The server sleeps 1 ms: every latency is at least that, in milliseconds.
    assert!(read_hgrm(&set.join("t.hgrm")).rows[0].0 >= 1.0);

    // `coldfront report` writes them again from the interval logs: the same text.
    let written = std::fs::read(set.join("t.hgrm")).unwrap();
    let service = std::fs::read(set.join("t.service_time.hgrm")).unwrap();
    std::fs::remove_file(set.join("t.hgrm")).unwrap();
    std::fs::remove_file(set.join("t.service_time.hgrm")).unwrap();
    let output = assert_cmd::Command::cargo_bin("coldfront")
        .unwrap()
        .arg("report")
        .arg(&set)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert_eq!(std::fs::read(set.join("t.hgrm")).unwrap(), written);
    assert_eq!(
        std::fs::read(set.join("t.service_time.hgrm")).unwrap(),
        service
    );
    let page = std::fs::read_to_string(set.join("report.html")).unwrap();
    assert!(page.contains("<a href=\"t.hgrm\">t.hgrm</a>"), "no link");
    assert!(page.contains("<a href=\"t.service_time.hgrm\">"), "no link");
}

#[test]
fn compare_writes_a_junit_case_per_judged_metric() {
    let server = TestServer::start(None);
    let dir = tempfile::tempdir().unwrap();
    let run = |label: &str, path: &str| {
        let text = ScenarioText::new("api")
            .target_url("t", &server.url())
            .phase("duration = \"3s\"\nrate = 50")
            .request(&format!("path = \"{path}\""));
        std::fs::create_dir_all(dir.path().join(label)).unwrap();
        let scenario = write_scenario(&dir.path().join(label), "api", &text);
        let out = dir.path().join(label).join("out");
        assert_exit(&run_coldfront(&out, &[&scenario]), 0);
        out.join("api")
    };
    let (fast, slow) = (run("fast", "/sleep/2"), run("slow", "/sleep/8"));
    let compare = |flags: &[&str]| {
        assert_cmd::Command::cargo_bin("coldfront")
            .unwrap()
            .arg("compare")
            .arg(&fast)
            .arg(&slow)
            .args(flags)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let junit = dir.path().join("compare.xml");
    let junit_flag = junit.to_str().unwrap();
    // --junit writes what --fail-on-regression judges, so it needs it.
    assert_exit(&compare(&["--junit", junit_flag]), 2);
    assert!(!junit.exists());

    let output = compare(&["--fail-on-regression", "--junit", junit_flag]);
    assert_exit(&output, 1);
    let output = compare(&["--format", "json"]);
    assert_exit(&output, 0);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let metrics = json["targets"][0]["metrics"].as_array().unwrap();
    let beyond = metrics.iter().filter(|m| m["beyond_tolerance"] == true);
    let insufficient = metrics
        .iter()
        .filter(|m| m["verdict"] == "insufficient_data");

    let xml = parse_junit(&junit);
    let suites = xml["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 1);
    let cases = suites[0]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), metrics.len());
    assert_eq!(count(&xml, "tests"), metrics.len());
    assert_eq!(count(&xml, "failures"), beyond.count());
    assert_eq!(count(&xml, "skipped"), insufficient.count());
    for (case, metric) in cases.iter().zip(metrics) {
        assert_eq!(attribute(case, "classname"), "api.t");
        let name = format!(
            "{} not regressed beyond 5%",
            metric["metric"].as_str().unwrap()
        );
        assert_eq!(attribute(case, "name"), name);
        assert_eq!(
            !case["failure"].is_null(),
            metric["beyond_tolerance"] == true,
            "{case}"
        );
    }
    let p50 = cases
        .iter()
        .find(|c| attribute(c, "name").starts_with("latency.p50 "))
        .unwrap();
    let message = p50["failure"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("regressed: t latency.p50 +"),
        "{message}"
    );
}
