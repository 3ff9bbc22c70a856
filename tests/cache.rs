//! The cache of parsed files changes nothing a command prints: every set
//! checks and compiles alike cold, warm, after an edit, with the cache file
//! corrupted in any way, and without it; and a cache inside the set being
//! read (where a change to the set could plant one) is not used.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn trellis(cache: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trellis"));
    cmd.args(args);
    match cache {
        Some(dir) => cmd.env("TRELLIS_CACHE_DIR", dir),
        None => cmd.arg("--no-cache"),
    };
    cmd.output().expect("trellis runs")
}

/// What a check prints (diagnostics as JSON) and its exit code.
fn check(cache: Option<&Path>, set: &Path) -> (Option<i32>, String, String) {
    let out = trellis(
        cache,
        &["check", "--format", "json", set.to_str().expect("utf-8")],
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The bundled examples, the fixtures (one per diagnostic) and the
/// conformance sample.
fn sets() -> Vec<PathBuf> {
    let mut sets = common::subdirs(Path::new("policies-examples"));
    sets.extend(common::subdirs(Path::new("tests/fixtures")));
    sets.extend(common::conformance_sets());
    assert!(sets.len() > 20, "{sets:?}");
    sets
}

/// The one cache file under `dir`.
fn cache_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir.join("sets"))
        .expect("the cache was written")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "items"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().expect("one")
}

#[test]
fn every_set_checks_alike_cold_warm_and_without_the_cache() {
    for set in sets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = check(None, &set);
        let cold = check(Some(dir.path()), &set);
        let warm = check(Some(dir.path()), &set);
        assert_eq!(cold, plain, "{}: cold", set.display());
        assert_eq!(warm, plain, "{}: warm", set.display());
        // `trellis test` reads test files too (never cached): the same
        // report, and no cache file left half written.
        let test = |cache| {
            let out = trellis(cache, &["test", set.to_str().expect("utf-8")]);
            (out.status.code(), out.stdout)
        };
        assert_eq!(
            test(Some(dir.path())),
            test(None),
            "{}: test",
            set.display()
        );
        left_whole(dir.path());
    }
}

/// Every file of the cache directory `dir` is a complete cache file.
fn left_whole(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir.join("sets")) else {
        return;
    };
    for entry in entries {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(name.ends_with(".items") && !name.starts_with('.'), "{name}");
    }
}

#[test]
fn a_warm_run_reads_back_and_compiles_the_same_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let set = "policies-examples/msp-distributor";
    let table = |cache: Option<&Path>, name: &str| {
        let path = out.path().join(name);
        let o = trellis(
            cache,
            &["compile", set, "-o", path.to_str().expect("utf-8")],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(path).expect("written")
    };
    let plain = table(None, "plain.tbl");
    assert_eq!(table(Some(dir.path()), "cold.tbl"), plain);
    let written = std::fs::read(cache_file(dir.path())).expect("cache file");
    let timings = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["compile", set, "-o"])
        .arg(out.path().join("warm.tbl"))
        .env("TRELLIS_CACHE_DIR", dir.path())
        .env("TRELLIS_TIMINGS", "1")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&timings.stderr);
    let files = policy_files(Path::new(set));
    assert!(
        stderr.contains(&format!("parsed files: {files} read back, 0 parsed")),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(out.path().join("warm.tbl")).expect("warm"),
        plain
    );
    assert_eq!(
        std::fs::read(cache_file(dir.path())).expect("cache file"),
        written,
        "nothing parsed: the cache file is left as it was"
    );
}

/// The policy files of a flat set (test files left out).
fn policy_files(set: &Path) -> usize {
    std::fs::read_dir(set)
        .expect("set")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| (n.ends_with(".yaml") || n.ends_with(".toml")) && !n.contains(".test."))
        .count()
}

/// Copies `from` (flat) into a new temporary directory.
fn copy(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(from).expect("set") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    to
}

#[test]
fn after_an_edit_only_the_edited_file_is_parsed_and_the_diagnostics_follow_the_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = copy(Path::new("policies-examples/msp-distributor"));
    let _ = check(Some(dir.path()), set.path());
    let victim = std::fs::read_dir(set.path())
        .expect("set")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .max()
        .expect("a yaml file");
    let text = std::fs::read_to_string(&victim).expect("read");
    // Shift every span of the file: items kept for the old text would
    // point at the wrong places.
    std::fs::write(
        &victim,
        format!("# a comment that moves every line\n\n{text}\nbogus_key: 1\n"),
    )
    .expect("edit");
    let plain = check(None, set.path());
    assert_ne!(plain.0, Some(0), "the edit is an error: {plain:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["check", "--format", "json"])
        .arg(set.path())
        .env("TRELLIS_CACHE_DIR", dir.path())
        .env("TRELLIS_TIMINGS", "1")
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), plain.1);
    let files = policy_files(set.path());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("parsed files: {} read back, 1 parsed", files - 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And back: the edited file was not kept (it has a diagnostic), and
    // the old text reads as before.
    std::fs::write(&victim, &text).expect("restore");
    assert_eq!(check(Some(dir.path()), set.path()), check(None, set.path()));
}

