//! One target of a sharded run, combined: its per-second interval log (the shards' histograms
//! of each second and tag added), its per-second series (counts added, percentiles read from
//! the added histograms), its whole-run histograms (`<target>.totals.hlog`, added) and its
//! summary, computed from those and the shards' counters by [`summary::target_summary`].
//!
//! Seconds are aligned by their place in the shards' schedules: shards started together
//! (`--start-at`) send second k's requests in the same wall-clock second, give or take the
//! start lateness each records. Connections open at once are the sum of the shards' (each
//! machine's own); a sampled database count, which every shard reads from the same database,
//! is the largest any shard saw.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use hdrhistogram::Histogram;

use super::stream::Seconds;
use super::Shard;
use crate::record::connections::ConnectionCounts;
use crate::record::generator::CpuUse;
use crate::record::summary::{self, RunFacts};
use crate::record::totals_log;
use crate::resultset::hlog::{self, HlogWriter};
use crate::resultset::io::StreamedFile;
use crate::resultset::series::{self, SeriesRow};
use crate::resultset::{self, TargetSummary};

pub(super) struct MergedTarget {
    pub summary: TargetSummary,
    pub rows: Vec<SeriesRow>,
}

/// Combines target `name` of every shard, writing its logs into `dir`.
pub(super) fn target(shards: &[Shard], name: &str, dir: &Path) -> anyhow::Result<MergedTarget> {
    let figures = per_second_logs(shards, name, dir)?;
    let rows = series_rows(shards, name, &figures)?;
    let summaries: Vec<&TargetSummary> = shards.iter().map(|s| &s.summary.targets[name]).collect();
    let mut totals = totals_log::empty(summaries.iter().any(|s| s.held.is_some()));
    for shard in shards {
        let path = totals_log::path(&shard.dir, name);
        totals_log::add_into(&path, &mut totals).with_context(|| {
            format!(
                "{}: the whole-run histograms of `{name}` (written by coldfront runs since \
                 sharding; this set is older or damaged)",
                shard.dir.display()
            )
        })?;
    }
    for s in &summaries {
        summary::add_counters(&mut totals, s);
    }
    let facts = run_facts(&summaries);
    totals_log::write(
        &totals_log::path(dir, name),
        &totals,
        common_start(shards),
        facts.duration,
    )?;
    let mut merged = summary::target_summary(&totals, &facts);
    carry_generator_limits(&mut merged, shards, name);
    Ok(MergedTarget {
        summary: merged,
        rows,
    })
}

