//! Tests of the whole set: render_all's order and ids, and write.
use super::fixtures;

#[test]
fn review() {
    let Ok(dir) = std::env::var("COLDFRONT_REVIEW_RUN") else {
        return;
    };
    let run = crate::report::RunData::load(std::path::Path::new(&dir)).unwrap();
    let start = std::time::Instant::now();
    let charts = super::render_all(&run).unwrap();
    eprintln!("rendered in {:?}", start.elapsed());
    super::write(&charts, std::path::Path::new("/tmp/charts-review")).unwrap();
    for (name, run) in fixtures::awkward()
        .into_iter()
        .chain([("sample", fixtures::sample())])
    {
        let charts = super::render_all(&run).unwrap();
        super::write(
            &charts,
            &std::path::Path::new("/tmp/charts-review").join(name.replace(' ', "-")),
        )
        .unwrap();
    }
}
