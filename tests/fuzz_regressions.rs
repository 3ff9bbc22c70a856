//! Inputs the fuzz target (`fuzz/`) or its review found; each must now load
//! cleanly (a diagnostic, never a panic or a blow-up).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use trellis::load::{load_bytes, Limits};

#[test]
fn fuzz_regressions_load_cleanly() {
    let mut dir: Vec<_> = std::fs::read_dir("fuzz/regressions")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dir.sort();
    assert!(!dir.is_empty());
    for path in dir {
        let data = std::fs::read(&path).unwrap();
        if path.to_string_lossy().contains("/table-") {
            // Table inputs: resealed like the fuzz target does, then rejected
            // by the structural checks (here: an org that is its own ancestor).
            let mut bytes = data.clone();
            trellis::table::format::reseal(&mut bytes);
            assert!(
                trellis::table::Table::from_bytes(&bytes).is_err(),
                "{}",
                path.display()
            );
            continue;
        }
        let (selector, rest) = data.split_first().unwrap();
        let name = if selector % 2 == 0 {
            "fuzz.yaml"
        } else {
            "fuzz.toml"
        };
        let (_, diags) = load_bytes(name, rest, &Limits::default());
        if path.to_string_lossy().contains("amplification") {
            assert!(
                diags.iter().any(|d| d.message.contains("aliases expand")),
                "{}",
                path.display()
            );
        }
    }
}