/// The wall-clock time the shards' seconds count from: their common start, else the first
/// shard's own.
fn common_start(shards: &[Shard]) -> SystemTime {
    let first = &shards[0];
    let text = first
        .record
        .start_at
        .as_deref()
        .unwrap_or(&first.manifest.started_at);
    humantime::parse_rfc3339_weak(text).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// What the series needs of a merged second: corrected latency's p50 and p99 and the send
/// lag's p99, in milliseconds.
#[derive(Debug, Default, Clone, Copy)]
struct SecondFigures {
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    send_lag_p99_ms: Option<f64>,
}

/// Adds the shards' `<name>.hlog` intervals second by second and tag by tag into the merged
/// log in `dir`, and returns each second's figures. The logs are read together a second at a
/// time ([`Seconds`]) and one histogram is decoded at a time: memory does not grow with the
/// run's length or its requests.
fn per_second_logs(
    shards: &[Shard],
    name: &str,
    dir: &Path,
) -> anyhow::Result<BTreeMap<u64, SecondFigures>> {
    let paths: Vec<_> = shards
        .iter()
        .map(|shard| shard.dir.join(resultset::hlog_file(name)))
        .collect();
    let mut seconds = Seconds::open(&paths)?;
    let mut out = StreamedFile::create(&dir.join(resultset::hlog_file(name)))?;
    let mut writer = HlogWriter::begin(out.writer(), common_start(shards))?;
    let mut figures: BTreeMap<u64, SecondFigures> = BTreeMap::new();
    let ms = |h: &Histogram<u64>, q: f64| {
        (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1000.0)
    };
    while let Some((second, by_tag)) = seconds.next_second()? {
        let entry = figures.entry(second).or_default();
        for (tag, intervals) in by_tag {
            let mut merged = hlog::new_histogram();
            for interval in intervals {
                merged
                    .add(interval.histogram())
                    .expect("histograms with coldfront's bounds add");
            }
            let start = Duration::from_secs(second);
            let length = Duration::from_secs(1);
            writer.write_interval(out.writer(), tag.as_deref(), &merged, start, length)?;
            match tag.as_deref() {
                None => {
                    entry.p50_ms = ms(&merged, 0.5);
                    entry.p99_ms = ms(&merged, 0.99);
                }
                Some(hlog::TAG_SEND_LAG) => entry.send_lag_p99_ms = ms(&merged, 0.99),
                Some(_) => {}
            }
        }
    }
    out.finish()?;
    Ok(figures)
}

/// The shards' rows of `name` added second by second; p50, p99 and the send lag's p99 from the
/// merged histograms, the generator's CPU share the busiest shard's.
fn series_rows(
    shards: &[Shard],
    name: &str,
    figures: &BTreeMap<u64, SecondFigures>,
) -> anyhow::Result<Vec<SeriesRow>> {
    let mut rows: BTreeMap<u64, SeriesRow> = BTreeMap::new();
    for shard in shards {
        let path = shard.dir.join(resultset::TIMESERIES_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let parsed =
            series::parse_csv(&text).with_context(|| format!("reading {}", path.display()))?;
        for row in parsed.into_iter().filter(|r| r.target == name) {
            let merged = rows.entry(row.second).or_insert_with(|| SeriesRow {
                target: name.to_string(),
                second: row.second,
                ..SeriesRow::default()
            });
            add_row(merged, &row);
        }
    }
    for (second, row) in rows.iter_mut() {
        // Row `second` covers the interval that starts at `second - 1`.
        let merged = second.checked_sub(1).and_then(|k| figures.get(&k));
        let merged = merged.copied().unwrap_or_default();
        row.p50_ms = merged.p50_ms;
        row.p99_ms = merged.p99_ms;
        row.send_lag_p99_ms = merged.send_lag_p99_ms;
    }
    Ok(rows.into_values().collect())
}

fn add_row(into: &mut SeriesRow, row: &SeriesRow) {
    let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    into.sent += row.sent;
    into.completed += row.completed;
    into.ok += row.ok;
    into.errors += row.errors;
    into.timeouts += row.timeouts;
    into.throttled += row.throttled;
    into.cold_starts = sum(into.cold_starts, row.cold_starts);
    into.connections_open += row.connections_open;
    into.connections_opened += row.connections_opened;
    into.instances = sum(into.instances, row.instances);
    into.db_connections = into.db_connections.max(row.db_connections);
    into.client_timeouts += row.client_timeouts;
    into.function_timeouts += row.function_timeouts;
    into.held_open = sum(into.held_open, row.held_open);
    // Counts by error kind add up; the connection range does not (left unknown).
    into.http_4xx = sum(into.http_4xx, row.http_4xx);
    into.http_5xx = sum(into.http_5xx, row.http_5xx);
    into.connect_errors = sum(into.connect_errors, row.connect_errors);
    into.io_errors = sum(into.io_errors, row.io_errors);
    into.late += row.late;
    into.generator_cpu = match (into.generator_cpu, row.generator_cpu) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
}

/// The shards ran side by side: the longest load, connections added, the database's highest
/// sample, the generators' CPUs together.
fn run_facts(summaries: &[&TargetSummary]) -> RunFacts {
    let mut connections = ConnectionCounts::default();
    for s in summaries {
        summary::add_connections(&mut connections, &s.connections);
    }
    let generators: Vec<_> = summaries
        .iter()
        .filter_map(|s| s.generator.as_ref())
        .collect();
    let cpus: u64 = generators.iter().map(|g| g.cpus).sum();
    let busy_cpus: f64 = generators.iter().map(|g| g.cpu_busy * g.cpus as f64).sum();
    RunFacts {
        duration: Duration::from_secs_f64(
            summaries.iter().map(|s| s.duration_s).fold(0.0, f64::max),
        ),
        connections,
        db_connections_max: summary::db_connections_max(summaries),
        db_max_connections: summary::db_max_connections(summaries),
        cpu: CpuUse {
            // Whether each shard's busy CPUs could hide its delay was judged by that shard;
            // its verdict carries over (see [`carry_generator_limits`]).
            may_hide_delay: false,
            cpus: cpus as usize,
            busy: if cpus == 0 {
                0.0
            } else {
                busy_cpus / cpus as f64
            },
            busiest_second: generators
                .iter()
                .map(|g| g.cpu_busy_max)
                .fold(0.0, f64::max),
        },
    }
}

/// A shard whose generator was the bottleneck makes the merged target's numbers include its
/// delay too: the merged target is limited, and its reason names those shards (each shard's
/// own reason is in its set).
fn carry_generator_limits(merged: &mut TargetSummary, shards: &[Shard], name: &str) {
    let limited: Vec<String> = shards
        .iter()
        .filter(|shard| {
            let summary = &shard.summary.targets[name];
            summary.generator.as_ref().is_some_and(|g| g.limited)
        })
        .map(|shard| shard.record.index.to_string())
        .collect();
    let said = (!limited.is_empty()).then(|| {
        format!(
            "limited on shard{} {} (each shard's set says why)",
            if limited.len() == 1 { "" } else { "s" },
            limited.join(", ")
        )
    });
    summary::carry_generator_limits(merged, said);
}
