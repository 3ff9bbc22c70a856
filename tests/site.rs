//! `trellis site`: escaping, what a tenant's site may hold, byte-identical
//! output whatever the file order, and writing the directory whole or not
//! at all.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use trellis::model::{Model, OrgId, Scope};
use trellis::site::{build, Options};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn trellis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
}

fn checked(dir: &Path) -> trellis::Checked {
    let c = trellis::check_paths(&[dir.to_path_buf()], &trellis::load::Limits::default()).unwrap();
    assert!(!c.diagnostics.has_errors(), "{} has errors", dir.display());
    c
}

/// The site in memory: path -> bytes.
fn site(c: &trellis::Checked, root: Option<OrgId>) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let options = Options {
        root,
        page_size: 2,
        pictures: true,
        source_root: None,
    };
    build(&c.model, &c.sources, &options, |p, b| {
        assert!(
            files.insert(p.to_owned(), b.to_vec()).is_none(),
            "{p} written twice"
        );
        Ok::<(), ()>(())
    })
    .unwrap();
    files
}

#[test]
fn free_text_is_escaped_everywhere() {
    let c = checked(&root().join("tests/site/hostile"));
    let files = site(&c, None);
    assert!(files.contains_key("org/north.html"));
    assert!(files.contains_key("user/nora.html"));
    assert!(files.contains_key("role/north/north-clerk.html"));
    assert!(files.contains_key("role/_provider/auditor.html"));
    for (path, bytes) in &files {
        let text = String::from_utf8(bytes.clone()).unwrap();
        if !path.ends_with(".html") {
            continue;
        }
        // The only script element is the bundled one.
        assert_eq!(text.matches("<script").count(), 1, "{path}");
        assert!(text.contains("<script src=\""), "{path}");
        for raw in ["<img src=x", "<b>docs", "<em>", "</title><"] {
            assert!(!text.contains(raw), "{path} holds `{raw}` unescaped");
        }
    }
    // The picture draws the names as SVG text, escaped as well.
    let svg = String::from_utf8(files["pictures.svg"].clone()).unwrap();
    assert!(svg.contains("<svg"));
    for raw in ["<script", "<img", "<b>", "<em>"] {
        assert!(!svg.contains(raw), "pictures.svg holds `{raw}`");
    }
    let north = String::from_utf8(files["org/north.html"].clone()).unwrap();
    assert!(north.contains("North &lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    let clerk = String::from_utf8(files["org/north.html"].clone()).unwrap();
    assert!(clerk.contains("data-description=\"Clerk of the NORTH &lt;em&gt;office&lt;/em&gt;\""));
    let south = String::from_utf8(files["org/south.html"].clone()).unwrap();
    assert!(south.contains("South &quot;quoted&quot; &#39;org&#39;"));
}

/// Every name a tenant other than `x` owns: orgs outside `x`'s subtree and
/// its ancestors, their users (unless linked into `x`'s subtree), their
/// roles, and the free text of all of these. Names that something visible
/// also uses (a provider role of the same name) are left out.
fn forbidden(m: &Model, c: &trellis::Checked, x: OrgId) -> BTreeSet<String> {
    let view = trellis::show::view(m, &c.sources, x);
    let shown = serde_json::to_string(&view).unwrap();
    let visible_org = |o: OrgId| m.in_subtree(o, x) || m.in_subtree(x, o);
    let mut names = BTreeSet::new();
    let mut allowed = BTreeSet::new();
    for o in 0..m.orgs.len() {
        let org = &m.orgs[o];
        let bucket = if visible_org(OrgId(o as u32)) {
            &mut allowed
        } else {
            &mut names
        };
        bucket.insert(org.id.clone());
        bucket.extend(org.description.clone());
    }
    for u in &m.users {
        if visible_org(u.home) || shown.contains(&format!("\"{}\"", u.id)) {
            allowed.insert(u.id.clone());
            continue;
        }
        names.insert(u.id.clone());
        names.extend(u.description.clone());
    }
    for r in &m.roles {
        match r.owner {
            Scope::Org(o) if !visible_org(o) => {
                names.insert(r.name.clone());
                names.extend(r.description.clone());
            }
            _ => {
                allowed.insert(r.name.clone());
            }
        }
    }
    for r in &m.resources {
        match r.org {
            // A role from above may be tied to a sibling's resource: its
            // restriction is part of the role, and `show` lists it too.
            Some(o) if !visible_org(o) && !shown.contains(&r.id) => {
                names.insert(r.id.clone());
                names.extend(r.description.clone());
            }
            _ => {
                allowed.insert(r.id.clone());
            }
        }
    }
    for a in &m.assignments {
        if !visible_org(a.org) {
            names.extend(a.description.clone());
        }
    }
    names.retain(|n| !allowed.contains(n) && !n.is_empty());
    names
}

/// Does `name` occur in `text` as a whole id (not inside a longer one)?
fn holds(text: &str, name: &str) -> bool {
    let id = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(id) && !after.is_some_and(id)
    })
}

