use std::path::{Path, PathBuf};

use super::*;
use crate::model::{RequestKind, TargetKind};

#[test]
fn summaries_and_requests_written_before_held_requests_or_the_generator_still_read() {
    let facts = crate::record::summary::RunFacts {
        duration: std::time::Duration::from_secs(1),
        connections: crate::record::connections::ConnectionCounts::default(),
        db_connections_max: None,
        db_max_connections: None,
        cpu: Default::default(),
    };
    let summary =
        crate::record::summary::target_summary(&crate::record::Recorder::new().totals(), &facts);
    assert_eq!(summary.held, None);
    assert!(summary.generator.is_some());
    let mut json = serde_json::to_value(&summary).unwrap();
    json.as_object_mut().unwrap().remove("held");
    json.as_object_mut().unwrap().remove("generator");
    let read: TargetSummary = serde_json::from_value(json).unwrap();
    assert_eq!(
        read.generator, None,
        "written before the generator measured itself"
    );
    let read = TargetSummary {
        generator: summary.generator.clone(),
        ..read
    };
    assert_eq!(read, summary);

    let old_request = r#"{"name":"GET /","weight":1,"method":"GET","path":"/"}"#;
    let request: RequestRecord = serde_json::from_str(old_request).unwrap();
    assert_eq!(request.kind, None);
    assert_eq!(request.hold_ms, None);
}

fn phase(start_s: f64, duration_s: f64) -> PhaseRecord {
    PhaseRecord {
        name: "p".into(),
        start_s,
        duration_s,
        rate_from: Some(1.0),
        rate_to: Some(1.0),
        concurrency: None,
        think_time_ms: None,
    }
}

#[test]
fn a_second_belongs_to_the_phase_holding_its_midpoint() {
    let steady = phase(0.0, 10.0);
    let idle = phase(10.0, 5.0);
    assert!(steady.contains((0.0, 1.0)));
    assert!(steady.contains((9.0, 1.0)));
    assert!(!steady.contains((10.0, 1.0)));
    assert!(idle.contains((10.0, 1.0)));
    // The log writes three decimals: 9.9996 is written 10.000; either way it is idle's.
    assert!(idle.contains((9.9995, 1.0)));
    assert!(!idle.contains((15.0, 1.0)));
    // A second straddling a boundary at 7.5 s belongs to the later phase from its midpoint on.
    let (first, second) = (phase(0.0, 7.5), phase(7.5, 7.5));
    assert!(first.contains((6.0, 1.0)));
    assert!(second.contains((7.0, 1.0)));
    let phases = [steady, idle];
    assert_eq!(PhaseRecord::index_of(&phases, (3.0, 1.0)), 0);
    assert_eq!(PhaseRecord::index_of(&phases, (12.0, 1.0)), 1);
    assert_eq!(
        PhaseRecord::index_of(&phases, (15.0, 1.0)),
        2,
        "past the last phase"
    );
}

fn reference_sets() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/reference");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join(MANIFEST_FILE).exists())
        .collect();
    sets.sort();
    sets
}

#[test]
fn every_reference_result_set_reads_with_its_typed_words() {
    let sets = reference_sets();
    assert!(sets.len() >= 9, "reference sets: {sets:?}");
    for dir in sets {
        let set = ResultSet::read(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.manifest.status, crate::model::RunStatus::Complete);
        assert!(!set.targets.is_empty(), "{}", dir.display());
        for target in &set.targets {
            assert_ne!(target.kind, TargetKind::External, "{}", dir.display());
            let summary = target.summary.as_ref().unwrap();
            assert_eq!(summary.errors.len(), 7, "every error kind, zeros included");
            assert!(!target.latency.is_empty() && !target.series.is_empty());
        }
        let kinds = set.manifest.scenario.requests.iter().map(|r| r.kind);
        assert!(kinds.clone().all(|kind| kind.is_some()));
        // Written back, the typed model gives the same JSON it was read from.
        let text = std::fs::read_to_string(dir.join(SUMMARY_FILE)).unwrap();
        let on_disk: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_value(&set.summary).unwrap(), on_disk);
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap();
        let on_disk: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_value(&set.manifest).unwrap(), on_disk);
        let _ = RequestKind::Http;
    }
}

