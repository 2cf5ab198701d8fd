//! Rendering a long run's report: every chart (six, each as SVG and PNG) and `report.html`
//! for a synthetic 10-minute result set built in memory (`report::synthetic::ten_minutes`:
//! 600 s, a serverless target with cold starts after an idle gap and a persistent one, each
//! with per-second corrected latency, service time, cold and warm interval logs). A report of
//! such a run must draw in well under 2 s.
//!
//! `cargo bench -p coldfront --bench charts` (about a minute). With `COLDFRONT_CHARTS_OUT=DIR`
//! the charts are also written to DIR to look at.

use std::hint::black_box;
use std::time::Duration;

use coldfront::report::{charts, html};
use coldfront::testing::synthetic;
use criterion::{criterion_group, criterion_main, Criterion};

fn render_all(c: &mut Criterion) {
    let run = synthetic::ten_minutes();
    if let Ok(dir) = std::env::var("COLDFRONT_CHARTS_OUT") {
        let charts = charts::render_all(&run).expect("charts render");
        charts::write(&charts, std::path::Path::new(&dir)).expect("charts written");
    }
    let mut group = c.benchmark_group("charts");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("render_all 600 s x 2 targets", |b| {
        b.iter(|| charts::render_all(black_box(&run)).expect("charts render"))
    });
    // What `run` does at the end of a 10-minute run: every chart, then the page embedding them.
    group.bench_function("charts and report.html 600 s x 2 targets", |b| {
        b.iter(|| {
            let charts = charts::render_all(black_box(&run)).expect("charts render");
            html::result_page(&run, &charts, None)
        })
    });
    group.finish();
}

criterion_group!(benches, render_all);
criterion_main!(benches);
