//! Scenario files and directories: unreadable files, name order, every error collected, names
//! unique across files.

use super::*;

#[test]
fn load_file_reports_an_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let errors = load_file(&missing).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    let message = errors.to_string();
    assert!(
        message.starts_with(&format!(
            "{}: cannot read the scenario: ",
            missing.display()
        )),
        "{message}"
    );
}

#[test]
fn load_paths_reads_directories_in_name_order_and_collects_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let valid = |name: &str| {
        ScenarioText::new(name)
            .target_url("t", "http://h")
            .phase(PHASE_BODY)
            .request(REQUEST_BODY)
            .to_string()
    };
    std::fs::write(dir.path().join("b.toml"), valid("b")).unwrap();
    std::fs::write(dir.path().join("a.toml"), valid("a")).unwrap();
    std::fs::write(dir.path().join("c.toml"), "name = 1\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a scenario").unwrap();
    std::fs::create_dir(dir.path().join("nested.toml")).unwrap();
    let missing = dir.path().join("missing.toml");

    let (plans, errors) = load_paths(&[dir.path().to_path_buf(), missing.clone()]);

    let names: Vec<_> = plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(plans[0].source, dir.path().join("a.toml"));
    let files: Vec<_> = errors.iter().map(|e| e.file.clone()).collect();
    let c = dir.path().join("c.toml");
    // c.toml: `name` has the wrong type; targets, load and requests are missing.
    assert_eq!(files, [c.clone(), c.clone(), c.clone(), c, missing]);
}

#[test]
fn two_files_may_not_share_a_scenario_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = minimal().to_string();
    let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
    std::fs::write(&a, &text).unwrap();
    std::fs::write(&b, &text).unwrap();
    let (plans, errors) = load_paths(&[a.clone(), b.clone(), a.clone()]);
    assert_eq!(plans.len(), 3);
    let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [format!(
            "{}: name: scenario name `x` is already used by {}",
            b.display(),
            a.display()
        )]
    );
}