#[test]
fn a_damaged_file_is_named_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let source = &reference_sets()[0];
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let set = ResultSet::read(dir.path()).unwrap();
    let hlog = dir.path().join(hlog_file(&set.targets[0].name));
    std::fs::write(
        &hlog,
        "#[StartTime: 1 (seconds since epoch)]\n0.000,1.000,1.0,%%%\n",
    )
    .unwrap();
    let message = ResultSet::read(dir.path()).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}: ", hlog.display())),
        "{message}"
    );
    assert!(message.contains("bad base64"), "{message}");
    assert_eq!(message.matches(&hlog.display().to_string()).count(), 1);

    std::fs::write(dir.path().join(TIMESERIES_FILE), "what,is,this\n").unwrap();
    let message = ResultSet::read(dir.path()).unwrap_err().to_string();
    assert!(
        message.contains("not a coldfront time series: line 1"),
        "{message}"
    );
}

/// A copy of the reference quickstart set to damage.
fn quickstart_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = reference_sets()
        .into_iter()
        .find(|set| set.ends_with("quickstart"))
        .unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

fn edit_json(path: &Path, change: impl FnOnce(&mut serde_json::Value)) {
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    change(&mut json);
    std::fs::write(path, serde_json::to_vec(&json).unwrap()).unwrap();
}

/// The `.hlog` text with one corrected-latency interval whose histogram is `encoded`.
fn hlog_with(encoded: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(encoded);
    format!("#[StartTime: 1 (seconds since epoch)]\n0.000,1.000,1.0,{text}\n")
}

/// A compressed V2 histogram whose inflated payload is `inner`.
fn compressed(inner: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    deflate.write_all(inner).unwrap();
    let deflated = deflate.finish().unwrap();
    let mut bytes = 0x1c84_9314u32.to_be_bytes().to_vec();
    bytes.extend((deflated.len() as u32).to_be_bytes());
    bytes.extend(deflated);
    bytes
}

