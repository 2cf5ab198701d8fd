//! The shards' per-second interval logs read together, second by second: each file line by
//! line (never held whole), the seconds in order across all of them, so merging a long run
//! holds one second's intervals at a time.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::iter::Peekable;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::resultset::hlog::{self, HlogInterval};

/// One log's intervals in file order (a log holds its seconds in order).
struct LogLines {
    path: PathBuf,
    lines: std::io::Lines<std::io::BufReader<std::fs::File>>,
    line: usize,
}

impl Iterator for LogLines {
    type Item = anyhow::Result<(u64, HlogInterval)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next()? {
                Ok(line) => line,
                Err(error) => {
                    return Some(
                        Err(error).with_context(|| format!("reading {}", self.path.display())),
                    )
                }
            };
            self.line += 1;
            // Headers, comments and the column legend carry no interval.
            if line.is_empty() || line.starts_with('#') || line.starts_with('"') {
                continue;
            }
            // The log reader takes lines with their newline.
            let parsed = hlog::parse(format!("{line}\n").as_bytes()).map_err(|cause| {
                anyhow::anyhow!("{} line {}: {cause}", self.path.display(), self.line)
            });
            return Some(parsed.and_then(|intervals| {
                let interval = intervals.into_iter().next().with_context(|| {
                    format!(
                        "{} line {}: not an interval",
                        self.path.display(),
                        self.line
                    )
                })?;
                let second = (interval.start.as_secs_f64() + 1e-6).floor() as u64;
                Ok((second, interval))
            }));
        }
    }
}

/// One second's intervals by tag (`None`: corrected latency).
pub(super) type SecondIntervals = BTreeMap<Option<String>, Vec<HlogInterval>>;

/// The intervals of several logs, a second at a time.
pub(super) struct Seconds {
    logs: Vec<Peekable<LogLines>>,
}

impl Seconds {
    pub(super) fn open(paths: &[PathBuf]) -> anyhow::Result<Seconds> {
        let logs = paths
            .iter()
            .map(|path| open_log(path).map(Iterator::peekable))
            .collect::<anyhow::Result<_>>()?;
        Ok(Seconds { logs })
    }

    /// The next second holding any interval, and its intervals by tag (`None`: corrected
    /// latency); `None` once every log is read.
    pub(super) fn next_second(&mut self) -> anyhow::Result<Option<(u64, SecondIntervals)>> {
        let mut earliest = None;
        for log in &mut self.logs {
            match log.peek() {
                Some(Ok((second, _))) => {
                    earliest = Some(earliest.map_or(*second, |e: u64| e.min(*second)))
                }
                Some(Err(_)) => return Err(log.next().expect("peeked").expect_err("an error")),
                None => {}
            }
        }
        let Some(second) = earliest else {
            return Ok(None);
        };
        let mut by_tag = SecondIntervals::new();
        for log in &mut self.logs {
            while let Some(Ok((at, _))) = log.peek() {
                if *at != second {
                    break;
                }
                let (_, interval) = log.next().expect("peeked")?;
                by_tag
                    .entry(interval.tag.clone())
                    .or_default()
                    .push(interval);
            }
        }
        Ok(Some((second, by_tag)))
    }
}

fn open_log(path: &Path) -> anyhow::Result<LogLines> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(LogLines {
        path: path.to_path_buf(),
        lines: std::io::BufReader::new(file).lines(),
        line: 0,
    })
}
