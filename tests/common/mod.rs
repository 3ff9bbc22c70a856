//! Helpers shared by the integration tests: `mod common;` in a test file,
//! then the conformance sample's sets, `common::random` (a seeded
//! policy-set generator) and `common::naive` (an evaluator written from the
//! language's definition, to compare the compiled table against).

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

pub mod naive;
pub mod random;

use std::path::{Path, PathBuf};

/// Where the shared conformance sample lives: beside the repository, on
/// developer machines and in CI.
pub const CONFORMANCE: &str = "../shared/conformance";

/// The sets of the shared conformance sample, sorted. When the directory is
/// missing or holds no set, the test that needs it fails under CI (the `CI`
/// environment variable is set), so that a misplaced checkout cannot pass
/// by skipping; elsewhere it prints a warning and the caller skips.
pub fn conformance_sets() -> Vec<PathBuf> {
    let dirs = subdirs(Path::new(CONFORMANCE));
    if dirs.is_empty() {
        if std::env::var_os("CI").is_some() {
            panic!("{CONFORMANCE} is missing or empty, and CI is set: the conformance sample must be checked out beside the repository");
        }
        eprintln!("warning: {CONFORMANCE} not present: the conformance sample is skipped (under CI this fails)");
    }
    dirs
}

/// The directories directly inside `root`, sorted; none when it cannot be read.
pub fn subdirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}
