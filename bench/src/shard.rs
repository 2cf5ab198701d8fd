//! Sharded runs (`run --shard`, `merge`, `k8s`): `--shard I/N` sends segment I of N of every scenario's schedule (the requests
//! with `seq mod N == I`, at their original intended times, and whole-number shares of
//! closed-model concurrency and `max_connections` that add up), so N shards on N machines send
//! exactly the single-machine schedule. `--start-at` gives them a common wall-clock start: each
//! target's load begins at a time every shard computes alike from it, and the result set
//! records how late this shard began against it ([`ShardRecord`]).
//!
//! Built-in targets are refused: each shard would start its own, and a merged result would
//! describe N servers as one. A sharded run targets external URLs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::load::Segment;
use crate::resultset::ShardRecord;
use crate::scenario::{Plan, TargetSetup};

/// Time between one target's last possible answer and the next target's common start, for
/// the shards' teardown and setup of the next target.
const BETWEEN_TARGETS: Duration = Duration::from_secs(2);

/// How late past `--start-at` a shard may still begin; later, it refuses to run.
pub(crate) const MISSED_BY_AT_MOST: Duration = Duration::from_secs(1);

/// The clock the common start is read on, as the result set names it.
pub(crate) const CLOCK: &str = "system wall clock (CLOCK_REALTIME); shards agree to within \
                                how well their clocks are synchronised (NTP, chrony)";

/// This process's part of a sharded run, or the whole run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sharding {
    pub segment: Segment,
    pub start_at: Option<SystemTime>,
}

impl Sharding {
    pub(crate) fn is_sharded(&self) -> bool {
        self.segment != Segment::WHOLE
    }

    /// Why `plan` cannot run as this shard (a built-in target; a `max_connections` too small
    /// to leave this shard a connection), or `None`.
    pub(crate) fn problem(&self, plan: &Plan, selected: &[&str]) -> Option<String> {
        if !self.is_sharded() {
            return None;
        }
        let shard = self.segment;
        if let Some(target) = plan
            .targets
            .iter()
            .filter(|t| selected.contains(&t.name.as_str()))
            .find(|t| !matches!(t.setup, TargetSetup::External { .. }))
        {
            return Some(format!(
                "--shard {shard}: target `{}` is built in, and each shard would start its own \
                 on its own machine; a sharded run targets external URLs (`url = ...`), or run \
                 it without --shard",
                target.name
            ));
        }
        let max = plan.load.max_connections as u64;
        if shard.share(max) == 0 {
            return Some(format!(
                "--shard {shard}: load.max_connections = {max} leaves this shard no connection \
                 (each shard gets a whole-number share); use at most {max} shards"
            ));
        }
        None
    }

    /// When the load of the `position`-th target run (0-based) begins: `--start-at` for the
    /// first, then after each earlier target's schedule, its timeout and [`BETWEEN_TARGETS`],
    /// so every shard computes the same times. `None` without `--start-at`.
    pub(crate) fn target_start(&self, plan: &Plan, position: usize) -> Option<SystemTime> {
        let each = target_span(plan) + BETWEEN_TARGETS;
        self.start_at.map(|at| at + each * position as u32)
    }

    /// The result set's record of this shard.
    pub(crate) fn record(&self, fingerprint: String) -> Option<ShardRecord> {
        self.is_sharded().then(|| ShardRecord {
            index: self.segment.index,
            count: self.segment.count,
            fingerprint,
            start_at: self.start_at.map(crate::resultset::rfc3339),
            clock: CLOCK.to_string(),
            start_late_ms: Default::default(),
        })
    }
}

/// The longest one target's load can take: its phases and then its timeout for the last
/// requests.
pub(crate) fn target_span(plan: &Plan) -> Duration {
    let schedule: Duration = plan.load.phases.iter().map(|p| p.duration).sum();
    schedule + plan.load.timeout
}

