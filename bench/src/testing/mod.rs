//! Helpers shared by the unit tests and the integration test binaries: the
//! scenario-text builder and the process exit-code assertion. Compiled only for tests (`cfg(test)`)
//! or with the `testing` feature, which the package's own dev-dependency turns on; a release
//! build of the binary does not contain it.

mod scenario_text;

pub use scenario_text::ScenarioText;

/// Asserts the process exited with `code`, printing its stdout and stderr otherwise.
#[track_caller]
pub fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
