//! `include/trellis.h` is what cbindgen makes of the crate: regenerated in
//! memory and compared with the checked-in file, which is rewritten instead
//! when `TRELLIS_UPDATE_HEADER=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::Path;

#[test]
fn header_matches_checked_in_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");
    let file = dir.join("include/trellis.h");
    if std::env::var_os("TRELLIS_UPDATE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&file, &generated).expect("write include/trellis.h");
        return;
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        checked_in == generated,
        "bindings/c/include/trellis.h is stale: run `TRELLIS_UPDATE_HEADER=1 cargo test -p trellis-c --test header`"
    );
}
