//! Base/head pairs under `tests/changes/<case>/{base,head}`: the change
//! check by actor (E012, expectations in `expect`) and the access diff
//! (markdown and JSON snapshots).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use trellis::revision::SetSource;

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("tests/changes")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn load(dir: &Path) -> (trellis::Checked, trellis::Checked) {
    let head = trellis::check_paths(&[dir.join("head")], &Default::default()).unwrap();
    let mut head = head;
    let sources = std::mem::take(&mut head.sources);
    let base = trellis::check_source(
        SetSource::Dir(dir.join("base")),
        &Default::default(),
        sources,
    )
    .unwrap();
    (base, head)
}

#[test]
fn change_check_reports_exactly_the_expected_codes() {
    let all = cases();
    assert!(all.len() >= 6);
    for dir in all {
        let expect = std::fs::read_to_string(dir.join("expect")).unwrap();
        let actor = expect
            .lines()
            .find_map(|l| l.strip_prefix("actor: "))
            .unwrap()
            .trim()
            .to_owned();
        let mut want: Vec<String> = expect
            .lines()
            .find_map(|l| l.strip_prefix("codes:"))
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        want.sort();
        let (base, head) = load(&dir);
        let actor = (actor != "provider").then_some(actor.as_str());
        let mut got: Vec<String> = head
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        got.extend(
            trellis::diff::change::check(&base.model, &head.model, actor)
                .into_iter()
                .map(|d| d.code.to_string()),
        );
        got.sort();
        assert_eq!(got, want, "{}", dir.display());
    }
}

/// Each pair is its own case (insta's `glob!`): every mismatch is reported,
/// each under its pair, and `INSTA_GLOB_FILTER=changes/file-rename` runs one.
#[test]
fn access_diffs_match_snapshots() {
    insta::glob!("changes/*", |found| {
        if !found.is_dir() {
            return;
        }
        // glob! hands over an absolute path; the sets are read by the relative one.
        let name = found.file_name().unwrap().to_string_lossy().into_owned();
        let (base, head) = load(&Path::new("tests/changes").join(&name));
        if head.diagnostics.has_errors() {
            return;
        }
        let d = trellis::diff::diff(&base.model, &head.model);
        // Named for the pair already: no `@pair` suffix.
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true, snapshot_suffix => "" }, {
            insta::assert_snapshot!(format!("diff-{name}.md"), trellis::diff::render::markdown(&d, 60_000));
            insta::assert_snapshot!(format!("diff-{name}.json"), trellis::diff::render::json(&d));
        });
    });
}

#[test]
fn a_file_rename_is_no_change() {
    let (base, head) = load(Path::new("tests/changes/file-rename"));
    let d = trellis::diff::diff(&base.model, &head.model);
    assert!(!d.changes_access());
    assert!(d.locked.is_empty());
    assert!(trellis::diff::change::check(&base.model, &head.model, Some("t1")).is_empty());
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

/// `--base` and `diff` read revisions from git without touching the work tree.
#[test]
fn revisions_are_read_from_git() {
    let repo = tempfile::tempdir().unwrap();
    let set = repo.path().join("policies");
    std::fs::create_dir_all(&set).unwrap();
    for f in ["provider.yaml", "t1.yaml", "t2.yaml"] {
        std::fs::copy(
            Path::new("tests/changes/tenant-edits-sibling/base").join(f),
            set.join(f),
        )
        .unwrap();
    }
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    std::fs::copy(
        "tests/changes/tenant-edits-sibling/head/t2.yaml",
        set.join("t2.yaml"),
    )
    .unwrap();
    git(repo.path(), &["commit", "-q", "-am", "head"]);
    std::fs::write(set.join("t2.yaml"), "scope: t2\n").unwrap(); // a dirty work tree is not read for revisions
    let bin = env!("CARGO_BIN_EXE_trellis");
    let out = Command::new(bin)
        .args(["diff", "HEAD~1", "HEAD"])
        .arg(&set)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["users"][0]["user"], "bob");
    assert_eq!(
        v["users"][0]["changes"][0]["roles_gained"][0],
        "provider::editor"
    );
    let out = Command::new(bin)
        .args(["diff", "no-such-rev", "HEAD"])
        .arg(&set)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Change check of the work tree (t2 emptied) against HEAD~1 by actor t1.
    let out = Command::new(bin)
        .arg("check")
        .arg(&set)
        .args(["--base", "HEAD~1", "--actor", "t1", "--format", "short"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "error[E012]: `t1` may not remove assignment provider::viewer -> user:bob @ t2"
        ),
        "{text}"
    );
    assert!(text.contains("policies/t2.yaml:3:5"), "{text}");
}

