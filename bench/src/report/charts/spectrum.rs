//! The latency percentile spectrum, HdrHistogram style: latency against percentile on a
//! "nines" axis (x = -log10(1 - q), so 90%, 99%, 99.9% … are evenly spaced), corrected latency
//! solid and service time dashed, one colour per target. The figure is shared with
//! [`super::compare_spectrum`].

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{self, DrawResult, Figure};
use super::frame::{self, Header, LegendItem, Mark, Panel};
use super::scales;
use super::{style, Chart};
use crate::resultset::{ResultSet, TargetData};

/// The rarest percentile drawn: 99.999%.
pub(super) const MAX_NINES: f64 = 5.0;
/// Points per line at most (evenly spaced in nines), plus the maximum at the end.
const STEPS: usize = 400;
/// Latency drawn no lower than this, so a log axis never meets zero.
pub(super) const FLOOR_MS: f64 = 0.001;

/// Why a chart of latency is empty when requests completed but none took a measurable time.
pub(super) const ZERO_LATENCY: &str = "every request measured 0 ms";

const X_DESC: &str = "percentile (nines scale; a line ends at its slowest request)";
const Y_DESC: &str = "latency (ms, log scale)";

/// One line of the spectrum.
pub(super) struct Line {
    pub color: RGBColor,
    pub mark: Mark,
    /// (nines, milliseconds)
    pub points: Vec<(f64, f64)>,
}

/// Lines over a nines axis, with their legend.
pub(super) struct SpectrumFigure {
    pub title: String,
    pub context: String,
    pub legend: Vec<LegendItem>,
    pub lines: Vec<Line>,
    /// Why there is nothing to draw, when every line is empty.
    pub empty_because: String,
}

/// The latency spectrum of every target of `run`.
pub(super) fn latency_spectrum(run: &ResultSet) -> anyhow::Result<Chart> {
    let mut figure = SpectrumFigure {
        title: "Latency by percentile".into(),
        context: super::run_context(run),
        legend: Vec::new(),
        lines: Vec::new(),
        empty_because: "no request completed".into(),
    };
    let mut p99s = Vec::new();
    for target in &run.targets {
        let color = style::target_color(target.index);
        let latency = TargetData::merged(&target.latency);
        let service_time = TargetData::merged(&target.service_time);
        figure.add(
            format!("{} latency", target.name),
            color,
            Mark::Line,
            &latency,
        );
        figure.add(
            format!("{} service time", target.name),
            color,
            Mark::Dashed,
            &service_time,
        );
        if !latency.is_empty() {
            let p99 = latency.value_at_quantile(0.99) as f64 / 1000.0;
            p99s.push(format!("{} (p99 {})", target.name, style::duration_ms(p99)));
        }
    }
    let alt = if p99s.is_empty() {
        format!(
            "Latency by percentile for {}: no request completed.",
            run.manifest.scenario.name
        )
    } else {
        format!(
            "Latency by percentile for {}: corrected latency (solid) and service time \
             (dashed) of {}, on logarithmic axes.",
            run.manifest.scenario.name,
            p99s.join(" and ")
        )
    };
    let title = figure.title.clone();
    canvas::render("latency-spectrum", title, alt, &figure)
}

impl SpectrumFigure {
    /// Adds the line of `histogram` (microseconds) and its legend entry, if it has samples.
    pub(crate) fn add(
        &mut self,
        label: String,
        color: RGBColor,
        mark: Mark,
        histogram: &Histogram<u64>,
    ) {
        if !histogram.is_empty() && histogram.max() == 0 {
            self.empty_because = ZERO_LATENCY.into();
        }
        let points = spectrum_points(histogram);
        if points.is_empty() {
            return;
        }
        self.legend.push(LegendItem::new(label, color, mark));
        self.lines.push(Line {
            color,
            mark,
            points,
        });
    }

    fn x_max(&self) -> f64 {
        let last = self
            .lines
            .iter()
            .filter_map(|line| line.points.last())
            .map(|(x, _)| *x)
            .fold(0.0, f64::max);
        last.ceil().clamp(3.0, MAX_NINES)
    }

    fn y_range(&self) -> std::ops::Range<f64> {
        let values = self.lines.iter().flat_map(|line| &line.points).map(|p| p.1);
        let (min, max) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        scales::log_range(min, max, FLOOR_MS)
    }
}

impl Figure for SpectrumFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let header = Header {
            title: &self.title,
            context: &self.context,
            legend: &self.legend,
        };
        let panel = Panel {
            caption: None,
            x_desc: X_DESC,
            y_desc: Y_DESC,
            ..Panel::default()
        };
        if self.lines.is_empty() {
            return frame::empty_chart(root, &header, &panel, &self.empty_because);
        }
        let body = frame::frame(root, &header)?;
        let x_max = self.x_max();
        let x_ticks: Vec<f64> = (0..=x_max as usize).map(|k| k as f64).collect();
        let y = self.y_range();
        let mut chart = frame::axes(
            &body,
            &panel,
            scales::linear_axis(0.0..x_max, x_ticks),
            scales::log_axis(y),
            &|x| nines_label(*x),
            &|v| style::number(*v),
        )?;
        for line in &self.lines {
            frame::draw_line(&mut chart, &line.points, line.color, line.mark)?;
        }
        Ok(())
    }
}

