//! The pieces that fit trellis into a policy repository: the owners file
//! and `check --author` (with the ways around it a pull request could
//! try), `trellis.toml`, `trellis init`, and the YAML of the hooks, the
//! action and the workflows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::Path;
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "init.defaultBranch=trunk"])
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
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

// ---------------------------------------------------------------------
// The owners file and `check --base REV --author LOGIN`.
// ---------------------------------------------------------------------

const PROVIDER: &str = "scope: provider
modules:
  docs: { actions: [read, write] }
roles:
  viewer: { grants: [\"docs:read\"] }
orgs:
  acme: {}
  acme-eu: { parent: acme }
  globex: {}
users:
  ann: { org: acme }
  eve: { org: acme-eu }
  gus: { org: globex }
";

const ACME: &str = "scope: acme
assignments:
  - { role: viewer, user: ann }
";

const ACME_EU: &str = "scope: acme-eu
assignments:
  - { role: viewer, user: eve }
";

const GLOBEX: &str = "scope: globex
assignments:
  - { role: viewer, user: gus }
";

const OWNERS: &str = "[teams]
platform = [\"Alice\"]

[[owner]]
scope = \"provider\"
teams = [\"platform\"]

[[owner]]
scope = \"acme\"
logins = [\"bob\"]

[[owner]]
scope = \"acme-eu\"
logins = [\"erin\"]

[[owner]]
scope = \"globex\"
logins = [\"gina\"]
";

/// A repository whose base branch `trunk` holds the set and its owners file.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "provider.yaml", PROVIDER);
    write(d, "tenants/acme/acme.yaml", ACME);
    write(d, "tenants/acme-eu/eu.yaml", ACME_EU);
    write(d, "tenants/globex/globex.yaml", GLOBEX);
    write(d, "trellis-owners.toml", OWNERS);
    write(d, "trellis.toml", "owners = \"trellis-owners.toml\"\n");
    git(d, &["init", "-q"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    dir
}

fn gate(d: &Path, author: &str) -> Output {
    trellis(
        d,
        &[
            "check", ".", "--base", "trunk", "--author", author, "--format", "short",
        ],
    )
}

fn actor_note(out: &Output) -> String {
    let err = text(&out.stderr);
    err.lines()
        .find_map(|l| l.strip_prefix("note: actor `"))
        .and_then(|l| l.split('`').next())
        .unwrap_or("")
        .to_owned()
}

/// A tenant file change: the assignment moves to another role-holder.
fn touch(d: &Path, rel: &str, original: &str) {
    write(d, rel, &format!("{original}# edited\n"));
}

#[test]
fn the_actor_is_the_narrowest_scope_of_the_author_covering_the_change() {
    let dir = repo();
    let d = dir.path();
    touch(d, "tenants/acme-eu/eu.yaml", ACME_EU);
    // erin acts for acme-eu itself.
    let out = gate(d, "erin");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(actor_note(&out), "acme-eu");
    // bob acts for acme, whose subtree holds acme-eu.
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(actor_note(&out), "acme");
    // A provider owner is the provider.
    let out = gate(d, "alice");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(actor_note(&out), "provider");
    // gina acts for globex only: refused, naming the file outside.
    let out = gate(d, "gina");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("`gina` acts for `globex`"), "{err}");
    assert!(
        err.contains("tenants/acme-eu/eu.yaml (scope acme-eu)"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no verdict on a refusal");
}

#[test]
fn an_author_acting_for_two_scopes_gets_the_one_that_covers_everything() {
    let dir = repo();
    let d = dir.path();
    let mut owners = OWNERS.replace("logins = [\"erin\"]", "logins = [\"erin\", \"bob\"]");
    owners.push('\n');
    write(d, "trellis-owners.toml", &owners);
    git(d, &["commit", "-q", "-am", "bob also for acme-eu"]);
    touch(d, "tenants/acme-eu/eu.yaml", ACME_EU);
    assert_eq!(actor_note(&gate(d, "bob")), "acme-eu");
    touch(d, "tenants/acme/acme.yaml", ACME);
    assert_eq!(actor_note(&gate(d, "bob")), "acme");
}

#[test]
fn an_author_with_no_scope_is_refused_even_for_an_empty_change() {
    let dir = repo();
    let d = dir.path();
    let out = gate(d, "mallory");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`mallory` acts for no scope"));
    // With nothing changed, an owner passes (nothing to attribute).
    let out = gate(d, "gina");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(actor_note(&out), "globex");
    assert!(text(&out.stderr).contains("covers the 0 changed files"));
}

#[test]
fn logins_are_compared_without_regard_to_case() {
    let dir = repo();
    let d = dir.path();
    touch(d, "provider.yaml", PROVIDER);
    // The file says `Alice`; GitHub reports whatever case the user chose.
    for login in ["alice", "ALICE", "Alice"] {
        let out = gate(d, login);
        assert_eq!(out.status.code(), Some(0), "{login}: {}", text(&out.stderr));
        assert_eq!(actor_note(&out), "provider");
    }
    let out = gate(d, "BOB");
    assert_eq!(
        out.status.code(),
        Some(2),
        "bob may not change provider.yaml"
    );
    assert!(text(&out.stderr).contains("provider.yaml (scope provider)"));
}

#[test]
fn the_owners_file_is_read_from_the_base_not_from_the_pull_request() {
    let dir = repo();
    let d = dir.path();
    // mallory adds herself as a provider owner and edits a provider file.
    write(
        d,
        "trellis-owners.toml",
        &format!("{OWNERS}\n[[owner]]\nscope = \"provider\"\nlogins = [\"mallory\"]\n"),
    );
    touch(d, "provider.yaml", PROVIDER);
    let out = gate(d, "mallory");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`mallory` acts for no scope"));
    // Committed on the pull request's branch, it is still not the base.
    git(d, &["checkout", "-q", "-b", "pr"]);
    git(d, &["commit", "-q", "-am", "me too"]);
    assert_eq!(gate(d, "mallory").status.code(), Some(2));
}

#[test]
fn only_a_provider_owner_may_change_the_owners_file() {
    let dir = repo();
    let d = dir.path();
    // bob widens his own scope: his scope covers no set file.
    write(
        d,
        "trellis-owners.toml",
        &OWNERS.replace("scope = \"acme\"", "scope = \"provider\""),
    );
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("trellis-owners.toml (the set's own file: provider only)"),
        "{err}"
    );
    // The provider may.
    let out = gate(d, "alice");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(actor_note(&out), "provider");
}

#[test]
fn deleting_moving_or_planting_an_owners_file_is_the_providers_too() {
    // Deleted.
    let dir = repo();
    let d = dir.path();
    std::fs::remove_file(d.join("trellis-owners.toml")).unwrap();
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("trellis-owners.toml (the set's own file"));
    assert_eq!(gate(d, "alice").status.code(), Some(0));
    // Moved into the tenant's own directory.
    let dir = repo();
    let d = dir.path();
    git(
        d,
        &[
            "mv",
            "trellis-owners.toml",
            "tenants/acme/trellis-owners.toml",
        ],
    );
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("tenants/acme/trellis-owners.toml (the set's own file"),
        "{err}"
    );
    // A second owners file planted in a tenant's directory, base untouched.
    let dir = repo();
    let d = dir.path();
    write(
        d,
        "tenants/acme/trellis-owners.toml",
        "[[owner]]\nscope = \"provider\"\nlogins = [\"bob\"]\n",
    );
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("tenants/acme/trellis-owners.toml"));
    // Without the gate it does not vanish either: it is an error there.
    let out = trellis(d, &["check", ".", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(
        "tenants/acme/trellis-owners.toml:1:1: error[E002]: `trellis-owners.toml` below the set's root is not read"
    ));
}

#[test]
fn the_configuration_is_the_providers_and_a_planted_one_is_an_error() {
    let dir = repo();
    let d = dir.path();
    // Pointing the gate at another owners file needs the provider.
    write(d, "trellis.toml", "owners = \"tenants/acme/mine.toml\"\n");
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("trellis.toml (the set's own file"));
    // A tenant's own trellis.toml below the root: refused by the gate, and
    // an error (not silently ignored) for a plain check.
    let dir = repo();
    let d = dir.path();
    write(
        d,
        "tenants/acme/trellis.toml",
        "[warnings]\nallow = [\"W104\"]\n",
    );
    assert_eq!(gate(d, "bob").status.code(), Some(2));
    let out = trellis(d, &["check", ".", "--format", "short"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(
        "tenants/acme/trellis.toml:1:1: error[E002]: `trellis.toml` below the set's root is not read"
    ));
}

#[test]
fn a_symlinked_owners_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "provider.yaml", PROVIDER);
    write(d, "tenants/acme/acme.yaml", ACME);
    write(d, "elsewhere/owners.txt", OWNERS);
    std::os::unix::fs::symlink("elsewhere/owners.txt", d.join("trellis-owners.toml")).unwrap();
    git(d, &["init", "-q"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    let out = trellis(
        d,
        &[
            "check",
            ".",
            "--base",
            "trunk",
            "--author",
            "bob",
            "--owners",
            "trellis-owners.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a symbolic link in the base `trunk`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_owners_file_must_exist_in_the_base_and_be_valid() {
    let dir = repo();
    let d = dir.path();
    // An owners file only the pull request has.
    write(d, "new-owners.toml", OWNERS);
    let out = trellis(
        d,
        &[
            "check",
            ".",
            "--base",
            "trunk",
            "--author",
            "bob",
            "--owners",
            "new-owners.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist in the base `trunk`"));
    // An owners file of the base with mistakes: located, exit 2.
    let dir = repo();
    let d = dir.path();
    write(
        d,
        "trellis-owners.toml",
        "[[owner]]\nscope = \"acmee\"\nlogin = [\"bob\"]\nteams = [\"nope\"]\n",
    );
    git(d, &["commit", "-q", "-am", "broken owners"]);
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("trellis-owners.toml:3:1: error[E002]: unknown key `login`"),
        "{err}"
    );
    assert!(err.contains("did you mean `logins`?"), "{err}");
    assert!(
        err.contains("trellis-owners.toml:2:9: error[E004]: unknown scope `acmee`"),
        "{err}"
    );
    assert!(
        err.contains("trellis-owners.toml:4:10: error[E004]: unknown team `nope`"),
        "{err}"
    );
}

#[test]
fn the_set_is_still_checked_under_the_chosen_actor() {
    let dir = repo();
    let d = dir.path();
    // bob (acme) edits his own file, reaching into globex: the gate lets
    // the file through (its scope is acme), the check reports the item.
    write(
        d,
        "tenants/acme/acme.yaml",
        "scope: acme\nassignments:\n  - { role: viewer, user: ann }\n  - { role: viewer, user: gus, org: globex }\n",
    );
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(actor_note(&out), "acme");
    assert!(
        text(&out.stdout).contains("tenants/acme/acme.yaml:4:37: error[E010]"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_change_that_would_break_the_owners_file_is_refused() {
    let dir = repo();
    let d = dir.path();
    // The provider removes globex, which the owners file still names.
    write(
        d,
        "provider.yaml",
        &PROVIDER
            .replace("  globex: {}\n", "")
            .replace("  gus: { org: globex }\n", ""),
    );
    std::fs::remove_file(d.join("tenants/globex/globex.yaml")).unwrap();
    let out = gate(d, "alice");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("trellis-owners.toml:17:9: error[E004]: unknown scope `globex`"),
        "{err}"
    );
    assert!(err.contains("has errors with this change"), "{err}");
}

#[test]
fn author_and_actor_usage() {
    let dir = repo();
    let d = dir.path();
    let both = trellis(
        d,
        &[
            "check", ".", "--base", "trunk", "--actor", "acme", "--author", "bob",
        ],
    );
    assert_eq!(both.status.code(), Some(2));
    let neither = trellis(d, &["check", ".", "--base", "trunk"]);
    assert_eq!(neither.status.code(), Some(2));
    assert!(text(&neither.stderr).contains("`--base` needs `--actor SCOPE` or `--author LOGIN`"));
    let no_base = trellis(d, &["check", ".", "--author", "bob"]);
    assert_eq!(no_base.status.code(), Some(2));
    // No owners file named anywhere.
    std::fs::remove_file(d.join("trellis.toml")).unwrap();
    git(d, &["commit", "-q", "-am", "no config"]);
    let out = gate(d, "bob");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`--author` needs the owners file"));
    // --owners outside the set.
    let out = trellis(
        d,
        &[
            "check",
            ".",
            "--base",
            "trunk",
            "--author",
            "bob",
            "--owners",
            "../x.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not inside the set"));
}

// ---------------------------------------------------------------------
// trellis.toml
// ---------------------------------------------------------------------

/// A set with one W103 (a custom role never assigned).
fn warned() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    write(d, "provider.yaml", PROVIDER);
    write(
        d,
        "acme.yaml",
        "scope: acme\nroles:\n  lonely: { grants: [\"docs:read\"] }\n",
    );
    dir
}

#[test]
fn config_deny_warnings_allow_and_deny() {
    let dir = warned();
    let d = dir.path();
    let out = trellis(d, &["check", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("warning[W103]"));
    write(d, "trellis.toml", "deny_warnings = true\n");
    assert_eq!(trellis(d, &["check"]).status.code(), Some(1));
    write(d, "trellis.toml", "[warnings]\ndeny = [\"W103\"]\n");
    assert_eq!(trellis(d, &["check"]).status.code(), Some(1));
    write(d, "trellis.toml", "[warnings]\ndeny = [\"W101\"]\n");
    assert_eq!(trellis(d, &["check"]).status.code(), Some(0));
    write(
        d,
        "trellis.toml",
        "deny_warnings = true\n[warnings]\nallow = [\"W103\"]\n",
    );
    let out = trellis(d, &["check", "--format", "short"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "an allowed warning is not reported at all"
    );
    assert!(!text(&out.stdout).contains("W103"));
}

#[test]
fn config_format_and_size_with_flags_winning() {
    let dir = warned();
    let d = dir.path();
    write(d, "trellis.toml", "format = \"json\"\nmax_file_size = 10\n");
    let out = trellis(d, &["check"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.iter().all(|c| *c == "E001"),
        "files over 10 bytes: {codes:?}"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = trellis(
        d,
        &["check", "--format", "short", "--max-file-size", "100000"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("acme.yaml:3:3: warning[W103]"));
}

#[test]
fn config_mistakes_are_located_with_a_suggestion() {
    let dir = warned();
    let d = dir.path();
    write(
        d,
        "trellis.toml",
        "deny_warning = true\n[warnings]\nallow = [\"W999\", \"E001\"]\ndeny = [\"W103\"]\n",
    );
    let out = trellis(d, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("trellis.toml:1:1: error[E002]: unknown key `deny_warning`\n  help: did you mean `deny_warnings`?\n"), "{err}");
    assert!(
        err.contains("trellis.toml:3:10: error[E002]: unknown warning code `W999`"),
        "{err}"
    );
    assert!(
        err.contains("trellis.toml:3:18: error[E002]: `E001` is an error"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing is checked");
    // A wrong type, at its value.
    write(d, "trellis.toml", "max_file_size = \"big\"\n");
    let out = trellis(d, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "trellis.toml:1:17: error[E002]: expected a whole number, found the string `big`"
        ),
        "{}",
        text(&out.stderr)
    );
    // test reads it too.
    assert_eq!(trellis(d, &["test"]).status.code(), Some(2));
}

#[test]
fn config_is_found_walking_up_but_not_past_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    // Above the repository: never applies.
    write(top, "trellis.toml", "deny_warnings = true\n");
    let repo = top.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    write(&repo, "set/provider.yaml", PROVIDER);
    write(
        &repo,
        "set/acme.yaml",
        "scope: acme\nroles:\n  lonely: { grants: [\"docs:read\"] }\n",
    );
    assert_eq!(trellis(&repo, &["check", "set"]).status.code(), Some(0));
    // At the repository's root: applies to a set below it.
    write(&repo, "trellis.toml", "deny_warnings = true\n");
    assert_eq!(trellis(&repo, &["check", "set"]).status.code(), Some(1));
    // A symbolic link is refused.
    std::fs::remove_file(repo.join("trellis.toml")).unwrap();
    std::os::unix::fs::symlink("../trellis.toml", repo.join("trellis.toml")).unwrap();
    let out = trellis(&repo, &["check", "set"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is a symbolic link"));
}

#[test]
fn config_schema_is_current_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let out = trellis(dir.path(), &["schema", "--config"]);
    let file = std::fs::read_to_string("schema/trellis-config.schema.json").expect("schema file");
    assert_eq!(
        text(&out.stdout),
        file,
        "schema/trellis-config.schema.json is stale: run `cargo run -- schema --config > schema/trellis-config.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
    let mut keys: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "deny_warnings",
            "format",
            "max_file_size",
            "owners",
            "warnings"
        ]
    );
}

// ---------------------------------------------------------------------
// trellis init
// ---------------------------------------------------------------------

#[test]
fn init_checks_clean_and_its_tests_pass() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = trellis(d, &["init", "repo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = d.join("repo");
    for f in [
        "README.md",
        "trellis.toml",
        "trellis-owners.toml",
        "provider/catalog.yaml",
        "tenants/acme/acme.yaml",
        "access.test.yaml",
        ".github/workflows/trellis.yml",
        ".trellis/schema/trellis.schema.json",
    ] {
        assert!(r.join(f).is_file(), "{f}");
    }
    let out = trellis(&r, &["check", "--format", "short"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        out.stdout.is_empty(),
        "no diagnostic at all: {}",
        text(&out.stdout)
    );
    let out = trellis(&r, &["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // 3 cases, and the set's diagnostics expectation (none) of the file.
    assert!(
        text(&out.stdout).ends_with("4 passed, 0 failed\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn init_with_two_tenants_and_its_gate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    let out = trellis(d, &["init", "--tenant", "globex", "--tenant", "initech"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(d.join("tenants/globex/globex.yaml").is_file());
    assert!(d.join("tenants/initech/initech.yaml").is_file());
    assert!(!d.join("tenants/acme").exists());
    assert_eq!(trellis(d, &["check"]).status.code(), Some(0));
    let out = trellis(d, &["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // 3 cases a tenant, one across them, and the diagnostics expectation.
    assert!(
        text(&out.stdout).ends_with("8 passed, 0 failed\n"),
        "{}",
        text(&out.stdout)
    );
    // The owners mapping it writes works as the gate reads it.
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "init"]);
    let f = d.join("tenants/globex/globex.yaml");
    let mut t = std::fs::read_to_string(&f).unwrap();
    t.push_str("  - { role: reader, user: globex-dev, org: globex }\n");
    std::fs::write(&f, t).unwrap();
    let out = trellis(d, &["check", "--base", "trunk", "--author", "globex-admin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(actor_note(&out), "globex");
    let out = trellis(
        d,
        &["check", "--base", "trunk", "--author", "initech-admin"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_refuses_a_directory_with_files_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "notes.txt", "mine\n");
    let out = trellis(d, &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not empty"));
    let names: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["notes.txt"]);
    // Only dot entries, but one of them is a file init would write.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, ".github/workflows/trellis.yml", "mine\n");
    let out = trellis(d, &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("exists"));
    assert_eq!(
        std::fs::read_to_string(d.join(".github/workflows/trellis.yml")).unwrap(),
        "mine\n"
    );
    let names: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [".github"]);
    // Bad tenants.
    for bad in [["--tenant", "Acme"], ["--tenant", "provider"]] {
        let out = trellis(d, &["init", bad[0], bad[1]]);
        assert_eq!(out.status.code(), Some(2));
    }
    let out = trellis(d, &["init", "x", "--tenant", "a", "--tenant", "a"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("x").exists());
}

// ---------------------------------------------------------------------
// Hooks, action, workflows: they cannot run here, but they must parse.
// ---------------------------------------------------------------------

fn yaml_parses(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    // Read as if a policy file: shape errors are expected, syntax (E001) not.
    let (_, diags) = trellis::load::load_bytes("x.yaml", &bytes, &trellis::load::Limits::default());
    let syntax: Vec<_> = diags
        .iter()
        .filter(|d| d.code == trellis::diag::Code::E001)
        .map(|d| d.message.clone())
        .collect();
    assert!(syntax.is_empty(), "{}: {syntax:?}", path.display());
}

#[test]
fn hooks_action_and_workflows_are_yaml() {
    for f in [
        ".pre-commit-hooks.yaml",
        "action.yml",
        ".github/workflows/release.yml",
        "policies-examples/monorepo/.github/workflows/trellis.yml",
    ] {
        yaml_parses(Path::new(f));
    }
    let hooks = std::fs::read_to_string(".pre-commit-hooks.yaml").unwrap();
    for id in ["trellis-check", "trellis-test"] {
        assert!(hooks.contains(&format!("- id: {id}\n")), "{id}");
    }
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(trellis(dir.path(), &["init"]).status.code(), Some(0));
    yaml_parses(&dir.path().join(".github/workflows/trellis.yml"));
}
