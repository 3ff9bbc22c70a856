//! `trellis graph --format svg`: the picture is well-formed XML, draws one
//! box per org of the subtree and per role visible there, no two boxes
//! overlap, locks and publications are drawn where they are, a huge tree
//! stays bounded with every left-out org counted, and the output depends on
//! neither runs nor file order. The pictures checked in under
//! `docs/pictures/` are what `trellis graph --format svg` prints for the
//! bundled examples (`TRELLIS_UPDATE_PICTURES=1 cargo test --test pictures`
//! rewrites them; review the diff).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use trellis::graph::{render, svg, GraphFormat};
use trellis::model::{Model, OrgId};

mod common;

fn examples() -> Vec<PathBuf> {
    common::subdirs(Path::new("policies-examples"))
        .into_iter()
        .filter(|p| !p.ends_with("broken"))
        .collect()
}

fn load(path: &Path) -> Model {
    let c = trellis::check_paths(&[path.to_path_buf()], &Default::default()).unwrap();
    assert!(!c.diagnostics.has_errors(), "{}", path.display());
    c.model
}

fn svg_of(m: &Model, root: Option<OrgId>) -> String {
    render(m, root, GraphFormat::Svg)
}

/// A box: what it names (`data-org`/`data-role`, or none for "+N more"), its
/// rectangle, and its lines of text.
#[derive(Debug)]
struct Box_ {
    org: Option<String>,
    role: Option<String>,
    more: bool,
    rect: (f64, f64, f64, f64),
    texts: Vec<(String, String)>,
}

fn boxes(svg: &str) -> Vec<Box_> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let mut out = Vec::new();
    for g in doc.descendants().filter(|n| {
        n.has_tag_name("g")
            && n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|c| c == "node"))
    }) {
        let rect = g
            .children()
            .find(|c| c.has_tag_name("rect"))
            .expect("a box has a rect");
        let num = |a: &str| rect.attribute(a).unwrap().parse::<f64>().unwrap();
        let texts = g
            .children()
            .filter(|c| c.has_tag_name("text"))
            .map(|t| {
                (
                    t.attribute("class").unwrap_or("").to_string(),
                    t.text().unwrap_or("").to_string(),
                )
            })
            .collect();
        out.push(Box_ {
            org: g.attribute("data-org").map(str::to_string),
            role: g.attribute("data-role").map(str::to_string),
            more: g.attribute("class").unwrap().contains("more"),
            rect: (num("x"), num("y"), num("width"), num("height")),
            texts,
        });
    }
    out
}

fn assert_no_overlap(bs: &[Box_], what: &str) {
    for (i, a) in bs.iter().enumerate() {
        let (ax, ay, aw, ah) = a.rect;
        assert!(aw > 0.0 && ah > 0.0, "{what}: empty box {a:?}");
        for b in &bs[i + 1..] {
            let (bx, by, bw, bh) = b.rect;
            let apart = ax + aw <= bx || bx + bw <= ax || ay + ah <= by || by + bh <= ay;
            assert!(apart, "{what}: boxes overlap:\n{a:?}\n{b:?}");
        }
    }
}

/// The orgs of the subtree of `root`, by walking parents (not the model's preorder).
fn subtree(m: &Model, root: OrgId) -> BTreeSet<String> {
    (0..m.orgs.len())
        .filter(|i| {
            let mut o = Some(OrgId(*i as u32));
            while let Some(x) = o {
                if x == root {
                    return true;
                }
                o = m.org(x).parent;
            }
            false
        })
        .map(|i| m.orgs[i].id.clone())
        .collect()
}

/// "+N more orgs" boxes: the sum of their N.
fn more_orgs(bs: &[Box_]) -> usize {
    bs.iter()
        .filter(|b| b.more)
        .filter_map(|b| {
            let t = &b.texts[0].1;
            t.strip_suffix(" more orgs")
                .map(|n| n.trim_start_matches('+').parse::<usize>().unwrap())
        })
        .sum()
}