/// The percentile at `nines`: 0 → `0%`, 1 → `90%`, 3 → `99.9%`.
fn nines_label(nines: f64) -> String {
    let k = nines.round().max(0.0) as i32;
    let decimals = (k - 2).max(0) as usize;
    format!("{:.decimals$}%", 100.0 * (1.0 - 10f64.powi(-k)))
}

/// The spectrum of a histogram of microseconds as (nines, milliseconds) points: up to
/// `STEPS` percentiles evenly spaced in nines, as far as the samples go (with n samples the
/// rarest percentile seen is 1 - 1/n), then the maximum. Empty for an empty histogram, and
/// for one of zeros only, which a log axis cannot show.
/// One pass over the recorded buckets, whatever the number of samples.
pub(super) fn spectrum_points(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    let total = histogram.len();
    if total == 0 || histogram.max() == 0 {
        return Vec::new();
    }
    let ms = |us: u64| (histogram.highest_equivalent(us) as f64 / 1000.0).max(FLOOR_MS);
    let end = (total as f64).log10().min(MAX_NINES);
    let mut grid = (0..STEPS)
        .map(|i| MAX_NINES * i as f64 / (STEPS - 1) as f64)
        .take_while(|x| *x < end)
        .peekable();
    let mut points = Vec::with_capacity(STEPS + 1);
    let mut seen = 0u64;
    for bucket in histogram.iter_recorded() {
        seen += bucket.count_since_last_iteration();
        while let Some(&x) = grid.peek() {
            let quantile = 1.0 - 10f64.powf(-x);
            let needed = ((quantile * total as f64).ceil() as u64).max(1);
            if seen < needed {
                break;
            }
            points.push((x, ms(bucket.value_iterated_to())));
            grid.next();
        }
    }
    points.push((end, ms(histogram.max())));
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resultset::hlog::new_histogram;

    use super::super::fixtures;

    #[test]
    fn draws_latency_and_service_time_of_every_target() {
        let chart = latency_spectrum(&fixtures::sample()).unwrap();
        fixtures::assert_chart(
            &chart,
            &[
                X_DESC,
                Y_DESC,
                "serverless latency",
                "serverless service time",
                "persistent latency",
                "persistent service time",
                "90%",
                "99%",
            ],
        );
    }

    #[test]
    fn awkward_runs_draw_without_panicking() {
        for (name, run) in fixtures::awkward() {
            let chart = latency_spectrum(&run).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            let expected: &[&str] = match name {
                "empty" => &["no data: no request completed"],
                "zero latency" => &["no data: every request measured 0 ms"],
                _ => &[Y_DESC, "0%"],
            };
            fixtures::assert_chart(&chart, expected);
        }
    }

    #[test]
    fn nines_are_labelled_as_percentiles() {
        let labels: Vec<String> = (0..=5).map(|k| nines_label(k as f64)).collect();
        assert_eq!(labels, ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]);
    }

    #[test]
    fn spectrum_matches_the_histograms_quantiles_and_ends_at_the_maximum() {
        let mut h = new_histogram();
        for us in 1..=10_000u64 {
            h.record(us * 10).unwrap();
        }
        let points = spectrum_points(&h);
        assert!(points.len() > 300, "{} points", points.len());
        assert!(points
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        let (last_x, last_y) = *points.last().unwrap();
        assert!((last_x - 4.0).abs() < 1e-9, "ends at 1 - 1/n: {last_x}");
        assert_eq!(last_y, h.highest_equivalent(h.max()) as f64 / 1000.0);
        let at = |nines: f64| {
            points
                .iter()
                .find(|(x, _)| (x - nines).abs() < 0.01)
                .map(|p| p.1)
                .unwrap()
        };
        assert_eq!(at(0.0), h.value_at_quantile(0.0) as f64 / 1000.0);
        let p99 = h.value_at_quantile(0.99) as f64 / 1000.0;
        let near_p99 = at(2.0);
        assert!((near_p99 - p99).abs() / p99 < 0.01, "{near_p99} vs {p99}");
    }

    #[test]
    fn a_single_sample_is_one_point_and_zero_latency_stays_on_the_log_axis() {
        let mut h = new_histogram();
        h.record(1).unwrap();
        let points = spectrum_points(&h);
        assert_eq!(points.len(), 1);
        assert!(points[0].1 >= FLOOR_MS);
        assert!(spectrum_points(&new_histogram()).is_empty());
        let mut zeros = new_histogram();
        zeros.record_n(0, 10).unwrap();
        assert!(spectrum_points(&zeros).is_empty());
    }
}
