//! `trellis roles --org X [--search TEXT]`: the role list of a tenant's
//! console, on a small set whose answers follow from its text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::process::Command;

const PROVIDER: &str = r#"scope: provider
dimensions:
  application: {}
modules:
  apps: { actions: [use, admin], dimension: application }
  docs: { actions: [read] }
resources:
  crm: { dimension: application }
roles:
  viewer: { grants: ["docs:read"], description: "Reads the Docs" }
  app-manager: { grants: ["apps:admin"], dimensions: [application], multiple: true }
  retired: { grants: ["docs:read"], status: disabled }
  hidden: { grants: ["docs:read"], published: false }
  compliance: { grants: ["docs:read"], locked: true }
orgs:
  acme: {}
  acme-eu: { parent: acme }
  globex: {}
users:
  ann: { org: acme }
  eve: { org: acme-eu }
  gus: { org: globex }
assignments:
  - { role: viewer, org: acme }                     # ann and eve, at acme and below
  - { role: viewer, user: gus, org: acme-eu }       # gus linked into acme-eu
  - { role: app-manager, user: ann, resources: { application: [crm] } }
  - { role: compliance, user: eve, locked: true }
"#;

const ACME: &str = r#"scope: acme
roles:
  crm-user:
    from: viewer
    resources: { application: [crm] }
    description: "CRM seat"
assignments:
  - { role: crm-user, user: eve, org: acme-eu }
"#;

fn run(args: &[&str]) -> (String, i32) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("provider.yaml"), PROVIDER).unwrap();
    std::fs::write(dir.path().join("acme.yaml"), ACME).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .arg("roles")
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn the_role_list_shows_what_a_console_shows() {
    let (text, code) = run(&["--org", "acme", "--format", "json"]);
    assert_eq!(code, 0, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = v["roles"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    // Published at acme: every role type but `hidden`, and acme's own role.
    assert_eq!(
        names,
        ["app-manager", "compliance", "crm-user", "retired", "viewer"]
    );
    let row = |n: &str| rows.iter().find(|r| r["name"] == n).unwrap();
    // viewer: ann and eve through the org assignment, gus at acme-eu.
    assert_eq!(row("viewer")["users"], 3);
    assert_eq!(row("viewer")["assignable"], true);
    assert_eq!(row("compliance")["locked"], true);
    assert_eq!(row("compliance")["assignable"], false);
    assert_eq!(row("compliance")["users"], 1);
    assert_eq!(row("retired")["status"], "disabled");
    assert_eq!(row("retired")["users"], 0);
    assert_eq!(row("crm-user")["owner"], "acme");
    assert_eq!(row("crm-user")["cloned_from"], "viewer");
    assert_eq!(row("crm-user")["restrictions"]["application"][0], "crm");
    assert_eq!(row("crm-user")["users"], 1);
    assert_eq!(row("app-manager")["dimensions"][0], "application");
    assert_eq!(row("app-manager")["multiple"], true);
    assert_eq!(row("app-manager")["users"], 1);
    // At globex, acme's custom role is not published, and nobody holds viewer there.
    let (text, _) = run(&["--org", "globex", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = v["roles"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["name"] != "crm-user"), "{text}");
    let viewer = rows.iter().find(|r| r["name"] == "viewer").unwrap();
    assert_eq!(viewer["users"], 0, "{text}");
}

#[test]
fn the_search_matches_names_and_descriptions_whatever_the_case() {
    let names = |search: &str| -> Vec<String> {
        let (text, code) = run(&["--org", "acme", "--search", search, "--format", "json"]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("VIEW"), ["viewer"]);
    assert_eq!(names("the docs"), ["viewer"]); // description "Reads the Docs"
    assert_eq!(names("crm SEAT"), ["crm-user"]);
    assert!(names("nothing-like-this").is_empty());
    let (text, code) = run(&["--org", "acme", "--search", "crm"]);
    assert_eq!(code, 0);
    assert!(
        text.contains(
            "crm-user  (owner acme; cloned from viewer; active; application: crm; 1 user)"
        ),
        "{text}"
    );
    let (_, code) = run(&["--org", "nowhere"]);
    assert_eq!(code, 2);
}

#[test]
fn show_lists_the_tenants_resources_and_what_is_tied_to_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("provider.yaml"), PROVIDER).unwrap();
    std::fs::write(dir.path().join("acme.yaml"), ACME).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["show", "--org", "acme", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let crm = &v["resources"][0];
    assert_eq!(crm["id"], "crm");
    assert_eq!(crm["org"], serde_json::Value::Null);
    assert_eq!(crm["roles"], serde_json::json!(["crm-user"]));
    assert_eq!(
        crm["assignments"],
        serde_json::json!(["app-manager -> ann @ acme"])
    );
    let role = v["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "crm-user")
        .unwrap();
    assert_eq!(role["resources"], serde_json::json!(["application: crm"]));
}

#[test]
fn graph_draws_resources_under_their_orgs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("provider.yaml"), PROVIDER).unwrap();
    std::fs::write(dir.path().join("acme.yaml"), ACME).unwrap();
    let graph = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
            .args(["graph", "--format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mermaid = graph("mermaid");
    // crm belongs to no org: a node of its own, hung under no org.
    assert!(
        mermaid.contains("res_crm[/\"crm (application)\"/]"),
        "{mermaid}"
    );
    assert!(!mermaid.contains("-.- res_crm"), "{mermaid}");
    assert!(mermaid.contains("on application: crm"), "{mermaid}");
    let dot = graph("dot");
    assert!(
        dot.contains("res_crm [label=\"crm (application)\", shape=parallelogram];"),
        "{dot}"
    );
}

#[test]
fn explain_says_why_a_restricted_grant_does_not_answer_for_the_whole_module() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("provider.yaml"), PROVIDER).unwrap();
    std::fs::write(dir.path().join("acme.yaml"), ACME).unwrap();
    let query = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
            .arg("query")
            .arg(dir.path())
            .args(["--user", "ann", "--permission", "apps:admin", "--explain"])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // ann manages crm only: the whole module is not hers, crm is.
    let whole = query(&["--org", "acme"]);
    assert!(whole.starts_with("deny"), "{whole}");
    assert!(
        whole.contains(
            "`app-manager` through `app-manager` is tied to `application` resources (by its grant)"
        ),
        "{whole}"
    );
    let crm = query(&["--org", "acme", "--resource", "crm"]);
    assert!(crm.starts_with("allow"), "{crm}");
}
