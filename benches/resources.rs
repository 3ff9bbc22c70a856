//! `cargo bench --bench resources`: a question about a resource against an
//! org-level question, on one table (the spec's target: a resource question
//! costs at most twice an org-level one).
//!
//! ```sh
//! cargo run --release --example generate -- --tier M --resources --out target/bench/M-res
//! cargo bench --bench resources
//! ```
//!
//! The workload's `queries.jsonl` holds org-level questions and, with
//! `--resources`, as many questions about a resource (lines with
//! `"resource"`; the question is asked at the resource's org, or at the line's
//! org for a resource of no org). Each iteration answers the next question
//! of its list, after one untimed pass over both, as in `benches/allow.rs`:
//!
//! - `org_level`: `allow(u, p, x)` on the org-level questions, on `M-res`
//!   and, when generated, on `M` (the same questions: the generator draws
//!   the resources from a stream of their own) for the cost of dimensions;
//! - `resource`: `allow_on(u, p, x, Some(q))` on the resource questions;
//! - `resource_as_org`: `allow(u, p, x)` on the resource questions with the
//!   resource left out (the same grant scans, without the resource checks).
//!
//! A missing workload is skipped with a message. `TRELLIS_BENCH_DIR` moves
//! the root (default `target/bench`).
//!
//! For instruction counts, `TRELLIS_COUNT=TIER` (`M-res` or `M`) skips divan
//! and answers each list of that workload once in its own non-inlined
//! function (`answer_org`, `answer_res`, `answer_res_as_org`), for
//! `valgrind --tool=callgrind --toggle-collect='*answer_*'`: the inclusive
//! count of one function divided by the length of its list is the cost of
//! a decision, without the load. `TRELLIS_TABLE=FILE` then opens a table
//! compiled with `trellis compile` instead of compiling the sources (much
//! faster under valgrind). `TRELLIS_COLD=1` skips the untimed pass and
//! fills the caches with something else first, for the cache misses of a
//! cold table (`valgrind --tool=callgrind --cache-sim=yes`: `DLmr` of a
//! function is its reads that missed the last-level cache).

use std::path::PathBuf;
use std::sync::OnceLock;

use trellis::query::Question;
use trellis::table::{Org, Perm, Resource, Table, User};

fn main() {
    if let Some(tier) = std::env::var_os("TRELLIS_COUNT") {
        count(&tier.to_string_lossy());
        return;
    }
    // Load (and report) before divan prints its table.
    workload("M-res");
    workload("M");
    divan::main();
}

struct Workload {
    table: Table,
    org_level: Vec<(User, Perm, Org)>,
    resource: Vec<(User, Perm, Org, Resource)>,
}

fn load(tier: &str, table_file: Option<PathBuf>) -> Option<Workload> {
    let root = std::env::var_os("TRELLIS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"));
    let dir = root.join(tier);
    if !dir.join("queries.jsonl").exists() {
        eprintln!("skipping {tier}: generate it into {}", dir.display());
        return None;
    }
    let table = match table_file {
        Some(file) => Table::open(file).ok()?,
        None => {
            let checked =
                trellis::check_paths(std::slice::from_ref(&dir), &Default::default()).ok()?;
            if checked.diagnostics.has_errors() {
                eprintln!("skipping {tier}: the set has errors");
                return None;
            }
            Table::from_bytes(&checked.compile(Default::default()).ok()?.encode()).ok()?
        }
    };
    let text = std::fs::read_to_string(dir.join("queries.jsonl")).ok()?;
    let mut org_level = Vec::new();
    let mut resource = Vec::new();
    for q in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Question>(l).ok())
    {
        let (Some(u), Some(p)) = (table.user(&q.user), table.permission(&q.permission)) else {
            continue;
        };
        match &q.resource {
            None => {
                if let Some(x) = table.org(&q.org) {
                    org_level.push((u, p, x));
                }
            }
            Some(id) => {
                let Some(r) = table.resource(id) else {
                    continue;
                };
                let x = match table.resource_org(r) {
                    Some(x) => Some(x),
                    None => table.org(&q.org),
                };
                if let Some(x) = x {
                    resource.push((u, p, x, r));
                }
            }
        }
    }
    if std::env::var_os("TRELLIS_COLD").is_some() {
        // Cold, for cache misses: no pass before the counted one, and the
        // caches filled with something else after the table's checksum
        // pass (twice the 32 MiB last-level cache of the bench host).
        let evict = vec![1u8; 64 << 20];
        std::hint::black_box(evict.iter().map(|&b| b as u64).sum::<u64>());
        return (!org_level.is_empty()).then_some(Workload {
            table,
            org_level,
            resource,
        });
    }
    // One untimed pass, as a running service's table is warm.
    let allowed = org_level
        .iter()
        .filter(|&&(u, p, x)| table.allow(u, p, x))
        .count();
    let allowed_on = resource
        .iter()
        .filter(|&&(u, p, x, r)| table.allow_on(u, p, x, Some(r)))
        .count();
    eprintln!(
        "{tier}: {} org-level questions ({allowed} allowed), {} resource questions ({allowed_on} allowed)",
        org_level.len(),
        resource.len()
    );
    (!org_level.is_empty()).then_some(Workload {
        table,
        org_level,
        resource,
    })
}

