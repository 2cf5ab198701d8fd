//! The set as a whole: `render_all`'s order and ids, purity, and `write`.

use super::fixtures;

const IDS: [&str; 7] = [
    "latency-spectrum",
    "latency-over-time",
    "outcomes",
    "cold-starts",
    "connections",
    "summary",
    "send-lag",
];

#[test]
fn render_all_draws_the_seven_charts_in_order() {
    let charts = super::render_all(&fixtures::sample()).unwrap();
    let ids: Vec<&str> = charts.iter().map(|c| c.id).collect();
    assert_eq!(ids, IDS);
    for chart in &charts {
        assert!(
            chart.alt.contains("quickstart"),
            "{}: {}",
            chart.id,
            chart.alt
        );
        assert!(chart.alt.ends_with('.'), "{}: one sentence", chart.id);
    }
}

#[test]
fn charts_of_an_interrupted_run_name_the_targets_it_did_not_measure() {
    let run = fixtures::interrupted();
    assert_eq!(
        super::run_context(&run),
        "quickstart · 7 s · interrupted · not measured: persistent"
    );
    for chart in super::render_all(&run).unwrap() {
        assert!(
            chart.svg.contains("not measured: persistent"),
            "{}",
            chart.id
        );
    }
}

#[test]
fn rendering_is_pure_the_same_run_draws_the_same_bytes() {
    let run = fixtures::single_sample();
    let (a, b) = (
        super::render_all(&run).unwrap(),
        super::render_all(&run).unwrap(),
    );
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.svg, b.svg, "{}", a.id);
        assert_eq!(a.png, b.png, "{}", a.id);
    }
}

#[test]
fn write_puts_an_svg_and_a_png_per_chart_in_a_new_directory() {
    let charts = super::render_all(&fixtures::single_sample()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("charts");
    super::write(&charts, &dir).unwrap();
    for chart in &charts {
        let svg = std::fs::read_to_string(dir.join(format!("{}.svg", chart.id))).unwrap();
        assert_eq!(svg, chart.svg);
        let png = std::fs::read(dir.join(format!("{}.png", chart.id))).unwrap();
        assert_eq!(png, chart.png);
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        2 * IDS.len(),
        "no temporary file left behind: {names:?}"
    );
}
