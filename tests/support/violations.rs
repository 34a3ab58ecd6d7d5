//! Every test fails when a fake it used saw a contract violation: a body that breaks Ory's
//! OpenAPI schemas, a request to an endpoint the fake does not implement, or a request Hydra or
//! Kratos would not accept. The fakes collect violations instead of panicking inside a handler;
//! when a test lets go of a fake (or of the `TestApp` that holds its fakes), what was collected
//! is checked here, once.
//!
//! A test that provokes a violation on purpose, to test a fake, takes the list with
//! `take_contract_violations()` and asserts on it; nothing is left to fail it afterwards.

/// Panics with every violation in `found` (`(which fake, its violations)`), unless all lists are
/// empty or the thread is already panicking (the test has failed anyway, and a panic while
/// unwinding would abort the whole test binary).
pub fn fail_on_violations(found: &[(&str, Vec<String>)]) {
    if std::thread::panicking() {
        return;
    }
    let report: Vec<String> = found
        .iter()
        .filter(|(_, violations)| !violations.is_empty())
        .map(|(fake, violations)| format!("{fake}:\n  - {}", violations.join("\n  - ")))
        .collect();
    if !report.is_empty() {
        panic!(
            "contract violations seen by the fakes (a fake answered or was asked something the \
             real server would not):\n{}",
            report.join("\n")
        );
    }
}
