//! The access diff for people: the markdown comment stays readable at scale
//! (roles first, a module's every action folded into `module:*` — only when
//! every one is there —, users with the same change in one row, locked
//! changes always shown), and `--format html` is one self-contained page
//! with every user, every org and every name escaped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use trellis::diff::access::{AccessDiff, ItemChange, OrgChange, UserChange};
use trellis::diff::render::{fold, html, html_escape, markdown, markdown_linked};

fn model(dir: &Path, text: &str) -> trellis::model::Model {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("provider.yaml"), text).unwrap();
    let c = trellis::check_paths(&[dir.to_path_buf()], &Default::default()).unwrap();
    assert!(!c.diagnostics.has_errors(), "{:?}", c.diagnostics);
    c.model
}

/// docs has three actions; `full` grants all three, `most` two of them.
const CATALOG: &str = "scope: provider\n\
modules:\n  docs: { actions: [read, write, delete] }\n  wiki: { actions: [read, edit] }\n  ping: { actions: [send] }\n\
roles:\n  full: { grants: [\"docs:*\"] }\n  most: { grants: [\"docs:read\", \"docs:write\", \"wiki:read\", \"wiki:edit\"] }\n  pinger: { grants: [\"ping:send\"] }\n  guard: { grants: [\"docs:read\"], locked: true }\n\
orgs:\n  t1: {}\n  t1-a: { parent: t1 }\n  t2: {}\n";

fn users(n: usize) -> String {
    let mut s = String::from("users:\n");
    for i in 0..n {
        s.push_str(&format!("  u{i:02}: {{ org: t1 }}\n"));
    }
    s.push_str("  alice: { org: t2 }\n  bob: { org: t2 }\n");
    s
}

fn the_table(md: &str) -> Vec<&str> {
    md.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| users |"))
        .filter(|l| l.contains(" at `") || l.contains(" below `"))
        .collect()
}

#[test]
fn fold_writes_module_star_only_when_every_action_is_there() {
    let catalog: BTreeMap<String, BTreeSet<String>> = [
        ("docs", &["read", "write", "delete"][..]),
        ("ping", &["send"][..]),
    ]
    .into_iter()
    .map(|(m, a)| (m.to_string(), a.iter().map(|s| s.to_string()).collect()))
    .collect();
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        fold(&v(&["docs:delete", "docs:read", "docs:write"]), &catalog),
        v(&["docs:*"])
    );
    // Two of three: not folded.
    assert_eq!(
        fold(&v(&["docs:read", "docs:write"]), &catalog),
        v(&["docs:read", "docs:write"])
    );
    // A one-action module keeps its action's name; an unknown module is kept as is.
    assert_eq!(
        fold(&v(&["other:x", "ping:send"]), &catalog),
        v(&["other:x", "ping:send"])
    );
}

