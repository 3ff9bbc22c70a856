//! Every scenario set (`tests/scenarios/*`, expectations derived by hand
//! from the language contract) and the shared conformance sample must pass
//! `trellis test`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};

mod common;

fn sets(root: &str) -> Vec<PathBuf> {
    common::subdirs(Path::new(root))
}

fn run_all(dirs: Vec<PathBuf>) -> (usize, Vec<String>) {
    let mut passed = 0;
    let mut failures = Vec::new();
    for dir in dirs {
        let limits = Default::default();
        let mut checked = match trellis::check_paths(std::slice::from_ref(&dir), &limits) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        if checked.test_paths.is_empty() {
            failures.push(format!("{}: no test file", dir.display()));
            continue;
        }
        let report = trellis::testing::run(&mut checked, &limits);
        passed += report.passed;
        for f in report.failures {
            failures.push(format!("{}: {}", f.location, f.message));
        }
        for d in report.test_file_diagnostics.iter() {
            failures.push(format!("{}: test file: {}", dir.display(), d.message));
        }
    }
    (passed, failures)
}

#[test]
fn scenarios_pass() {
    let dirs = sets("tests/scenarios");
    assert!(dirs.len() >= 40, "scenario sets not found");
    let (passed, failures) = run_all(dirs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed > 200, "only {passed} expectations ran");
}

#[test]
fn examples_pass() {
    let dirs: Vec<PathBuf> = sets("policies-examples")
        .into_iter()
        .filter(|d| !d.ends_with("broken"))
        .collect();
    assert!(!dirs.is_empty());
    let (_, failures) = run_all(dirs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every `policies-examples/broken/*` set triggers exactly its code (its
/// test file says which) and nothing else.
#[test]
fn broken_examples_trigger_exactly_their_code() {
    let dirs = sets("policies-examples/broken");
    assert!(dirs.len() >= 18, "broken examples not found");
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let code = name.split('-').next().unwrap_or("").to_ascii_uppercase();
        let checked = trellis::check_paths(std::slice::from_ref(dir), &Default::default()).unwrap();
        let codes: Vec<String> = checked
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        assert_eq!(codes, vec![code], "{}", dir.display());
    }
    let (_, failures) = run_all(dirs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shared_conformance_passes() {
    // Fails under CI when the sample is missing; skips with a warning elsewhere.
    let dirs = common::conformance_sets();
    if dirs.is_empty() {
        return;
    }
    let (passed, failures) = run_all(dirs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed > 0);
}
