//! The shared question files, `bindings/questions/EXAMPLE.jsonl`: one
//! question a line, `{"user","permission","org"[,"resource"],"allow"}`
//! (`org` left out for a resource asked at its own org), every answer the
//! trellis binary's (`trellis query TABLE --batch FILE --format json`).
//! The C, Python and Node tests answer the same files and must agree.
//!
//! This test asks the binary again and fails when a checked-in file has
//! drifted (`TRELLIS_UPDATE_QUESTIONS=1 cargo test --test questions`
//! rewrites them), then answers every question with `trellis_table::Table`
//! by names, as the bindings do.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};
use trellis_table::{NameIndex, Org, Perm, Resource, Table, User};

/// The bundled examples asked: one without resources, one with them.
const EXAMPLES: &[&str] = &["quickstart", "cloud-ops"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn trellis(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(args)
        .output()
        .expect("run trellis");
    assert!(
        out.status.success(),
        "trellis {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Compiles an example with the binary into `dir`.
fn compile(example: &str, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{example}.tbl"));
    let src = root().join("policies-examples").join(example);
    trellis(&[
        "compile".as_ref(),
        src.as_os_str(),
        "-o".as_ref(),
        path.as_os_str(),
    ]);
    path
}

fn question(user: &str, permission: &str, org: Option<&str>, resource: Option<&str>) -> Value {
    let mut q = Map::new();
    q.insert("user".into(), json!(user));
    q.insert("permission".into(), json!(permission));
    if let Some(x) = org {
        q.insert("org".into(), json!(x));
    }
    if let Some(r) = resource {
        q.insert("resource".into(), json!(r));
    }
    Value::Object(q)
}

/// The questions asked of one table: every user x org x permission; with
/// resources, every user x resource x permission at the resource's own org
/// (org left out), and a quarter of them with each org named; then unknown
/// names, each in a question that is allowed with the known name.
fn questions(t: &Table) -> Vec<Value> {
    let users: Vec<&str> = (0..t.user_count() as u32)
        .map(|u| t.user_name(User(u)))
        .collect();
    let orgs: Vec<&str> = (0..t.org_count() as u32)
        .map(|x| t.org_name(Org(x)))
        .collect();
    let perms: Vec<String> = (0..)
        .map(Perm)
        .take_while(|p| t.permission(&t.perm_name(*p)) == Some(*p))
        .map(|p| t.perm_name(p))
        .collect();
    let resources: Vec<&str> = (0..)
        .map(Resource)
        .take_while(|q| t.resource_dimension(*q).is_some())
        .map(|q| t.resource_name(q))
        .collect();
    let mut out = Vec::new();
    for u in &users {
        for x in &orgs {
            for p in &perms {
                out.push(question(u, p, Some(x), None));
            }
        }
    }
    let mut every = 0usize;
    for u in &users {
        for q in &resources {
            for p in &perms {
                out.push(question(u, p, None, Some(q)));
                for x in &orgs {
                    every += 1;
                    if every.is_multiple_of(4) {
                        out.push(question(u, p, Some(x), Some(q)));
                    }
                }
            }
        }
    }
    // Unknown names, each in place of a name that is allowed.
    let mut first = None;
    'find: for u in &users {
        for x in &orgs {
            for p in &perms {
                let (Some(hu), Some(hp), Some(hx)) = (t.user(u), t.permission(p), t.org(x)) else {
                    continue;
                };
                if t.allow(hu, hp, hx) {
                    first = Some((*u, p.as_str(), *x));
                    break 'find;
                }
            }
        }
    }
    let (u0, p0, x0) = first.expect("something is allowed");
    let module = p0.split(':').next().unwrap_or_default();
    out.push(question("no-such-user", p0, Some(x0), None));
    out.push(question(u0, p0, Some("no-such-org"), None));
    out.push(question(u0, "no-such-module:read", Some(x0), None));
    out.push(question(
        u0,
        &format!("{module}:no-such-action"),
        Some(x0),
        None,
    ));
    out.push(question(u0, "no-colon", Some(x0), None));
    out.push(question(u0, p0, Some(x0), Some("no-such-resource")));
    out.push(question(u0, p0, None, Some("no-such-resource")));
    if let Some(q0) = resources.first() {
        out.push(question(u0, p0, Some("no-such-org"), Some(q0)));
        out.push(question("no-such-user", p0, None, Some(q0)));
    }
    out
}

/// Each question with `allow` as `trellis query --batch --format json` answers it.
fn answered(table: &Path, questions: &[Value], dir: &Path) -> String {
    let batch = dir.join("questions.jsonl");
    let text: String = questions.iter().map(|q| format!("{q}\n")).collect();
    std::fs::write(&batch, text).expect("write batch");
    let out = trellis(&[
        "query".as_ref(),
        table.as_os_str(),
        "--batch".as_ref(),
        batch.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let answers: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON answer"))
        .collect();
    assert_eq!(answers.len(), questions.len(), "one answer per question");
    let mut file = String::new();
    for (q, a) in questions.iter().zip(&answers) {
        assert_eq!(a["user"], q["user"], "answers in question order");
        assert_eq!(
            a["permission"], q["permission"],
            "answers in question order"
        );
        let allow = match a["decision"].as_str() {
            Some("allow") => true,
            Some("deny") => false,
            other => panic!("decision {other:?} for {q}"),
        };
        let mut line = q.as_object().cloned().unwrap_or_default();
        line.insert("allow".into(), json!(allow));
        file.push_str(&format!("{}\n", Value::Object(line)));
    }
    file
}

/// The decision by names, as the bindings make it: unknown names deny, a
/// resource without an org is asked at its own.
fn ask(t: &Table, n: &NameIndex, q: &Value) -> bool {
    let name = |k: &str| q.get(k).and_then(Value::as_str);
    let (Some(u), Some(p)) = (
        name("user").and_then(|u| n.user(t, u)),
        name("permission").and_then(|p| n.permission(t, p)),
    ) else {
        return false;
    };
    let r = match name("resource") {
        Some(r) => match n.resource(t, r) {
            Some(r) => Some(r),
            None => return false,
        },
        None => None,
    };
    let x = match name("org") {
        Some(x) => n.org(t, x),
        None => r.and_then(|r| t.resource_org(r)),
    };
    x.is_some_and(|x| t.allow_on(u, p, x, r))
}

#[test]
fn question_files_are_trellis_query_answers_and_the_table_agrees() {
    let dir = tempfile::tempdir().expect("temp dir");
    let update = std::env::var_os("TRELLIS_UPDATE_QUESTIONS").is_some_and(|v| v == "1");
    for example in EXAMPLES {
        let path = compile(example, dir.path());
        let table = Table::open(&path).expect("the compiled table opens");
        let qs = questions(&table);
        let generated = answered(&path, &qs, dir.path());
        let file = root()
            .join("bindings/questions")
            .join(format!("{example}.jsonl"));
        if update {
            std::fs::write(&file, &generated).expect("write the question file");
        }
        let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            checked_in == generated,
            "{} is stale (the questions or trellis query's answers changed): \
             run `TRELLIS_UPDATE_QUESTIONS=1 cargo test --test questions` and review the diff",
            file.display()
        );

        // The runtime crate answers every line of the file as the binary did.
        let names = NameIndex::new(&table);
        let (mut allowed, mut with_resource) = (0, 0);
        for (i, line) in checked_in.lines().enumerate() {
            let q: Value = serde_json::from_str(line).expect("a JSON question");
            let expected = q["allow"].as_bool().expect("`allow` is a boolean");
            assert_eq!(
                ask(&table, &names, &q),
                expected,
                "{example} line {}: {q}",
                i + 1
            );
            allowed += usize::from(expected);
            with_resource += usize::from(q.get("resource").is_some());
        }
        let total = checked_in.lines().count();
        assert!(
            allowed > 0 && allowed < total,
            "{example}: both answers occur"
        );
        if *example == "cloud-ops" {
            assert!(with_resource > 0, "cloud-ops asks about resources");
        }
        let unknown =
            checked_in.matches("no-such-").count() + checked_in.matches("no-colon").count();
        assert!(unknown >= 7, "{example}: unknown names are asked");
    }
}