#[test]
fn the_comment_folds_complete_modules_groups_identical_changes_and_keeps_roles_first() {
    let tmp = tempfile::tempdir().unwrap();
    let base = model(&tmp.path().join("base"), &format!("{CATALOG}{}", users(40)));
    let mut assignments = String::from("assignments:\n");
    // 40 users at t1 gain `full` the same way; alice gains `most` at t2 and
    // bob gains `full` at t2: three different changes.
    for i in 0..40 {
        assignments.push_str(&format!("  - {{ role: full, user: u{i:02}, org: t1 }}\n"));
    }
    assignments.push_str(
        "  - { role: most, user: alice, org: t2 }\n  - { role: full, user: bob, org: t2 }\n",
    );
    let head = model(
        &tmp.path().join("head"),
        &format!("{CATALOG}{}{assignments}", users(40)),
    );
    let d = trellis::diff::diff(&base, &head);
    assert_eq!(d.users.len(), 42);
    let md = markdown(&d, 60_000);
    let rows = the_table(&md);
    assert_eq!(rows.len(), 3, "one row per distinct change:\n{md}");
    // The forty: one row naming two and counting the rest, docs folded.
    let forty = rows
        .iter()
        .find(|r| r.contains("`u00`"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        forty.starts_with("| `u00`, `u01` and 38 others | at `t1` and 1 org below |"),
        "{forty}"
    );
    assert!(
        forty.contains("roles `provider::full`; permissions `docs:*` |"),
        "{forty}"
    );
    // alice: wiki complete (both actions), docs not (two of three).
    let alice = rows.iter().find(|r| r.contains("`alice`")).unwrap();
    assert!(
        alice.contains("roles `provider::most`; permissions `docs:read`, `docs:write`, `wiki:*` |"),
        "{alice}"
    );
    let bob = rows.iter().find(|r| r.contains("`bob`")).unwrap();
    assert!(bob.starts_with("| `bob` | at `t2` |"), "{bob}");
    // No user is named in two rows.
    for i in 2..40 {
        assert!(
            !md.contains(&format!("`u{i:02}`")),
            "u{i:02} should be counted, not named"
        );
    }
    // The rest is on the page: every user named there.
    assert!(md.contains("trellis diff BASE HEAD --format html"), "{md}");
    let page = html(&d);
    for i in 0..40 {
        assert!(
            page.contains(&format!("<code>u{i:02}</code>")),
            "u{i:02} on the page"
        );
    }
    // Losses fold against the base's catalog: taking everything back.
    let back = trellis::diff::diff(&head, &base);
    let md = markdown(&back, 60_000);
    let bob = the_table(&md)
        .into_iter()
        .find(|r| r.contains("`bob`"))
        .unwrap()
        .to_string();
    assert!(
        bob.ends_with("| roles `provider::full`; permissions `docs:*` |"),
        "{bob}"
    );
}

#[test]
fn a_page_url_is_linked_and_only_complete_gains_fold() {
    let tmp = tempfile::tempdir().unwrap();
    let with_wikier = |t: &str| {
        format!("{t}{}assignments:\n  - {{ role: most, user: alice, org: t2 }}\n  - {{ role: wikier, user: bob, org: t2 }}\n", users(0))
            .replace("roles:\n", "roles:\n  wikier: { grants: [\"wiki:*\"] }\n")
    };
    let base = model(&tmp.path().join("base"), &with_wikier(CATALOG));
    // wiki gets a third action: bob (`wiki:*`) gains just that one, which is
    // not every action of wiki, so it is not folded although he now holds
    // them all; alice's `most` grants two named actions and gains nothing.
    let head = model(
        &tmp.path().join("head"),
        &with_wikier(&CATALOG.replace(
            "wiki: { actions: [read, edit] }",
            "wiki: { actions: [read, edit, admin] }",
        )),
    );
    let d = trellis::diff::diff(&base, &head);
    let url = "https://ci.example/runs/42/diff.html";
    let md = markdown_linked(&d, 60_000, Some(url));
    assert!(
        md.contains(&format!("Every user and permission: {url}")),
        "{md}"
    );
    assert!(!md.contains("artifact"), "{md}");
    let rows = the_table(&md);
    assert_eq!(rows.len(), 1, "{md}");
    assert_eq!(
        rows[0], "| `bob` | at `t2` | permissions `wiki:admin` |  |",
        "{md}"
    );
}

#[test]
fn a_locked_change_is_always_shown_first_and_open() {
    let tmp = tempfile::tempdir().unwrap();
    let base = model(&tmp.path().join("base"), &format!("{CATALOG}{}", users(40)));
    let mut assignments =
        String::from("assignments:\n  - { role: guard, org: t2, locked: true }\n");
    for i in 0..40 {
        // Every user a different change: forty rows.
        let org = if i % 2 == 0 { "t1" } else { "t1-a" };
        let role = ["full", "most", "pinger"][i % 3];
        assignments.push_str(&format!(
            "  - {{ role: {role}, user: u{i:02}, org: {org} }}\n"
        ));
    }
    let head = model(
        &tmp.path().join("head"),
        &format!("{CATALOG}{}{assignments}", users(40)),
    );
    let d = trellis::diff::diff(&base, &head);
    assert!(!d.locked.is_empty());
    let full = markdown(&d, usize::MAX);
    let locked_at = full.find("Provider-locked items changed").unwrap();
    let access_at = full.find("Access gained and lost").unwrap();
    assert!(locked_at < access_at, "{full}");
    assert!(full.contains("<details open><summary>⚠ Provider-locked items changed (1)</summary>"));
    // Under a cap that cuts the access rows, the locked item is still there.
    let cap = locked_at + 600;
    assert!(cap < full.len());
    let cut = markdown(&d, cap);
    assert!(cut.len() <= cap);
    let item = &d.locked[0].item;
    assert!(cut.contains(&format!("| added | `{item}` |")), "{cut}");
    assert!(cut.contains("Truncated"), "{cut}");
    // The page highlights it.
    let page = html(&d);
    assert!(page.contains("<section class=\"locked\" id=\"locked\">"));
    assert!(page.contains(&format!(
        "<tr class=\"locked\"><td>added</td><td><code>{}</code></td></tr>",
        html_escape(item)
    )));
}

/// Names are checked by the loader, but the renderer trusts nothing: a diff
/// built by hand with markup in every name comes out escaped.
#[test]
fn the_page_escapes_every_name_and_fetches_nothing() {
    let evil = "<script>alert(1)</script>";
    let d = AccessDiff {
        users: vec![UserChange {
            user: evil.to_string(),
            changes: vec![OrgChange {
                org: format!("o{evil}"),
                reach: "subtree",
                orgs: 3,
                except: vec![format!("e{evil}")],
                roles_gained: vec![format!("r{evil}")],
                roles_lost: vec![format!("l{evil}")],
                permissions_gained: vec![format!("m:{evil}")],
                permissions_lost: vec![],
                policies_gained: vec![format!("p{evil}")],
                policies_lost: vec![],
                resource_permissions_gained: vec![],
                resource_permissions_lost: vec![],
            }],
        }],
        locked: vec![ItemChange {
            item: format!("role {evil}\"'&"),
            change: "changed",
        }],
        users_added: vec![evil.to_string()],
        orgs_removed: vec![evil.to_string()],
        ..AccessDiff::default()
    };
    let page = html(&d);
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains(evil));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("role &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
    assert!(page.starts_with("<!DOCTYPE html>\n"));
    assert!(page.ends_with("</html>\n"));
    for external in ["http://", "https://", "src=", "<link", "@import", "url("] {
        assert!(!page.contains(external), "{external}");
    }
    // Every org the change reaches is named, cut-outs too.
    assert!(page.contains("at <code>o&lt;script&gt;"));
    assert!(page.contains("and 2 orgs below, except under <code>e&lt;script&gt;"));
}
