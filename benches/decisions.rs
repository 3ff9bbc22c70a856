//! `cargo bench`: check, compile, load and decision latency on generated
//! workloads. Generate them first (release build, seconds for S and M):
//!
//! ```sh
//! cargo run --release --example generate -- --tier S --out target/bench/S
//! cargo run --release --example generate -- --tier M --out target/bench/M
//! cargo run --release --example generate -- --tier L --out target/bench/L   # optional
//! cargo bench --bench decisions
//! ```
//!
//! Tiers whose directory is missing are skipped. Figures are medians (and
//! p99 for decisions) over repeated runs; the machine's noise is a few
//! percent, so compare ratios, not single digits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use trellis::query::Question;
use trellis::table::{build, Table};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(f64::NAN)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn main() {
    let root = std::env::var_os("TRELLIS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"));
    let mut ran = false;
    println!("| tier | files | orgs | users | assignments | check | compile | peak RSS | table | bytes/assignment | load | allow median | allow p99 | resolver median | decisions/s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for tier in ["S", "M", "L"] {
        let dir = root.join(tier);
        if !dir.join("provider.yaml").exists() {
            eprintln!("skipping tier {tier}: generate it into {}", dir.display());
            continue;
        }
        ran = true;
        let runs = if tier == "L" { 1 } else { 3 };
        let mut check_s = Vec::new();
        let mut checked = None;
        for _ in 0..runs {
            let (c, d) =
                time(|| trellis::check_paths(std::slice::from_ref(&dir), &Default::default()));
            check_s.push(d.as_secs_f64());
            checked = c.ok();
        }
        let Some(checked) = checked else {
            eprintln!("tier {tier}: cannot load");
            continue;
        };
        if checked.diagnostics.has_errors() {
            eprintln!("tier {tier}: the generated set has errors; skipped");
            continue;
        }
        let m = &checked.model;
        let mut compile_s = Vec::new();
        let mut bytes = Vec::new();
        for _ in 0..runs {
            let (b, d) = time(|| build(m, &checked.sources, false).encode());
            compile_s.push(d.as_secs_f64());
            bytes = b;
        }
        let rss = peak_rss_mib();
        let mut load_ms = Vec::new();
        let mut table = None;
        for _ in 0..10 {
            let (t, d) = time(|| Table::from_bytes(&bytes));
            load_ms.push(d.as_secs_f64() * 1e3);
            table = t.ok();
        }
        let Some(t) = table else {
            eprintln!("tier {tier}: table does not load");
            continue;
        };
        eprintln!("tier {tier}: {:?}", t.stats());
        // Queries, resolved to handles once (services do the same).
        let text = std::fs::read_to_string(dir.join("queries.jsonl")).unwrap_or_default();
        let qs: Vec<Question> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Question>(l).ok())
            // Questions about a resource are `benches/resources.rs`'s.
            .filter(|q| q.resource.is_none())
            .collect();
        let handles: Vec<_> = qs
            .iter()
            .filter_map(|q| {
                Some((
                    t.user(&q.user)?,
                    t.permission(&q.permission)?,
                    t.org(&q.org)?,
                ))
            })
            .collect();
        const BATCH: usize = 64;
        let mut per_decision = Vec::new();
        let mut allowed = 0usize;
        let total = Instant::now();
        for _ in 0..5 {
            for chunk in handles.chunks(BATCH) {
                let start = Instant::now();
                for &(u, p, x) in chunk {
                    allowed += usize::from(std::hint::black_box(t.allow(u, p, x)));
                }
                per_decision.push(start.elapsed().as_nanos() as f64 / chunk.len() as f64);
            }
        }
        let rate = (handles.len() * 5) as f64 / total.elapsed().as_secs_f64();
        // The resolver on the same questions, for scale (a sample).
        let mut resolver_ns = Vec::new();
        let sample: Vec<_> = qs
            .iter()
            .take(2_000)
            .filter_map(|q| {
                Some((
                    *m.user_index.get(&q.user)?,
                    m.parse_permission(&q.permission)?,
                    *m.org_index.get(&q.org)?,
                ))
            })
            .collect();
        for &(u, p, x) in &sample {
            let start = Instant::now();
            std::hint::black_box(m.allow(u, p, x));
            resolver_ns.push(start.elapsed().as_nanos() as f64);
        }
        std::hint::black_box(allowed);
        println!(
            "| {tier} | {} | {} | {} | {} | {:.2} s | {:.2} s | {:.0} MiB | {:.1} MB | {:.1} | {:.1} ms | {:.0} ns | {:.0} ns | {:.0} ns | {:.1} M |",
            checked.sources.len(),
            m.orgs.len(),
            m.users.len(),
            m.assignments.len(),
            median(&mut check_s),
            median(&mut compile_s),
            rss,
            bytes.len() as f64 / 1e6,
            bytes.len() as f64 / m.assignments.len().max(1) as f64,
            median(&mut load_ms),
            median(&mut per_decision),
            percentile(&mut per_decision, 0.99),
            median(&mut resolver_ns),
            rate / 1e6,
        );
    }
    if !ran {
        eprintln!(
            "no workload found under {}: see the comment at the top of benches/decisions.rs",
            root.display()
        );
    }
}