#[test]
fn every_example_draws_each_org_and_role_once_without_overlap() {
    let sets = examples();
    assert!(sets.len() >= 5, "{sets:?}");
    for set in sets {
        let m = load(&set);
        let s = svg_of(&m, None);
        let bs = boxes(&s);
        let orgs: Vec<&String> = bs.iter().filter_map(|b| b.org.as_ref()).collect();
        let want: BTreeSet<String> = m.orgs.iter().map(|o| o.id.clone()).collect();
        assert_eq!(orgs.len(), want.len(), "{}: one box per org", set.display());
        assert_eq!(
            orgs.into_iter().cloned().collect::<BTreeSet<_>>(),
            want,
            "{}",
            set.display()
        );
        let roles: BTreeSet<String> = bs.iter().filter_map(|b| b.role.clone()).collect();
        assert_eq!(
            roles.len(),
            m.roles.len(),
            "{}: one box per role",
            set.display()
        );
        assert_eq!(more_orgs(&bs), 0, "{}: nothing left out", set.display());
        assert_no_overlap(&bs, &set.display().to_string());
        // The box of an org starts with its id, then its kind.
        for b in bs.iter().filter(|b| b.org.is_some()) {
            let id = b.org.as_ref().unwrap();
            assert_eq!(b.texts[0], ("title".into(), id.clone()));
            let o = &m.orgs[m.org_index[id].index()];
            if let Some(k) = &o.kind_label {
                assert_eq!(b.texts[1], ("kind".into(), k.clone()));
            }
        }
    }
}

#[test]
fn an_org_subtree_holds_exactly_its_orgs() {
    for set in examples() {
        let m = load(&set);
        for (i, o) in m.orgs.iter().enumerate() {
            let root = OrgId(i as u32);
            let bs = boxes(&svg_of(&m, Some(root)));
            let drawn: Vec<String> = bs.iter().filter_map(|b| b.org.clone()).collect();
            let want = subtree(&m, root);
            assert_eq!(drawn.len(), want.len(), "{} --org {}", set.display(), o.id);
            assert_eq!(drawn.into_iter().collect::<BTreeSet<_>>(), want);
            assert_no_overlap(&bs, &format!("{} --org {}", set.display(), o.id));
        }
    }
}

fn org_box<'a>(bs: &'a [Box_], id: &str) -> &'a Box_ {
    bs.iter()
        .find(|b| b.org.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no box for {id}"))
}

#[test]
fn publications_and_non_publications_are_drawn_at_their_org() {
    // atlantic-group: reporting is withdrawn at atlantic-ltd and published
    // again at atlantic-ltd-lab; auditor is published at atlantic-sa.
    let m = load(Path::new("policies-examples/atlantic-group"));
    let bs = boxes(&svg_of(&m, None));
    let has = |org: &str, class: &str, text: &str| {
        org_box(&bs, org)
            .texts
            .iter()
            .any(|(c, t)| c.split(' ').any(|c| c == class) && t == text)
    };
    assert!(has("atlantic-ltd", "unpub", "− not published reporting"));
    assert!(has("atlantic-ltd-lab", "pub", "+ published reporting"));
    assert!(has("atlantic-sa", "pub", "+ published auditor"));
    assert!(!has("atlantic", "pub", "+ published auditor"));
    // Assignments as the Mermaid picture has them.
    assert!(has("atlantic", "note", "members: reporting"));
    assert!(has("atlantic", "note", "gus: group-admin"));
}

#[test]
fn locks_are_drawn_distinctly() {
    // saas-provider: copilot-tester is published (locked) at acme-retail and
    // mercy-health; ehr-reader is assigned (locked) to mercy-health's members.
    let m = load(Path::new("policies-examples/saas-provider"));
    let s = svg_of(&m, None);
    let doc = roxmltree::Document::parse(&s).unwrap();
    let in_box = |org: &str, text: &str| {
        let g = doc
            .descendants()
            .find(|n| n.attribute("data-org") == Some(org))
            .unwrap();
        let t = g
            .children()
            .find(|c| c.has_tag_name("text") && c.text() == Some(text))
            .unwrap_or_else(|| panic!("{org}: no line `{text}`"));
        // A locked line is classed `locked` and has a padlock just before it.
        let lock_before = t
            .prev_sibling_element()
            .is_some_and(|p| p.attribute("class") == Some("lock"));
        (
            t.attribute("class")
                .unwrap()
                .split(' ')
                .any(|c| c == "locked"),
            lock_before,
        )
    };
    assert_eq!(
        in_box("acme-retail", "+ published copilot-tester"),
        (true, true)
    );
    assert_eq!(in_box("mercy-health", "members: ehr-reader"), (true, true));
    // A locked role says so in its box.
    let bs = boxes(&s);
    let locked_roles: BTreeSet<String> = bs
        .iter()
        .filter(|b| {
            b.texts
                .iter()
                .any(|(c, t)| c.contains("locked") && t == "provider lock")
        })
        .filter_map(|b| b.role.clone())
        .collect();
    let want: BTreeSet<String> = (0..m.roles.len())
        .filter(|i| m.roles[*i].locked)
        .map(|i| m.role_qualified(trellis::model::RoleId(i as u32)))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(locked_roles, want);
    // An unlocked line has no padlock: quickstart's bob holds analyst unlocked.
    let q = load(Path::new("policies-examples/quickstart"));
    let qs = svg_of(&q, None);
    let bs = boxes(&qs);
    let unlocked = bs
        .iter()
        .flat_map(|b| &b.texts)
        .find(|(_, t)| t == "bob: analyst")
        .expect("bob's assignment is drawn");
    assert!(!unlocked.0.contains("locked"));
}

