//! Helpers for tests: the scenario-text builder ([`ScenarioText`]), the exit-code assertion
//! ([`assert_exit`]) and the one builder of synthetic result sets ([`synthetic`]), shared by
//! the unit tests, both integration test binaries and the benches. Always compiled (and hidden
//! from the docs): a feature of its own would make the test build compile the library and the
//! binary a second time.

mod scenario_text;
pub mod synthetic;

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
