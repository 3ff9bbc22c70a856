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

/// A scratch file in the system's temporary directory, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str, bytes: &[u8]) -> Scratch {
        let path =
            std::env::temp_dir().join(format!("trellis-table-{}-{name}.tbl", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_mapped_file_answers_as_its_bytes_do() {
    let file = Scratch::new("mapped", QUICKSTART);
    let mapped = Table::open(&file.0).unwrap();
    let copied = Table::from_bytes(QUICKSTART).unwrap();
    assert_eq!(mapped.to_json(), copied.to_json());
    mapped.check_records().unwrap();
}

#[test]
fn damaged_files_are_errors_when_mapped() {
    let truncated = Scratch::new("truncated", &QUICKSTART[..QUICKSTART.len() - 8]);
    assert!(matches!(
        Table::open(&truncated.0).unwrap_err(),
        TableError::Truncated { .. }
    ));
    let mut flipped = QUICKSTART.to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let flipped = Scratch::new("flipped", &flipped);
    assert_eq!(Table::open(&flipped.0).unwrap_err(), TableError::Checksum);
    let short = Scratch::new("short", &QUICKSTART[..20]);
    assert!(Table::open(&short.0).is_err());
    let missing = std::env::temp_dir().join("trellis-table-no-such-file.tbl");
    assert!(matches!(
        Table::open(&missing).unwrap_err(),
        TableError::Io(_)
    ));
}

#[test]
fn a_table_renamed_over_keeps_answering_from_the_old_file() {
    // How tables are replaced (`trellis compile -o` writes a new file and
    // renames it): a table open on the old one is unaffected.
    let file = Scratch::new("replaced", QUICKSTART);
    let open = Table::open(&file.0).unwrap();
    let next = Scratch::new("replacement", b"not a table");
    std::fs::rename(&next.0, &file.0).unwrap();
    let (alice, atlantic) = (open.user("alice").unwrap(), open.org("atlantic").unwrap());
    assert!(open.allow(
        alice,
        open.permission("templates:delete").unwrap(),
        atlantic
    ));
    assert_eq!(Table::open(&file.0).unwrap_err(), TableError::NotATable);
}

#[test]
fn the_name_index_finds_what_the_table_finds() {
    let t = Table::from_bytes(QUICKSTART).unwrap();
    let index = trellis_table::NameIndex::new(&t);
    for u in 0..t.user_count() as u32 {
        let name = t.user_name(trellis_table::User(u));
        assert_eq!(index.user(&t, name), t.user(name));
        assert!(index.user(&t, name).is_some());
    }
    for o in 0..t.org_count() as u32 {
        let name = t.org_name(trellis_table::Org(o));
        assert_eq!(index.org(&t, name), t.org(name));
    }
    for p in ["templates:read", "templates:delete", "beta-insights:read"] {
        assert_eq!(index.permission(&t, p), t.permission(p));
        assert!(index.permission(&t, p).is_some());
    }
    for unknown in [
        "",
        "nobody",
        "alice ",
        "templates",
        "templates:fly",
        "acme:",
    ] {
        assert_eq!(index.user(&t, unknown), None);
        assert_eq!(index.org(&t, unknown), None);
        assert_eq!(index.permission(&t, unknown), None);
        assert_eq!(index.resource(&t, unknown), None);
    }
    // Many at once: the same answers, in order, known or not, repeated.
    let mut names: Vec<String> = (0..t.user_count() as u32)
        .map(|u| t.user_name(trellis_table::User(u)).to_owned())
        .collect();
    names.extend(["", "nobody", "alice ", "ALICE"].map(String::from));
    names.extend(names.clone().into_iter().rev());
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    let one_by_one: Vec<_> = ids.iter().map(|id| index.user(&t, id)).collect();
    assert_eq!(index.users(&t, &ids), one_by_one);
    assert!(one_by_one.iter().filter(|u| u.is_none()).count() == 8);
    assert_eq!(index.users(&t, &[]), vec![]);
    let mut org_names: Vec<String> = (0..t.org_count() as u32)
        .map(|o| t.org_name(trellis_table::Org(o)).to_owned())
        .collect();
    org_names.extend(["", "nowhere", "atlantic ", "alice"].map(String::from));
    org_names.extend(org_names.clone().into_iter().rev());
    let org_ids: Vec<&str> = org_names.iter().map(String::as_str).collect();
    let orgs: Vec<_> = org_ids.iter().map(|id| index.org(&t, id)).collect();
    assert_eq!(index.orgs(&t, &org_ids), orgs);
    assert!(orgs.iter().filter(|o| o.is_none()).count() == 8);
    // Touching users changes no answer, and handles out of range are
    // passed over, not a panic.
    let users: Vec<_> = one_by_one.iter().flatten().copied().collect();
    let alice = t.user("alice").unwrap();
    let perm = t.permission("templates:delete").unwrap();
    let atlantic = t.org("atlantic").unwrap();
    let before = t.allow(alice, perm, atlantic);
    let _ = t.touch_users(&users);
    let _ = t.touch_users(&[trellis_table::User(u32::MAX), trellis_table::User(1 << 30)]);
    assert_eq!(t.allow(alice, perm, atlantic), before);
}