#[test]
fn a_tenant_site_holds_no_other_tenant_names() {
    let mut sets: Vec<PathBuf> = std::fs::read_dir(root().join("policies-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("broken"))
        .collect();
    sets.push(root().join("tests/site/hostile"));
    sets.sort();
    let mut checked_sites = 0;
    for dir in &sets {
        let c = checked(dir);
        let m = &c.model;
        for o in 0..m.orgs.len() {
            let x = OrgId(o as u32);
            let bad = forbidden(m, &c, x);
            if bad.is_empty() {
                continue;
            }
            let files = site(&c, Some(x));
            for (path, bytes) in &files {
                if path.starts_with("assets/") {
                    continue; // the bundled style sheet and script
                }
                let text = String::from_utf8(bytes.clone()).unwrap();
                // Free text is written escaped; compare with it as written.
                for name in &bad {
                    let escaped = name
                        .replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                        .replace('"', "&quot;")
                        .replace('\'', "&#39;");
                    let is_id = name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                    let found = if is_id {
                        holds(path, name) || holds(&text, name)
                    } else {
                        text.contains(&escaped)
                    };
                    assert!(
                        !found,
                        "{}: the site of `{}` holds `{name}` in {path}",
                        dir.display(),
                        m.orgs[o].id
                    );
                }
            }
            checked_sites += 1;
        }
    }
    assert!(
        checked_sites > 10,
        "only {checked_sites} tenant sites checked"
    );
}

#[test]
fn the_hostile_tenants_see_each_other_nowhere() {
    // Spelled out for one set, beside the general test above.
    let c = checked(&root().join("tests/site/hostile"));
    let north = c.model.org_index["north"];
    let files = site(&c, Some(north));
    let all: String = files
        .iter()
        .map(|(p, b)| format!("{p}\n{}", String::from_utf8_lossy(b)))
        .collect();
    for name in [
        "south",
        "sam",
        "sue",
        "south-teller",
        "teller-secret-description",
        "sue-secret-note",
        "Depot of the south",
    ] {
        assert!(!holds(&all, name), "north's site holds `{name}`");
    }
    for name in [
        "north",
        "north-lab",
        "nora",
        "nils",
        "north-clerk",
        "auditor",
        "hub",
    ] {
        assert!(holds(&all, name), "north's site lacks `{name}`");
    }
    // Only north's subtree gets pages.
    assert!(files.contains_key("org/north-lab.html"));
    assert!(!files.contains_key("org/hub.html"));
    assert!(!files.contains_key("user/root-admin.html"));
}

#[test]
fn the_bytes_do_not_depend_on_the_file_order() {
    let dir = root().join("policies-examples/msp-distributor");
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "toml")
                && !p.to_string_lossy().contains(".test.")
            {
                inputs.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    assert!(inputs.len() > 2);
    inputs.sort();
    let limits = trellis::load::Limits::default();
    let forward = trellis::check_files(inputs.clone(), &[], &limits, Default::default());
    inputs.reverse();
    let backward = trellis::check_files(inputs, &[], &limits, Default::default());
    assert!(!forward.diagnostics.has_errors());
    let a = site(&forward, None);
    let b = site(&backward, None);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (p, bytes) in &a {
        assert!(
            bytes == &b[p],
            "{p} differs with the files in another order"
        );
    }
}

fn listing(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn the_directory_is_written_whole_and_replaces_only_a_site() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    let set = root().join("policies-examples/quickstart");
    let run = |args: &[&str]| trellis().args(args).output().unwrap();
    let o = run(&["site", set.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let first = listing(&out);
    for f in [
        "index.html",
        "roles.html",
        "org/atlantic.html",
        "user/carol.html",
        "assets/site.js",
    ] {
        assert!(first.contains_key(Path::new(f)), "no {f}");
    }
    // Run again over it with --org: the old pages are gone, not mixed in.
    let o = run(&[
        "site",
        set.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--org",
        "atlantic",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let second = listing(&out);
    assert!(!second.contains_key(Path::new("org/pacific.html")));
    assert!(second.contains_key(Path::new("org/atlantic-lab.html")));
    // Nothing is left beside it.
    let beside: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(beside.len(), 1);
    // A directory it did not write is refused, and left as it was.
    let other = tmp.path().join("home");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let o = run(&["site", set.to_str().unwrap(), "-o", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did not write"));
    assert_eq!(listing(&other).len(), 1);
    // A set with errors writes nothing (exit 1), and leaves the site there.
    let o = run(&[
        "site",
        root().join("policies-examples/broken").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(listing(&out), second);
    // An unknown org is a usage error.
    let o = run(&[
        "site",
        set.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--org",
        "nowhere",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(listing(&out), second);
}

#[test]
fn an_org_page_lists_the_role_list_of_trellis_roles() {
    // Every row of `trellis roles --org X` is a row of X's page, with its
    // name and description as the search reads them, and nothing else is.
    let c = checked(&root().join("policies-examples/quickstart"));
    let files = site(&c, None);
    for (o, org) in c.model.orgs.iter().enumerate() {
        let rows = trellis::role_list::role_list(&c.model, OrgId(o as u32), None);
        let page = String::from_utf8(files[&format!("org/{}.html", org.id)].clone()).unwrap();
        let table = &page[page.find("id=\"roles-table\"").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        assert_eq!(
            table.matches(" data-name=\"").count(),
            rows.len(),
            "{}",
            org.id
        );
        for r in rows {
            let bare = r.name.rsplit("::").next().unwrap();
            assert!(
                table.contains(&format!("data-name=\"{bare}\"")),
                "{}: {bare}",
                org.id
            );
        }
    }
}

#[test]
fn the_indexed_role_lists_are_the_role_lists() {
    // `trellis site` computes every org's list from one index; each must be
    // the list `trellis roles` prints.
    let mut sets: Vec<PathBuf> = std::fs::read_dir(root().join("policies-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("broken"))
        .collect();
    sets.push(root().join("tests/site/hostile"));
    sets.sort();
    for dir in &sets {
        let c = checked(dir);
        let h = trellis::role_list::Holdings::new(&c.model);
        for o in 0..c.model.orgs.len() {
            let x = OrgId(o as u32);
            for search in [None, Some("ED"), Some("a")] {
                assert_eq!(
                    trellis::role_list::role_list_indexed(&c.model, x, search, &h),
                    trellis::role_list::role_list(&c.model, x, search),
                    "{} at {}",
                    dir.display(),
                    c.model.orgs[o].id
                );
            }
        }
    }
}

#[test]
fn allowed_at_is_what_allow_answers() {
    // The user pages list `allowed_at`; it must be the permissions that
    // `trellis query` allows, one by one.
    let mut sets: Vec<PathBuf> = std::fs::read_dir(root().join("policies-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("broken"))
        .collect();
    sets.sort();
    let mut allowed = 0;
    for dir in &sets {
        let c = checked(dir);
        let m = &c.model;
        for u in 0..m.users.len() {
            let u = trellis::model::UserId(u as u32);
            for o in 0..m.orgs.len() {
                let x = OrgId(o as u32);
                let one_by_one: Vec<trellis::model::PermId> = (0..m.perms.len())
                    .map(|p| trellis::model::PermId(p as u32))
                    .filter(|p| m.allow(u, *p, x))
                    .collect();
                allowed += one_by_one.len();
                assert_eq!(m.allowed_at(u, x), one_by_one);
            }
        }
    }
    assert!(allowed > 100);
}
