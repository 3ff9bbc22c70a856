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

/// Every bundled example set that checks clean, and the hostile set of
/// these tests when `hostile`, in path order.
fn example_sets(hostile: bool) -> Vec<PathBuf> {
    let mut sets: Vec<PathBuf> = std::fs::read_dir(root().join("policies-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("broken"))
        .collect();
    if hostile {
        sets.push(root().join("tests/site/hostile"));
    }
    sets.sort();
    sets
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
    // Users are written a file per home org, a section each.
    let nora = String::from_utf8(files["user/north.html"].clone()).unwrap();
    assert!(nora.contains("<section class=\"user\" id=\"nora\">"));
    assert!(files.contains_key("role/north/north-clerk.html"));
    assert!(files.contains_key("role/_provider/auditor.html"));
    for (path, bytes) in &files {
        let text = String::from_utf8(bytes.clone()).unwrap();
        if !path.ends_with(".html") {
            continue;
        }
        // The only script elements are the bundled script and, on an
        // org's page, the site's role rows.
        let scripts = text.matches("<script").count();
        assert_eq!(
            scripts,
            text.matches("<script src=\"").count(),
            "{path}: an inline script"
        );
        assert!(text.contains("assets/site.js\" defer></script>"), "{path}");
        let rows = text.contains("roles-data.js\" defer></script>");
        assert_eq!(scripts, 1 + usize::from(rows), "{path}");
        assert_eq!(rows, path.starts_with("org/"), "{path}");
        for raw in ["<img src=x", "<b>docs", "<em>", "</title><"] {
            assert!(!text.contains(raw), "{path} holds `{raw}` unescaped");
        }
    }
    // The role rows are HTML inside JSON strings, escaped as the pages are.
    let data = String::from_utf8(files["roles-data.js"].clone()).unwrap();
    assert!(data.contains("north-clerk"));
    for raw in ["<img src=x", "<b>docs", "<em>", "</title><", "<script"] {
        assert!(!data.contains(raw), "roles-data.js holds `{raw}` unescaped");
    }
    // The picture draws the names as SVG text, escaped as well.
    let svg = String::from_utf8(files["pictures.svg"].clone()).unwrap();
    assert!(svg.contains("<svg"));
    for raw in ["<script", "<img", "<b>", "<em>"] {
        assert!(!svg.contains(raw), "pictures.svg holds `{raw}`");
    }
    let north = String::from_utf8(files["org/north.html"].clone()).unwrap();
    assert!(north.contains("North &lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    // The search reads the description from the row data, escaped.
    assert!(data.contains("\"Clerk of the NORTH &lt;em&gt;office&lt;/em&gt;\""));
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
        names.extend(u.description.as_deref().cloned());
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
            names.extend(a.description.as_deref().cloned());
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
    let sets = example_sets(true);
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
    assert!(!files
        .keys()
        .any(|p| p.starts_with("user/") && !p.starts_with("user/north")));
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
        "user/atlantic-lab.html",
        "roles-data.js",
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

/// `roles-data.js` as JSON: a row per role of the catalogue.
fn role_rows(files: &BTreeMap<String, Vec<u8>>) -> Vec<Vec<String>> {
    let data = String::from_utf8(files["roles-data.js"].clone()).unwrap();
    let json = &data[data.find("= ").unwrap() + 2..data.rfind(';').unwrap()];
    serde_json::from_str(json).unwrap()
}

/// An org page's role list: (catalogue row, users) in order.
fn listed(page: &str) -> Vec<(usize, usize)> {
    let open = "id=\"roles-table\" data-rows=\"";
    let at = page.find(open).unwrap() + open.len();
    let spec = &page[at..at + page[at..].find('"').unwrap()];
    spec.split_whitespace()
        .map(|pair| {
            let (i, n) = pair.split_once('.').unwrap();
            (i.parse().unwrap(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn an_org_page_lists_the_role_list_of_trellis_roles() {
    // Every row of `trellis roles --org X` is a row of X's page, in order,
    // with its name and description as the search reads them and its user
    // count, and nothing else is.
    let mut checked_rows = 0;
    for set in [
        "policies-examples/quickstart",
        "policies-examples/msp-distributor",
        "tests/site/hostile",
    ] {
        let c = checked(&root().join(set));
        for scope in [None, Some(OrgId(0))] {
            let files = site(&c, scope);
            let catalogue = role_rows(&files);
            for (o, org) in c.model.orgs.iter().enumerate() {
                let x = OrgId(o as u32);
                if scope.is_some_and(|r| !c.model.in_subtree(x, r)) {
                    continue;
                }
                let expected = trellis::role_list::role_list(&c.model, x, None);
                let page =
                    String::from_utf8(files[&format!("org/{}.html", org.id)].clone()).unwrap();
                let rows = listed(&page);
                assert_eq!(rows.len(), expected.len(), "{set}: {}", org.id);
                for ((i, users), want) in rows.iter().zip(&expected) {
                    let row = &catalogue[*i];
                    let bare = want.name.rsplit("::").next().unwrap();
                    assert_eq!(row[0], bare.replace('&', "&amp;"), "{set}: {}", org.id);
                    let description = want.description.clone().unwrap_or_default();
                    assert_eq!(
                        row[1],
                        description
                            .replace('&', "&amp;")
                            .replace('<', "&lt;")
                            .replace('>', "&gt;")
                            .replace('"', "&quot;")
                            .replace('\'', "&#39;")
                    );
                    assert_eq!(*users, want.users, "{set}: {} {bare}", org.id);
                    // Read-only exactly when locked or the provider's.
                    let ro = want.locked || want.owner == "provider";
                    assert_eq!(row[2].contains("read-only"), ro, "{set}: {bare}");
                    assert_eq!(row[2].contains("locked"), want.locked, "{set}: {bare}");
                    checked_rows += 1;
                }
            }
        }
    }
    assert!(checked_rows > 50, "{checked_rows}");
}

#[test]
fn the_indexed_role_lists_are_the_role_lists() {
    // `trellis site` computes every org's list from one index; each must be
    // the list `trellis roles` prints.
    let sets = example_sets(true);
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
    let sets = example_sets(false);
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

/// The permission names of a folded list: `m:*` is every action of `m`.
fn unfold(m: &Model, list: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for item in list.split("<li><code>").skip(1) {
        let text = &item[..item.find("</code>").unwrap()];
        let (module, actions) = text.split_once(':').unwrap();
        if actions == "*" {
            let md = m.modules.iter().find(|x| x.id == module).unwrap();
            out.extend(md.actions.iter().map(|a| format!("{module}:{a}")));
        } else {
            out.extend(
                actions
                    .split(", ")
                    .map(|a| format!("{module}:{}", a.trim())),
            );
        }
    }
    out
}

/// The text of every link or `<code>` in an HTML fragment.
fn named(html: &str) -> Vec<String> {
    html.split('<')
        .filter_map(|t| t.split_once('>').map(|(_, text)| text))
        .filter(|t| !t.is_empty() && *t != ", ")
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_users_section_adds_up_to_what_query_allows() {
    // A user's section writes an org below another as what changes there,
    // and blocks two users share once: read back as a reader would (base,
    // plus the permissions gained, less those lost; the shared block for a
    // pointer), every org listed must hold exactly the permissions that
    // `allowed_at` (and so `trellis query`) gives, and every grant reaching
    // the user there is explained or counted as explained above.
    let sets = example_sets(true);
    let (mut orgs_checked, mut deltas, mut shared) = (0, 0, 0);
    for dir in &sets {
        let c = checked(dir);
        let m = &c.model;
        let files = site(&c, None);
        let texts: Vec<String> = files
            .iter()
            .filter(|(p, _)| p.starts_with("user/"))
            .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
            .collect();
        for (ui, user) in m.users.iter().enumerate() {
            let u = trellis::model::UserId(ui as u32);
            let marker = format!("<section class=\"user\" id=\"{}\">", user.id);
            let file = texts
                .iter()
                .find(|t| t.contains(&marker))
                .unwrap_or_else(|| panic!("{}: no section for {}", dir.display(), user.id));
            let section = &file[file.find(&marker).unwrap()..];
            let section = &section[..section.find("</section>").unwrap()];
            let mut sets_at: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for block in section.split("<h3>").skip(1) {
                let block = match block.find("href=\"#same-") {
                    Some(i) if block.contains("the same as for") => {
                        shared += 1;
                        let k = &block[i + 12..];
                        let k = &k[..k.find('"').unwrap()];
                        let start = format!("<div class=\"block\" id=\"same-{k}\">");
                        let b = &file[file.find(&start).unwrap() + start.len()..];
                        let end = b
                            .find("<div class=\"block\"")
                            .or(b.find("</section>"))
                            .unwrap();
                        b[..end].to_owned()
                    }
                    _ => block.to_owned(),
                };
                let first =
                    &block[block.find("<p>").unwrap()..block.find(" · effective roles").unwrap()];
                let orgs = named(first);
                assert!(!orgs.is_empty(), "{}: {}", dir.display(), user.id);
                let details =
                    &block[block.find("<details>").unwrap()..block.find("</details>").unwrap()];
                let summary = &details[..details.find("</summary>").unwrap()];
                let count: usize = named(summary)[0]
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                let perms = match summary.find(": the ") {
                    Some(i) => {
                        deltas += 1;
                        let base = summary[i + 6..].split(' ').nth(2).unwrap();
                        let base = base.trim_end_matches(',');
                        let mut set = sets_at.get(base).cloned().unwrap_or_else(|| {
                            panic!(
                                "{}: {} told against {base}, not above",
                                dir.display(),
                                user.id
                            )
                        });
                        let part = |label: &str| {
                            details
                                .find(label)
                                .map(|i| {
                                    let rest = &details[i..];
                                    unfold(m, &rest[..rest.find("</ul>").unwrap()])
                                })
                                .unwrap_or_default()
                        };
                        for p in part("<p>not here:</p>") {
                            assert!(set.remove(&p), "{}: lost {p} not held above", user.id);
                        }
                        for p in part("<p>more here:</p>") {
                            assert!(set.insert(p.clone()), "{}: gained {p} held above", user.id);
                        }
                        set
                    }
                    None => unfold(m, details),
                };
                assert_eq!(perms.len(), count, "{}: {}", dir.display(), user.id);
                for org in &orgs {
                    let x = m.org_index[org.as_str()];
                    let want: BTreeSet<String> = m
                        .allowed_at(u, x)
                        .into_iter()
                        .map(|p| m.perm_name(p))
                        .collect();
                    assert_eq!(perms, want, "{}: {} at {org}", dir.display(), user.id);
                    sets_at.insert(org.clone(), perms.clone());
                    orgs_checked += 1;
                }
                // The why: each grant here is explained, or counted above.
                for why in block.split("<p class=\"muted\">why, at ").skip(1) {
                    let org = &why[..why.find(':').unwrap()];
                    let text =
                        &why[why.find("<div class=\"why\">").unwrap()..why.find("</div>").unwrap()];
                    let hits = m.hits(u, m.org_index[org]).len();
                    let fresh = text
                        .lines()
                        .filter(|l| l.starts_with("  - ") || l.contains(">  - "))
                        .count();
                    let told: usize = text
                        .split("  and the ")
                        .nth(1)
                        .map_or(0, |t| t.split(' ').next().unwrap().parse().unwrap());
                    assert_eq!(
                        fresh + told,
                        hits,
                        "{}: {} at {org}:\n{text}",
                        dir.display(),
                        user.id
                    );
                }
            }
        }
    }
    // The examples exercise every path: nested orgs, deltas, shared blocks.
    assert!(orgs_checked > 50, "{orgs_checked}");
    assert!(deltas > 5, "{deltas}");
    assert!(shared > 0, "{shared}");
}
