//! `coldfront merge SHARD_SETS... --out DIR`: the result sets of a sharded run (`run --shard
//! I/N`) into one ordinary result set, exactly what one generator sending the whole schedule
//! would have recorded. HdrHistograms add without loss, so the merged percentiles are those of
//! the union of the shards' histograms, not an estimate; counters add; the summary is computed
//! by the function a run uses, from whole-run histograms (`<target>.totals.hlog`) and counters,
//! and the thresholds are evaluated on it.
//!
//! Nothing mismatched is merged: the sets must be shards `0..N-1` of one scenario fingerprint
//! (a missing, duplicate or foreign shard is named), each complete unless `--allow-partial`
//! (the merged set is then `interrupted` and says which shards were). The merged set is built
//! in a temporary directory beside its destination and renamed into place, so an error leaves
//! nothing behind.

mod combine;
mod stream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::model::RunStatus;
use crate::resultset::{self, Manifest, MergedRecord, MergedShard, ShardRecord, Summary};
use crate::Exit;

/// What `merge` is asked to do.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    pub sets: Vec<PathBuf>,
    pub out: PathBuf,
    pub allow_partial: bool,
    /// The command line, for the merged manifest.
    pub command: Vec<String>,
}

/// One shard's result set, read.
pub(crate) struct Shard {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub summary: Summary,
    pub record: ShardRecord,
}

pub fn command(request: &MergeRequest) -> anyhow::Result<Exit> {
    let shards = match read_shards(&request.sets, request.allow_partial) {
        Ok(shards) => shards,
        Err(problem) => {
            eprintln!("error: merge: {problem}");
            return Ok(Exit::UsageOrInput);
        }
    };
    let name = shards[0].manifest.scenario.name.clone();
    let dest = request.out.join(&name);
    if dest.exists() {
        eprintln!(
            "error: merge: {} already exists; choose another --out or remove it",
            dest.display()
        );
        return Ok(Exit::UsageOrInput);
    }
    std::fs::create_dir_all(&request.out)
        .with_context(|| format!("creating {}", request.out.display()))?;
    let building = request
        .out
        .join(format!(".{name}.merging-{}", std::process::id()));
    let merged = write_merged(&shards, &building, &request.command);
    let summary = match merged {
        Ok(summary) => summary,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&building);
            return Err(error);
        }
    };
    std::fs::rename(&building, &dest)
        .with_context(|| format!("moving the merged set to {}", dest.display()))?;
    // As `report` does for a run's set: the percentile texts, the charts and the page.
    let run = resultset::ResultSet::read(&dest)?;
    resultset::hgrm::write_set(&run)
        .with_context(|| format!("writing the .hgrm files of {}", dest.display()))?;
    crate::report::write_page(&run, &dest, None)
        .with_context(|| format!("writing the report of {}", dest.display()))?;
    println!(
        "merged {} shards of {name} → {}",
        shards.len(),
        dest.display()
    );
    let order = shards[0]
        .manifest
        .scenario
        .targets
        .iter()
        .map(|t| t.name.as_str());
    print!("{}", crate::progress::summary_table(&summary, order));
    let verdicts = || summary.targets.values().flat_map(|t| &t.thresholds);
    Ok(if verdicts().any(resultset::ThresholdVerdict::failed) {
        Exit::ThresholdFailed
    } else if verdicts().any(|v| v.inconclusive) {
        Exit::Inconclusive
    } else {
        Exit::Success
    })
}