/// The same two revisions with files renamed and reordered give the same
/// diff, byte for byte.
#[test]
fn diff_output_does_not_depend_on_file_names() {
    let dir = Path::new("tests/changes/provider-changes-lock");
    let (base, head) = load(dir);
    let want = trellis::diff::render::json(&trellis::diff::diff(&base.model, &head.model));
    let tmp = tempfile::tempdir().unwrap();
    for side in ["base", "head"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(side))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for (i, f) in files.iter().rev().enumerate() {
            let to = tmp
                .path()
                .join(side)
                .join(format!("{i}-{}", f.file_name().unwrap().to_string_lossy()));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(f, to).unwrap();
        }
    }
    let (b, h) = load(tmp.path());
    let got = trellis::diff::render::json(&trellis::diff::diff(&b.model, &h.model));
    assert_eq!(got, want);
}

/// `diff --markdown-cap N`: the comment is at most N bytes, the truncation
/// pointer included, and it is cut only when the whole does not fit; a cut
/// comment is the full one up to a whole line, its open section closed.
#[test]
fn markdown_cap_is_exact_and_cuts_only_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let provider = |users: usize, extra: &str| {
        let mut t = String::from(
            "scope: provider\nmodules: { docs: { actions: [read, write] } }\n\
             roles:\n  viewer: { grants: [\"docs:read\"] }\n  editor: { grants: [\"docs:write\"], includes: [viewer] }\n\
             orgs:\n  t1: {}\n  t2: {}\n",
        );
        // An org per user, so that every user's change differs (users
        // with the same change would share one row).
        for i in 0..70 {
            t.push_str(&format!("  t1-{i:03}: {{ parent: t1 }}\n"));
        }
        t.push_str("users:\n");
        for i in 0..users {
            t.push_str(&format!("  user-with-a-long-name-{i:03}: {{ org: t1 }}\n"));
        }
        t.push_str(extra);
        t
    };
    let base = tmp.path().join("base");
    let head = tmp.path().join("head");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&head).unwrap();
    std::fs::write(base.join("provider.yaml"), provider(60, "")).unwrap();
    let mut assignments = String::from("assignments:\n");
    for i in 0..60 {
        let role = if i % 2 == 0 { "viewer" } else { "editor" };
        assignments.push_str(&format!(
            "  - {{ role: {role}, user: user-with-a-long-name-{i:03}, org: t1-{i:03} }}\n"
        ));
    }
    assignments.push_str("publications:\n  - { role: editor, org: t2, publish: false }\n");
    std::fs::write(head.join("provider.yaml"), provider(70, &assignments)).unwrap();
    let (b, h) = load(tmp.path());
    assert!(!h.diagnostics.has_errors(), "{:?}", h.diagnostics);
    let d = trellis::diff::diff(&b.model, &h.model);
    let full = trellis::diff::render::markdown(&d, usize::MAX);
    assert!(full.len() > 5_000, "{}", full.len());
    assert_eq!(full.matches("<details>").count(), 3, "{full}");
    let pointer = "\n_Truncated: run `trellis diff BASE HEAD --format json` for the full diff._\n";
    let mut last_kept = 0;
    for cap in (0..full.len() + 64)
        .step_by(7)
        .chain([full.len() - 1, full.len()])
    {
        let out = trellis::diff::render::markdown(&d, cap);
        assert!(out.len() <= cap, "cap {cap}: {} bytes", out.len());
        if full.len() <= cap {
            assert_eq!(out, full, "cap {cap}: cut though it fits");
            continue;
        }
        if cap < pointer.len() {
            continue; // too small for the pointer: a shorter one, or nothing
        }
        let kept = out
            .strip_suffix(pointer)
            .unwrap_or_else(|| panic!("cap {cap}: no pointer\n{out}"));
        // The full comment's text, then `</details>` if a section was cut.
        let kept = match kept.strip_suffix("\n</details>\n\n") {
            Some(cut) if !full.starts_with(kept) => cut,
            _ => kept,
        };
        assert!(
            full.starts_with(kept),
            "cap {cap}: not a prefix of the full comment\n{out}"
        );
        assert!(
            kept.is_empty() || kept.ends_with('\n'),
            "cap {cap}: cut inside a line"
        );
        assert_eq!(
            out.matches("<details>").count(),
            out.matches("</details>").count(),
            "cap {cap}"
        );
        // Cut as late as fits: the next line of the full comment would not
        // (a section's title line only comes with its first row).
        let mut rest = full[kept.len()..].split_inclusive('\n');
        let mut next_line = rest.next().unwrap_or("").to_owned();
        if next_line.starts_with("<details>") {
            next_line.extend(rest.take(2));
        }
        assert!(
            out.len() + next_line.len() > cap.saturating_sub(16),
            "cap {cap}: {} bytes kept, the line `{}` would fit too",
            kept.len(),
            next_line.trim_end()
        );
        assert!(
            kept.len() >= last_kept,
            "cap {cap}: a larger cap keeps less"
        );
        last_kept = kept.len();
    }
    // The command applies the cap the same way.
    for cap in [500usize, 2_000, full.len() - 1, full.len()] {
        let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args([
                "diff",
                "--format",
                "markdown",
                "--markdown-cap",
                &cap.to_string(),
            ])
            .arg(&base)
            .arg(&head)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.stdout,
            trellis::diff::render::markdown(&d, cap).into_bytes()
        );
        assert!(out.stdout.len() <= cap);
    }
}