/// The workload of `M-res`, or of `M` (no resources), loaded once.
fn workload(tier: &str) -> Option<&'static Workload> {
    static RES: OnceLock<Option<Workload>> = OnceLock::new();
    static PLAIN: OnceLock<Option<Workload>> = OnceLock::new();
    let cell = if tier == "M" { &PLAIN } else { &RES };
    cell.get_or_init(|| load(tier, None)).as_ref()
}

/// The resource questions of `M-res`, or a message.
fn resource_workload() -> Option<&'static Workload> {
    let w = workload("M-res")?;
    if w.resource.is_empty() {
        eprintln!("skipping M-res: no resource questions (generate it with --resources)");
        return None;
    }
    Some(w)
}

/// The next index of a list of `len`, wrapping.
fn step(next: &mut usize, len: usize) -> usize {
    let i = *next;
    *next = if i + 1 == len { 0 } else { i + 1 };
    i
}

#[divan::bench(args = ["M-res", "M"], sample_count = 1000, sample_size = 200)]
fn org_level(bencher: divan::Bencher, tier: &str) {
    let Some(w) = workload(tier) else {
        return;
    };
    let mut next = 0usize;
    bencher.bench_local(|| {
        let (u, p, x) = w.org_level[step(&mut next, w.org_level.len())];
        divan::black_box(w.table.allow(u, p, x))
    });
}

#[divan::bench(sample_count = 1000, sample_size = 200)]
fn resource(bencher: divan::Bencher) {
    let Some(w) = resource_workload() else {
        return;
    };
    let mut next = 0usize;
    bencher.bench_local(|| {
        let (u, p, x, r) = w.resource[step(&mut next, w.resource.len())];
        divan::black_box(w.table.allow_on(u, p, x, Some(r)))
    });
}

#[divan::bench(sample_count = 1000, sample_size = 200)]
fn resource_as_org(bencher: divan::Bencher) {
    let Some(w) = resource_workload() else {
        return;
    };
    let mut next = 0usize;
    bencher.bench_local(|| {
        let (u, p, x, _) = w.resource[step(&mut next, w.resource.len())];
        divan::black_box(w.table.allow(u, p, x))
    });
}

#[inline(never)]
fn answer_org(t: &Table, qs: &[(User, Perm, Org)]) -> usize {
    qs.iter()
        .filter(|&&(u, p, x)| divan::black_box(t.allow(u, p, x)))
        .count()
}

#[inline(never)]
fn answer_res(t: &Table, qs: &[(User, Perm, Org, Resource)]) -> usize {
    qs.iter()
        .filter(|&&(u, p, x, r)| divan::black_box(t.allow_on(u, p, x, Some(r))))
        .count()
}

#[inline(never)]
fn answer_res_as_org(t: &Table, qs: &[(User, Perm, Org, Resource)]) -> usize {
    qs.iter()
        .filter(|&&(u, p, x, _)| divan::black_box(t.allow(u, p, x)))
        .count()
}

fn count(tier: &str) {
    let table = std::env::var_os("TRELLIS_TABLE").map(PathBuf::from);
    let Some(w) = load(tier, table) else {
        return;
    };
    let a = answer_org(&w.table, &w.org_level);
    let b = answer_res(&w.table, &w.resource);
    let c = answer_res_as_org(&w.table, &w.resource);
    println!(
        "answer_org: {} questions, {a} allowed; answer_res: {} questions, {b} allowed; answer_res_as_org: {c} allowed",
        w.org_level.len(),
        w.resource.len()
    );
}