/// A policy set with a root and `wide` children, each with `kids` children.
fn wide_tree(dir: &Path, wide: usize, kids: usize) {
    let mut s = String::from("scope: provider\norgs:\n  root-holding-with-a-long-name: {}\n");
    for i in 0..wide {
        s.push_str(&format!(
            "  branch-{i:03}-with-a-rather-long-name: {{ parent: root-holding-with-a-long-name }}\n"
        ));
        for j in 0..kids {
            s.push_str(&format!(
                "  leaf-{i:03}-{j:02}: {{ parent: branch-{i:03}-with-a-rather-long-name }}\n"
            ));
        }
    }
    s.push_str("modules:\n  m: { actions: [read] }\nroles:\n  viewer: { grants: [\"m:read\"] }\n");
    std::fs::write(dir.join("provider.yaml"), s).unwrap();
}

#[test]
fn a_wide_tree_is_bounded_and_counts_what_it_leaves_out() {
    for (wide, kids) in [(40, 3), (10, 20), (3, 1)] {
        let tmp = tempfile::tempdir().unwrap();
        wide_tree(tmp.path(), wide, kids);
        let m = load(tmp.path());
        let total = 1 + wide * (1 + kids);
        let bs = boxes(&svg_of(&m, None));
        let drawn = bs.iter().filter(|b| b.org.is_some()).count();
        assert!(drawn <= svg::MAX_ORGS, "{wide}x{kids}: {drawn} boxes");
        assert_eq!(
            drawn + more_orgs(&bs),
            total,
            "{wide}x{kids}: every org is drawn or counted"
        );
        if total <= svg::MAX_ORGS && wide <= svg::MAX_CHILDREN && kids <= svg::MAX_CHILDREN {
            assert_eq!(drawn, total);
        } else {
            assert!(more_orgs(&bs) > 0);
        }
        assert_no_overlap(&bs, &format!("{wide}x{kids}"));
    }
    // 40 branches: the first 16 by id are drawn, the other 24 (with their
    // three leaves each) are one "+96 more orgs" box under the root.
    let tmp = tempfile::tempdir().unwrap();
    wide_tree(tmp.path(), 40, 3);
    let bs = boxes(&svg_of(&load(tmp.path()), None));
    assert!(bs.iter().any(|b| b.more && b.texts[0].1 == "+96 more orgs"));
    assert!(bs
        .iter()
        .any(|b| b.org.as_deref() == Some("branch-015-with-a-rather-long-name")));
    assert!(!bs
        .iter()
        .any(|b| b.org.as_deref() == Some("branch-016-with-a-rather-long-name")));
}