/// A tenant that shadows a provider role re-resolves the names of its own
/// unchanged files, never the provider's: skipping the files both
/// revisions share reports the same E012s and the same diff as comparing
/// everything (the locked assignment of `viewer` in provider.yaml stays
/// the provider's `viewer`).
#[test]
fn skipping_unchanged_files_survives_a_shadowing_role() {
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("set");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies-examples/quickstart");
    std::fs::create_dir_all(&set).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, set.join(p.file_name().unwrap())).unwrap();
    }
    let read = || trellis::check_paths(std::slice::from_ref(&set), &Default::default()).unwrap();
    let base = read();
    // The tenant adds its own `viewer` (W101) and `editor`, in a new file.
    std::fs::write(
        set.join("atlantic-roles.toml"),
        "scope = \"atlantic\"\n\n[roles.viewer]\ngrants = [\"templates:delete\"]\n\n[roles.editor]\ngrants = [\"templates:delete\"]\n",
    )
    .unwrap();
    let head = read();
    assert!(!head.diagnostics.has_errors());
    let same = trellis::diff::SameFiles::between(&base.sources, &head.sources);
    assert_ne!(same, trellis::diff::SameFiles::none());
    for actor in ["atlantic", "atlantic-lab", "pacific"] {
        let messages = |d: Vec<trellis::diag::Diagnostic>| {
            let mut v: Vec<String> = d.into_iter().map(|x| x.message).collect();
            v.sort();
            v
        };
        assert_eq!(
            messages(trellis::diff::change::check_with(
                &base.model,
                &head.model,
                Some(actor),
                &same
            )),
            messages(trellis::diff::change::check(
                &base.model,
                &head.model,
                Some(actor)
            )),
            "{actor}"
        );
    }
    // The file is atlantic's: another tenant writing it is told so.
    assert!(
        !trellis::diff::change::check_with(&base.model, &head.model, Some("pacific"), &same)
            .is_empty()
    );
    assert_eq!(
        trellis::diff::render::json(&trellis::diff::diff_with(&base.model, &head.model, &same)),
        trellis::diff::render::json(&trellis::diff::diff(&base.model, &head.model)),
    );
}