/// The corpus of damaged result sets: each damage, and what the error must say. Every one is
/// refused naming its file; none is read as if it were fine, none exhausts memory.
#[test]
fn damaged_result_sets_are_refused_naming_the_file_and_the_problem() {
    type Damage = fn(&Path);
    let cases: &[(&str, Damage, &str, &str)] = &[
        (
            "a target name that climbs out of the set",
            |dir| {
                edit_json(&dir.join(MANIFEST_FILE), |m| {
                    m["scenario"]["targets"][0]["name"] = "../../../../tmp/x".into()
                })
            },
            MANIFEST_FILE,
            "target name \"../../../../tmp/x\" is not a coldfront name",
        ),
        (
            "an interval log truncated to nothing",
            |dir| std::fs::write(dir.join("serverless.hlog"), "").unwrap(),
            "serverless.hlog",
            "no latency intervals, but the summary counts 1020 requests",
        ),
        (
            "a series with only its header",
            |dir| {
                std::fs::write(dir.join(TIMESERIES_FILE), format!("{}\n", series::HEADER)).unwrap()
            },
            TIMESERIES_FILE,
            "no row of target",
        ),
        (
            "a complete run without summaries",
            |dir| {
                edit_json(&dir.join(SUMMARY_FILE), |s| {
                    s["targets"] = serde_json::json!({})
                })
            },
            SUMMARY_FILE,
            "a complete run with no target's summary",
        ),
        (
            "a summary of a target the manifest does not list",
            |dir| {
                edit_json(&dir.join(SUMMARY_FILE), |s| {
                    let one = s["targets"]["serverless"].clone();
                    s["targets"]["ghost"] = one;
                })
            },
            SUMMARY_FILE,
            "a summary of target \"ghost\", which the manifest does not list",
        ),
        (
            "a row of a target the manifest does not list",
            |dir| append(dir, "ghost,1,1,1,1,0,0,0,,0,0,,,1.0,1.0,0,0,\n"),
            TIMESERIES_FILE,
            "a row of target \"ghost\"",
        ),
        (
            "a NaN cell",
            |dir| append(dir, "persistent,3,1,1,1,0,0,0,,0,0,,,NaN,1.0,0,0,\n"),
            TIMESERIES_FILE,
            "is not a time in ms: \"NaN\"",
        ),
        (
            "a second far past the run",
            |dir| {
                append(
                    dir,
                    "persistent,1000000000000,1,1,1,0,0,0,,0,0,,,1.0,1.0,0,0,\n",
                )
            },
            TIMESERIES_FILE,
            "second 1000000000000 of target \"persistent\": the run lasted at most",
        ),
        (
            "a histogram declaring 2 GB it does not have",
            |dir| {
                let mut bytes = 0x1c84_9314u32.to_be_bytes().to_vec();
                bytes.extend(0x7fff_ffffu32.to_be_bytes());
                bytes.extend([0u8; 64]);
                std::fs::write(dir.join("serverless.hlog"), hlog_with(&bytes)).unwrap();
            },
            "serverless.hlog",
            "interval 1: bad histogram: declares more compressed bytes than it has",
        ),
        (
            "a histogram that inflates without end",
            |dir| {
                let mut inner = 0x1c84_9313u32.to_be_bytes().to_vec();
                inner.resize(4 << 20, 0);
                let bytes = compressed(&inner);
                std::fs::write(dir.join("serverless.hlog"), hlog_with(&bytes)).unwrap();
            },
            "serverless.hlog",
            "inflates to more than any coldfront histogram",
        ),
        (
            "a histogram declaring more counts than it has",
            |dir| {
                let mut inner = 0x1c84_9313u32.to_be_bytes().to_vec();
                inner.extend(0x7fff_0000u32.to_be_bytes());
                inner.resize(60, 0);
                let bytes = compressed(&inner);
                std::fs::write(dir.join("serverless.hlog"), hlog_with(&bytes)).unwrap();
            },
            "serverless.hlog",
            "declares more counts than it has",
        ),
        (
            "a line that is no log line",
            |dir| {
                let log = dir.join("serverless.hlog");
                let mut text = std::fs::read_to_string(&log).unwrap();
                text.insert_str(text.find("\n1.000,").unwrap() + 1, "garbage,,\n");
                std::fs::write(&log, text).unwrap();
            },
            "serverless.hlog",
            "line 9: not a header, comment or interval line",
        ),
        (
            "an interval log that is a device",
            |dir| {
                let log = dir.join("serverless.hlog");
                std::fs::remove_file(&log).unwrap();
                std::os::unix::fs::symlink("/dev/zero", &log).unwrap();
            },
            "serverless.hlog",
            "not a regular file",
        ),
    ];
    for (what, damage, file, expected) in cases {
        let dir = quickstart_copy();
        ResultSet::read(dir.path()).unwrap_or_else(|e| panic!("{what}: intact copy: {e}"));
        damage(dir.path());
        let message = match ResultSet::read(dir.path()) {
            Ok(_) => panic!("{what}: read as if it were fine"),
            Err(error) => error.to_string(),
        };
        let path = dir.path().join(file).display().to_string();
        assert!(
            message.starts_with(&format!("{path}: ")),
            "{what}: {message}"
        );
        assert!(message.contains(expected), "{what}: {message}");
    }
}

fn append(dir: &Path, row: &str) {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join(TIMESERIES_FILE))
        .unwrap();
    file.write_all(row.as_bytes()).unwrap();
}
