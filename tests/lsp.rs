//! `trellis lsp` driven as an editor drives it: JSON-RPC frames over the
//! server's stdin and stdout (LSP 3.17), on a copy of `tests/lsp/set`
//! (a provider file and one tenant file, acme). The fixture lives outside
//! `tests/fixtures/`, whose every folder is a snapshot case of its own.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// Nothing in these tests should take long; a server that hangs fails here.
const PATIENCE: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Value>,
    /// Notifications received while waiting for something else.
    seen: Vec<Value>,
    next: i64,
    dir: tempfile::TempDir,
}

fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts the server on a fresh copy of the fixture set, `edit`ed first.
    fn start(edit: impl FnOnce(&Path)) -> Client {
        let dir = tempfile::tempdir().unwrap();
        for f in ["provider.yaml", "acme.yaml"] {
            std::fs::copy(Path::new("tests/lsp/set").join(f), dir.path().join(f)).unwrap();
        }
        edit(dir.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_trellis"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_frame(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            seen: Vec::new(),
            next: 1,
            dir,
        };
        let init = c.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": {} }),
        );
        let caps = &init["result"]["capabilities"];
        assert_eq!(caps["definitionProvider"], json!(true), "{init}");
        assert_eq!(caps["referencesProvider"], json!(true));
        assert_eq!(caps["hoverProvider"], json!(true));
        c.notify("initialized", json!({}));
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn uri(&self, name: &str) -> String {
        format!("file://{}", self.path(name).display())
    }

    fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    fn send(&mut self, v: Value) {
        let body = serde_json::to_vec(&v).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn recv(&mut self) -> Value {
        self.rx
            .recv_timeout(PATIENCE)
            .expect("the server answered in time")
    }

    /// The whole response (`result` or `error`) to a request.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let v = self.recv();
            if v["id"] == json!(id) && v.get("method").is_none() {
                return v;
            }
            self.seen.push(v);
        }
    }

    /// The next diagnostics published for `name` (earlier ones kept
    /// aside are looked at first).
    fn diagnostics(&mut self, name: &str) -> Vec<Value> {
        let uri = self.uri(name);
        let is_it = |v: &Value| {
            v["method"] == "textDocument/publishDiagnostics" && v["params"]["uri"] == json!(uri)
        };
        if let Some(i) = self.seen.iter().position(is_it) {
            let v = self.seen.remove(i);
            return v["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let v = self.recv();
            if is_it(&v) {
                return v["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.seen.push(v);
        }
    }

    /// The next log of an analysis (`checked … in … ms (stages)`).
    fn analysis_log(&mut self) -> String {
        let is_it = |v: &Value| {
            v["method"] == "window/logMessage"
                && v["params"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("checked"))
        };
        let v = match self.seen.iter().position(is_it) {
            Some(i) => self.seen.remove(i),
            None => loop {
                let v = self.recv();
                if is_it(&v) {
                    break v;
                }
                self.seen.push(v);
            },
        };
        v["params"]["message"].as_str().unwrap().to_owned()
    }

    fn open(&mut self, name: &str, text: &str) {
        let uri = self.uri(name);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "yaml", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, name: &str, version: i64, text: &str) {
        let uri = self.uri(name);
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    fn at(&self, name: &str, line: u32, character: u32) -> Value {
        json!({ "textDocument": { "uri": self.uri(name) }, "position": { "line": line, "character": character } })
    }

    fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null, "{r}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "the server exits cleanly after shutdown and exit"
        );
    }
}

/// The 0-based line holding `needle` in `text`, and the UTF-16 column
/// where it starts there (LSP positions count UTF-16 code units).
fn find(text: &str, needle: &str) -> (u32, u32) {
    for (n, line) in text.lines().enumerate() {
        if let Some(i) = line.find(needle) {
            return (n as u32, line[..i].encode_utf16().count() as u32);
        }
    }
    panic!("`{needle}` not in the text");
}

fn range(line: u32, start: u32, end: u32) -> Value {
    json!({ "start": { "line": line, "character": start }, "end": { "line": line, "character": end } })
}

fn codes(ds: &[Value]) -> Vec<&str> {
    ds.iter().filter_map(|d| d["code"].as_str()).collect()
}

#[test]
fn an_error_typed_in_a_buffer_is_published_at_its_range_and_clears_when_fixed() {
    let mut c = Client::start(|_| {});
    let good = c.text("acme.yaml");
    // The misspelt role sits after "Zoë’s 😀" on its line: é and ’ are one
    // UTF-16 unit each, 😀 two.
    let bad = good.replace("role: viewer, user: bob", "role: viewr, user: bob");
    c.open("acme.yaml", &bad);
    let ds = c.diagnostics("acme.yaml");
    let e004: Vec<&Value> = ds.iter().filter(|d| d["code"] == "E004").collect();
    assert_eq!(e004.len(), 1, "{ds:?}");
    let (line, col) = find(&bad, "viewr");
    assert!(bad.lines().nth(line as usize).unwrap().contains('😀'));
    assert_eq!(e004[0]["range"], range(line, col, col + 5));
    assert_eq!(e004[0]["severity"], json!(1));
    assert!(e004[0]["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .contains("E004"));
    assert!(e004[0]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `viewer`"));

    // The did-you-mean quick fix replaces exactly the misspelt name.
    let actions = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": c.uri("acme.yaml") },
            "range": range(line, col, col + 5),
            "context": { "diagnostics": [] }
        }),
    );
    let fix = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "change to `viewer`")
        .unwrap_or_else(|| panic!("no did-you-mean fix in {actions}"));
    let edits = &fix["edit"]["changes"][c.uri("acme.yaml")];
    assert_eq!(edits[0]["range"], range(line, col, col + 5));
    assert_eq!(edits[0]["newText"], "viewer");

    // Fixed in the unsaved buffer (the disk never had the error).
    c.change("acme.yaml", 2, &good);
    let ds = c.diagnostics("acme.yaml");
    assert!(!codes(&ds).contains(&"E004"), "{ds:?}");
    c.shutdown();
}