#[test]
fn output_is_the_same_across_runs_and_file_orders() {
    for set in examples() {
        let original = load(&set);
        let a = svg_of(&original, None);
        assert_eq!(a, svg_of(&original, None), "{}", set.display());
        // The same files, renamed in reverse order inside subdirectories.
        let tmp = tempfile::tempdir().unwrap();
        let mut files: Vec<PathBuf> = walk(&set);
        files.sort();
        for (i, f) in files.iter().enumerate() {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".md") || name.contains(".test.") {
                continue;
            }
            let prefix = (b'z' - i as u8) as char;
            let dest = tmp
                .path()
                .join(format!("{prefix}{i}"))
                .join(format!("{prefix}-{name}"));
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(f, dest).unwrap();
        }
        let shuffled =
            trellis::check_paths(&[tmp.path().to_path_buf()], &Default::default()).unwrap();
        if shuffled.diagnostics.has_errors() {
            // A set whose files depend on their directory (tenant scopes) cannot be moved.
            continue;
        }
        assert_eq!(
            a,
            svg_of(&shuffled.model, None),
            "{}: the picture depends on file names or order",
            set.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn text_is_escaped_for_xml() {
    assert_eq!(
        svg::xml_escape("<script>a&b</script>\"'"),
        "&lt;script&gt;a&amp;b&lt;/script&gt;&quot;&apos;"
    );
    // Characters XML 1.0 forbids never reach the output.
    assert_eq!(svg::xml_escape("a\u{1}b\u{FFFF}"), "a\u{FFFD}b\u{FFFD}");
}

#[test]
fn the_svg_is_self_contained() {
    for set in examples() {
        let s = svg_of(&load(&set), None);
        let doc = roxmltree::Document::parse(&s).unwrap();
        for n in doc.descendants() {
            for a in n.attributes() {
                let v = a.value();
                // Only references inside the document (`url(#arrow)`).
                assert!(
                    !v.contains("://") || (n == doc.root_element() && a.name() == "xmlns"),
                    "{}: external reference {}={v}",
                    set.display(),
                    a.name()
                );
                assert_ne!(a.name(), "href", "{}: a link", set.display());
            }
            assert!(
                !n.has_tag_name("script") && !n.has_tag_name("image") && !n.has_tag_name("a"),
                "{}",
                set.display()
            );
        }
        assert!(!s.contains("@import") && !s.contains("@font-face"));
    }
}

/// The checked-in pictures are what `trellis graph --format svg` prints.
#[test]
fn docs_pictures_match_the_command() {
    let update = std::env::var_os("TRELLIS_UPDATE_PICTURES").is_some_and(|v| v == "1");
    let dir = Path::new("docs/pictures");
    let mut stale = Vec::new();
    let mut want_files = BTreeSet::new();
    for set in examples() {
        let name = set.file_name().unwrap().to_string_lossy().into_owned();
        let out = assert_cmd::Command::cargo_bin("trellis")
            .unwrap()
            .args(["graph", "--format", "svg"])
            .arg(&set)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        let printed = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            printed,
            svg_of(&load(&set), None),
            "{name}: CLI and library"
        );
        let file = dir.join(format!("{name}.svg"));
        want_files.insert(file.clone());
        if std::fs::read_to_string(&file).ok().as_deref() != Some(&printed) {
            if update {
                std::fs::create_dir_all(dir).unwrap();
                std::fs::write(&file, &printed).unwrap();
            } else {
                stale.push(file.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "pictures drifted from `trellis graph --format svg`: {stale:?}; \
         run `TRELLIS_UPDATE_PICTURES=1 cargo test --test pictures` and review the diff"
    );
}

/// The picture of one org (`--org X`, as a tenant's site shows it) names no
/// org outside X's subtree but those above it, no user who is neither at
/// home in the subtree nor assigned there, and no custom role of another
/// tenant: a provider can publish it to the tenant.
#[test]
fn an_org_picture_names_nothing_of_a_sibling() {
    for set in examples() {
        let m = load(&set);
        for (i, x) in m.orgs.iter().enumerate() {
            let root = OrgId(i as u32);
            let s = svg_of(&m, Some(root));
            let doc = roxmltree::Document::parse(&s).unwrap();
            // Every word of every text and attribute value.
            let mut words = BTreeSet::new();
            for n in doc.descendants() {
                let vals = n
                    .text()
                    .into_iter()
                    .chain(n.attributes().map(|a| a.value()));
                for v in vals {
                    for w in v.split(|c: char| {
                        !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                    }) {
                        words.insert(w.to_string());
                    }
                }
            }
            let inside = subtree(&m, root);
            let above: BTreeSet<String> = {
                let mut v = BTreeSet::new();
                let mut o = x.parent;
                while let Some(p) = o {
                    v.insert(m.org(p).id.clone());
                    o = m.org(p).parent;
                }
                v
            };
            for o in &m.orgs {
                if !inside.contains(&o.id) && !above.contains(&o.id) {
                    assert!(
                        !words.contains(&o.id),
                        "{} --org {}: names org `{}`",
                        set.display(),
                        x.id,
                        o.id
                    );
                }
            }
            for (ui, u) in m.users.iter().enumerate() {
                let assigned_inside = m.user_assignments[ui]
                    .iter()
                    .any(|a| inside.contains(&m.org(m.assignments[a.index()].org).id));
                if !inside.contains(&m.org(u.home).id) && !assigned_inside {
                    assert!(
                        !words.contains(&u.id),
                        "{} --org {}: names user `{}`",
                        set.display(),
                        x.id,
                        u.id
                    );
                }
            }
        }
    }
}
