//! Fuzzes the loader: YAML or TOML bytes -> node tree -> policy file sections.
//!
//! The first byte picks the format (even: `.yaml`, odd: `.toml`); the rest is
//! the file's content. `load_bytes` must never panic, overflow the stack or
//! hang, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let name = if selector & 1 == 0 {
        "fuzz.yaml"
    } else {
        "fuzz.toml"
    };
    // The diagnostics cannot be rendered without the run's SourceMap, which
    // load_bytes keeps to itself: just drop them.
    let (_file, _diagnostics) =
        trellis::load::load_bytes(name, rest, &trellis::load::Limits::default());
});
