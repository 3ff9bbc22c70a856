//! `trellis serve`, started on an ephemeral loopback port: every endpoint
//! answers as `trellis query` does on the same table; reloads under load
//! (valid, corrupt and truncated files) never fail a request nor mix two
//! tables in one batch; limits, authentication and the SIGTERM drain; the
//! OpenAPI document lists exactly the server's routes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("trellis")
}

fn compile(set: &str, out: &Path) {
    let status = Command::new(bin())
        .args(["compile", set, "-o"])
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "compile {set}");
}

/// A running server, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(table: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .arg("serve")
            .arg(table)
            .args(["--listen", "127.0.0.1:0", "--poll-interval-ms", "50"])
            .args(extra)
            .env("TRELLIS_LOG", "warn")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("trellis serve: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = err.read_to_string(&mut sink);
        });
        Server { child, addr }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        http(&self.addr, method, path, body, headers)
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.request("POST", path, &body.to_string(), &[]);
        (
            status,
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}")),
        )
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, "", &[])
    }

    /// Sends the server SIGTERM.
    fn terminate(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    }

    /// The exit code of the server once it has stopped; fails the test if
    /// it is still running after `limit`.
    fn exit_code_within(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(started.elapsed() < limit, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection; the status and the body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    read_response(&mut s)
}

fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    // Chunked bodies (axum streams none of ours, but be safe): join chunks.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    (status, body)
}

