//! Two result sets' latency spectra overlaid, for `coldfront compare`: per target, corrected
//! latency of A solid and of B dashed, in the target's colour.

use super::canvas;
use super::frame::Mark;
use super::spectrum::SpectrumFigure;
use super::{style, Chart};
use crate::resultset::{ResultSet, TargetData};

/// A's and B's latency by percentile, target by target.
pub(crate) fn compare_spectrum(
    a: &ResultSet,
    b: &ResultSet,
    label_a: &str,
    label_b: &str,
) -> anyhow::Result<Chart> {
    let (scenario_a, scenario_b) = (&a.manifest.scenario.name, &b.manifest.scenario.name);
    let context = if scenario_a == scenario_b {
        scenario_a.clone()
    } else {
        format!("{scenario_a} against {scenario_b}")
    };
    let mut figure = SpectrumFigure {
        title: format!("Latency by percentile: {label_a} against {label_b}"),
        context,
        legend: Vec::new(),
        lines: Vec::new(),
        empty_because: "no request completed in either result set".into(),
    };
    let mut names: Vec<&str> = a.targets.iter().map(|t| t.name.as_str()).collect();
    for t in &b.targets {
        if !names.contains(&t.name.as_str()) {
            names.push(&t.name);
        }
    }
    let mut p99s = Vec::new();
    for name in names {
        let (in_a, in_b) = (a.target(name), b.target(name));
        let Some(index) = in_a.or(in_b).map(|t| t.index) else {
            continue;
        };
        let color = style::target_color(index);
        let mut p99 = Vec::new();
        for (target, label, mark) in [(in_a, label_a, Mark::Line), (in_b, label_b, Mark::Dashed)] {
            let latency = target.map(|t| TargetData::merged(&t.latency));
            let Some(latency) = latency.filter(|h| h.max() > 0) else {
                continue;
            };
            let ms = latency.value_at_quantile(0.99) as f64 / 1000.0;
            p99.push(format!("{} in {label}", style::duration_ms(ms)));
            figure.add(format!("{name} · {label}"), color, mark, &latency);
        }
        if !p99.is_empty() {
            p99s.push(format!("{name} p99 {}", p99.join(" against ")));
        }
    }
    let alt = if p99s.is_empty() {
        format!("Latency by percentile, {label_a} against {label_b}: no request completed.")
    } else {
        format!(
            "Corrected latency by percentile, {label_a} (solid) against {label_b} (dashed), on \
             logarithmic axes: {}.",
            p99s.join("; ")
        )
    };
    let title = figure.title.clone();
    canvas::render("compare-latency-spectrum", title, alt, &figure)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn overlays_both_result_sets_per_target() {
        let (a, b) = (fixtures::sample(), fixtures::interrupted());
        let chart = compare_spectrum(&a, &b, "before", "after").unwrap();
        assert_eq!(chart.id, "compare-latency-spectrum");
        fixtures::assert_chart(
            &chart,
            &[
                "before against after",
                "serverless · before",
                "serverless · after",
                "persistent · before",
                "latency (ms, log scale)",
                "99.9%",
            ],
        );
        assert!(
            !chart.svg.contains("persistent · after"),
            "B has no persistent target"
        );
        let dashes = chart.svg.matches("<polyline").count();
        assert!(dashes > 20, "B's lines are dashed: {dashes} paths");
    }

    #[test]
    fn empty_result_sets_compare_to_an_honest_empty_chart() {
        let chart = compare_spectrum(&fixtures::empty(), &fixtures::empty(), "a", "b").unwrap();
        fixtures::assert_chart(
            &chart,
            &["no data: no request completed in either result set"],
        );
    }
}
