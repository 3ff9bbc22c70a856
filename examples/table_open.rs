//! Opening a decision table, and the memory it takes, as a service sees it:
//!
//! ```sh
//! cargo run --release --example table_open -- TABLE QUERIES.jsonl open|bytes [N]
//! ```
//!
//! `open` is `Table::open(path)`; `bytes` reads the file and calls
//! `Table::from_bytes`. Prints the time to open (the median of N opens in
//! this process), then the process's resident memory (`VmRSS`, split into
//! file-backed `RssFile` and anonymous `RssAnon`, from /proc/self/status)
//! after one open, and after answering the first N queries of QUERIES (JSON
//! lines with `user`, `org`, `permission`). Run each mode in its own
//! process, as a fresh service would. Standard library and the table only.

use std::time::Instant;

use trellis::table::Table;

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or("?".to_owned(), |kb| {
                format!("{:.1} MiB", kb as f64 / 1024.0)
            })
    };
    format!(
        "VmRSS {} (file {}, anon {})",
        field("VmRSS:"),
        field("RssFile:"),
        field("RssAnon:")
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, table, queries, mode, rest @ ..] = args.as_slice() else {
        return Err("usage: table_open TABLE QUERIES.jsonl open|bytes [N]".into());
    };
    let n: usize = rest.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let open = || -> Result<Table, Box<dyn std::error::Error>> {
        Ok(match mode.as_str() {
            "open" => Table::open(table)?,
            "bytes" => Table::from_bytes(&std::fs::read(table)?)?,
            _ => return Err("mode: open or bytes".into()),
        })
    };
    if mode == "parts" {
        let start = Instant::now();
        let bytes = std::fs::read(table)?;
        let read = start.elapsed();
        let start = Instant::now();
        let sum = trellis::table::format::checksum(&bytes);
        println!("checksum {:.2?} ({sum:016x})", start.elapsed());
        let start = Instant::now();
        let t = Table::from_bytes(&bytes)?;
        println!("read {read:.2?}, from_bytes {:.2?}", start.elapsed());
        let start = Instant::now();
        t.check_records()?;
        println!("check_records {:.2?}", start.elapsed());
        return Ok(());
    }
    let mut times = Vec::new();
    for _ in 0..9 {
        let start = Instant::now();
        let again = open()?;
        times.push(start.elapsed());
        drop(again);
    }
    times.sort();
    println!(
        "open ({mode}): median {:.2?} of 9 (min {:.2?})",
        times[4], times[0]
    );
    let text = std::fs::read_to_string(queries)?;
    println!("before opening: {}", rss());
    let t = open()?;
    println!("after one open: {}", rss());
    let mut handles = Vec::new();
    for line in text.lines().take(n) {
        let q: serde_json::Value = serde_json::from_str(line)?;
        let name = |k: &str| q[k].as_str().unwrap_or_default().to_owned();
        if let (Some(u), Some(p), Some(x)) = (
            t.user(&name("user")),
            t.permission(&name("permission")),
            t.org(&name("org")),
        ) {
            handles.push((u, p, x));
        }
    }
    let allowed = handles
        .iter()
        .filter(|(u, p, x)| t.allow(*u, *p, *x))
        .count();
    println!(
        "after {} queries ({allowed} allowed): {}",
        handles.len(),
        rss()
    );
    Ok(())
}
