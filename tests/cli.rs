//! The command-line contract: exit codes, formats, schema drift, queries,
//! and hostile input that must be rejected cleanly and fast.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn trellis() -> Command {
    let mut c = Command::cargo_bin("trellis").expect("binary builds");
    c.env("NO_COLOR", "1");
    c
}

fn stdout(args: &[&str]) -> (String, i32) {
    let out = trellis().args(args).output().expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn exit_codes() {
    assert_eq!(stdout(&["check", "tests/fixtures/clean"]).1, 0);
    assert_eq!(stdout(&["check", "tests/fixtures/e007-unpublished"]).1, 1);
    assert_eq!(stdout(&["check", "tests/fixtures/warnings"]).1, 0);
    assert_eq!(
        stdout(&["check", "tests/fixtures/warnings", "--deny-warnings"]).1,
        1
    );
    assert_eq!(stdout(&["check", "tests/fixtures/does-not-exist"]).1, 2);
    assert_eq!(
        stdout(&["check", "--format", "nope", "tests/fixtures/clean"]).1,
        2
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let out = trellis()
        .arg("check")
        .arg(empty.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no policy files"));
}

#[test]
fn every_error_of_every_file_in_one_run() {
    let (short, code) = stdout(&["check", "tests/fixtures/mixed-five", "--format", "short"]);
    assert_eq!(code, 1);
    let expected = [
        "tests/fixtures/mixed-five/broken.yaml:4:1: error[E001]",
        "tests/fixtures/mixed-five/provider.yaml:5:41: error[E002]: unknown key `colour`",
        "tests/fixtures/mixed-five/provider.yaml:6:22: error[E004]: unknown module `templats`",
        "tests/fixtures/mixed-five/roles.yaml:3:3: error[E003]: duplicate role `viewer`",
        "tests/fixtures/mixed-five/users.toml:5:9: error[E002]: expected a boolean",
    ];
    for e in expected {
        assert!(short.contains(e), "missing {e} in\n{short}");
    }
    assert_eq!(short.lines().count(), 5, "{short}");
}

#[test]
fn sarif_is_2_1_0_with_rules_and_regions() {
    let (out, code) = stdout(&["check", "tests/fixtures/mixed-five", "--format", "sarif"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "E004"));
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], id);
        assert!(matches!(r["level"].as_str(), Some("error" | "warning")));
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().expect("line") >= 1);
        assert!(region["startColumn"].as_u64().expect("col") >= 1);
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
    }
}

