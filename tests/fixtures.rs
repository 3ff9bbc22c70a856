//! One policy set per behaviour under `tests/fixtures/<case>/`; its
//! diagnostics in the `short` and `json` formats are insta snapshots
//! (`tests/snapshots/`), reviewed like code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};

use trellis::diag::render::{render, Format};

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("tests/fixtures")
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Each fixture is its own case (insta's `glob!`): every mismatch is
/// reported, each under its fixture, and `INSTA_GLOB_FILTER=fixtures/e008*` runs one.
#[test]
fn fixture_diagnostics_match_snapshots() {
    assert!(cases().len() >= 10, "fixtures not found");
    insta::glob!("fixtures/*", |found| {
        if !found.is_dir() {
            return;
        }
        // glob! hands over an absolute path; the snapshots show the relative one.
        let case = name(found);
        let dir = Path::new("tests/fixtures").join(&case);
        let checked = trellis::check_paths(std::slice::from_ref(&dir), &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let short = render(Format::Short, &checked.diagnostics, &checked.sources, false);
        let json = render(Format::Json, &checked.diagnostics, &checked.sources, false);
        // Named for the fixture already: no `@fixture` suffix.
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true, snapshot_suffix => "" }, {
            insta::assert_snapshot!(format!("{case}.short"), short);
            insta::assert_snapshot!(format!("{case}.json"), json);
        });
    });
}

#[test]
fn fixture_names_say_which_codes_they_trigger() {
    // A fixture named after codes (e.g. `e013-e014-delegation`) triggers exactly those codes.
    for dir in cases() {
        let case = name(&dir);
        let named: Vec<String> = case
            .split('-')
            .filter(|p| {
                p.len() == 4
                    && (p.starts_with('e') || p.starts_with('w'))
                    && p[1..].chars().all(|c| c.is_ascii_digit())
            })
            .map(|p| p.to_ascii_uppercase())
            .collect();
        if named.is_empty() {
            continue;
        }
        let checked =
            trellis::check_paths(std::slice::from_ref(&dir), &Default::default()).expect("loads");
        let mut got: Vec<String> = checked
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        got.sort();
        got.dedup();
        assert_eq!(got, named, "{case}");
    }
}

#[test]
fn every_snapshot_belongs_to_a_case() {
    // A snapshot nothing produces any more is a stale expectation (what
    // `cargo insta test --unreferenced reject` catches): fail on it.
    let mut expected: std::collections::BTreeSet<String> = cases()
        .iter()
        .flat_map(|d| {
            let case = name(d);
            [format!("{case}.short.snap"), format!("{case}.json.snap")]
        })
        .collect();
    let changes = std::fs::read_dir("tests/changes").unwrap();
    for e in changes.filter_map(Result::ok).filter(|e| e.path().is_dir()) {
        let case = name(&e.path());
        expected.insert(format!("diff-{case}.md.snap"));
        expected.insert(format!("diff-{case}.json.snap"));
    }
    let stale: Vec<String> = std::fs::read_dir("tests/snapshots")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| !expected.contains(n))
        .collect();
    assert!(
        stale.is_empty(),
        "snapshots no test produces (or pending `.snap.new` files): {stale:?}"
    );
}