#[test]
fn files_not_open_get_their_diagnostics_and_an_open_buffer_wins_over_the_disk() {
    let mut c = Client::start(|dir| {
        let p = dir.join("provider.yaml");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replace("includes: [viewer]", "includes: [viewr]")).unwrap();
    });
    let disk = c.text("provider.yaml");
    let acme = c.text("acme.yaml");
    c.open("acme.yaml", &acme);
    let ds = c.diagnostics("provider.yaml");
    let (line, col) = find(&disk, "viewr");
    let e004 = ds.iter().find(|d| d["code"] == "E004").unwrap();
    assert_eq!(e004["range"], range(line, col, col + 5));

    // The provider file opened with the fix, unsaved: its findings go away.
    c.open("provider.yaml", &disk.replace("viewr", "viewer"));
    let ds = c.diagnostics("provider.yaml");
    assert!(ds.is_empty(), "{ds:?}");
    c.shutdown();
}

#[test]
fn definition_and_references_of_a_role_cross_files() {
    let mut c = Client::start(|_| {});
    let acme = c.text("acme.yaml");
    let provider = c.text("provider.yaml");
    c.open("acme.yaml", &acme);
    // `viewer` in the tenant's role resolves to the provider's role.
    let (line, col) = find(&acme, "[viewer]");
    let r = c.request("textDocument/definition", c.at("acme.yaml", line, col + 2));
    let (dl, dc) = find(&provider, "viewer:");
    assert_eq!(
        r["result"],
        json!([{ "uri": c.uri("provider.yaml"), "range": range(dl, dc, dc + 6) }])
    );

    let mut p = c.at("acme.yaml", line, col + 2);
    p["context"] = json!({ "includeDeclaration": true });
    let r = c.request("textDocument/references", p);
    let mut got: Vec<(String, u32)> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let uri = l["uri"].as_str().unwrap();
            (
                uri.rsplit('/').next().unwrap().to_owned(),
                l["range"]["start"]["line"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        ("acme.yaml".to_owned(), find(&acme, "[viewer]").0),
        ("acme.yaml".to_owned(), find(&acme, "role: viewer").0),
        ("provider.yaml".to_owned(), find(&provider, "viewer:").0),
        ("provider.yaml".to_owned(), find(&provider, "[viewer]").0),
    ];
    want.sort();
    assert_eq!(got, want);
    c.shutdown();
}

#[test]
fn hover_on_a_role_tells_its_owner_permissions_and_holders() {
    let mut c = Client::start(|_| {});
    let provider = c.text("provider.yaml");
    c.open("provider.yaml", &provider);
    let (line, col) = find(&provider, "role: editor");
    let r = c.request("textDocument/hover", c.at("provider.yaml", line, col + 7));
    let text = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("provider::editor"), "{text}");
    assert!(text.contains("the provider"), "{text}");
    // Own permission and the included one.
    assert!(
        text.contains("docs:write") && text.contains("docs:read"),
        "{text}"
    );
    assert!(text.contains("includes: `viewer`"), "{text}");
    // alice holds it (bob's reviewer includes viewer, not editor).
    assert!(text.contains("held by 1 user"), "{text}");

    // viewer: alice through editor, bob through reviewer and directly.
    let (line, col) = find(&provider, "viewer:");
    let r = c.request("textDocument/hover", c.at("provider.yaml", line, col));
    let text = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("held by 2 user"), "{text}");
    assert!(text.contains("Reads documents"), "{text}");

    let (line, col) = find(&provider, "auditor:");
    let r = c.request("textDocument/hover", c.at("provider.yaml", line, col));
    let text = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("locked"), "{text}");
    c.shutdown();
}