#[test]
fn json_and_github_formats() {
    let (out, _) = stdout(&[
        "check",
        "tests/fixtures/e007-unpublished",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E007");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 14);
    assert_eq!(v["summary"]["errors"], 1);
    let (gh, _) = stdout(&[
        "check",
        "tests/fixtures/e007-unpublished",
        "--format",
        "github",
    ]);
    assert!(
        gh.starts_with(
            "::error file=tests/fixtures/e007-unpublished/provider.yaml,line=14,col=27,"
        ),
        "{gh}"
    );
    assert!(
        gh.contains("title=E007::role `viewer` is not published at `lab`"),
        "{gh}"
    );
}

#[test]
fn default_format_off_a_terminal_is_short() {
    let (out, _) = stdout(&["check", "tests/fixtures/e007-unpublished"]);
    assert_eq!(
        out,
        "tests/fixtures/e007-unpublished/provider.yaml:14:27: error[E007]: role `viewer` is not published at `lab`\n"
    );
}

#[test]
fn human_format_shows_the_source() {
    let (out, _) = stdout(&[
        "check",
        "tests/fixtures/e007-unpublished",
        "--format",
        "human",
    ]);
    assert!(out.contains("E007"), "{out}");
    assert!(out.contains("- { role: viewer, user: u1 }"), "{out}");
}

#[test]
fn schema_matches_checked_in_file() {
    let (out, code) = stdout(&["schema"]);
    assert_eq!(code, 0);
    let file = std::fs::read_to_string("schema/trellis.schema.json").expect("schema file");
    assert_eq!(out, file, "schema/trellis.schema.json is stale: run `cargo run -- schema > schema/trellis.schema.json`");
}

#[test]
fn explain_prints_the_long_text() {
    let (out, code) = stdout(&["explain", "e008"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# E008"));
    assert_eq!(stdout(&["explain", "E999"]).1, 2);
}

#[test]
fn query_single_json_roles_and_batch() {
    let set = "policies-examples/quickstart";
    let q = |extra: &[&str]| {
        let mut args = vec!["query", set];
        args.extend_from_slice(extra);
        stdout(&args)
    };
    assert_eq!(
        q(&[
            "--user",
            "alice",
            "--org",
            "atlantic",
            "--permission",
            "templates:delete"
        ])
        .0,
        "allow\n"
    );
    assert_eq!(
        q(&[
            "--user",
            "bob",
            "--org",
            "atlantic",
            "--permission",
            "templates:delete"
        ])
        .0,
        "deny\n"
    );
    assert_eq!(
        q(&[
            "--user",
            "nobody",
            "--org",
            "atlantic",
            "--permission",
            "templates:read"
        ])
        .0,
        "deny\n"
    );
    let (json, _) = q(&[
        "--user",
        "bob",
        "--org",
        "atlantic",
        "--permission",
        "beta-insights:read",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["decision"], "allow");
    assert_eq!(
        q(&["--user", "alice", "--org", "atlantic", "--roles"]).0,
        "editor\norg-admin\nviewer\n"
    );
    let (explain, _) = q(&[
        "--user",
        "nobody",
        "--org",
        "atlantic",
        "--permission",
        "templates:read",
        "--explain",
    ]);
    assert!(explain.contains("unknown user `nobody`"), "{explain}");

    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("q.jsonl");
    std::fs::write(
        &batch,
        concat!(
            "{\"user\":\"alice\",\"org\":\"atlantic\",\"permission\":\"templates:delete\"}\n",
            "{\"user\":\"bob\",\"org\":\"atlantic\",\"permission\":\"templates:delete\"}\n",
            "{\"user\":\"carol\",\"org\":\"atlantic-lab\",\"permission\":\"templates:create\"}\n",
        ),
    )
    .expect("write");
    let out = trellis()
        .args(["query", set, "--batch"])
        .arg(&batch)
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "allow\ndeny\nallow\n");
}

#[test]
fn test_command_reports_failures_with_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["provider.yaml", "atlantic.toml"] {
        std::fs::copy(
            Path::new("policies-examples/quickstart").join(f),
            dir.path().join(f),
        )
        .expect("copy");
    }
    std::fs::write(
        dir.path().join("wrong.test.yaml"),
        "tests:\n  - user: bob\n    org: atlantic\n    allow: [\"templates:delete\"]\n",
    )
    .expect("write");
    let out = trellis()
        .arg("test")
        .arg(dir.path())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("wrong.test.yaml:2:5: FAIL"), "{text}");
    assert!(
        text.contains("expected allow `templates:delete`, got deny"),
        "{text}"
    );
    // The diagnostics expectation (none) holds; the one case fails.
    assert!(text.contains("1 passed, 1 failed"), "{text}");
}

/// Each hostile file gets a located E001/E002, never a panic, in well under a second.
#[test]
fn hostile_input_is_rejected_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    let mut bomb = String::from("scope: provider\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    std::fs::write(p.join("bomb.yaml"), bomb).expect("write");
    std::fs::write(
        p.join("deep.yaml"),
        format!(
            "scope: provider\nx: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    )
    .expect("write");
    std::fs::write(
        p.join("deep.toml"),
        format!(
            "scope = \"provider\"\nx = {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    )
    .expect("write");
    std::fs::write(
        p.join("deepmap.yaml"),
        format!(
            "scope: provider\n{}",
            (0..5000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect::<String>()
        ),
    )
    .expect("write");
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(p.join("garbage.yaml"), &garbage).expect("write");
    std::fs::write(
        p.join("latin1.yaml"),
        b"scope: provider\norgs:\n  caf\xe9: {}\n",
    )
    .expect("write");
    std::fs::write(
        p.join("truncated.yaml"),
        "scope: provider\norgs:\n  acme: { kind: \"dis",
    )
    .expect("write");
    std::fs::write(
        p.join("truncated.toml"),
        "scope = \"provider\"\n[orgs.acme\n",
    )
    .expect("write");
    std::fs::write(p.join("empty.yaml"), "").expect("write");
    // One long line with multi-byte text: positions must stay linear to compute.
    let long: Vec<String> = (0..100_000).map(|i| format!("é{i}")).collect();
    std::fs::write(
        p.join("longline.yaml"),
        format!("{{scope: provider, x: [{}]}}\n", long.join(",")),
    )
    .expect("write");
    // A few KB whose aliases would copy a long string a million times.
    let mut amp = format!("scope: provider\nl0: &l0 \"{}\"\n", "x".repeat(3000));
    for i in 1..6 {
        amp.push_str(&format!(
            "l{i}: &l{i} [{}]\n",
            vec![format!("*l{}", i - 1); 10].join(", ")
        ));
    }
    std::fs::write(p.join("amplify.yaml"), amp).expect("write");
    std::fs::write(p.join("list.yaml"), "- 1\n- 2\n").expect("write");
    let start = Instant::now();
    let out = trellis()
        .args(["check", "--format", "short"])
        .arg(p)
        .output()
        .expect("runs");
    let elapsed = start.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for (file, code) in [
        ("bomb.yaml", "E001"),
        ("deep.yaml", "E001"),
        ("deep.toml", "E001"),
        ("deepmap.yaml", "E001"),
        ("garbage.yaml", "E001"),
        ("latin1.yaml", "E001"),
        ("truncated.yaml", "E001"),
        ("truncated.toml", "E001"),
        ("empty.yaml", "E002"),
        ("longline.yaml", "E002"),
        ("amplify.yaml", "E001"),
        ("list.yaml", "E002"),
    ] {
        let found = text.lines().any(|l| l.contains(file) && l.contains(code));
        assert!(found, "no {code} for {file} in\n{text}");
    }
    assert!(
        text.contains("latin1.yaml:3:6: error[E001]: file is not valid UTF-8"),
        "{text}"
    );
    // A guard against a hang (an alias bomb expanded, say), not a speed
    // target: generous enough for a loaded CI machine.
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

#[test]
fn file_size_limit_is_configurable() {
    let out = trellis()
        .args([
            "check",
            "--format",
            "short",
            "--max-file-size",
            "10",
            "tests/fixtures/clean",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("more than the limit of 10 bytes"));
}

#[test]
fn compile_writes_atomically_and_queries_answer_from_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("quickstart.tbl");
    let json = dir.path().join("quickstart.json");
    let out = trellis()
        .args([
            "compile",
            "policies-examples/quickstart",
            "--provenance",
            "-o",
        ])
        .arg(&table)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read(&table).expect("table written");
    let dump: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("valid json");
    assert_eq!(dump["format_version"], 3);
    // Same input, same bytes.
    let again = dir.path().join("again.tbl");
    trellis()
        .args([
            "compile",
            "policies-examples/quickstart",
            "--provenance",
            "-o",
        ])
        .arg(&again)
        .output()
        .expect("runs");
    assert_eq!(first, std::fs::read(&again).expect("second table"));
    // A failing compile leaves the previous table intact.
    let out = trellis()
        .args(["compile", "tests/fixtures/e007-unpublished", "-o"])
        .arg(&table)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    // E007 is found by the semantic checks, which run beside the table
    // build: the build is dropped, the finding printed (SPEC §11: exit 1).
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("E007"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no table written"));
    assert_eq!(first, std::fs::read(&table).expect("still there"));
    // The table answers like the sources.
    let t = table.to_string_lossy().into_owned();
    for (user, org, perm, want) in [
        ("alice", "atlantic", "templates:delete", "allow\n"),
        ("bob", "atlantic", "templates:delete", "deny\n"),
        ("bob", "atlantic", "beta-insights:read", "allow\n"),
        ("carol", "atlantic-lab", "templates:update", "deny\n"),
    ] {
        let (got, code) = stdout(&[
            "query",
            &t,
            "--user",
            user,
            "--org",
            org,
            "--permission",
            perm,
        ]);
        assert_eq!(code, 0);
        assert_eq!(got, want, "{user} {org} {perm}");
        let (src, _) = stdout(&[
            "query",
            "policies-examples/quickstart",
            "--user",
            user,
            "--org",
            org,
            "--permission",
            perm,
        ]);
        assert_eq!(got, src);
    }
    let (roles, _) = stdout(&[
        "query", &t, "--user", "alice", "--org", "atlantic", "--roles",
    ]);
    assert_eq!(roles, "editor\norg-admin\nviewer\n");
    let (explain, _) = stdout(&[
        "query",
        &t,
        "--user",
        "alice",
        "--org",
        "atlantic",
        "--permission",
        "templates:read",
        "--explain",
    ]);
    assert!(
        explain.contains("policies-examples/quickstart/provider.yaml:"),
        "{explain}"
    );
    // A corrupt table is a clean error, exit 2.
    let mut bad = first.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    std::fs::write(&table, &bad).expect("write");
    let out = trellis()
        .args([
            "query",
            &t,
            "--user",
            "alice",
            "--org",
            "acme",
            "--permission",
            "templates:read",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));
}

#[test]
fn show_marks_provider_locks_read_only() {
    let (out, code) = stdout(&["show", "--org", "pacific", "policies-examples/quickstart"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("viewer -> every member of pacific at pacific and below (by provider, policies-examples/quickstart/provider.yaml:37)  [locked by the provider: read-only]"),
        "{out}"
    );
    let (json, _) = stdout(&[
        "show",
        "--org",
        "atlantic",
        "policies-examples/quickstart",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["org"], "atlantic");
    let own = v["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == "safe-editor")
        .expect("own role");
    assert_eq!(own["read_only"], false);
    assert_eq!(
        stdout(&["show", "--org", "nowhere", "policies-examples/quickstart"]).1,
        2
    );
}

#[test]
fn graph_renders_mermaid_and_dot() {
    let (mermaid, code) = stdout(&["graph", "policies-examples/quickstart"]);
    assert_eq!(code, 0);
    assert!(mermaid.starts_with("flowchart TD\n"));
    assert!(mermaid.contains("org_acme --> org_atlantic"), "{mermaid}");
    assert!(
        mermaid.contains("role_provider__editor --> role_provider__viewer"),
        "{mermaid}"
    );
    let (dot, _) = stdout(&[
        "graph",
        "policies-examples/quickstart",
        "--format",
        "dot",
        "--org",
        "atlantic",
    ]);
    assert!(dot.starts_with("digraph trellis {"), "{dot}");
    assert!(dot.contains("org_atlantic -> org_atlantic_lab;"), "{dot}");
    assert!(!dot.contains("org_pacific"), "{dot}");
}

#[test]
fn a_test_file_given_alone_runs_against_its_directory() {
    let (out, code) = stdout(&["test", "policies-examples/quickstart/quickstart.test.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("5 passed, 0 failed\n"), "{out}");
}

/// Runs `check --format F` on `dir`, returning stdout, stderr and the exit code.
fn check_format(dir: &Path, format: &str) -> (String, String, i32) {
    let out = trellis()
        .args(["check", "--format", format])
        .arg(dir)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// A line of ~70,000 characters (more than a `format!` width may be) with an
/// error at its end: the human format prints a located diagnostic, clipped,
/// at the exact line and column, never a panic.
#[test]
fn human_format_survives_a_very_long_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let orgs: Vec<String> = (0..7000).map(|i| format!("o{i}: {{}}")).collect();
    // Non-ASCII before the error on the same line: columns count characters.
    let line = format!(
        "orgs: {{ {}, bad: {{ name: \"é\", colour: 1 }} }}",
        orgs.join(", ")
    );
    let column = line.chars().count() - "colour: 1 } }".chars().count() + 1;
    assert!(line.len() > 70_000);
    std::fs::write(
        dir.path().join("p.yaml"),
        format!("scope: provider\n{line}\n"),
    )
    .expect("write");
    let (short, _, code) = check_format(dir.path(), "short");
    assert_eq!(code, 1, "{short}");
    let located = format!("p.yaml:2:{column}");
    assert!(
        short.contains(&format!("{located}: error[E002]: unknown key `colour`")),
        "{short}"
    );
    let (human, err, code) = check_format(dir.path(), "human");
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(human.contains(&format!("{located}]")), "{human}");
    assert!(
        human.contains("bad: { name: \"é\", colour: 1 } }"),
        "{human}"
    );
    // Clipped: no output line anywhere near the source line's length.
    assert!(
        human.lines().all(|l| l.len() < 1000),
        "a line was not clipped"
    );
    assert!(err.contains("checked 1 file: 1 error"), "{err}");
}

/// Columns count characters in every format: a leading byte order mark is
/// no character, a non-ASCII character is one (README, output formats).
#[test]
fn columns_agree_across_formats_after_a_bom_and_non_ascii_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `colour` at character 19 of line 1, after the mark.
    std::fs::write(
        dir.path().join("a.yaml"),
        "\u{feff}{scope: provider, colour: 1}\n",
    )
    .expect("write");
    // `colour` at character 20 of line 3, after `éé` (4 bytes, 2 characters).
    std::fs::write(
        dir.path().join("b.yaml"),
        "scope: provider\norgs:\n  a: { name: \"éé\", colour: 1 }\n",
    )
    .expect("write");
    // A TOML syntax error after a mark and non-ASCII text: character 11.
    std::fs::write(
        dir.path().join("c.toml"),
        "\u{feff}scope = \"provider\"\n[orgs.a]\nname = \"é\"; x = 1\n",
    )
    .expect("write");
    let expected = [
        ("a.yaml", 1, 19, 25),
        ("b.yaml", 3, 20, 26),
        ("c.toml", 3, 11, 11),
    ];
    let (short, _, _) = check_format(dir.path(), "short");
    let (human, _, _) = check_format(dir.path(), "human");
    let (json, _, _) = check_format(dir.path(), "json");
    let (sarif, _, _) = check_format(dir.path(), "sarif");
    let (github, _, _) = check_format(dir.path(), "github");
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    let sarif: serde_json::Value = serde_json::from_str(&sarif).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "{sarif}");
    for (i, (file, line, col, end_col)) in expected.into_iter().enumerate() {
        assert!(
            short.contains(&format!("{file}:{line}:{col}: error")),
            "{file}\n{short}"
        );
        assert!(
            human.contains(&format!("{file}:{line}:{col}]")),
            "{file}\n{human}"
        );
        let d = &json["diagnostics"][i];
        assert!(d["file"].as_str().expect("file").ends_with(file));
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(line), Some(col)),
            "{file}"
        );
        assert_eq!(d["end"]["column"].as_u64(), Some(end_col), "{file}");
        let region = &results[i]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"].as_u64(), Some(line), "{file}");
        assert_eq!(region["startColumn"].as_u64(), Some(col), "{file}");
        let gh = github
            .lines()
            .find(|l| l.contains(file))
            .expect("github line");
        assert!(
            gh.contains(&format!(
                ",line={line},col={col},endLine={line},endColumn={end_col},"
            )),
            "{gh}"
        );
    }
}

/// A cycle or a chain of 90,000 orgs (each org's parent the next) or roles
/// (each includes the next): every walk over the org tree and the role graph
/// is iterative, so each is a located E005/E006 or a clean check (SPEC §12),
/// never a stack overflow.
#[test]
fn deep_org_trees_and_role_graphs_do_not_overflow_the_stack() {
    const N: usize = 90_000;
    let root = tempfile::tempdir().expect("tempdir");
    let set = |name: &str, text: String| {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::write(dir.join("provider.yaml"), text).expect("write");
        dir
    };
    let orgs = |cycle: bool| {
        let mut t = String::from("scope: provider\norgs:\n");
        for i in 0..N {
            match (i + 1 < N, cycle) {
                (true, _) => t.push_str(&format!("  o{i}: {{ parent: o{} }}\n", i + 1)),
                (false, true) => t.push_str(&format!("  o{i}: {{ parent: o0 }}\n")),
                (false, false) => t.push_str(&format!("  o{i}: {{}}\n")),
            }
        }
        t
    };
    let roles = |cycle: bool| {
        let mut t = String::from(
            "scope: provider\nmodules: { m: { actions: [read] } }\norgs: { acme: {} }\n\
             users: { u: { org: acme } }\nassignments:\n  - { role: r0, user: u, org: acme }\nroles:\n",
        );
        for i in 0..N {
            let next = if i + 1 < N {
                Some(i + 1)
            } else {
                cycle.then_some(0)
            };
            let includes = next
                .map(|n| format!(", includes: [r{n}]"))
                .unwrap_or_default();
            t.push_str(&format!("  r{i}: {{ grants: [\"m:read\"]{includes} }}\n"));
        }
        t
    };
    let run = |args: &[&str], dir: &Path| {
        let out = trellis().args(args).arg(dir).output().expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("overflow"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        (stdout, stderr, out.status.code())
    };
    let org_cycle = set("org-cycle", orgs(true));
    let (out, err, code) = run(&["check", "--format", "short"], &org_cycle);
    assert_eq!(code, Some(1), "{err}");
    let first = out.lines().next().unwrap_or("");
    assert!(
        first.contains("provider.yaml:3:17: error[E005]: org tree cycle: o0 -> o1 -> o2"),
        "{first:.300}"
    );
    assert_eq!(out.lines().count(), 1, "one E005 for the one cycle");
    // The human format shows 16 of the 89,999 secondary labels, not all.
    let (human, err, code) = run(&["check", "--format", "human"], &org_cycle);
    assert_eq!(code, Some(1), "{err}");
    assert!(human.contains("E005"), "{human:.300}");
    assert!(
        human.contains("89983 more labels are not shown here"),
        "{:.300}",
        &human[human.len().saturating_sub(600)..]
    );

    let role_cycle = set("role-cycle", roles(true));
    let (out, err, code) = run(&["check", "--format", "short"], &role_cycle);
    assert_eq!(code, Some(1), "{err}");
    let first = out.lines().next().unwrap_or("");
    assert!(
        first.contains("provider.yaml:8:40: error[E006]: role cycle: r0 -> r1 -> r2"),
        "{first:.300}"
    );
    assert_eq!(out.lines().count(), 1, "one E006 for the one cycle");

    let org_chain = set("org-chain", orgs(false));
    let (out, err, code) = run(&["check", "--format", "short"], &org_chain);
    assert_eq!(code, Some(0), "{out:.300}\n{err}");
    // The table is laid out over the same tree (preorder, member grants).
    let table = root.path().join("chain.tbl");
    let out = trellis()
        .args(["compile", "-o"])
        .arg(&table)
        .arg(&org_chain)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let role_chain = set("role-chain", roles(false));
    let (out, err, code) = run(&["check", "--format", "short"], &role_chain);
    assert_eq!(code, Some(0), "{out:.300}\n{err}");
    let (out, err, code) = run(
        &[
            "query",
            "--user",
            "u",
            "--org",
            "acme",
            "--permission",
            "m:read",
        ],
        &role_chain,
    );
    assert_eq!((out.as_str(), code), ("allow\n", Some(0)), "{err}");
}

/// SPEC §14.14: `compile -o T --json J` writes both files or neither; a
/// failed run leaves every earlier file intact, whichever of the two fails.
#[test]
fn compile_writes_table_and_json_or_neither() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    let set = "policies-examples/quickstart";
    let compile = |table: &Path, json: &Path| {
        let out = trellis()
            .args(["compile", set, "-o"])
            .arg(table)
            .arg("--json")
            .arg(json)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Targets that cannot be written: a missing directory, a path under a
    // regular file (neither depends on permissions, which root ignores).
    std::fs::write(p.join("plain-file"), "x").expect("write");
    let unwritable = [
        p.join("missing").join("out"),
        p.join("plain-file").join("out"),
    ];
    let listing = |p: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(p)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = listing(p);

    for bad in &unwritable {
        // J fails: no table appears, no temporary file is left.
        let (code, err) = compile(&p.join("t.tbl"), bad);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("cannot write"), "{err}");
        assert_eq!(listing(p), before, "{err}");
        // T fails: no JSON appears.
        let (code, err) = compile(bad, &p.join("t.json"));
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(listing(p), before, "{err}");
    }

    // Earlier files stay byte-identical when the other output fails.
    let table = p.join("t.tbl");
    let json = p.join("t.json");
    std::fs::write(&table, b"earlier table").expect("write");
    std::fs::write(&json, b"earlier json").expect("write");
    for bad in &unwritable {
        let (code, err) = compile(&table, bad);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(std::fs::read(&table).expect("table"), b"earlier table");
        let (code, err) = compile(bad, &json);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(std::fs::read(&json).expect("json"), b"earlier json");
    }
    // A directory as the JSON target fails before anything is replaced.
    std::fs::create_dir(p.join("a-dir")).expect("mkdir");
    let (code, err) = compile(&table, &p.join("a-dir"));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(std::fs::read(&table).expect("table"), b"earlier table");
    let mut expected = before.clone();
    expected.extend(["a-dir".to_owned(), "t.json".to_owned(), "t.tbl".to_owned()]);
    expected.sort();
    assert_eq!(
        listing(p),
        expected,
        "temporary or backup files left behind"
    );

    // And when both can be written, both are replaced.
    let (code, err) = compile(&table, &json);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read(&table)
        .expect("table")
        .starts_with(b"TRELLIS\0"));
    let dump: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json")).expect("valid json");
    assert_eq!(dump["format_version"], 3);
    assert_eq!(
        listing(p),
        expected,
        "temporary or backup files left behind"
    );
}

/// TOML errors in and under long dotted table headers are reported where
/// they are (SPEC §12: the exact node), never at 1:1. Every part of a header
/// or dotted key is a level of nesting (E001 past 64, as in YAML).
#[test]
fn toml_errors_in_long_dotted_headers_are_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    let dotted = |from: usize, n: usize| {
        (from..from + n)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(".")
    };
    // Line:column (1-based, characters) of the first `needle` in `text`.
    let at = |text: &str, needle: &str| {
        let i = text.find(needle).expect("needle");
        let line = text[..i].matches('\n').count() + 1;
        let col = text[..i].rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!("{line}:{col}")
    };
    let mut expected = Vec::new();
    // A header of 100 parts (the parser's own limit is 80) with an error inside.
    let text = format!("scope = \"provider\"\n[{}]\nx = 1 2\n", dotted(0, 100));
    expected.push(format!(
        "a.toml:{}: error[E001]: nesting deeper than 64 levels",
        at(&text, "k64")
    ));
    std::fs::write(p.join("a.toml"), &text).expect("write");
    // A dotted key of 90 parts under a header.
    let text = format!("scope = \"provider\"\n[orgs.acme]\n{} = 1\n", dotted(0, 90));
    expected.push(format!(
        "b.toml:{}: error[E001]: nesting deeper than 64 levels",
        at(&text, "k62")
    ));
    std::fs::write(p.join("b.toml"), &text).expect("write");
    // A bad key in a long (allowed) dotted header: the bad part itself.
    let text = format!(
        "scope = \"provider\"\n[orgs.acme.{}]\nq = 1\n",
        dotted(0, 40)
    );
    expected.push(format!(
        "c.toml:{}: error[E002]: unknown key `k0`",
        at(&text, "k0")
    ));
    std::fs::write(p.join("c.toml"), &text).expect("write");
    // A syntax error inside a long dotted header, after non-ASCII in a quoted part.
    let text = format!("scope = \"provider\"\n[orgs.\"é\".{}.k!]\n", dotted(0, 20));
    expected.push(format!(
        "d.toml:{}: error[E001]: invalid TOML",
        at(&text, "!")
    ));
    std::fs::write(p.join("d.toml"), &text).expect("write");
    // A syntax error in the body of a long dotted header.
    let text = format!(
        "scope = \"provider\"\n[orgs.{}]\nname = \"x\" y\n",
        dotted(0, 50)
    );
    expected.push(format!(
        "e.toml:{}: error[E001]: invalid TOML",
        at(&text, "y\n")
    ));
    std::fs::write(p.join("e.toml"), &text).expect("write");

    let (short, err, code) = check_format(p, "short");
    assert_eq!(code, 1, "{err}");
    for e in &expected {
        assert!(
            short.lines().any(|l| l.contains(e.as_str())),
            "missing {e} in\n{short}"
        );
    }
    assert!(!short.contains(":1:1:"), "{short}");
    assert_eq!(short.lines().count(), expected.len(), "{short}");
    let (human, err, _) = check_format(p, "human");
    assert!(!err.contains("panicked"), "{err}");
    for e in &expected {
        let place = e.split(": ").next().unwrap_or("");
        assert!(
            human.contains(&format!("{place}]")),
            "missing {place} in\n{human}"
        );
    }
}

/// SARIF `artifactLocation.uri` is a URI reference (SARIF 2.1.0 §3.4.3, RFC
/// 3986): spaces, `#`, `%` and non-ASCII characters in a path are
/// percent-encoded (UTF-8, upper-case hex); an absolute path is a file URI.
#[test]
fn sarif_uris_are_percent_encoded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = dir.path().join("my policies");
    std::fs::create_dir(&set).expect("mkdir");
    std::fs::write(set.join("zürich #1%.yaml"), "scope: provider\ncolour: 1\n").expect("write");
    std::fs::write(
        set.join("other.yaml"),
        "scope: provider\norgs: { a: { parent: a } }\n",
    )
    .expect("write");
    let uris = |out: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(out).expect("sarif");
        let mut uris: Vec<String> = v["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri")
                    .to_owned()
            })
            .collect();
        uris.sort();
        uris
    };
    let out = trellis()
        .current_dir(dir.path())
        .args(["check", "--format", "sarif", "my policies"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        uris(&out.stdout),
        [
            "my%20policies/other.yaml",
            "my%20policies/z%C3%BCrich%20%231%25.yaml"
        ]
    );
    // The other formats keep the plain path.
    let out = trellis()
        .current_dir(dir.path())
        .args(["check", "--format", "short", "my policies"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("my policies/zürich #1%.yaml:2:1:"));
    // An absolute path: `file:///` and the same encoding.
    let out = trellis()
        .args(["check", "--format", "sarif"])
        .arg(&set)
        .output()
        .expect("runs");
    let got = uris(&out.stdout);
    assert!(
        got.iter()
            .all(|u| u.starts_with("file:///") && !u.contains(' ')),
        "{got:?}"
    );
    assert!(
        got[1].ends_with("/my%20policies/z%C3%BCrich%20%231%25.yaml"),
        "{got:?}"
    );
}

/// `check --base REV --actor X` counts the files of both revisions in its
/// summary line, and says how many are the base's (docs/manual.md, check).
#[test]
fn change_check_summary_counts_both_revisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    for side in [&base, &head] {
        std::fs::create_dir(side).expect("mkdir");
        std::fs::write(
            side.join("provider.yaml"),
            "scope: provider\nmodules: { docs: { actions: [read] } }\n\
             roles: { viewer: { grants: [\"docs:read\"] } }\norgs: { t1: {} }\n",
        )
        .expect("write");
        std::fs::write(
            side.join("t1.yaml"),
            "scope: t1\nusers: { ann: { org: t1 } }\n",
        )
        .expect("write");
    }
    // The head adds a third file.
    std::fs::write(
        head.join("t1-assignments.yaml"),
        "scope: t1\nassignments:\n  - { role: viewer, user: ann }\n",
    )
    .expect("write");
    let summary = |args: &[&str]| {
        let out = trellis()
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for format in ["short", "human"] {
        assert_eq!(
            summary(&["check", "head", "--base", "base", "--actor", "t1", "--format", format]),
            "checked 5 files (2 of them in the base `base`): 0 errors, 0 warnings\n"
        );
    }
    assert_eq!(
        summary(&["check", "head", "--format", "short"]),
        "checked 3 files: 0 errors, 0 warnings\n"
    );
}

/// `TRELLIS_TIMINGS` makes every command that reads a set print its stages,
/// each with a time and the peak memory, then `done` (and those that
/// resolve one, the resolver's own stages); without it, stderr
/// that is not a terminal gets no progress at all (CI logs stay clean).
#[test]
fn every_long_command_reports_its_stages() {
    let stage =
        |line: &str| line.starts_with('[') && line.contains("s, peak ") && line.contains(" MiB] ");
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    let table = table.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["check", "policies-examples/quickstart"],
            &[
                "reading and parsing",
                "resolving 2 files",
                "checking",
                "done",
            ],
        ),
        (
            &["compile", "policies-examples/quickstart", "-o", table],
            &[
                "reading and parsing",
                "checking and compiling",
                "encoding and writing",
                "done",
            ],
        ),
        (
            &["test", "policies-examples/quickstart"],
            &["reading and parsing", "running 1 test file", "done"],
        ),
        (
            &[
                "diff",
                "./policies-examples/quickstart",
                "./policies-examples/quickstart",
            ],
            &[
                "reading and checking the base `./policies-examples/quickstart`",
                "reading and checking the head `./policies-examples/quickstart`",
                "comparing access",
                "done",
            ],
        ),
    ];
    for (args, want) in cases {
        let out = trellis()
            .args(args)
            .env("TRELLIS_TIMINGS", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let stages: Vec<&str> = err
            .lines()
            .filter(|l| stage(l))
            .filter_map(|l| l.split_once("] ").map(|(_, what)| what))
            .collect();
        for w in want {
            assert!(stages.contains(w), "{args:?}: no stage `{w}` in {err}");
        }
        assert_eq!(stages.last(), Some(&"done"), "{args:?}: {err}");
        // The commands that resolve a set also break resolving down.
        if ["check", "compile", "diff"].contains(&args[0]) {
            let resolver = err
                .lines()
                .find(|l| l.contains("(cumulative): load "))
                .unwrap_or_else(|| panic!("{args:?}: no resolver stages in {err}"));
            for sub in ["resolve orgs", "resolve users", "resolve assignments"] {
                assert!(resolver.contains(sub), "{args:?}: no `{sub}` in {resolver}");
            }
        }

        let out = trellis().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.lines().any(stage) && !err.contains('\u{1b}'),
            "{args:?}: progress on a stderr that is no terminal: {err:?}"
        );
    }
}

/// The pull-request gate in one run: `check --base --actor` with
/// `--sarif-out` and `--diff-out` writes what `check --format sarif` and
/// `trellis diff` print for the same change, byte for byte, and still
/// prints its own format and exit code.
#[test]
fn the_gate_in_one_run_writes_the_sarif_and_the_diff_of_separate_runs() {
    let tmp = tempfile::tempdir().unwrap();
    for (case, actor, code) in [
        ("tenant-adds-user", "t1", 0),
        ("tenant-removes-locked-publication", "t1", 1),
    ] {
        let base = format!("./tests/changes/{case}/base");
        let head = format!("./tests/changes/{case}/head");
        let (sarif, diff) = (
            tmp.path().join(format!("{case}.sarif")),
            tmp.path().join(format!("{case}.json")),
        );
        let one = trellis()
            .args([
                "check", &head, "--base", &base, "--actor", actor, "--format", "short",
            ])
            .arg("--sarif-out")
            .arg(&sarif)
            .arg("--diff-out")
            .arg(&diff)
            .args(["--diff-format", "json"])
            .output()
            .unwrap();
        assert_eq!(one.status.code(), Some(code), "{case}");
        let (short, c) = stdout(&[
            "check", &head, "--base", &base, "--actor", actor, "--format", "short",
        ]);
        assert_eq!(
            (String::from_utf8_lossy(&one.stdout).into_owned(), code),
            (short, c),
            "{case}"
        );
        let (want_sarif, _) = stdout(&[
            "check", &head, "--base", &base, "--actor", actor, "--format", "sarif",
        ]);
        assert_eq!(
            std::fs::read_to_string(&sarif).unwrap(),
            want_sarif,
            "{case}"
        );
        let (want_diff, _) = stdout(&["diff", &base, &head, "--format", "json"]);
        assert_eq!(std::fs::read_to_string(&diff).unwrap(), want_diff, "{case}");
        assert!(want_diff.contains("\"summary\""), "{case}: {want_diff}");
        // The comment and the page from one run, each as `diff` prints it.
        let (md, page) = (
            tmp.path().join(format!("{case}-both.md")),
            tmp.path().join(format!("{case}-both.html")),
        );
        let out = trellis()
            .args(["check", &head, "--base", &base, "--actor", actor])
            .arg("--diff-out")
            .arg(&md)
            .arg("--diff-page-out")
            .arg(&page)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{case}");
        let (want_md, _) = stdout(&["diff", &base, &head, "--format", "markdown"]);
        let (want_page, _) = stdout(&["diff", &base, &head, "--format", "html"]);
        assert_eq!(std::fs::read_to_string(&md).unwrap(), want_md, "{case}");
        assert_eq!(std::fs::read_to_string(&page).unwrap(), want_page, "{case}");
        assert!(want_page.contains("<html"), "{case}");
        // The markdown comment (with and without a page to link to) and the
        // HTML page too, and `diff -o FILE` writes what `diff` prints.
        for extra in [
            &["--diff-format", "markdown"][..],
            &[
                "--diff-format",
                "markdown",
                "--page-url",
                "https://ci.example/run/7/diff.html",
            ],
            &["--diff-format", "html"],
        ] {
            let file = tmp.path().join(format!("{case}.{}", extra[1]));
            let out = trellis()
                .args(["check", &head, "--base", &base, "--actor", actor])
                .arg("--diff-out")
                .arg(&file)
                .args(extra)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(code), "{case} {extra:?}");
            let mut args = vec!["diff", base.as_str(), head.as_str(), "--format", extra[1]];
            args.extend(&extra[2..]);
            let (printed, c) = stdout(&args);
            assert_eq!(c, 0, "{case} {extra:?}");
            assert_eq!(
                std::fs::read_to_string(&file).unwrap(),
                printed,
                "{case} {extra:?}"
            );
            let written = tmp.path().join(format!("{case}-o.{}", extra[1]));
            let out = trellis()
                .args(&args)
                .arg("-o")
                .arg(&written)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{case} {extra:?}");
            assert!(out.stdout.is_empty(), "{case} {extra:?}: -o prints nothing");
            assert_eq!(std::fs::read_to_string(&written).unwrap(), printed);
        }
    }
    // A set with errors gets no diff (as `trellis diff` refuses), and says
    // so; a diff an earlier run left there is removed.
    let diff = tmp.path().join("none.md");
    std::fs::write(&diff, "an earlier run's diff").unwrap();
    let page = tmp.path().join("none.html");
    std::fs::write(&page, "an earlier run's page").unwrap();
    let out = trellis()
        .args([
            "check",
            "tests/fixtures/e004-unknown",
            "--base",
            "./tests/fixtures/clean",
            "--actor",
            "provider",
        ])
        .arg("--diff-out")
        .arg(&diff)
        .arg("--diff-page-out")
        .arg(&page)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!diff.exists());
    assert!(!page.exists());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no access diff written"));
}
