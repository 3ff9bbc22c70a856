//! The change check, fuzzed: random base/head pairs where a tenant actor's
//! edits are known by construction. E012 must be reported exactly when some
//! edit changes what a file outside the actor's subtree (a provider file, a
//! sibling's or a parent's) says — adding, removing or changing any copy of
//! an item there, locked or not — and never for edits that only reorder
//! items, move them between files of one scope, or change the actor's own
//! files.
//!
//! `TRELLIS_CHANGE_PAIRS` sets how many pairs (default 400); a failure
//! prints the seed and both revisions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
use common::random::Rng;
use std::collections::BTreeMap;
use std::path::Path;

/// The files of a set: name -> (scope, header, assignment lines).
type Files = BTreeMap<&'static str, (&'static str, String, Vec<String>)>;

const PROVIDER_HEAD: &str = "scope: provider
modules:
  docs: { actions: [read, write] }
roles:
  viewer: { grants: [\"docs:read\"] }
  writer: { grants: [\"docs:write\"] }
orgs:
  t1: {}
  t1-a: { parent: t1 }
  t2: {}
users:
  p1: { org: t1 }
publications:
  - { role: writer, org: t1, locked: true }
";

/// Orgs and users each scope may write about.
fn scope_orgs(scope: &str) -> &'static [&'static str] {
    match scope {
        "provider" => &["t1", "t1-a", "t2"],
        "t1" => &["t1", "t1-a"],
        "t1-a" => &["t1-a"],
        _ => &["t2"],
    }
}

fn users_of(scope: &str) -> &'static [&'static str] {
    match scope {
        "provider" => &["p1", "a1", "b1", "c1"],
        "t1" => &["a1", "b1"],
        "t1-a" => &["b1"],
        _ => &["c1"],
    }
}

fn random_assignment(r: &mut Rng, scope: &str) -> String {
    let users = users_of(scope);
    let orgs = scope_orgs(scope);
    let role = if r.percent(50) { "viewer" } else { "writer" };
    let user = users[r.below(users.len())];
    let org = orgs[r.below(orgs.len())];
    let locked = if scope == "provider" && r.percent(40) {
        ", locked: true"
    } else {
        ""
    };
    let inherit = if r.percent(30) {
        ", inherit: false"
    } else {
        ""
    };
    if r.percent(25) {
        format!("  - {{ role: {role}, org: {org}{inherit}{locked} }}")
    } else {
        format!("  - {{ role: {role}, user: {user}, org: {org}{inherit}{locked} }}")
    }
}

fn base_files(r: &mut Rng) -> Files {
    let mut files = Files::new();
    let mut put = |name, scope, header: &str, r: &mut Rng| {
        let lines = (0..r.below(4))
            .map(|_| random_assignment(r, scope))
            .collect();
        files.insert(name, (scope, header.to_owned(), lines));
    };
    put("provider.yaml", "provider", PROVIDER_HEAD, r);
    put("provider-more.yaml", "provider", "scope: provider\n", r);
    put("t1.yaml", "t1", "scope: t1\nusers:\n  a1: { org: t1 }\n", r);
    put(
        "t1-a.yaml",
        "t1-a",
        "scope: t1-a\nusers:\n  b1: { org: t1-a }\n",
        r,
    );
    put("t2.yaml", "t2", "scope: t2\nusers:\n  c1: { org: t2 }\n", r);
    files
}

fn inside(scope: &str, actor: &str) -> bool {
    match actor {
        "t1" => scope == "t1" || scope == "t1-a",
        other => scope == other,
    }
}

/// Applies one random edit, in any file: the actor may touch what it must not.
fn edit(r: &mut Rng, files: &mut Files) {
    let names: Vec<&'static str> = files.keys().copied().collect();
    let name = names[r.below(names.len())];
    let (scope, _, lines) = files.get_mut(name).unwrap();
    let scope: &str = scope;
    match r.below(6) {
        0 => {
            let line = random_assignment(r, scope);
            lines.push(line);
        }
        1 if !lines.is_empty() => {
            let i = r.below(lines.len());
            lines.remove(i);
        }
        2 if !lines.is_empty() => {
            // A copy of an item already there: another copy is a change.
            let i = r.below(lines.len());
            let copy = lines[i].clone();
            lines.push(copy);
        }
        3 if lines.len() > 1 => {
            // Reordering is no change.
            lines.rotate_left(1);
        }
        4 if scope == "provider" && !lines.is_empty() => {
            // Moving an item to another file of the same scope is no change.
            let i = r.below(lines.len());
            let line = lines.remove(i);
            let other = if name == "provider.yaml" {
                "provider-more.yaml"
            } else {
                "provider.yaml"
            };
            files.get_mut(other).unwrap().2.push(line);
        }
        _ if !lines.is_empty() => {
            // Flip `inherit` of one item: a change of that copy.
            let i = r.below(lines.len());
            let l = &mut lines[i];
            *l = if l.contains(", inherit: false") {
                l.replace(", inherit: false", "")
            } else {
                l.replacen(" }", ", inherit: false }", 1)
            };
        }
        _ => {}
    }
}

fn write(dir: &Path, files: &Files) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let mut all = String::new();
    for (name, (_, header, lines)) in files {
        let body = format!("{header}assignments:\n{}\n", lines.join("\n"));
        let body = body.replace("assignments:\n\n", "assignments: []\n");
        std::fs::write(dir.join(name), &body).unwrap();
        all.push_str(&format!("# {name}\n{body}"));
    }
    all
}

#[test]
fn tenant_changes_are_e012_exactly_outside_the_subtree() {
    let pairs: u64 = std::env::var("TRELLIS_CHANGE_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let tmp = tempfile::tempdir().unwrap();
    let (mut valid, mut flagged, mut skipped) = (0, 0, 0);
    for seed in 0..pairs {
        let mut r = Rng::new(seed);
        let actor = ["t1", "t1-a", "t2"][r.below(3)];
        let base_files = base_files(&mut r);
        let mut head_files = base_files.clone();
        for _ in 0..1 + r.below(3) {
            edit(&mut r, &mut head_files);
        }
        // What the files of each scope outside the actor's subtree say, as
        // a multiset of items (edits can cancel out).
        let said = |files: &Files| {
            let mut by_scope: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for (scope, _, lines) in files.values() {
                if !inside(scope, actor) {
                    by_scope
                        .entry(scope)
                        .or_default()
                        .extend(lines.iter().cloned());
                }
            }
            for v in by_scope.values_mut() {
                v.sort();
            }
            by_scope
        };
        let expect = said(&base_files) != said(&head_files);
        // Both revisions at the same path, one after the other, as a
        // checkout sees them: the files an edit leaves alone are the same
        // file in both, which the comparison may skip.
        let dir = tmp.path().join(seed.to_string()).join("set");
        let base_text = write(&dir, &base_files);
        let base = trellis::check_paths(std::slice::from_ref(&dir), &Default::default()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let head_text = write(&dir, &head_files);
        let head = trellis::check_paths(std::slice::from_ref(&dir), &Default::default()).unwrap();
        if base.diagnostics.has_errors() || head.diagnostics.has_errors() {
            continue;
        }
        valid += 1;
        let found = trellis::diff::change::check(&base.model, &head.model, Some(actor));
        // Leaving out the unchanged files changes nothing reported: the
        // same E012s, the same access diff. (Where an item has copies in
        // two files, which copy a change is told at can differ: the full
        // comparison may pair the edited copy with its unchanged twin and
        // point at the twin; left out, the twin cannot be chosen.)
        let same = trellis::diff::SameFiles::between(&base.sources, &head.sources);
        skipped += usize::from(same != trellis::diff::SameFiles::none());
        let quick = trellis::diff::change::check_with(&base.model, &head.model, Some(actor), &same);
        let said_of = |d: &[trellis::diag::Diagnostic]| -> Vec<String> {
            let mut v: Vec<String> = d.iter().map(|x| x.message.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(said_of(&quick), said_of(&found), "seed {seed}");
        assert_eq!(
            trellis::diff::render::json(&trellis::diff::diff_with(&base.model, &head.model, &same)),
            trellis::diff::render::json(&trellis::diff::diff(&base.model, &head.model)),
            "seed {seed}"
        );
        flagged += usize::from(expect);
        assert_eq!(
            !found.is_empty(),
            expect,
            "seed {seed}, actor {actor}: expected E012: {expect}, got {:?}\n--- base\n{base_text}\n--- head\n{head_text}",
            found.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        );
    }
    eprintln!("{valid} valid pairs, {flagged} with an edit outside the actor's subtree");
    assert!(
        skipped * 2 >= valid,
        "only {skipped} of {valid} pairs had a file left alone"
    );
    assert!(
        valid * 2 >= pairs as usize,
        "only {valid} of {pairs} pairs were valid"
    );
    assert!(
        flagged * 5 >= valid && flagged * 5 <= valid * 4,
        "{flagged} of {valid} flagged: the mix is off"
    );
}