#[test]
fn rename_is_refused_where_a_locked_provider_item_would_change() {
    let mut c = Client::start(|_| {});
    let provider = c.text("provider.yaml");
    c.open("provider.yaml", &provider);
    let (line, col) = find(&provider, "auditor:");
    let mut p = c.at("provider.yaml", line, col);
    p["newName"] = json!("inspector");
    let r = c.request("textDocument/rename", p);
    let message = r["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(message.contains("locked"), "{message}");

    // An unlocked role is renamed in every file that names it.
    let (line, col) = find(&provider, "viewer:");
    let mut p = c.at("provider.yaml", line, col);
    p["newName"] = json!("reader");
    let r = c.request("textDocument/rename", p);
    let changes = &r["result"]["changes"];
    assert_eq!(
        changes[c.uri("provider.yaml")].as_array().unwrap().len(),
        2,
        "{r}"
    );
    assert_eq!(
        changes[c.uri("acme.yaml")].as_array().unwrap().len(),
        2,
        "{r}"
    );
    c.shutdown();
}

#[test]
fn completion_offers_the_roles_visible_from_the_file_and_a_fix_removes_a_redundant_assignment() {
    let mut c = Client::start(|_| {});
    let acme = c.text("acme.yaml");
    c.open("acme.yaml", &acme);
    let (line, col) = find(&acme, "role: reviewer");
    let r = c.request("textDocument/completion", c.at("acme.yaml", line, col + 6));
    let labels: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    for want in ["reviewer", "viewer", "editor", "auditor"] {
        assert!(labels.contains(&want), "{want} in {labels:?}");
    }

    // W104: the direct viewer assignment is implied by reviewer's.
    let ds = c.diagnostics("acme.yaml");
    assert_eq!(codes(&ds), ["W104"]);
    let (line, _) = find(&acme, "role: viewer");
    let r = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": c.uri("acme.yaml") }, "range": range(line, 0, 1), "context": { "diagnostics": [] } }),
    );
    let fix = &r["result"][0];
    assert_eq!(fix["title"], "remove the redundant assignment");
    let edit = &fix["edit"]["changes"][c.uri("acme.yaml")][0];
    assert_eq!(
        edit["range"],
        json!({ "start": { "line": line, "character": 0 }, "end": { "line": line + 1, "character": 0 } })
    );
    assert_eq!(edit["newText"], "");
    c.shutdown();
}

