//! The per-second ticker of one target's run: every second it takes the recorder's interval,
//! measures the generator's CPU use, writes one `.hlog` interval and one `timeseries.csv` row,
//! reports to the progress view, and adds the interval to the live metrics when the run serves
//! them. It runs beside the load and ends with a last, possibly shorter, interval.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;

use super::connections::{ConnectionCounts, ConnectionStats};
use super::gauges::TargetGauges;
use super::generator::{CpuMeter, CpuUse};
use super::live::LiveTarget;
use super::recorder::{Interval, Recorder};
use super::recorders::Recorders;
use crate::model::Outcome;
use crate::resultset::hlog::{
    HlogWriter, TAG_COLD_LATENCY, TAG_SEND_LAG, TAG_SERVICE_TIME, TAG_WARM_LATENCY,
};
use crate::resultset::io::StreamedFile;
use crate::resultset::series::SeriesRow;

/// What the progress view hears each second.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tick {
    /// Time since the start of the target's load.
    pub elapsed: Duration,
    pub length: Duration,
    pub completed: u64,
    pub errors: u64,
    pub p99_ms: Option<f64>,
}

/// Where the ticker writes, and what it measured of the generator.
pub(crate) struct TickerOutputs {
    pub series: StreamedFile,
    pub hlog: StreamedFile,
    /// Filled in when the ticker ends.
    pub cpu: CpuUse,
}

pub(crate) struct TickerInputs {
    pub target: String,
    /// The target's recorders, one per generator worker.
    pub recorders: Recorders,
    pub connections: Arc<ConnectionStats>,
    pub gauges: Arc<TargetGauges>,
    pub start: Instant,
    pub start_wall: SystemTime,
    /// CPUs the generator may run on.
    pub generator_cpus: usize,
    /// The running totals `--metrics-addr` serves (`None` without it).
    pub live: Option<LiveTarget>,
}

/// Runs until `stop` fires, then writes the last interval and returns the outputs.
pub(crate) async fn run(
    mut inputs: TickerInputs,
    mut outputs: TickerOutputs,
    mut on_tick: impl FnMut(&Tick) + Send,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<TickerOutputs> {
    let mut hlog = HlogWriter::begin(outputs.hlog.writer(), inputs.start_wall)?;
    let mut interval = Recorder::empty_interval();
    let mut scratch = Recorder::empty_interval();
    let mut last_opened = 0;
    let mut last_tick = inputs.start;
    let mut second = 0u64;
    let mut cpu = CpuMeter::start(inputs.generator_cpus);
    loop {
        let next = inputs.start + Duration::from_secs(second + 1);
        let stopping = tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => false,
            _ = &mut stop => true,
        };
        let now = if stopping { Instant::now() } else { next };
        let length = now.saturating_duration_since(last_tick);
        inputs
            .recorders
            .take_interval(second, &mut interval, &mut scratch);
        let cpu_share = cpu.lap(length, inputs.recorders.take_idle_turns());
        // On stop, an empty sliver of a second adds nothing worth a row.
        let worth_a_row = !stopping || interval.completed() + interval.sent > 0;
        if worth_a_row {
            second += 1;
            let connections = inputs.connections.snapshot();
            // Taken after the snapshot, so the second's range holds its end-of-second count.
            let (most_open, fewest_open) = inputs.connections.take_open_range();
            let cold_known = inputs.recorders.reports_cold_starts();
            let mut row = series_row(
                &inputs.target,
                second,
                &interval,
                cold_known,
                &connections,
                last_opened,
                &inputs.gauges,
            );
            row.held_open = inputs.recorders.held_open();
            row.generator_cpu = Some(cpu_share);
            (row.connections_max, row.connections_min) = (Some(most_open), Some(fewest_open));
            last_opened = connections.opened;
            row.write_csv(outputs.series.writer())?;
            let start_offset = last_tick.saturating_duration_since(inputs.start);
            let mut histograms = vec![
                (None, &interval.latency),
                (Some(TAG_SERVICE_TIME), &interval.service_time),
                (Some(TAG_SEND_LAG), &interval.send_lag),
            ];
            if cold_known {
                histograms.push((Some(TAG_COLD_LATENCY), &interval.cold_latency));
                histograms.push((Some(TAG_WARM_LATENCY), &interval.warm_latency));
            }
            for (tag, histogram) in histograms {
                hlog.write_interval(outputs.hlog.writer(), tag, histogram, start_offset, length)?;
            }
            outputs.series.flush()?;
            outputs.hlog.flush()?;
            on_tick(&Tick {
                elapsed: now.saturating_duration_since(inputs.start),
                length,
                completed: interval.completed(),
                errors: interval.outcomes.errors(),
                p99_ms: row.p99_ms,
            });
        }
        if let Some(live) = &mut inputs.live {
            live.add_interval(&interval);
        }
        last_tick = now;
        if stopping {
            outputs.cpu = cpu.total();
            return Ok(outputs);
        }
    }
}

fn series_row(
    target: &str,
    second: u64,
    interval: &Interval,
    cold_known: bool,
    connections: &ConnectionCounts,
    last_opened: u64,
    gauges: &TargetGauges,
) -> SeriesRow {
    let outcomes = &interval.outcomes;
    let quantile_ms = |q| {
        (!interval.latency.is_empty())
            .then(|| interval.latency.value_at_quantile(q) as f64 / 1000.0)
    };
    SeriesRow {
        target: target.to_string(),
        second,
        sent: interval.sent,
        completed: interval.completed(),
        ok: outcomes.get(Outcome::Ok),
        errors: outcomes.errors(),
        timeouts: outcomes.get(Outcome::ClientTimeout) + outcomes.get(Outcome::FunctionTimeout),
        throttled: outcomes.get(Outcome::Throttled),
        cold_starts: cold_known.then_some(interval.cold_starts),
        connections_open: connections.open,
        connections_opened: connections.opened - last_opened,
        instances: gauges.instances.take(),
        db_connections: gauges.db_connections.take(),
        p50_ms: quantile_ms(0.5),
        p99_ms: quantile_ms(0.99),
        client_timeouts: outcomes.get(Outcome::ClientTimeout),
        function_timeouts: outcomes.get(Outcome::FunctionTimeout),
        held_open: None,
        late: interval.late,
        send_lag_p99_ms: (!interval.send_lag.is_empty())
            .then(|| interval.send_lag.value_at_quantile(0.99) as f64 / 1000.0),
        generator_cpu: None,
        connections_max: None,
        connections_min: None,
        http_4xx: Some(outcomes.get(Outcome::Http4xx)),
        http_5xx: Some(outcomes.get(Outcome::Http5xx)),
        connect_errors: Some(outcomes.get(Outcome::ConnectError)),
        io_errors: Some(outcomes.get(Outcome::IoError)),
    }
}
