//! trellis where it runs: JUnit reports for CI (`test --format junit`,
//! `check --format junit`), shell completions and manual pages generated
//! from the command line's definition, watch mode, and the questions of
//! `trellis query` beyond `allow`, answered alike from sources and tables.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&std::ffi::OsStr], dir: Option<&Path>) -> (String, String, i32) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trellis"));
    c.args(args).env("NO_COLOR", "1");
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let out = c.output().expect("run trellis");
    (
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.into()).collect()
}

fn trellis_in(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let a = os(args);
    let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
    run(&refs, Some(dir))
}

/// Copies a bundled example into a fresh directory.
fn example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = root().join("policies-examples").join(name);
    for entry in std::fs::read_dir(&src).expect("example") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
    }
    dir
}

// ---------------------------------------------------------------- JUnit

/// A test file with one passing and two failing cases, and a wrong
/// `diagnostics` expectation; the lines are counted in the assertions.
const FAILING: &str = "\
tests:
  - name: alice reads templates
    user: alice
    org: atlantic
    allow: [\"templates:read\"]
  - name: bob exports finance
    user: bob
    org: atlantic
    allow: [\"finance:export\"]
  - user: bob
    org: atlantic
    roles: [viewer]
diagnostics: [W103]
";

fn attr<'a>(n: &roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    n.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no `{name}`", n.tag_name().name()))
}

#[test]
fn test_junit_has_a_suite_per_file_and_a_case_per_expectation() {
    let dir = example("quickstart");
    std::fs::write(dir.path().join("more.test.yaml"), FAILING).unwrap();
    let (xml, err, code) = trellis_in(dir.path(), &["test", ".", "--format", "junit"]);
    assert_eq!(code, 1, "failures exit 1: {err}");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let top = doc.root_element();
    assert_eq!(top.tag_name().name(), "testsuites");
    // quickstart's file: diagnostics + 4 cases; ours: diagnostics + 3.
    assert_eq!(attr(&top, "tests"), "9");
    assert_eq!(attr(&top, "failures"), "3");
    let suites: Vec<_> = top
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites.iter().map(|s| attr(s, "name")).collect();
    assert_eq!(names, ["more.test.yaml", "quickstart.test.yaml"]);
    let more = &suites[0];
    assert_eq!(attr(more, "tests"), "4");
    assert_eq!(attr(more, "failures"), "3");
    let cases: Vec<_> = more
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let case_names: Vec<&str> = cases.iter().map(|c| attr(c, "name")).collect();
    assert_eq!(
        case_names,
        [
            "diagnostics",
            "alice reads templates",
            "bob exports finance",
            "case 3"
        ]
    );
    let lines: Vec<&str> = cases.iter().map(|c| attr(c, "line")).collect();
    // `diagnostics` is on line 13; the cases start on lines 2, 6, 10.
    assert_eq!(lines, ["13", "2", "6", "10"]);
    for c in &cases {
        assert_eq!(attr(c, "file"), "more.test.yaml");
        assert_eq!(attr(c, "classname"), "more.test.yaml");
    }
    let failure = |i: usize| {
        cases[i]
            .children()
            .find(|n| n.has_tag_name("failure"))
            .map(|f| {
                (
                    attr(&f, "message").to_owned(),
                    f.text().unwrap_or("").to_owned(),
                )
            })
    };
    assert!(failure(1).is_none(), "the passing case has no failure");
    let (msg, text) = failure(0).expect("diagnostics failed");
    assert_eq!(msg, "expected diagnostics [W103], got [none]");
    assert!(text.starts_with("more.test.yaml:13:"), "{text}");
    let (msg, text) = failure(2).expect("bob's case failed");
    assert_eq!(
        msg,
        "`bob` at `atlantic`: expected allow `finance:export`, got deny"
    );
    assert!(text.starts_with("more.test.yaml:6:5: `bob`"), "{text}");
    let (msg, _) = failure(3).expect("the unnamed case failed");
    assert!(
        msg.starts_with("roles of `bob` at `atlantic`: expected [viewer], got [analyst]"),
        "{msg}"
    );
    // The other file passes whole.
    assert_eq!(attr(&suites[1], "failures"), "0");
    assert_eq!(attr(&suites[1], "tests"), "5");

    // The JSON report says the same.
    let (json, _, code) = trellis_in(dir.path(), &["test", ".", "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["passed"], 6);
    assert_eq!(v["failed"], 3);
    assert_eq!(v["files"][0]["cases"][2]["status"], "failed");
    assert_eq!(v["files"][0]["cases"][2]["line"], 6);
    assert_eq!(v["files"][0]["cases"][3]["name"], "case 3");
}

#[test]
fn test_junit_skips_the_cases_of_a_set_with_errors_and_errs_on_an_unreadable_file() {
    let dir = example("quickstart");
    std::fs::write(dir.path().join("broken.test.yaml"), "tests: [\n").unwrap();
    // An unknown role in a policy file: the set has errors.
    let provider = std::fs::read_to_string(dir.path().join("provider.yaml")).unwrap();
    std::fs::write(
        dir.path().join("provider.yaml"),
        provider.replace(
            "{ role: analyst, user: bob }",
            "{ role: analystt, user: bob }",
        ),
    )
    .unwrap();
    let (xml, _, code) = trellis_in(dir.path(), &["test", ".", "--format", "junit"]);
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suites: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let broken = suites
        .iter()
        .find(|s| attr(s, "name") == "broken.test.yaml")
        .expect("the unreadable file has its suite");
    let case = broken
        .children()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    assert_eq!(attr(&case, "name"), "reading the test file");
    let error = case
        .children()
        .find(|n| n.has_tag_name("error"))
        .expect("an error");
    assert!(attr(&error, "message").starts_with("[E001]"), "{xml}");
    let quick = suites
        .iter()
        .find(|s| attr(s, "name") == "quickstart.test.yaml")
        .unwrap();
    // Its diagnostics expectation (none) fails; its 4 cases are skipped.
    assert_eq!(attr(quick, "failures"), "1");
    assert_eq!(attr(quick, "skipped"), "4");
    let diag = quick
        .children()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    let text = diag
        .children()
        .find(|n| n.has_tag_name("failure"))
        .and_then(|f| f.text())
        .unwrap_or("");
    assert!(
        text.contains("error[E004]"),
        "the set's diagnostics are shown: {text}"
    );
}

#[test]
fn check_junit_has_a_case_per_file_failing_on_errors() {
    let (xml, _, code) = trellis_in(
        &root(),
        &["check", "tests/fixtures/mixed-five", "--format", "junit"],
    );
    assert_eq!(code, 1);
    let (short, _, _) = trellis_in(
        &root(),
        &["check", "tests/fixtures/mixed-five", "--format", "short"],
    );
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let files: Vec<&str> = cases.iter().map(|c| attr(c, "name")).collect();
    let mut expected: Vec<String> = std::fs::read_dir(root().join("tests/fixtures/mixed-five"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".toml") || n.ends_with(".yml"))
        .filter(|n| !n.contains(".test."))
        .map(|n| format!("tests/fixtures/mixed-five/{n}"))
        .collect();
    expected.sort();
    assert_eq!(files, expected, "one case per policy file, in path order");
    // Every short line appears in its file's case, as failure (error) or
    // output (warning).
    let mut seen = 0;
    for l in short.lines() {
        let file = l.split(':').next().unwrap();
        let case = cases
            .iter()
            .find(|c| attr(c, "name") == file)
            .expect("its case");
        let body: String = case
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(body.contains(l), "`{l}` is in {file}'s case");
        let failed = case.children().any(|n| n.has_tag_name("failure"));
        if l.contains(": error[") {
            assert!(failed, "{file} fails");
        }
        seen += 1;
    }
    assert!(seen > 0);
    // Warnings alone: output, not failures; with --deny-warnings, failures.
    let (xml, _, code) = trellis_in(
        &root(),
        &["check", "tests/fixtures/warnings", "--format", "junit"],
    );
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(attr(&doc.root_element(), "failures"), "0");
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("system-out") && n.text().unwrap_or("").contains(": warning[W")));
    let (xml, _, code) = trellis_in(
        &root(),
        &[
            "check",
            "tests/fixtures/warnings",
            "--format",
            "junit",
            "--deny-warnings",
        ],
    );
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_ne!(attr(&doc.root_element(), "failures"), "0");
    assert!(!doc.descendants().any(|n| n.has_tag_name("system-out")));
}

#[test]
fn check_junit_with_a_git_base_has_one_case_per_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(d)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "git {args:?}");
    };
    std::fs::write(
        d.join("provider.yaml"),
        "scope: provider\nmodules: { docs: { actions: [read] } }\n\
         roles: { viewer: { grants: [\"docs:read\"] } }\norgs: { t1: {}, t2: {} }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("t2.yaml"),
        "scope: t2\nusers: { bo: { org: t2 } }\nassignments:\n  - { role: viewer, user: bo }\n",
    )
    .unwrap();
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    // t1 removes t2's assignment: outside its subtree (E012 at the base's line).
    std::fs::write(d.join("t2.yaml"), "scope: t2\nusers: { bo: { org: t2 } }\n").unwrap();
    let (xml, err, code) = trellis_in(
        d,
        &[
            "check", ".", "--base", "HEAD", "--actor", "t1", "--format", "junit",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().map(|c| attr(c, "name")).collect();
    assert_eq!(names, ["provider.yaml", "t2.yaml"], "each path once");
    let failure = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("t2 fails");
    assert!(
        failure
            .text()
            .unwrap_or("")
            .starts_with("t2.yaml:4:5: error[E012]: "),
        "{xml}"
    );
    assert!(!cases[0].children().any(|n| n.has_tag_name("failure")));
}

// ------------------------------------------------- completions and man

const SHELLS: &[(&str, &str)] = &[
    ("bash", "trellis.bash"),
    ("zsh", "_trellis"),
    ("fish", "trellis.fish"),
    ("powershell", "_trellis.ps1"),
    ("elvish", "trellis.elv"),
];

#[test]
fn completions_and_man_pages_are_checked_in_and_current() {
    let update = std::env::var_os("TRELLIS_UPDATE_COMPLETIONS").is_some_and(|v| v == "1");
    let hint = "run `TRELLIS_UPDATE_COMPLETIONS=1 cargo test --test ecosystem` and review the diff";
    for (shell, file) in SHELLS {
        let (script, err, code) = trellis_in(&root(), &["completions", shell]);
        assert_eq!(code, 0, "{err}");
        assert!(script.contains("trellis"), "{shell}");
        let path = root().join("completions").join(file);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &script).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(checked_in == script, "{} is stale: {hint}", path.display());
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, err, code) = trellis_in(&root(), &["man", "-o", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let man = root().join("docs/man");
    if update {
        let _ = std::fs::remove_dir_all(&man);
        std::fs::create_dir_all(&man).unwrap();
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), man.join(e.file_name())).unwrap();
        }
    }
    let list = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let generated = list(dir.path());
    // One page for the command, one per subcommand.
    for page in [
        "trellis.1",
        "trellis-check.1",
        "trellis-test.1",
        "trellis-query.1",
        "trellis-completions.1",
    ] {
        assert!(
            generated.iter().any(|g| g == page),
            "{page} in {generated:?}"
        );
    }
    assert_eq!(list(&man), generated, "docs/man has other pages: {hint}");
    for page in &generated {
        let a = std::fs::read(dir.path().join(page)).unwrap();
        let b = std::fs::read(man.join(page)).unwrap_or_default();
        assert!(a == b, "docs/man/{page} is stale: {hint}");
    }
    let check = std::fs::read_to_string(man.join("trellis-check.1")).unwrap();
    assert!(check.contains("watch"), "the check page lists --watch");
}