#[test]
fn a_malformed_request_gets_an_error_and_the_server_goes_on() {
    let mut c = Client::start(|_| {});
    let r = c.request("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(r["error"]["code"], json!(-32602), "{r}");
    let r = c.request("no/such/method", json!({}));
    assert_eq!(r["error"]["code"], json!(-32601), "{r}");
    let acme = c.text("acme.yaml");
    c.open("acme.yaml", &acme);
    let r = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": c.uri("acme.yaml") } }),
    );
    let names: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["acme::reviewer"]);
    c.shutdown();
}

#[test]
fn a_hostile_buffer_is_reported_and_the_server_keeps_answering() {
    let mut c = Client::start(|_| {});
    // A few KB whose aliases would copy a long string a million times, on
    // one very long line.
    let mut bomb = format!("scope: acme\nl0: &l0 \"{}\"\n", "x".repeat(3000));
    for i in 1..6 {
        bomb.push_str(&format!(
            "l{i}: &l{i} [{}]\n",
            vec![format!("*l{}", i - 1); 10].join(", ")
        ));
    }
    bomb.push_str(&format!("roles: {{ {} }}\n", "a".repeat(200_000)));
    c.open("acme.yaml", &bomb);
    let ds = c.diagnostics("acme.yaml");
    assert!(codes(&ds).contains(&"E001"), "{ds:?}");
    // Hover and completion on the hostile text answer (nothing to say).
    let r = c.request("textDocument/hover", c.at("acme.yaml", 7, 100_000));
    assert!(r.get("error").is_none(), "{r}");
    let r = c.request("textDocument/completion", c.at("acme.yaml", 7, 150_000));
    assert!(r.get("error").is_none(), "{r}");
    c.shutdown();
}

#[test]
fn hover_on_an_org_and_a_user() {
    let mut c = Client::start(|_| {});
    let provider = c.text("provider.yaml");
    c.open("provider.yaml", &provider);
    let (line, col) = find(&provider, "acme:");
    let r = c.request("textDocument/hover", c.at("provider.yaml", line, col));
    let text = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("**org** `acme`"), "{text}");
    assert!(text.contains("kind: `customer`"), "{text}");
    // Both provider roles not locked, and the locked one marked.
    assert!(
        text.contains("`viewer`") && text.contains("`auditor` (locked)"),
        "{text}"
    );
    assert!(text.contains("2 member(s)"), "{text}");

    let (line, col) = find(&provider, "user: alice");
    let r = c.request("textDocument/hover", c.at("provider.yaml", line, col + 6));
    let text = r["result"]["contents"]["value"].as_str().unwrap();
    assert!(text.contains("home: `acme`"), "{text}");
    // editor and the viewer it includes.
    assert!(
        text.contains("`editor`") && text.contains("`viewer`"),
        "{text}"
    );
    c.shutdown();
}

#[test]
fn a_misspelt_key_gets_its_fix_and_an_org_is_renamed_in_every_file() {
    let mut c = Client::start(|_| {});
    let provider = c.text("provider.yaml");
    let bad = provider.replace("grants: [\"docs:write\"]", "grnts: [\"docs:write\"]");
    c.open("provider.yaml", &bad);
    let ds = c.diagnostics("provider.yaml");
    let (line, col) = find(&bad, "grnts");
    let e002 = ds
        .iter()
        .find(|d| d["code"] == "E002")
        .unwrap_or_else(|| panic!("{ds:?}"));
    assert_eq!(e002["range"], range(line, col, col + 5));
    let r = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": c.uri("provider.yaml") }, "range": range(line, col, col), "context": { "diagnostics": [] } }),
    );
    let fix = &r["result"][0];
    assert_eq!(fix["title"], "change to `grants`", "{r}");
    assert_eq!(
        fix["edit"]["changes"][c.uri("provider.yaml")][0]["range"],
        range(line, col, col + 5)
    );

    // acme: its key, two users' `org`, the assignment's `org`, and the
    // tenant file's `scope`.
    c.change("provider.yaml", 2, &provider);
    let (line, col) = find(&provider, "acme:");
    let mut p = c.at("provider.yaml", line, col);
    p["newName"] = json!("acme-corp");
    let r = c.request("textDocument/rename", p);
    let changes = &r["result"]["changes"];
    assert_eq!(
        changes[c.uri("provider.yaml")].as_array().map(Vec::len),
        Some(4),
        "{r}"
    );
    let acme = c.text("acme.yaml");
    let (sl, sc) = find(&acme, "acme");
    assert_eq!(
        changes[c.uri("acme.yaml")],
        json!([{ "range": range(sl, sc, sc + 4), "newText": "acme-corp" }])
    );
    c.shutdown();
}