#[test]
fn a_corrupt_cache_file_is_never_believed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = Path::new("tests/fixtures/e004-unknown");
    let plain = check(None, set);
    let _ = check(Some(dir.path()), set);
    let file = cache_file(dir.path());
    let good = std::fs::read(&file).expect("cache file");
    let mut damaged: Vec<Vec<u8>> = vec![Vec::new(), b"TRELTREE".to_vec(), vec![0xff; 4096]];
    for cut in [1, 16, 17, good.len() / 2, good.len() - 24, good.len() - 1] {
        damaged.push(good[..cut].to_vec());
    }
    // A byte changed in every stretch of the file: header, payloads,
    // index and footer.
    for at in (0..good.len()).step_by((good.len() / 97).max(1)) {
        let mut d = good.clone();
        d[at] ^= 0x5a;
        damaged.push(d);
    }
    for d in damaged {
        std::fs::write(&file, &d).expect("damage");
        assert_eq!(
            check(Some(dir.path()), set),
            plain,
            "damaged at {} bytes",
            d.len()
        );
    }
    // Not a file at all: a directory, or a FIFO (which opening would wait
    // on forever).
    std::fs::remove_file(&file).expect("remove");
    std::fs::create_dir(&file).expect("mkdir");
    assert_eq!(check(Some(dir.path()), set), plain);
    std::fs::remove_dir(&file).expect("rmdir");
    let made = Command::new("mkfifo").arg(&file).status().expect("mkfifo");
    assert!(made.success());
    assert_eq!(check(Some(dir.path()), set), plain);
}

#[test]
fn a_cache_inside_the_set_is_not_used() {
    let set = copy(Path::new("policies-examples/quickstart"));
    let inside = set.path().join(".trellis").join("cache");
    let (code, stdout, stderr) = check(Some(&inside), set.path());
    let plain = check(None, set.path());
    assert_eq!((code, stdout), (plain.0, plain.1));
    assert!(
        stderr.contains("not using the cache of parsed files"),
        "{stderr}"
    );
    assert!(!inside.exists(), "nothing is written inside the set");
    // Named through a path that leads into the set by another way.
    let link = tempfile::tempdir().expect("tempdir");
    let via = link.path().join("via");
    std::os::unix::fs::symlink(set.path(), &via).expect("symlink");
    let (_, _, stderr) = check(Some(&via.join(".cache")), set.path());
    assert!(
        stderr.contains("not using the cache of parsed files"),
        "{stderr}"
    );
    assert!(!set.path().join(".cache").exists());
}

#[test]
fn a_cache_directory_that_cannot_be_written_changes_nothing() {
    let set = Path::new("policies-examples/msp-distributor");
    let plain = check(None, set);
    // A file where the directory should be: nothing can be created there.
    let dir = tempfile::tempdir().expect("tempdir");
    let blocked = dir.path().join("cache");
    std::fs::write(&blocked, "not a directory").expect("write");
    assert_eq!(check(Some(&blocked), set), plain);
    assert_eq!(check(Some(&blocked.join("below")), set), plain);
}

#[test]
fn the_gate_reports_and_diffs_alike_cold_warm_and_without_the_cache() {
    let repo = copy(Path::new("policies-examples/msp-distributor"));
    let r = repo.path();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .current_dir(r)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    let file = r.join("northstar.yaml");
    let text = std::fs::read_to_string(&file).expect("read");
    // paul loses what this assignment adds to his rules' roles.
    let edited = text.replace(
        "  - { role: support-agent, user: paul, org: northstar }\n",
        "",
    );
    assert_ne!(edited, text);
    std::fs::write(&file, edited).expect("edit");
    git(&["commit", "-qam", "head"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let gate = |cache: Option<&Path>| {
        let diff = r.join("diff.md");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trellis"));
        cmd.current_dir(r)
            .args(["check", ".", "--base", "HEAD~1", "--actor", "northstar"])
            .args(["--format", "json", "--diff-format", "json", "--diff-out"])
            .arg(&diff);
        match cache {
            Some(d) => cmd.env("TRELLIS_CACHE_DIR", d),
            None => cmd.arg("--no-cache"),
        };
        let out = cmd.output().expect("runs");
        let written = std::fs::read_to_string(&diff).unwrap_or_default();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            written,
        )
    };
    let plain = gate(None);
    assert!(
        plain.2.contains("paul"),
        "the diff names the change: {plain:?}"
    );
    assert_eq!(gate(Some(dir.path())), plain, "cold");
    assert_eq!(gate(Some(dir.path())), plain, "warm");
    left_whole(dir.path());
}