fn bash_available() -> bool {
    Command::new("bash")
        .arg("-c")
        .arg("true")
        .status()
        .is_ok_and(|s| s.success())
}

/// The words bash would offer for `line` (the last word being completed).
fn bash_complete(line: &[&str]) -> Vec<String> {
    let script = root().join("completions/trellis.bash");
    let words = line
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let program = format!(
        "source '{}' && complete -p trellis >/dev/null && COMP_WORDS=({words}) && COMP_CWORD={} && COMP_LINE='{}' && COMP_POINT=${{#COMP_LINE}} && _trellis trellis '{}' '{}' && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        line.len() - 1,
        line.join(" "),
        line[line.len() - 1],
        line[line.len().saturating_sub(2)],
    );
    let out = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(program)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completion_loads_and_completes_subcommands_and_options() {
    if !bash_available() {
        eprintln!("bash not found: skipped");
        return;
    }
    let out = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p trellis",
            root().join("completions/trellis.bash").display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("_trellis"),
        "registered"
    );
    let subs = bash_complete(&["trellis", "ch"]);
    assert_eq!(subs, ["check"]);
    let subs = bash_complete(&["trellis", "c"]);
    for s in ["check", "compile", "completions"] {
        assert!(subs.iter().any(|x| x == s), "{s} in {subs:?}");
    }
    let opts = bash_complete(&["trellis", "test", "--f"]);
    assert_eq!(opts, ["--format"]);
    let formats = bash_complete(&["trellis", "test", "--format", ""]);
    assert_eq!(formats, ["human", "json", "junit"]);
    let shells = bash_complete(&["trellis", "completions", ""]);
    let shells: Vec<&String> = shells.iter().filter(|s| !s.starts_with('-')).collect();
    assert_eq!(shells, ["bash", "elvish", "fish", "powershell", "zsh"]);
}