#[test]
fn a_code_lens_above_each_grant_counts_the_users_it_reaches() {
    // acme has alice and bob; globex has gina. An org assignment reaches
    // its members, one to a user that user, a rule the users it matches.
    let mut c = Client::start(|dir| {
        let acme = dir.join("acme.yaml");
        let text = std::fs::read_to_string(&acme).unwrap();
        std::fs::write(&acme, format!("{text}  - {{ role: viewer, org: acme }}\n")).unwrap();
        std::fs::write(
            dir.join("rules.yaml"),
            "scope: provider\n\nautomatic:\n  - name: everyone\n    when: {}\n    grant: [{ roles: [viewer], at: [self] }]\n",
        )
        .unwrap();
    });
    let caps = c.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": c.uri("acme.yaml") } }),
    );
    let acme = c.text("acme.yaml");
    let lenses = caps["result"].as_array().unwrap();
    let titled: Vec<(u64, &str)> = lenses
        .iter()
        .map(|l| {
            (
                l["range"]["start"]["line"].as_u64().unwrap(),
                l["command"]["title"].as_str().unwrap(),
            )
        })
        .collect();
    let line = |needle: &str| u64::from(find(&acme, needle).0);
    assert_eq!(
        titled,
        vec![
            (line("role: reviewer, user: bob"), "reaches 1 user"),
            (line("role: viewer, user: bob"), "reaches 1 user"),
            (line("role: viewer, org: acme"), "reaches 2 users"),
        ],
        "{caps}"
    );
    let r = c.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": c.uri("rules.yaml") } }),
    );
    let lenses = r["result"].as_array().unwrap();
    assert_eq!(lenses.len(), 1, "{r}");
    assert_eq!(lenses[0]["command"]["title"], "reaches 3 users", "{r}");
    c.shutdown();
}

#[test]
fn the_sets_own_files_at_its_root_are_not_policy_files_but_below_it_are_reported() {
    // trellis.toml at the root is the set's configuration: opening it in
    // the editor must not turn it into a policy file with an E002. One
    // planted below the root is reported, as `trellis check` reports it.
    let mut c = Client::start(|dir| {
        std::fs::write(dir.join("trellis.toml"), "deny_warnings = true\n").unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/trellis.toml"), "deny_warnings = false\n").unwrap();
    });
    let acme = c.text("acme.yaml");
    c.open("acme.yaml", &acme);
    assert_eq!(codes(&c.diagnostics("sub/trellis.toml")), vec!["E002"]);
    c.open("trellis.toml", "deny_warnings = true\n");
    let r = c.request("textDocument/hover", c.at("acme.yaml", 0, 0));
    assert!(r.get("error").is_none(), "{r}");
    // Nothing was ever published with a diagnostic for the root's file.
    let root_uri = c.uri("trellis.toml");
    let flagged = c.seen.iter().any(|v| {
        v["method"] == "textDocument/publishDiagnostics"
            && v["params"]["uri"] == json!(root_uri)
            && !v["params"]["diagnostics"].as_array().unwrap().is_empty()
    });
    assert!(!flagged, "{:?}", c.seen);
    c.shutdown();
}

