//! `cargo bench --bench lsp`: the language server driven as an editor
//! drives it, on the generated M tier (generate it first, see
//! benches/decisions.rs; `TRELLIS_BENCH_DIR` as there). One tenant file
//! is opened, then edited in its unsaved buffer over and over, each edit
//! alternately misspelling a role and fixing it; the figure is the time
//! from sending a `didChange` to receiving that file's
//! `publishDiagnostics` (the whole set re-checked), with the server's
//! debounce as configured (`TRELLIS_LSP_DEBOUNCE_MS`, 50 by default), beside
//! a full `trellis check` of the same set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

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

fn main() {
    let root = std::env::var_os("TRELLIS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"));
    let set = std::fs::canonicalize(root.join("M")).unwrap_or_else(|_| root.join("M"));
    let file = set.join("tenants/c1.yaml");
    let Ok(text) = std::fs::read_to_string(&file) else {
        eprintln!("skipping: generate the M tier into {}", set.display());
        return;
    };
    let debounce: u64 = std::env::var("TRELLIS_LSP_DEBOUNCE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let edits: usize = std::env::var("TRELLIS_LSP_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let bin = env!("CARGO_BIN_EXE_trellis");

    let t = Instant::now();
    let check = Command::new(bin)
        .args(["check", "--format", "short"])
        .arg(&set)
        .output()
        .unwrap();
    let full_check = t.elapsed();
    assert!(check.status.code().is_some());

    let mut child = Command::new(bin)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
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
    let mut send = |v: Value| {
        let body = serde_json::to_vec(&v).unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        stdin.write_all(&body).unwrap();
        stdin.flush().unwrap();
    };
    let uri = format!("file://{}", file.display());
    let wait_publish = |rx: &mpsc::Receiver<Value>| loop {
        let v = rx.recv_timeout(Duration::from_secs(120)).unwrap();
        if v["method"] == "textDocument/publishDiagnostics" && v["params"]["uri"] == json!(uri) {
            return v["params"]["diagnostics"].as_array().unwrap().len();
        }
    };
    send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "processId": null, "rootUri": null, "capabilities": {},
                    "initializationOptions": { "debounceMs": debounce } } }));
    loop {
        let v = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        if v["id"] == json!(1) {
            break;
        }
    }
    send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));

    // The first check reads and parses the whole set; a misspelt role in
    // the open buffer makes sure the file is published.
    let (role_at, role) = {
        let at = text.find("role: ").expect("the tenant file assigns a role") + "role: ".len();
        let end = at + text[at..].find([',', ' ', '}', '\n']).unwrap();
        (at, text[at..end].to_owned())
    };
    let bad = format!(
        "{}{}-typo{}",
        &text[..role_at],
        role,
        &text[role_at + role.len()..]
    );
    let t = Instant::now();
    send(json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": { "textDocument": { "uri": uri, "languageId": "yaml", "version": 1, "text": bad } } }));
    let n = wait_publish(&rx);
    let first = t.elapsed();
    assert!(n > 0, "the misspelt role is reported");

    let mut times = Vec::new();
    for i in 0..edits {
        // Even edits fix the role, odd ones misspell it again.
        let body = if i % 2 == 0 { &text } else { &bad };
        let t = Instant::now();
        send(
            json!({ "jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": { "textDocument": { "uri": uri, "version": i + 2 },
                        "contentChanges": [{ "text": body }] } }),
        );
        let n = wait_publish(&rx);
        times.push(t.elapsed());
        assert_eq!(n == 0, i % 2 == 0, "edit {i}: the finding comes and goes");
    }
    send(json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    send(json!({ "jsonrpc": "2.0", "method": "exit" }));
    let _ = child.wait();

    times.sort();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!("| set | files | full `trellis check` | first check (open) | didChange → publishDiagnostics, median of {edits} (min–max) | debounce |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| M | {} | {} | {} | {} ({}–{}) | {debounce} ms |",
        String::from_utf8_lossy(&check.stderr)
            .lines()
            .chain(String::from_utf8_lossy(&check.stdout).lines())
            .find_map(|l| l
                .strip_prefix("checked ")
                .and_then(|r| r.split(' ').next().map(str::to_owned)))
            .unwrap_or_default(),
        ms(full_check),
        ms(first),
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
    );
}