// ---------------------------------------------------------------- watch

/// Lines of a child's pipe, as they come.
fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads lines until one satisfies `done`; fails after `limit`.
fn until(
    rx: &mpsc::Receiver<String>,
    limit: Duration,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> Vec<String> {
    let start = Instant::now();
    let mut got = Vec::new();
    loop {
        let left = limit.checked_sub(start.elapsed()).unwrap_or_default();
        match rx.recv_timeout(left) {
            Ok(l) => {
                let stop = done(&l);
                got.push(l);
                if stop {
                    return got;
                }
            }
            Err(_) => panic!("no {what} within {limit:?}; read: {got:?}"),
        }
    }
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn check_watch_runs_again_on_each_change_of_the_set_only() {
    let dir = example("quickstart");
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args(["check", ".", "--watch", "--format", "short"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let out = lines_of(child.0.stdout.take().unwrap());
    let err = lines_of(child.0.stderr.take().unwrap());
    let limit = Duration::from_secs(30);
    let first = until(&err, limit, "first report", |l| l.starts_with("checked "));
    assert!(
        first.last().unwrap().ends_with(": 0 errors, 0 warnings"),
        "{first:?}"
    );
    until(&err, limit, "watching", |l| l.starts_with("watching"));
    // Files outside the set change nothing: a dot-file, a file of a nested
    // repository, a file that is not a policy file.
    std::fs::write(dir.path().join(".scratch.yaml"), "scope: [").unwrap();
    // (The nested repository arrives whole, as a move does: a directory
    // seen before its `.git` is in it would count, which is only a spare run.)
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(elsewhere.path().join("vendor/.git")).unwrap();
    std::fs::rename(elsewhere.path().join("vendor"), dir.path().join("vendor")).unwrap();
    std::fs::write(dir.path().join("vendor/x.yaml"), "scope: [").unwrap();
    std::fs::write(dir.path().join("notes.md"), "notes").unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let spare: Vec<String> = err.try_iter().collect();
    assert!(
        spare.is_empty(),
        "no run for files outside the set: {spare:?}"
    );
    // An error: the second report names it.
    let provider = dir.path().join("provider.yaml");
    let good = std::fs::read_to_string(&provider).unwrap();
    std::fs::write(
        &provider,
        good.replace(
            "{ role: analyst, user: bob }",
            "{ role: analystt, user: bob }",
        ),
    )
    .unwrap();
    let second = until(&err, limit, "second report", |l| l.starts_with("checked "));
    assert!(
        second
            .iter()
            .any(|l| l.starts_with("changed: provider.yaml")),
        "{second:?}"
    );
    assert!(second.last().unwrap().contains(": 1 error,"), "{second:?}");
    let report = until(&out, limit, "the error", |l| l.contains("error[E004]"));
    assert!(
        report.last().unwrap().contains("provider.yaml:35:"),
        "{report:?}"
    );
    // Fixed: the third report is clean.
    std::fs::write(&provider, &good).unwrap();
    let third = until(&err, limit, "third report", |l| l.starts_with("checked "));
    assert!(
        third.last().unwrap().ends_with(": 0 errors, 0 warnings"),
        "{third:?}"
    );
    // Stdout is a pipe: no screen clearing.
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(l) = out.try_recv() {
        assert!(!l.contains('\u{1b}'), "no escape codes in a pipe: {l:?}");
    }
}

/// On a terminal (a pseudo-terminal from util-linux's `script`), every run
/// starts by clearing the screen and its scrollback.
#[test]
fn check_watch_clears_a_terminal_before_each_run() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("`script` not found: skipped");
        return;
    }
    let dir = example("quickstart");
    let mut child = Child(
        Command::new("script")
            .args(["-qfec"])
            .arg(format!("{} check --watch", env!("CARGO_BIN_EXE_trellis")))
            .arg("/dev/null")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let mut out = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let clear = b"\x1b[2J\x1b[3J\x1b[H";
    let mut seen = Vec::new();
    let count = |seen: &[u8], what: &[u8]| seen.windows(what.len()).filter(|w| *w == what).count();
    let wait_for = |seen: &mut Vec<u8>, runs: usize| {
        let start = Instant::now();
        while count(seen, b"watching for changes") < runs {
            let left = Duration::from_secs(30)
                .checked_sub(start.elapsed())
                .unwrap_or_default();
            match rx.recv_timeout(left) {
                Ok(bytes) => seen.extend(bytes),
                Err(_) => panic!("run {runs} not seen: {}", String::from_utf8_lossy(seen)),
            }
        }
    };
    wait_for(&mut seen, 1);
    assert_eq!(count(&seen, clear), 1, "cleared before the first run");
    let provider = dir.path().join("provider.yaml");
    let text = std::fs::read_to_string(&provider).unwrap();
    std::fs::write(&provider, text + "# a comment\n").unwrap();
    wait_for(&mut seen, 2);
    assert_eq!(count(&seen, clear), 2, "cleared before the second run");
}

#[test]
fn check_watch_of_files_sees_saves_that_replace_the_file() {
    let dir = example("quickstart");
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args([
                "check",
                "provider.yaml",
                "atlantic.toml",
                "--watch",
                "--format",
                "short",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let _out = lines_of(child.0.stdout.take().unwrap());
    let err = lines_of(child.0.stderr.take().unwrap());
    let limit = Duration::from_secs(30);
    until(&err, limit, "watching", |l| l.starts_with("watching"));
    let provider = dir.path().join("provider.yaml");
    let good = std::fs::read_to_string(&provider).unwrap();
    // As editors save: a new file renamed over the old one, twice.
    for (text, want) in [
        (
            good.replace(
                "{ role: analyst, user: bob }",
                "{ role: analystt, user: bob }",
            ),
            ": 1 error,",
        ),
        (good.clone(), ": 0 errors,"),
    ] {
        let tmp = dir.path().join(".provider.yaml.swp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &provider).unwrap();
        let run = until(&err, limit, "a run", |l| l.starts_with("checked "));
        assert!(run.last().unwrap().contains(want), "{run:?}");
    }
    // Another file beside them is not part of what was given.
    std::fs::write(dir.path().join("other.yaml"), "scope: [").unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let rest: Vec<String> = err.try_iter().collect();
    assert!(rest.iter().all(|l| !l.starts_with("changed")), "{rest:?}");
}

#[test]
fn test_watch_runs_again_when_a_test_file_changes() {
    let dir = example("quickstart");
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args(["test", "--watch"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let out = lines_of(child.0.stdout.take().unwrap());
    let _err = lines_of(child.0.stderr.take().unwrap());
    let limit = Duration::from_secs(30);
    until(&out, limit, "first report", |l| l == "5 passed, 0 failed");
    std::fs::write(dir.path().join("more.test.yaml"), FAILING).unwrap();
    let second = until(&out, limit, "second report", |l| l.ends_with(" failed"));
    assert_eq!(second.last().unwrap(), "6 passed, 3 failed", "{second:?}");
    std::fs::remove_file(dir.path().join("more.test.yaml")).unwrap();
    let third = until(&out, limit, "third report", |l| l.ends_with(" failed"));
    assert_eq!(third.last().unwrap(), "5 passed, 0 failed");
}

// ---------------------------------------------------- query questions

/// Every question of every kind over an example's names (and unknown ones),
/// as batch lines.
fn batch_lines(table: &trellis_table::Table) -> String {
    use trellis_table::{Org, Role, User};
    let users: Vec<String> = (0..table.user_count() as u32)
        .map(|u| table.user_name(User(u)).to_owned())
        .chain(["nobody".to_owned()])
        .collect();
    let orgs: Vec<String> = (0..table.org_count() as u32)
        .map(|x| table.org_name(Org(x)).to_owned())
        .chain(["nowhere".to_owned()])
        .collect();
    let roles: Vec<String> = (0..table.role_count() as u32)
        .map(|r| table.role_name(Role(r)).to_owned())
        .chain(["no-role".to_owned()])
        .collect();
    let mut perms: Vec<String> = (0..)
        .map(trellis_table::Perm)
        .take_while(|p| table.permission(&table.perm_name(*p)) == Some(*p))
        .map(|p| table.perm_name(p))
        .collect();
    let resources: Vec<String> = (0..)
        .map(trellis_table::Resource)
        .take_while(|q| table.resource_dimension(*q).is_some())
        .map(|q| table.resource_name(q).to_owned())
        .chain(["no-resource".to_owned()])
        .collect();
    perms.push("nope:nothing".to_owned());
    let mut out = String::new();
    let mut line = |v: serde_json::Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    for q in &resources {
        for p in &perms {
            line(serde_json::json!({"question": "who", "permission": p, "resource": q}));
        }
    }
    // Assignments with resources: every resource of a dimension alone, at
    // its own org (or the first), by a few admins, and one unknown
    // dimension.
    for q in (0..)
        .map(trellis_table::Resource)
        .take_while(|q| table.resource_dimension(*q).is_some())
    {
        let dim = table.dimension_name(table.resource_dimension(q).unwrap());
        let at = table
            .resource_org(q)
            .map(|o| table.org_name(o).to_owned())
            .unwrap_or_else(|| orgs[0].clone());
        for a in users.iter().take(4).chain(["self".to_owned()].iter()) {
            for u in &users {
                for r in &roles {
                    line(
                        serde_json::json!({"question": "can_assign", "by": a, "role": r, "user": u, "org": at,
                        "resources": {dim: [table.resource_name(q)]}}),
                    );
                }
            }
        }
        line(
            serde_json::json!({"question": "can_assign", "by": users[0], "role": roles[0], "user": users[0], "org": at,
            "resources": {"no-dimension": [table.resource_name(q)]}}),
        );
    }
    for x in &orgs {
        for p in &perms {
            line(serde_json::json!({"question": "who", "permission": p, "org": x}));
            for q in resources.iter().take(3) {
                line(
                    serde_json::json!({"question": "who", "permission": p, "org": x, "resource": q}),
                );
            }
        }
        line(serde_json::json!({"question": "published", "org": x}));
        for r in &roles {
            line(serde_json::json!({"question": "published", "org": x, "role": r}));
        }
        for u in &users {
            line(serde_json::json!({"question": "policies", "user": u, "org": x}));
            line(serde_json::json!({"question": "roles", "user": u, "org": x}));
            line(serde_json::json!({"user": u, "org": x, "permission": perms[0]}));
            for a in users.iter().chain(["self".to_owned()].iter()) {
                for r in &roles {
                    line(
                        serde_json::json!({"question": "can_assign", "by": a, "role": r, "user": u, "org": x}),
                    );
                }
            }
        }
    }
    out
}

#[test]
fn every_question_answers_alike_from_sources_and_from_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut asked = 0;
    let mut assignable = 0;
    let mut with_resources = 0;
    for name in [
        "quickstart",
        "msp-distributor",
        "cloud-ops",
        "saas-provider",
        "app-managers",
        "atlantic-group",
    ] {
        let src = root().join("policies-examples").join(name);
        let table = dir.path().join(format!("{name}.tbl"));
        let (_, err, code) = trellis_in(
            &root(),
            &[
                "compile",
                src.to_str().unwrap(),
                "-o",
                table.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{err}");
        let t = trellis_table::Table::open(&table).unwrap();
        let lines = batch_lines(&t);
        let batch = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&batch, &lines).unwrap();
        for format in ["json", "text"] {
            let ask = |of: &Path| {
                let (out, err, code) = trellis_in(
                    &root(),
                    &[
                        "query",
                        of.to_str().unwrap(),
                        "--batch",
                        batch.to_str().unwrap(),
                        "--format",
                        format,
                    ],
                );
                assert_eq!(code, 0, "{err}");
                out
            };
            let (a, b) = (ask(&src), ask(&table));
            assert_eq!(
                a.lines().count(),
                lines.lines().count(),
                "one answer a line"
            );
            for ((q, x), y) in lines.lines().zip(a.lines()).zip(b.lines()) {
                assert_eq!(x, y, "{name}: {q}");
            }
            asked += lines.lines().count();
        }
        // Spot checks against the table's own answers.
        let out: Vec<serde_json::Value> = {
            let (o, _, _) = trellis_in(
                &root(),
                &[
                    "query",
                    src.to_str().unwrap(),
                    "--batch",
                    batch.to_str().unwrap(),
                    "--format",
                    "json",
                ],
            );
            o.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let mut allowed_somewhere = false;
        for (q, a) in lines.lines().zip(&out) {
            let q: serde_json::Value = serde_json::from_str(q).unwrap();
            if q["question"] == "can_assign" && a["allowed"] == true {
                assignable += 1;
                if q.get("resources").is_some() {
                    with_resources += 1;
                }
            }
            if q["question"] == "who" {
                let users = a["users"].as_array().unwrap();
                let names: Vec<&str> = users.iter().map(|u| u.as_str().unwrap()).collect();
                let mut sorted = names.clone();
                sorted.sort();
                assert_eq!(names, sorted, "who is sorted");
                if q.get("resource").is_some() {
                    continue;
                }
                let (Some(x), Some(p)) = (
                    t.org(q["org"].as_str().unwrap()),
                    t.permission(q["permission"].as_str().unwrap()),
                ) else {
                    assert!(names.is_empty());
                    assert!(!a["unknown"].as_array().unwrap().is_empty());
                    continue;
                };
                let every: Vec<&str> = t
                    .who_on_every_user(p, x, None)
                    .into_iter()
                    .map(|u| t.user_name(u))
                    .collect();
                assert_eq!(names, every, "{q}");
                allowed_somewhere |= !names.is_empty();
            }
        }
        assert!(allowed_somewhere, "{name}: some who is not empty");
    }
    assert!(asked > 1000, "{asked} questions");
    assert!(assignable > 0, "some can_assign is allowed");
    assert!(
        with_resources > 0,
        "some can_assign with resources is allowed"
    );
}

#[test]
fn query_questions_from_the_command_line() {
    let q = root().join("policies-examples/quickstart");
    let q = q.to_str().unwrap();
    let ask = |args: &[&str]| {
        let mut all = vec!["query", q];
        all.extend_from_slice(args);
        trellis_in(&root(), &all)
    };
    // alice is org-admin from acme down; bob holds analyst only.
    let (out, _, code) = ask(&[
        "--who",
        "--permission",
        "templates:delete",
        "--org",
        "atlantic",
    ]);
    assert_eq!((out.as_str(), code), ("alice\n", 0));
    let (out, _, _) = ask(&[
        "--who",
        "--permission",
        "beta-insights:read",
        "--org",
        "atlantic",
        "--explain",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "bob");
    assert_eq!(
        lines[1],
        "  allow: may `bob` use `beta-insights:read` at `atlantic`?"
    );
    let (out, _, _) = ask(&[
        "--policies",
        "--user",
        "bob",
        "--org",
        "atlantic",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["policies"], serde_json::json!(["insights-beta"]));
    assert_eq!(v["unknown"], serde_json::json!([]));
    // atlantic's custom role is not published at its sibling pacific.
    let (out, _, _) = ask(&["--published", "--org", "pacific"]);
    assert!(!out.lines().any(|l| l.contains("safe-editor")), "{out}");
    let (out, _, _) = ask(&["--published", "--org", "atlantic"]);
    assert!(out.lines().any(|l| l == "safe-editor"), "{out}");
    let (out, _, _) = ask(&[
        "--published",
        "--org",
        "pacific",
        "--role",
        "atlantic::safe-editor",
    ]);
    assert_eq!(out, "unpublished\n");
    // viewer has no assignable_by: nobody may assign it.
    let (out, _, code) = ask(&[
        "--can-assign",
        "--by",
        "alice",
        "--role",
        "viewer",
        "--user",
        "bob",
        "--org",
        "atlantic",
        "--explain",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "deny\n  role `viewer` has no `assignable_by`: only files assign it\n"
    );
    // Unknown names answer empty, fail closed, and --explain names them.
    let (out, _, code) = ask(&[
        "--who",
        "--permission",
        "templates:read",
        "--org",
        "nowhere",
        "--explain",
    ]);
    assert_eq!((out.as_str(), code), ("  unknown org `nowhere`\n", 0));
    let (out, _, _) = ask(&[
        "--can-assign",
        "--by",
        "mallory",
        "--role",
        "viewer",
        "--user",
        "bob",
        "--org",
        "atlantic",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["unknown"], serde_json::json!(["user `mallory`"]));
    // Resources of the assignment: an unknown dimension fails closed.
    let (out, _, code) = ask(&[
        "--can-assign",
        "--by",
        "alice",
        "--role",
        "viewer",
        "--user",
        "bob",
        "--org",
        "atlantic",
        "--resources",
        "region=eu,us",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["allowed"], false);
    assert_eq!(v["resources"], serde_json::json!({"region": ["eu", "us"]}));
    assert_eq!(v["unknown"], serde_json::json!(["dimension `region`"]));
    assert_eq!(
        ask(&[
            "--can-assign",
            "--by",
            "alice",
            "--role",
            "viewer",
            "--user",
            "bob",
            "--org",
            "atlantic",
            "--resources",
            "region"
        ])
        .2,
        2
    );
    // Usage: a question without what it needs is exit 2.
    assert_eq!(ask(&["--who", "--org", "atlantic"]).2, 2);
    assert_eq!(ask(&["--policies", "--user", "bob"]).2, 2);
    assert_eq!(
        ask(&[
            "--can-assign",
            "--role",
            "viewer",
            "--user",
            "bob",
            "--org",
            "atlantic"
        ])
        .2,
        2
    );
    assert_eq!(
        ask(&["--who", "--roles", "--user", "bob", "--org", "atlantic"]).2,
        2
    );
    // A batch line with an unknown kind or a misspelt field is refused.
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        r#"{"question":"whom","permission":"a:b","org":"x"}"#,
        r#"{"question":"who","permision":"a:b","org":"x"}"#,
    ] {
        let f = dir.path().join("b.jsonl");
        std::fs::write(&f, bad).unwrap();
        let (_, err, code) = ask(&["--batch", f.to_str().unwrap()]);
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains(":1: not a query"), "{err}");
    }
}
