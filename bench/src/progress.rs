//! What the user sees while and after a run: a progress bar per target and phase on a terminal,
//! plain periodic lines otherwise, nothing with `--quiet`; and the end-of-run summary table.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::record::ticker::Tick;
use crate::resultset::{GeneratorSummary, PhaseRecord, Summary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Bars,
    Lines,
    Quiet,
}

impl Mode {
    pub(crate) fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stdout().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

/// Plain lines are printed this often (and at each phase change).
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Progress of one target through the phases.
pub(crate) struct TargetProgress {
    mode: Mode,
    target: String,
    phases: Vec<PhaseRecord>,
    phase: Option<usize>,
    bar: Option<ProgressBar>,
    since_line: Duration,
    phase_errors: u64,
}

impl TargetProgress {
    pub(crate) fn new(mode: Mode, target: &str, phases: &[PhaseRecord]) -> Self {
        TargetProgress {
            mode,
            target: target.to_string(),
            phases: phases.to_vec(),
            phase: None,
            bar: None,
            since_line: Duration::ZERO,
            phase_errors: 0,
        }
    }

    pub(crate) fn on_tick(&mut self, tick: &Tick) {
        if self.mode == Mode::Quiet {
            return;
        }
        let at = tick
            .elapsed
            .saturating_sub(Duration::from_millis(1))
            .as_secs_f64();
        let phase = self
            .phases
            .iter()
            .position(|p| at < p.start_s + p.duration_s)
            .unwrap_or(self.phases.len().saturating_sub(1));
        let changed = self.phase != Some(phase);
        if changed {
            self.finish_bar();
            self.phase = Some(phase);
            self.phase_errors = 0;
            self.since_line = LINE_EVERY;
        }
        self.phase_errors += tick.errors;
        let record = &self.phases[phase];
        let in_phase = (at - record.start_s).clamp(0.0, record.duration_s);
        let rps = tick.completed as f64 / tick.length.as_secs_f64().max(1e-3);
        let p99 = tick
            .p99_ms
            .map_or("-".to_string(), |v| format!("{v:.2} ms"));
        let message = format!(
            "{rps:>8.0} req/s  p99 {p99:>10}  errors {}",
            self.phase_errors
        );
        match self.mode {
            Mode::Bars => {
                let bar = self
                    .bar
                    .get_or_insert_with(|| new_bar(&self.target, phase, record));
                bar.set_position(in_phase.round() as u64);
                bar.set_message(message);
            }
            Mode::Lines => {
                self.since_line += tick.length;
                if self.since_line >= LINE_EVERY {
                    self.since_line = Duration::ZERO;
                    println!(
                        "{} | {} | {:.0}/{:.0} s | {message}",
                        self.target,
                        phase_label(phase, record),
                        in_phase,
                        record.duration_s
                    );
                }
            }
            Mode::Quiet => {}
        }
    }

    fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

impl Drop for TargetProgress {
    fn drop(&mut self) {
        self.finish_bar();
    }
}

/// "phase 2", or "phase 2 (burst)" for a named phase.
fn phase_label(index: usize, phase: &PhaseRecord) -> String {
    let number = format!("phase {}", index + 1);
    if phase.name == number {
        number
    } else {
        format!("{number} ({})", phase.name)
    }
}

fn new_bar(target: &str, index: usize, phase: &PhaseRecord) -> ProgressBar {
    let bar = ProgressBar::new(phase.duration_s.round().max(1.0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:<28} [{bar:24}] {pos:>4}/{len}s {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{target} {}", phase_label(index, phase)));
    bar
}

/// Why `name`'s requests failed before an answer, the leading causes in words; said loudly
/// when every request failed, thresholds or not.
fn failure_lines(out: &mut String, name: &str, t: &crate::resultset::TargetSummary) {
    use std::fmt::Write;
    let causes = t.failures_by_count();
    let Some(&(leading, _)) = causes.first() else {
        return;
    };
    if t.ok == 0 && t.requests > 0 {
        let _ = writeln!(
            out,
            "EVERY REQUEST OF {name} FAILED ({} requests): {}",
            t.requests,
            leading.describe()
        );
    }
    for (cause, count) in causes.iter().take(3) {
        let _ = writeln!(
            out,
            "{name}: {count} failed before an answer: {}",
            cause.describe()
        );
    }
}

/// The end-of-run table and threshold verdicts, as text, the targets in `order` (the
/// scenario's, as in the report).
pub(crate) fn summary_table<'a>(
    summary: &Summary,
    order: impl IntoIterator<Item = &'a str>,
) -> String {
    let targets: Vec<(&str, &crate::resultset::TargetSummary)> = order
        .into_iter()
        .filter_map(|name| summary.targets.get(name).map(|t| (name, t)))
        .collect();
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "target",
        "requests",
        "req/s",
        "errors",
        "timeouts",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "cold",
        "conns"
    );
    for &(name, t) in &targets {
        let _ = writeln!(
            out,
            "{:<16} {:>9} {:>9.1} {:>7.2}% {:>8.2}% {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>7}",
            name,
            t.requests,
            t.throughput_rps,
            t.error_rate * 100.0,
            t.timeout_rate * 100.0,
            t.latency_ms.p50,
            t.latency_ms.p90,
            t.latency_ms.p99,
            t.latency_ms.max,
            t.cold_starts.map_or("-".to_string(), |n| n.to_string()),
            t.connections.opened,
        );
    }
    for &(name, t) in &targets {
        failure_lines(&mut out, name, t);
    }
    for &(name, t) in &targets {
        if let Some(warning) = t
            .generator
            .as_ref()
            .and_then(|g| generator_warning(name, g))
        {
            let _ = writeln!(out, "{warning}");
        }
    }
    for &(name, t) in &targets {
        for verdict in &t.thresholds {
            let actual = verdict.actual_text();
            let _ = writeln!(
                out,
                "{} {name}: {} {} (actual {actual})",
                verdict.word(),
                verdict.key,
                verdict.condition
            );
        }
    }
    out
}

/// What a generator-limited target's numbers mean, in one warning; `None` when not limited.
pub(crate) fn generator_warning(target: &str, generator: &GeneratorSummary) -> Option<String> {
    let reason = generator.reason.as_deref().filter(|_| generator.limited)?;
    let delay = if generator.send_lag_max_ms >= 0.1 {
        format!(
            "up to {} of the generator's own delay",
            crate::model::Unit::Milliseconds.format(generator.send_lag_max_ms)
        )
    } else {
        "the generator's own delay".into()
    };
    Some(format!(
        "warning: {target}: the generator was the bottleneck, not the target: {reason}. Its \
         latency includes {delay}; a latency or throughput threshold that delay could have \
         decided is inconclusive (exit 3 when nothing else fails)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::synthetic;

    #[test]
    fn the_summary_lists_targets_in_the_scenarios_order() {
        let run = synthetic::sample();
        let summary = &run.summary;
        let table = summary_table(summary, ["serverless", "persistent"]);
        let rows: Vec<&str> = table
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().next().unwrap_or(""))
            .take(2)
            .collect();
        assert_eq!(rows, ["serverless", "persistent"]);
        let table = summary_table(summary, ["persistent", "serverless"]);
        assert!(table.lines().nth(1).unwrap().starts_with("persistent"));
    }
}