fn query(table: &Path, args: &[&str]) -> String {
    let out = Command::new(bin())
        .arg("query")
        .arg(table)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every user × org × permission of a table (and every resource question),
/// from its JSON dump and the set's catalog as `trellis show` has it.
fn questions(set: &str, table: &Path) -> Vec<Value> {
    let dump = table.with_extension("json");
    let status = Command::new(bin())
        .args(["compile", set, "-o"])
        .arg(table)
        .arg("--json")
        .arg(&dump)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let d: Value = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
    let names = |k: &str| -> Vec<String> {
        d[k].as_array()
            .map(|v| {
                v.iter()
                    .map(|x| x["id"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (orgs, users, resources) = (names("orgs"), names("users"), names("resources"));
    let checked = trellis::check_paths(&[PathBuf::from(set)], &Default::default()).unwrap();
    let m = &checked.model;
    let perms: Vec<String> = (0..m.perms.len())
        .map(|p| m.perm_name(trellis::model::PermId(p as u32)))
        .collect();
    let mut qs = Vec::new();
    for u in &users {
        for p in &perms {
            for x in &orgs {
                qs.push(json!({"user": u, "permission": p, "org": x}));
            }
            for r in &resources {
                qs.push(json!({"user": u, "permission": p, "resource": r}));
            }
        }
    }
    qs.push(json!({"user": "nobody", "permission": perms[0], "org": orgs[0]}));
    qs
}

#[test]
fn every_endpoint_answers_as_trellis_query() {
    let tmp = tempfile::tempdir().unwrap();
    for set in [
        "policies-examples/quickstart",
        "policies-examples/cloud-ops",
    ] {
        let table = tmp.path().join("t.tbl");
        let qs = questions(set, &table);
        let server = Server::start(&table, &[]);

        // allow/batch and allow against query --batch.
        let batch_file = tmp.path().join("q.jsonl");
        std::fs::write(
            &batch_file,
            qs.iter().map(|q| format!("{q}\n")).collect::<String>(),
        )
        .unwrap();
        let want: Vec<bool> = query(&table, &["--batch", batch_file.to_str().unwrap()])
            .lines()
            .map(|l| l == "allow")
            .collect();
        assert_eq!(want.len(), qs.len());
        let (status, got) = server.post("/v1/allow/batch", &json!({ "questions": qs }));
        assert_eq!(status, 200);
        let got: Vec<bool> = got["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_bool().unwrap())
            .collect();
        assert_eq!(got, want, "{set}: batch answers differ from trellis query");
        // The same batch written with every letter `e` escaped is read by
        // the general JSON parser, not the server's plain reader: the same
        // answers.
        let escaped = json!({ "questions": qs })
            .to_string()
            .replace('e', "\\u0065");
        let (status, text) = server.request("POST", "/v1/allow/batch", &escaped, &[]);
        assert_eq!(status, 200, "{text}");
        let escaped: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(escaped["allowed"], json!(want), "{set}: escaped batch");
        assert!(want.iter().any(|a| *a) && want.iter().any(|a| !*a));
        for (q, w) in qs.iter().zip(&want).step_by(7) {
            let (status, a) = server.post("/v1/allow", q);
            assert_eq!(status, 200);
            assert_eq!(a["allowed"], *w, "{set}: {q}");
            assert_eq!(a["decision"], if *w { "allow" } else { "deny" });
        }

        // explain: the same lines as query --explain on the table.
        for q in qs.iter().step_by(23) {
            let mut args = vec![
                "--user".to_owned(),
                q["user"].as_str().unwrap().to_owned(),
                "--permission".to_owned(),
                q["permission"].as_str().unwrap().to_owned(),
                "--explain".to_owned(),
                "--format".to_owned(),
                "json".to_owned(),
            ];
            for k in ["org", "resource"] {
                if let Some(v) = q[k].as_str() {
                    args.push(format!("--{k}"));
                    args.push(v.to_owned());
                }
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let want: Value = serde_json::from_str(query(&table, &args).trim()).unwrap();
            let (status, got) = server.post("/v1/explain", q);
            assert_eq!(status, 200);
            assert_eq!(got["decision"], want["decision"], "{set}: explain {q}");
            if q["user"] != "nobody" {
                assert_eq!(got["lines"], want["explanation"], "{set}: explain {q}");
            }
        }

        // roles and policies against query --roles; published, who.
        let dump: Value =
            serde_json::from_slice(&std::fs::read(table.with_extension("json")).unwrap()).unwrap();
        for u in dump["users"].as_array().unwrap() {
            for x in dump["orgs"].as_array().unwrap() {
                let (user, org) = (u["id"].as_str().unwrap(), x["id"].as_str().unwrap());
                let want: Value = serde_json::from_str(
                    query(
                        &table,
                        &["--user", user, "--org", org, "--roles", "--format", "json"],
                    )
                    .trim(),
                )
                .unwrap();
                let (status, got) = server.post("/v1/roles", &json!({"user": user, "org": org}));
                assert_eq!(status, 200);
                assert_eq!(
                    got["roles"], want["roles"],
                    "{set}: roles of {user} at {org}"
                );
                let (status, got) = server.post("/v1/policies", &json!({"user": user, "org": org}));
                assert_eq!(status, 200);
                assert!(got["policies"].is_array());
            }
        }
        let (_, who) = server.post(
            "/v1/who",
            &json!({"permission": qs[0]["permission"], "org": qs[0]["org"]}),
        );
        let want: Vec<&str> = qs
            .iter()
            .zip(&want)
            .filter(|(q, a)| {
                **a && q["permission"] == qs[0]["permission"] && q["org"] == qs[0]["org"]
            })
            .map(|(q, _)| q["user"].as_str().unwrap())
            .collect();
        assert_eq!(who["users"], json!(want), "{set}: who");
        let (status, p) = server.post(
            "/v1/published",
            &json!({"role": dump["roles"][0]["name"], "org": dump["orgs"][0]["id"]}),
        );
        assert_eq!(status, 200);
        assert!(p["published"].is_boolean() && p["unknown"] == json!([]));
        let (status, t) = server.get("/v1/table");
        assert_eq!(status, 200);
        let t: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(t["format_version"], 3);
        assert_eq!(t["input_hash"], dump["input_hash"]);
        assert_eq!(server.get("/healthz").0, 200);
        assert_eq!(server.get("/readyz").0, 200);
        let (status, metrics) = server.get("/metrics");
        assert_eq!(status, 200);
        assert!(metrics.contains("trellis_decisions_total{result=\"allow\"}"));
        assert!(metrics.contains(&format!(
            "trellis_table_info{{input_hash=\"{}\"",
            dump["input_hash"].as_str().unwrap()
        )));
    }
}

#[test]
fn can_assign_answers_as_the_test_files_say() {
    // policies-examples/app-managers' test file says who may assign what on
    // which application; the server answers the same from the table.
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("apps.tbl");
    compile("policies-examples/app-managers", &table);
    let checked = trellis::check_paths(
        &[PathBuf::from("policies-examples/app-managers")],
        &Default::default(),
    )
    .unwrap();
    let m = &checked.model;
    let server = Server::start(&table, &[]);
    let mut asked = 0;
    for (ai, a) in m.users.iter().enumerate() {
        for (ri, r) in m
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.assignable_by.is_empty())
        {
            for (ui, u) in m.users.iter().enumerate() {
                let x = u.home;
                let role = trellis::model::RoleId(ri as u32);
                let want = m.can_assign(
                    trellis::model::UserId(ai as u32),
                    role,
                    trellis::model::UserId(ui as u32),
                    x,
                );
                let (status, got) = server.post(
                    "/v1/can_assign",
                    &json!({"admin": a.id, "role": m.role_qualified(role), "user": u.id, "org": m.org(x).id}),
                );
                assert_eq!(status, 200);
                assert_eq!(
                    got["allowed"], want,
                    "can_assign({}, {}, {})",
                    a.id, r.name, u.id
                );
                asked += 1;
            }
        }
    }
    assert!(asked > 10);
    let (_, got) = server.post(
        "/v1/can_assign",
        &json!({"admin": "x", "role": "y", "user": "z", "org": "w", "resources": {"nope": ["a"]}}),
    );
    assert_eq!(got["allowed"], false);
    assert_eq!(got["unknown"].as_array().unwrap().len(), 5);
}

#[test]
fn reloads_under_load_never_fail_nor_mix_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.tbl"), tmp.path().join("b.tbl"));
    let qs_a = questions("policies-examples/quickstart", &a);
    compile("policies-examples/atlantic-group", &b);
    let live = tmp.path().join("live.tbl");
    std::fs::copy(&a, &live).unwrap();
    let server = Server::start(&live, &[]);
    // The answers each table gives to the same batch.
    let batch = json!({ "questions": qs_a });
    let answers_of = |table: &Path| -> Vec<bool> {
        let f = tmp.path().join("batch.jsonl");
        std::fs::write(
            &f,
            qs_a.iter().map(|q| format!("{q}\n")).collect::<String>(),
        )
        .unwrap();
        query(table, &["--batch", f.to_str().unwrap()])
            .lines()
            .map(|l| l == "allow")
            .collect()
    };
    let (want_a, want_b) = (answers_of(&a), answers_of(&b));
    assert_ne!(want_a, want_b, "the two tables must answer differently");
    let hash = |t: &Path| {
        format!(
            "{:016x}",
            trellis::table::Table::open(t).unwrap().input_hash()
        )
    };
    let (hash_a, hash_b) = (hash(&a), hash(&b));
    let corrupt = {
        let mut bytes = std::fs::read(&b).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        bytes
    };
    let truncated = std::fs::read(&b).unwrap()[..100].to_vec();

    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr.clone();
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (stop, addr, body) = (stop.clone(), addr.clone(), batch.to_string());
            let (want_a, want_b, hash_a, hash_b) = (
                want_a.clone(),
                want_b.clone(),
                hash_a.clone(),
                hash_b.clone(),
            );
            std::thread::spawn(move || {
                let mut seen = [0usize; 2];
                while !stop.load(Ordering::Relaxed) {
                    let (status, text) = http(&addr, "POST", "/v1/allow/batch", &body, &[]);
                    assert_eq!(status, 200, "a request failed during reloads: {text}");
                    let v: Value = serde_json::from_str(&text).unwrap();
                    let got: Vec<bool> = v["allowed"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|b| b.as_bool().unwrap())
                        .collect();
                    let h = v["input_hash"].as_str().unwrap();
                    if got == want_a && h == hash_a {
                        seen[0] += 1;
                    } else if got == want_b && h == hash_b {
                        seen[1] += 1;
                    } else {
                        panic!("a batch answered from neither table alone (hash {h})");
                    }
                }
                seen
            })
        })
        .collect();
    // Swap tables by renaming over the live file, good and bad, for a while.
    let start = Instant::now();
    let mut swaps = 0;
    while start.elapsed() < Duration::from_secs(3) {
        for bytes in [
            std::fs::read(&b).unwrap(),
            corrupt.clone(),
            std::fs::read(&a).unwrap(),
            truncated.clone(),
        ] {
            let next = tmp.path().join("next.tbl");
            std::fs::write(&next, &bytes).unwrap();
            std::fs::rename(&next, &live).unwrap();
            swaps += 1;
            std::thread::sleep(Duration::from_millis(40));
        }
    }
    // End on table b, and let it load.
    let next = tmp.path().join("next.tbl");
    std::fs::copy(&b, &next).unwrap();
    std::fs::rename(&next, &live).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let mut seen = [0usize; 2];
    for c in clients {
        let s = c.join().expect("a client saw a failed or mixed answer");
        seen[0] += s[0];
        seen[1] += s[1];
    }
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "both tables served: {seen:?} over {swaps} swaps"
    );
    let (_, t) = server.get("/v1/table");
    let t: Value = serde_json::from_str(&t).unwrap();
    assert_eq!(t["input_hash"], hash_b);
    assert!(t["reloads"]["done"].as_u64().unwrap() >= 2, "{t}");
    assert!(t["reloads"]["failed"].as_u64().unwrap() >= 2, "{t}");
}

#[test]
fn limits_are_json_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    compile("policies-examples/quickstart", &table);
    let server = Server::start(
        &table,
        &[
            "--max-body-bytes",
            "2000",
            "--max-batch",
            "3",
            "--request-timeout-ms",
            "300",
        ],
    );
    let q = json!({"user": "alice", "permission": "templates:read", "org": "acme"});
    let (status, body) = server.post("/v1/allow/batch", &json!({"questions": [q, q, q, q]}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("batch_too_long"))
    );
    let big = format!("{{\"questions\": [{}]}}", vec![q.to_string(); 40].join(","));
    let (status, body) = server.request("POST", "/v1/allow/batch", &big, &[]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    // The single question is served apart from the router (for speed):
    // its limits and errors are the same.
    let padded = format!(
        "{{\"user\": \"alice\", \"permission\": \"templates:read\", \"org\": \"acme\"{}}}",
        " ".repeat(2000)
    );
    let (status, body) = server.request("POST", "/v1/allow", &padded, &[]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    let (status, _) = server.request("GET", "/v1/allow", "", &[]);
    assert_eq!(status, 405);
    let (status, body) = server.request("POST", "/v1/allow", "{\"user\": 3", &[]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_json"))
    );
    let (status, body) = server.post(
        "/v1/allow",
        &json!({"user": "alice", "permission": "x:y", "org": "acme", "extra": 1}),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_json"))
    );
    let (status, body) = server.request("GET", "/v1/nope", "", &[]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    // A body that never finishes arriving is cut off at the time limit.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"POST /v1/allow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user\":")
        .unwrap();
    let started = Instant::now();
    let (status, body) = read_response(&mut s);
    assert_eq!(status, 408, "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Unknown names answer deny, and the server is still fine.
    let (status, a) = server.post(
        "/v1/allow",
        &json!({"user": "nobody", "permission": "templates:read", "org": "acme"}),
    );
    assert_eq!((status, &a["allowed"]), (200, &json!(false)));
}

#[test]
fn a_connection_slow_to_send_its_head_or_idle_is_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    compile("policies-examples/quickstart", &table);
    let server = Server::start(&table, &["--head-timeout-ms", "300"]);
    let closed_within = |s: &mut TcpStream| {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        let mut rest = Vec::new();
        // The server closes the socket: end of file (or a reset), not
        // the read timeout.
        let _ = s.read_to_end(&mut rest);
        started.elapsed()
    };
    // Half a head, and nothing more.
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.write_all(b"POST /v1/allow HTTP/1.1\r\nHost: x\r\nContent-Le")
        .unwrap();
    assert!(closed_within(&mut slow) < Duration::from_secs(5));
    // A keep-alive connection answered once, then left idle.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    let q = json!({"user": "alice", "permission": "templates:read", "org": "acme"}).to_string();
    idle.write_all(
        format!(
            "POST /v1/allow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{q}",
            q.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(closed_within(&mut idle) < Duration::from_secs(5));
    // The server still answers.
    let (status, a) = server.post("/v1/allow", &serde_json::from_str(&q).unwrap());
    assert_eq!((status, &a["allowed"]), (200, &json!(true)));
}

#[test]
fn a_token_guards_the_api_but_not_the_probes() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    compile("policies-examples/quickstart", &table);
    let token = tmp.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let server = Server::start(&table, &["--token-file", token.to_str().unwrap()]);
    let q = json!({"user": "alice", "permission": "templates:read", "org": "acme"}).to_string();
    assert_eq!(server.request("POST", "/v1/allow", &q, &[]).0, 401);
    assert_eq!(
        server
            .request(
                "POST",
                "/v1/allow",
                &q,
                &[("Authorization", "Bearer wrong")]
            )
            .0,
        401
    );
    let (status, body) = server.request(
        "POST",
        "/v1/allow",
        &q,
        &[("Authorization", "Bearer s3cret")],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.request("GET", "/metrics", "", &[]).0, 401);
    assert_eq!(server.request("GET", "/v1/table", "", &[]).0, 401);
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.get("/readyz").0, 200);
}

#[test]
fn sigterm_drains_requests_in_flight_then_exits() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    compile("policies-examples/quickstart", &table);
    let mut server = Server::start(&table, &[]);
    let body =
        json!({"user": "alice", "permission": "templates:delete", "org": "atlantic"}).to_string();
    // A request whose body is still arriving when SIGTERM comes.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /v1/allow HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body.as_bytes()[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.terminate();
    std::thread::sleep(Duration::from_millis(200));
    s.write_all(&body.as_bytes()[5..]).unwrap();
    let (status, text) = read_response(&mut s);
    assert_eq!(
        status, 200,
        "the request in flight was not answered: {text}"
    );
    assert!(text.contains("\"allowed\":true"));
    assert_eq!(server.exit_code_within(Duration::from_secs(10)), Some(0));
    // New connections are refused once it has stopped.
    assert!(TcpStream::connect(&server.addr).is_err());
}

#[test]
fn sigterm_does_not_wait_for_a_connection_that_sends_no_head() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    compile("policies-examples/quickstart", &table);
    // The head time limit (75 s) is far longer than the drain allows.
    let mut server = Server::start(&table, &["--request-timeout-ms", "300"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"POST /v1/allow HTTP/1.1\r\nHost: x\r\nContent-Le")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    server.terminate();
    // It must not wait for the connection that sent no request.
    assert_eq!(server.exit_code_within(Duration::from_secs(10)), Some(0));
    drop(s);
}

#[test]
fn the_openapi_document_lists_exactly_the_servers_routes() {
    let doc = std::fs::read_to_string("docs/openapi.yaml").unwrap();
    // Paths are the two-space-indented keys under `paths:`, each followed
    // by its method.
    let mut documented = Vec::new();
    let mut path = None;
    let mut in_paths = false;
    for line in doc.lines() {
        if line == "paths:" {
            in_paths = true;
            continue;
        }
        if in_paths && !line.starts_with(' ') && !line.is_empty() {
            break;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = Some(format!("/{p}"));
        } else if let (Some(p), Some(m)) = (
            &path,
            line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')),
        ) {
            if ["get", "post"].contains(&m) {
                documented.push((m.to_uppercase(), p.clone()));
            }
        }
    }
    documented.sort();
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    compile("policies-examples/quickstart", &table);
    let server = Server::start(&table, &[]);
    // Every documented route answers (with its method), and the other
    // method of each is not a route.
    for (method, path) in &documented {
        let body = if method == "POST" { "{}" } else { "" };
        let (status, _) = server.request(method, path, body, &[]);
        assert!(status != 404 && status != 405, "{method} {path}: {status}");
        let other = if method == "POST" { "GET" } else { "POST" };
        let (status, _) = server.request(other, path, body, &[]);
        assert_eq!(status, 405, "{other} {path} should not be a route");
    }
    // The server's routes (src of crates/trellis-server/src/api.rs) are
    // all documented.
    let api = std::fs::read_to_string("crates/trellis-server/src/api.rs").unwrap();
    let mut served: Vec<(String, String)> = api
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".route(\""))
        .map(|l| {
            let (path, rest) = l.split_once('"').unwrap();
            let method = rest.trim_start_matches(", ").split('(').next().unwrap();
            (method.to_uppercase(), path.to_owned())
        })
        .collect();
    served.sort();
    assert_eq!(
        served, documented,
        "docs/openapi.yaml and the router differ"
    );
}

#[test]
fn replicas_share_nothing_but_the_table_file() {
    // Two replicas of one table, as behind a load balancer: the same
    // answers; the file replaced once, each reloads it on its own.
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.tbl"), tmp.path().join("b.tbl"));
    compile("policies-examples/quickstart", &a);
    compile("policies-examples/atlantic-group", &b);
    let live = tmp.path().join("live.tbl");
    std::fs::copy(&a, &live).unwrap();
    let replicas = [Server::start(&live, &[]), Server::start(&live, &[])];
    let q = json!({"user": "alice", "permission": "templates:delete", "org": "atlantic"});
    let answers: Vec<Value> = replicas.iter().map(|s| s.post("/v1/allow", &q).1).collect();
    assert_eq!(answers[0], answers[1]);
    let next = tmp.path().join("next.tbl");
    std::fs::copy(&b, &next).unwrap();
    std::fs::rename(&next, &live).unwrap();
    let want = format!(
        "{:016x}",
        trellis::table::Table::open(&b).unwrap().input_hash()
    );
    for s in &replicas {
        let started = Instant::now();
        loop {
            let (_, t) = s.get("/v1/table");
            let t: Value = serde_json::from_str(&t).unwrap();
            if t["input_hash"] == want.as_str() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "a replica did not reload"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn the_decision_log_is_json_lines_bounded_in_size() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("t.tbl");
    compile("policies-examples/quickstart", &table);
    let log = tmp.path().join("decisions.jsonl");
    let server = Server::start(
        &table,
        &[
            "--decision-log",
            log.to_str().unwrap(),
            "--decision-log-max-bytes",
            "2000",
        ],
    );
    let q = json!({"user": "alice", "permission": "templates:delete", "org": "atlantic"});
    for _ in 0..40 {
        assert_eq!(server.post("/v1/allow", &q).0, 200);
    }
    let rotated = tmp.path().join("decisions.jsonl.1");
    let (now, before) = (
        std::fs::read_to_string(&log).unwrap(),
        std::fs::read_to_string(&rotated).unwrap(),
    );
    assert!(
        now.len() <= 2000 && before.len() <= 2000,
        "{} and {} bytes",
        now.len(),
        before.len()
    );
    for line in now.lines().chain(before.lines()) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["decision"], "allow");
        assert_eq!(v["question"]["user"], "alice");
        assert_eq!(v["input_hash"].as_str().unwrap().len(), 16);
        assert!(v["time"].as_f64().unwrap() > 0.0);
    }
}
