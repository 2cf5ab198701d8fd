//! Result sets for the chart tests: the quickstart-like run of [`crate::testing::synthetic`]
//! (whose series, like an older result set's, has no connection range or error kinds), the
//! same with those columns and with one late request in its idle gap, and the awkward ones
//! (nothing recorded, one sample, an interrupted run missing a target, all-zero latency).

use crate::model::RunStatus;
use crate::resultset::hlog::HlogInterval;
use crate::resultset::ResultSet;
use crate::testing::synthetic::{phase, quickstart_phases, quickstart_rate, run, summarize};
pub(super) use crate::testing::synthetic::{sample, target, Shape};

/// A run stopped before any target recorded anything.
pub(super) fn empty() -> ResultSet {
    run(
        "quickstart",
        RunStatus::Interrupted,
        quickstart_phases(),
        Vec::new(),
    )
}

/// One target, one second, one request.
pub(super) fn single_sample() -> ResultSet {
    run(
        "quickstart",
        RunStatus::Complete,
        vec![phase("once", 0.0, 1.0, 1.0)],
        vec![target("serverless", 0, &Shape::serverless(1, |_| 1))],
    )
}

/// Interrupted 7 s into the first target: no summary, and the second target never ran.
pub(super) fn interrupted() -> ResultSet {
    let mut first = target("serverless", 0, &Shape::serverless(7, quickstart_rate));
    first.summary = None;
    run(
        "quickstart",
        RunStatus::Interrupted,
        quickstart_phases(),
        vec![first],
    )
}

/// Every request took no measurable time; nothing cold, no database.
pub(super) fn zero_latency() -> ResultSet {
    let mut t = target("persistent", 1, &Shape::persistent(3, |_| 10));
    for interval in t.latency.iter_mut().chain(t.service_time.iter_mut()) {
        let mut histogram = interval.histogram();
        let n = histogram.len();
        histogram.reset();
        histogram.record_n(0, n).unwrap();
        let tag = interval.tag.clone();
        *interval = HlogInterval::new(tag.as_deref(), interval.start, interval.length, &histogram);
    }
    for row in &mut t.series {
        row.p50_ms = Some(0.0);
        row.p99_ms = Some(0.0);
        row.db_connections = None;
    }
    let all = crate::resultset::hlog::merged(&t.latency);
    t.summary = Some(summarize(&t.series, &all, None));
    if let Some(s) = t.summary.as_mut() {
        s.db_connections = None;
    }
    run(
        "quickstart",
        RunStatus::Complete,
        quickstart_phases(),
        vec![t],
    )
}

/// The quickstart with one persistent request completing in the idle gap (second 11), 50 ms:
/// a second that held one request.
pub(super) fn lone_late_request() -> ResultSet {
    let rate = |s| if s == 11 { 1 } else { quickstart_rate(s) };
    let mut late = target("persistent", 1, &Shape::persistent(23, rate));
    let mut histogram = late.latency[10].histogram();
    histogram.reset();
    histogram.record(50_000).unwrap();
    let i = &late.latency[10];
    late.latency[10] = HlogInterval::new(None, i.start, i.length, &histogram);
    let row = &mut late.series[10];
    assert_eq!((row.second, row.completed), (11, 1));
    (row.p50_ms, row.p99_ms) = (Some(50.0), Some(50.0));
    let mut run = sample();
    run.targets[1] = late;
    run
}

/// The quickstart as a run records it now: each second's range of connections open (up to
/// 13 at once while the end-of-second sample is 0 to 2), and every error by its kind (I/O
/// errors every tenth second, HTTP 5xx otherwise).
pub(super) fn recorded_now() -> ResultSet {
    let mut run = sample();
    for row in run.targets.iter_mut().flat_map(|t| t.series.iter_mut()) {
        row.connections_open = row.second % 3;
        row.connections_max = Some(if row.completed > 0 {
            13
        } else {
            row.connections_open
        });
        row.connections_min = Some(0);
        let kinded = row.throttled + row.client_timeouts + row.function_timeouts;
        let rest = row.errors - kinded;
        let io = row.second % 10 == 0;
        row.io_errors = Some(if io { rest } else { 0 });
        row.http_5xx = Some(if io { 0 } else { rest });
        (row.http_4xx, row.connect_errors) = (Some(0), Some(0));
    }
    run
}

/// The quickstart without a single error or timeout.
pub(super) fn faultless() -> ResultSet {
    let shape = |s: Shape| Shape { faults: false, ..s };
    let mut run = sample();
    run.targets = vec![
        target(
            "serverless",
            0,
            &shape(Shape::serverless(23, quickstart_rate)),
        ),
        target(
            "persistent",
            1,
            &shape(Shape::persistent(23, quickstart_rate)),
        ),
    ];
    run
}

/// Every awkward case, named.
pub(super) fn awkward() -> Vec<(&'static str, ResultSet)> {
    vec![
        ("empty", empty()),
        ("single sample", single_sample()),
        ("interrupted", interrupted()),
        ("zero latency", zero_latency()),
    ]
}

/// The texts an SVG draws (plotters writes each on its own line inside its `<text>`).
pub(super) fn svg_texts(svg: &str) -> Vec<&str> {
    svg.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('<'))
        .collect()
}

/// Asserts what every chart must be: an SVG naming `texts`, and a 1200×700 PNG that decodes
/// and has dark (text) pixels where the title is drawn.
pub(super) fn assert_chart(chart: &super::Chart, texts: &[&str]) {
    assert!(chart.svg.starts_with("<svg"), "{}: not an SVG", chart.id);
    for text in texts {
        assert!(
            chart.svg.contains(text),
            "{}: the SVG does not say {text:?}",
            chart.id
        );
    }
    assert!(
        !chart.svg.contains("NaN") && !chart.svg.contains("inf\""),
        "{}: NaN in the SVG",
        chart.id
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(&chart.png));
    let mut reader = decoder.read_info().expect("the PNG decodes");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!((info.width, info.height), (super::WIDTH, super::HEIGHT));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let dark = |x: usize, y: usize| {
        let i = (y * info.width as usize + x) * 3;
        pixels[i..i + 3].iter().all(|&c| c < 90)
    };
    let title_dark = (12..46)
        .flat_map(|y| (20..320).map(move |x| (x, y)))
        .filter(|&(x, y)| dark(x, y))
        .count();
    assert!(
        title_dark > 100,
        "{}: no title text in the PNG ({title_dark} dark pixels)",
        chart.id
    );
    assert!(!chart.alt.is_empty() && !chart.title.is_empty());
}
