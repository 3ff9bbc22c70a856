//! The runtime crate on its own: a table compiled from the bundled
//! quickstart example (`tests/data/quickstart.tbl`, kept equal to a fresh
//! compile by the compiler's tests) is loaded and asked, and damaged copies
//! of it are refused with an error, never a panic.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use trellis_table::{Table, TableError};

const QUICKSTART: &[u8] = include_bytes!("data/quickstart.tbl");

#[test]
fn the_quickstart_table_answers_as_its_policy_says() {
    let t = Table::from_bytes(QUICKSTART).unwrap();
    let (alice, atlantic) = (t.user("alice").unwrap(), t.org("atlantic").unwrap());
    let delete = t.permission("templates:delete").unwrap();
    assert!(t.allow(alice, delete, atlantic));
    let roles: Vec<&str> = t
        .roles(alice, atlantic)
        .into_iter()
        .map(|r| t.role_name(r))
        .collect();
    assert_eq!(roles, ["editor", "org-admin", "viewer"]);
    // Unknown names have no handle: a service answers deny for them.
    assert_eq!(t.user("nobody"), None);
    assert_eq!(t.permission("templates:fly"), None);
}

#[test]
fn damaged_copies_are_errors() {
    assert_eq!(Table::from_bytes(b"").unwrap_err(), TableError::NotATable);
    let mut newer = QUICKSTART.to_vec();
    newer[8] = 99;
    assert_eq!(
        Table::from_bytes(&newer).unwrap_err(),
        TableError::Version(99)
    );
    for cut in (0..QUICKSTART.len()).step_by(7) {
        assert!(
            Table::from_bytes(&QUICKSTART[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    for i in (40..QUICKSTART.len()).step_by(5) {
        let mut flipped = QUICKSTART.to_vec();
        flipped[i] ^= 0x10;
        assert!(Table::from_bytes(&flipped).is_err(), "flip at {i}");
    }
}