/// What `trellis check` finds in `file` of the set in `dir` with `text`
/// written over it (copied, so that the client's set is untouched): each
/// finding's code, 0-based line and message with its label, sorted.
fn checked_afresh(dir: &Path, file: &str, text: &str) -> Vec<(String, u64, String)> {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(copy.path().join(file), text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["check", "--format", "json", "--no-cache"])
        .arg(copy.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<(String, u64, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"].as_str().unwrap().ends_with(file))
        .map(|d| {
            let line = d["line"].as_u64().unwrap() - 1;
            // As the server writes it: the message, then its label.
            let mut message = d["message"].as_str().unwrap().to_owned();
            if let Some(label) = d["labels"][0]["message"].as_str() {
                message = format!("{message} ({label})");
            }
            (d["code"].as_str().unwrap().to_owned(), line, message)
        })
        .collect();
    found.sort();
    found
}

/// The same of the server's diagnostics (their first line).
fn published(ds: &[Value]) -> Vec<(String, u64, String)> {
    let mut found: Vec<(String, u64, String)> = ds
        .iter()
        .map(|d| {
            let line = d["range"]["start"]["line"].as_u64().unwrap();
            // Its first line (help and notes follow).
            let message = d["message"].as_str().unwrap().lines().next().unwrap();
            (
                d["code"].as_str().unwrap().to_owned(),
                line,
                message.to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

/// Edits of assignments alone are resolved again from the last analysis,
/// any other edit from scratch: in turn, each publication is what checking
/// the buffer's text afresh finds, whichever way the server took.
#[test]
fn edits_of_assignments_and_of_anything_else_in_turn_publish_what_a_fresh_check_finds() {
    let mut c = Client::start(|_| {});
    let good = c.text("acme.yaml");
    let set = c.dir.path().to_path_buf();
    let steps = [
        // Assignments alone: a misspelt role (E004), then another user.
        good.replace("role: viewer, user: bob", "role: viewr, user: bob"),
        good.replace("role: viewer, user: bob", "role: viewr, user: alice"),
        // The role's definition renamed: its assignment names nothing now.
        good.replace("role: viewer, user: bob", "role: viewr, user: alice")
            .replace("  reviewer: {", "  reviewer2: {"),
        // Assignments alone again, from that analysis: both fixed.
        good.replace("  reviewer: {", "  reviewer2: {")
            .replace("role: reviewer, user: bob", "role: reviewer2, user: bob"),
        // An assignment more, implied by another one (W104 twice).
        good.replace(
            "assignments:\n",
            "assignments:\n  - { role: viewer, user: bob }\n",
        ),
        good.clone(),
    ];
    c.open("acme.yaml", &good);
    let first = published(&c.diagnostics("acme.yaml"));
    assert_eq!(first, checked_afresh(&set, "acme.yaml", &good));
    c.analysis_log();
    let mut codes_seen = Vec::new();
    let mut again = Vec::new();
    for (i, text) in steps.iter().enumerate() {
        c.change("acme.yaml", i as i64 + 2, text);
        let got = published(&c.diagnostics("acme.yaml"));
        let want = checked_afresh(&set, "acme.yaml", text);
        assert_eq!(got, want, "step {i}");
        codes_seen.extend(got.into_iter().map(|(code, _, _)| code));
        // The server's log of the analysis says which way it took.
        again.push(c.analysis_log().contains("resolve assignments again"));
    }
    // Step 4 renames the role back as it adds an assignment: from scratch.
    assert_eq!(
        again,
        [true, true, false, true, false, true],
        "resolved again"
    );
    // The steps are not vacuous: they find unknown and redundant grants.
    assert!(codes_seen.iter().any(|c| c == "E004"), "{codes_seen:?}");
    assert!(
        codes_seen.iter().filter(|c| *c == "W104").count() >= 3,
        "{codes_seen:?}"
    );
    c.shutdown();
}