/// The shards, ordered by index, once they are shown to be every shard of one run.
fn read_shards(sets: &[PathBuf], allow_partial: bool) -> Result<Vec<Shard>, String> {
    let mut by_index: BTreeMap<u64, Shard> = BTreeMap::new();
    let mut first: Option<(PathBuf, ShardRecord)> = None;
    for dir in sets {
        let shard = read_shard(dir)?;
        let record = &shard.record;
        match &first {
            None => first = Some((dir.clone(), record.clone())),
            Some((first_dir, expected)) => {
                if record.count != expected.count || record.fingerprint != expected.fingerprint {
                    return Err(format!(
                        "{} is shard {}/{} of another run (fingerprint {}…) than {} (shard \
                         {}/{}, fingerprint {}…): a different scenario, duration scale, target \
                         list or shard count",
                        dir.display(),
                        record.index,
                        record.count,
                        &record.fingerprint[..12.min(record.fingerprint.len())],
                        first_dir.display(),
                        expected.index,
                        expected.count,
                        &expected.fingerprint[..12.min(expected.fingerprint.len())],
                    ));
                }
            }
        }
        if shard.manifest.status != RunStatus::Complete && !allow_partial {
            return Err(format!(
                "{} (shard {}) is {}, not complete; merge it only with --allow-partial, which \
                 marks the merged set partial",
                dir.display(),
                record.index,
                shard.manifest.status.as_str()
            ));
        }
        let index = record.index;
        if let Some(other) = by_index.insert(index, shard) {
            return Err(format!(
                "shard {index} is given twice: {} and {}",
                other.dir.display(),
                dir.display()
            ));
        }
    }
    let count = first.map_or(0, |(_, record)| record.count);
    if let Some(missing) = (0..count).find(|i| !by_index.contains_key(i)) {
        return Err(format!(
            "shard {missing} of {count} is missing (given: {})",
            by_index
                .keys()
                .map(|i| format!("{i}/{count}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(by_index.into_values().collect())
}

fn read_shard(dir: &Path) -> Result<Shard, String> {
    fn read<T: serde::de::DeserializeOwned>(
        dir: &Path,
        file: &str,
        what: &'static str,
    ) -> Result<T, String> {
        resultset::read_json(&dir.join(file), what).map_err(|e| format!("{e:#}"))
    }
    let manifest: Manifest = read(dir, resultset::MANIFEST_FILE, "manifest")?;
    let record = manifest.shard.clone().ok_or_else(|| {
        format!(
            "{} is not a shard (its manifest has no `shard`; run with --shard I/N)",
            dir.display()
        )
    })?;
    let summary: Summary = read(dir, resultset::SUMMARY_FILE, "summary")?;
    Ok(Shard {
        dir: dir.to_path_buf(),
        manifest,
        summary,
        record,
    })
}

/// Writes the merged set into `dir` (created) and returns its summary.
fn write_merged(shards: &[Shard], dir: &Path, command: &[String]) -> anyhow::Result<Summary> {
    std::fs::create_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let first = &shards[0].manifest;
    let plan = crate::scenario::parse_str(&first.scenario.source_text, &first.scenario.source)
        .map_err(|errors| anyhow::anyhow!("the shards' scenario no longer parses: {errors}"))?;
    let partial = shards
        .iter()
        .any(|s| s.manifest.status != RunStatus::Complete);
    let mut targets = BTreeMap::new();
    let mut series = format!("{}\n", resultset::series::HEADER).into_bytes();
    for record in &first.scenario.targets {
        if !shards
            .iter()
            .all(|s| s.summary.targets.contains_key(&record.name))
        {
            continue;
        }
        let mut merged = combine::target(shards, &record.name, dir)?;
        merged.summary.thresholds =
            crate::thresholds::evaluate(&plan.thresholds, &record.name, &merged.summary);
        for row in &merged.rows {
            row.write_csv(&mut series)?;
        }
        targets.insert(record.name.clone(), merged.summary);
    }
    resultset::io::write_atomic(&dir.join(resultset::TIMESERIES_FILE), &series)?;
    let status = if partial {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    let summary = Summary {
        schema_version: resultset::SCHEMA_VERSION,
        scenario: first.scenario.name.clone(),
        status,
        targets,
    };
    resultset::write_json(&dir.join(resultset::SUMMARY_FILE), &summary)?;
    resultset::write_json(
        &dir.join(resultset::MANIFEST_FILE),
        &merged_manifest(shards, status, command, partial),
    )?;
    Ok(summary)
}

fn merged_manifest(
    shards: &[Shard],
    status: RunStatus,
    command: &[String],
    partial: bool,
) -> Manifest {
    let first = &shards[0];
    let earliest = shards.iter().map(|s| &s.manifest.started_at).min();
    let latest = shards
        .iter()
        .filter_map(|s| s.manifest.ended_at.as_ref())
        .max();
    Manifest {
        status,
        started_at: earliest.cloned().unwrap_or_default(),
        ended_at: latest.cloned(),
        error: None,
        command: command.to_vec(),
        shard: None,
        merged: Some(MergedRecord {
            count: first.record.count,
            fingerprint: first.record.fingerprint.clone(),
            start_at: first.record.start_at.clone(),
            partial,
            shards: shards
                .iter()
                .map(|s| MergedShard {
                    index: s.record.index,
                    source: s.dir.clone(),
                    status: s.manifest.status,
                    hostname: s.manifest.host.hostname.clone(),
                    start_late_ms: s.record.start_late_ms.clone(),
                })
                .collect(),
        }),
        repetition: None,
        repetitions: None,
        ..first.manifest.clone()
    }
}
