//! `cargo bench --bench allow`: `Table::allow` per decision under divan, on
//! the generated workloads (see `benches/decisions.rs` for how to generate
//! them; a tier whose directory is missing is skipped with a message).
//!
//! Each iteration answers the next of the workload's 100,000 random queries
//! (handles resolved once and every query answered once untimed, as in a
//! running service), so the figures include the cache misses of random users
//! and orgs. `cargo bench --bench decisions`
//! gives the wider report (check, compile, table size, load, p99, resolver).

use std::path::PathBuf;
use std::sync::OnceLock;

use trellis::query::Question;
use trellis::table::{Org, Perm, Table, User};

fn main() {
    divan::main();
}

struct Workload {
    table: Table,
    queries: Vec<(User, Perm, Org)>,
}

fn load(tier: &str) -> Option<Workload> {
    let root = std::env::var_os("TRELLIS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"));
    let dir = root.join(tier);
    if !dir.join("provider.yaml").exists() {
        eprintln!("skipping tier {tier}: generate it into {}", dir.display());
        return None;
    }
    let checked = trellis::check_paths(std::slice::from_ref(&dir), &Default::default()).ok()?;
    if checked.diagnostics.has_errors() {
        eprintln!("skipping tier {tier}: the set has errors");
        return None;
    }
    let table = Table::from_bytes(&checked.compile(Default::default()).ok()?.encode()).ok()?;
    let text = std::fs::read_to_string(dir.join("queries.jsonl")).ok()?;
    let queries = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Question>(l).ok())
        // Questions about a resource are `benches/resources.rs`'s.
        .filter(|q| q.resource.is_none())
        .filter_map(|q| {
            Some((
                table.user(&q.user)?,
                table.permission(&q.permission)?,
                table.org(&q.org)?,
            ))
        })
        .collect::<Vec<_>>();
    // One untimed pass, as a running service's table is warm.
    let allowed = queries
        .iter()
        .filter(|(u, p, x)| table.allow(*u, *p, *x))
        .count();
    eprintln!("tier {tier}: {} queries, {allowed} allowed", queries.len());
    (!queries.is_empty()).then_some(Workload { table, queries })
}

fn workload(tier: &str) -> Option<&'static Workload> {
    static S: OnceLock<Option<Workload>> = OnceLock::new();
    static M: OnceLock<Option<Workload>> = OnceLock::new();
    static L: OnceLock<Option<Workload>> = OnceLock::new();
    let cell = match tier {
        "S" => &S,
        "M" => &M,
        _ => &L,
    };
    cell.get_or_init(|| load(tier)).as_ref()
}

#[divan::bench(args = ["S", "M", "L"], sample_count = 1000, sample_size = 200)]
fn allow(bencher: divan::Bencher, tier: &str) {
    let Some(w) = workload(tier) else {
        return;
    };
    let mut next = 0usize;
    bencher.bench_local(|| {
        let (u, p, x) = w.queries[next];
        next += 1;
        if next == w.queries.len() {
            next = 0;
        }
        divan::black_box(w.table.allow(u, p, x))
    });
}

/// 64 consecutive queries per iteration (divide by 64): the loop of
/// `benches/decisions.rs`, for comparison.
#[divan::bench(args = ["S", "M", "L"], sample_count = 1000, sample_size = 4)]
fn allow_64(bencher: divan::Bencher, tier: &str) {
    let Some(w) = workload(tier) else {
        return;
    };
    let mut next = 0usize;
    bencher.bench_local(|| {
        let mut allowed = 0usize;
        for &(u, p, x) in &w.queries[next..next + 64] {
            allowed += usize::from(divan::black_box(w.table.allow(u, p, x)));
        }
        next += 64;
        if next + 64 > w.queries.len() {
            next = 0;
        }
        allowed
    });
}
