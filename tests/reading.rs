//! Reading a set: a directory and a git revision of the same tree are the
//! same set (symbolic links not followed, nested repositories left out,
//! nothing skipped for depth), and a `--base` that could mean a planted
//! directory or a revision is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::Path;
use std::process::{Command, Output};

const PROVIDER: &str = "scope: provider
modules:
  docs: { actions: [read, write] }
roles:
  viewer: { grants: [\"docs:read\"] }
orgs:
  t1: {}
  t2: {}
users:
  ann: { org: t1 }
";

const T1: &str = "scope: t1
assignments:
  - { role: viewer, user: ann }
";

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args([
            "-c",
            "init.defaultBranch=trunk",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn trellis(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// A repository whose set `policies/` is committed, with a branch `main`.
fn repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    write(&repo.path().join("policies/provider.yaml"), PROVIDER);
    write(&repo.path().join("policies/t1.yaml"), T1);
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    git(repo.path(), &["branch", "main"]);
    repo
}

#[test]
fn a_base_that_is_both_a_directory_and_a_revision_is_refused() {
    let repo = repo();
    let r = repo.path();
    // The pull request plants its own "base": a directory named `main`.
    write(&r.join("main/provider.yaml"), PROVIDER);
    write(
        &r.join("main/t1.yaml"),
        "scope: t1\nassignments:\n  - { role: viewer, user: ann }\n",
    );
    let out = trellis(r, &["check", "policies", "--base", "main", "--actor", "t1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("both a directory and a git revision"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("./main"), "{}", text(&out));
    let out = trellis(r, &["diff", "main", "policies"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // Either meaning, asked for exactly, is read.
    for base in ["./main", "refs/heads/main"] {
        let out = trellis(r, &["check", "policies", "--base", base, "--actor", "t1"]);
        assert_eq!(out.status.code(), Some(0), "{base}: {}", text(&out));
    }
    // `./` always means a directory, even when none exists.
    let out = trellis(
        r,
        &["check", "policies", "--base", "./trunk", "--actor", "t1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a directory"), "{}", text(&out));
    // A base that is found but holds no policy file (read while the head's
    // checks run): the run stops there, naming it.
    std::fs::create_dir_all(r.join("empty")).expect("mkdir");
    let out = trellis(
        r,
        &["check", "policies", "--base", "./empty", "--actor", "t1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("base `./empty`: no policy files"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_directory_and_its_revision_are_the_same_set() {
    let repo = repo();
    let r = repo.path();
    let set = r.join("policies");
    // Deeper than any walker limit: read, so its user exists.
    let mut deep = set.clone();
    for i in 0..80 {
        deep.push(format!("d{i}"));
    }
    write(
        &deep.join("deep.yaml"),
        "scope: t2\nusers:\n  deb: { org: t2 }\nassignments:\n  - { role: viewer, user: deb }\n",
    );
    // A nested repository is another project, not part of the set.
    let nested = set.join("vendor");
    write(&nested.join("junk.yaml"), "not: [valid\n");
    git(&nested, &["init", "-q"]);
    git(&nested, &["add", "."]);
    git(&nested, &["commit", "-q", "-m", "nested"]);
    // A linked directory (here a loop) is not entered.
    std::os::unix::fs::symlink("..", set.join("loop")).unwrap();
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "deep, nested, loop"]);

    let out = trellis(r, &["check", "policies", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ask = [
        "query",
        "policies",
        "--user",
        "deb",
        "--org",
        "t2",
        "--permission",
        "docs:read",
    ];
    let out = trellis(r, &ask);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "allow",
        "{}",
        text(&out)
    );
    // The work tree against its own commit: no change, whichever reader.
    let out = trellis(
        r,
        &["diff", "HEAD", "./policies", "policies", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (k, n) in v["summary"].as_object().unwrap() {
        assert_eq!(n, 0, "{k}: {}", text(&out));
    }
    let out = trellis(
        r,
        &[
            "check", "policies", "--base", "HEAD", "--actor", "t1", "--format", "short",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_symbolic_link_named_like_a_policy_file_is_e001_in_both_readers() {
    let repo = repo();
    let r = repo.path();
    let outside = r.join("elsewhere.yaml");
    write(
        &outside,
        "scope: t1\nassignments:\n  - { role: viewer, org: t1 }\n",
    );
    std::os::unix::fs::symlink(&outside, r.join("policies/linked.yaml")).unwrap();
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "link"]);
    let out = trellis(r, &["check", "policies", "--format", "short"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("linked.yaml:1:1: error[E001]: symbolic link not followed"),
        "{shown}"
    );
    // The revision holds the same link: the same set, so no change.
    let out = trellis(
        r,
        &[
            "check", "policies", "--base", "HEAD", "--actor", "t1", "--format", "short",
        ],
    );
    let shown = text(&out);
    assert!(!shown.contains("E012"), "{shown}");
    assert_eq!(shown.matches("[E001]").count(), 1, "{shown}");
}