/// `--shard I/N`: shard I (0-based) of N.
pub(crate) fn parse_shard(text: &str) -> Result<Segment, String> {
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not I/N (shard I of N, 0-based: 0/3, 1/3, 2/3)"))?;
    let number = |part: &str, what: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|_| format!("`{text}`: {what} `{part}` is not a whole number"))
    };
    let (index, count) = (number(index, "I")?, number(count, "N")?);
    if count == 0 {
        return Err(format!("`{text}`: N is the number of shards, at least 1"));
    }
    Segment::new(index, count).ok_or_else(|| {
        format!(
            "`{text}`: shards are numbered from 0, so shard {index} of {count} does not exist \
             (the last is {}/{count})",
            count - 1
        )
    })
}

/// `--start-at`: an RFC 3339 time (`2026-12-02T10:00:00Z`) or Unix seconds (`1796205600`,
/// fractions allowed).
pub(crate) fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    if let Ok(seconds) = text.trim().parse::<f64>() {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(format!("`{text}`: Unix seconds are a time after 1970"));
        }
        return Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    humantime::parse_rfc3339_weak(text.trim()).map_err(|cause| {
        format!(
            "`{text}` is neither an RFC 3339 time (2026-12-02T10:00:00Z) nor Unix seconds: {cause}"
        )
    })
}

/// Why a common start cannot be kept: it passed more than [`MISSED_BY_AT_MOST`] ago.
pub(crate) fn missed(start_at: SystemTime, now: SystemTime) -> Option<String> {
    let late = now.duration_since(start_at).ok()?;
    (late > MISSED_BY_AT_MOST).then(|| {
        format!(
            "--start-at {} passed {:.1} s ago; shards that start at different times would not \
             send one schedule together, so this one refuses (give every shard a start a \
             little in the future)",
            crate::resultset::rfc3339(start_at),
            late.as_secs_f64()
        )
    })
}

/// A digest (SHA-256, hex) of what every shard of one run must share: the scenario file's
/// text, the duration scale, the targets run and the shard count. Shards with different
/// fingerprints are not parts of one run.
pub(crate) fn fingerprint(
    source_text: &str,
    duration_scale: f64,
    selected: &[&str],
    count: u64,
) -> String {
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    digest.update(source_text.as_bytes());
    digest.update(duration_scale.to_le_bytes());
    for name in selected {
        digest.update(name.as_bytes());
        digest.update([0]);
    }
    digest.update(count.to_le_bytes());
    digest
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_i_of_n_counted_from_zero() {
        assert_eq!(parse_shard("0/3"), Ok(Segment::new(0, 3).unwrap()));
        assert_eq!(parse_shard("2/3"), Ok(Segment::new(2, 3).unwrap()));
        let past = parse_shard("3/3").unwrap_err();
        assert!(past.contains("the last is 2/3"), "{past}");
        let none = parse_shard("0/0").unwrap_err();
        assert!(none.contains("at least 1"), "{none}");
        assert!(parse_shard("1").unwrap_err().contains("is not I/N"));
        assert!(parse_shard("a/3").unwrap_err().contains("I `a`"));
    }

    #[test]
    fn a_start_is_rfc3339_or_unix_seconds() {
        let at = UNIX_EPOCH + Duration::from_secs(1_796_205_600);
        assert_eq!(parse_start_at("1796205600"), Ok(at));
        assert_eq!(parse_start_at("2026-12-02T10:00:00Z"), Ok(at));
        assert_eq!(
            parse_start_at("1796205600.5"),
            Ok(at + Duration::from_millis(500))
        );
        assert!(parse_start_at("tomorrow").unwrap_err().contains("RFC 3339"));
        assert!(parse_start_at("-5").unwrap_err().contains("after 1970"));
    }

    #[test]
    fn a_start_missed_by_more_than_a_second_is_refused() {
        let at = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(missed(at, at - Duration::from_secs(5)), None, "ahead");
        assert_eq!(missed(at, at + Duration::from_millis(900)), None);
        let late = missed(at, at + Duration::from_secs(3)).unwrap();
        assert!(late.contains("passed 3.0 s ago"), "{late}");
    }
}
