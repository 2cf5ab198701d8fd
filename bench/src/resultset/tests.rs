use std::path::{Path, PathBuf};

use super::*;
use crate::model::{RequestKind, TargetKind};

#[test]
fn summaries_and_requests_written_before_held_requests_still_read() {
    let facts = crate::record::summary::RunFacts {
        duration: std::time::Duration::from_secs(1),
        connections: crate::record::connections::ConnectionCounts::default(),
        db_connections_max: None,
        db_max_connections: None,
    };
    let summary =
        crate::record::summary::target_summary(&crate::record::Recorder::new().totals(), &facts);
    assert_eq!(summary.held, None);
    let mut json = serde_json::to_value(&summary).unwrap();
    json.as_object_mut().unwrap().remove("held");
    let read: TargetSummary = serde_json::from_value(json).unwrap();
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
