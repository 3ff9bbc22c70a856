//! Per-decision cost of the runtime crate itself, the figure the bindings
//! are compared with (`scripts/bench-bindings.sh`; not a timed test):
//!
//! ```sh
//! cargo run --release -p trellis-table --example bench_decide -- TABLE QUESTIONS.tsv [PASSES]
//! ```
//!
//! QUESTIONS is one question a line, `user TAB permission TAB org TAB
//! resource` (org or resource empty for none), as the script writes it.
//! Two loops over every question, each timed PASSES times (default 7):
//! by handle (the names resolved once beforehand, then `allow_on`) and by
//! name (`NameIndex` lookups, then `allow_on`, each time). Prints one line
//! per loop: `rust KIND LABEL MEDIAN_NS ALLOWED`, the median nanoseconds
//! per decision and the number of questions allowed (the same in every
//! language, or the comparison is void).

use std::hint::black_box;
use std::time::Instant;

use trellis_table::{NameIndex, Org, Perm, Resource, Table, User};

type Names = (String, String, Option<String>, Option<String>);
type Handles = Option<(User, Perm, Org, Option<Resource>)>;

fn resolve(t: &Table, n: &NameIndex, q: &Names) -> Handles {
    let u = n.user(t, &q.0)?;
    let p = n.permission(t, &q.1)?;
    let r = match &q.3 {
        Some(name) => Some(n.resource(t, name)?),
        None => None,
    };
    let x = match &q.2 {
        Some(o) => n.org(t, o)?,
        None => t.resource_org(r?)?,
    };
    Some((u, p, x, r))
}

/// Median nanoseconds per question of `passes` runs of `f` over `len`
/// questions, and what the last run counted.
fn measure(passes: usize, len: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    if passes == 0 {
        return (0.0, 0);
    }
    let mut times = Vec::with_capacity(passes);
    // One untimed pass, for the caches.
    let mut count = black_box(f());
    for _ in 0..passes {
        let start = Instant::now();
        count = black_box(f());
        times.push(start.elapsed().as_nanos() as f64 / len as f64);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], count)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, table, questions, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_decide TABLE QUESTIONS.tsv [PASSES]".into());
    };
    let passes: usize = rest.first().and_then(|s| s.parse().ok()).unwrap_or(7);
    let t = Table::open(table)?;
    let names = NameIndex::new(&t);
    let text = std::fs::read_to_string(questions)?;
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let qs: Vec<Names> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let at = |i: usize| f.get(i).copied().unwrap_or("");
            (at(0).to_owned(), at(1).to_owned(), some(at(2)), some(at(3)))
        })
        .collect();
    let handles: Vec<Handles> = qs.iter().map(|q| resolve(&t, &names, q)).collect();
    // With TRELLIS_BENCH_ONLY=LABEL, the other loops are left out (for
    // counting one loop's instructions under valgrind).
    let only = std::env::var("TRELLIS_BENCH_ONLY").ok();
    let run = |label: &str| only.as_deref().is_none_or(|o| o == label);
    let pass_of = |label: &str| if run(label) { passes } else { 0 };

    let (ns, allowed) = measure(pass_of("allow_on"), qs.len(), || {
        handles
            .iter()
            .filter(|h| h.is_some_and(|(u, p, x, r)| t.allow_on(u, p, x, black_box(r))))
            .count()
    });
    if run("allow_on") {
        println!("rust handle allow_on {ns:.1} {allowed}");
    }
    let (ns, allowed) = measure(pass_of("NameIndex+allow_on"), qs.len(), || {
        qs.iter()
            .filter(|q| {
                resolve(&t, &names, black_box(q)).is_some_and(|(u, p, x, r)| t.allow_on(u, p, x, r))
            })
            .count()
    });
    if run("NameIndex+allow_on") {
        println!("rust name NameIndex+allow_on {ns:.1} {allowed}");
    }
    // As a server answers a batch: the users' names of 1,000 questions
    // looked up together (`NameIndex::users`), the rest of each question,
    // then the decisions, with and without `touch_users` first.
    for touch in [false, true] {
        let label = if touch { "batch+touch" } else { "batch" };
        let (ns, allowed) = measure(pass_of(label), qs.len(), || {
            let mut allowed = 0;
            for chunk in qs.chunks(1000) {
                let ids: Vec<&str> = chunk.iter().map(|q| q.0.as_str()).collect();
                let users = names.users(&t, black_box(&ids));
                let ids: Vec<&str> = chunk.iter().map(|q| q.2.as_deref().unwrap_or("")).collect();
                let orgs = names.orgs(&t, &ids);
                let resolved: Vec<Handles> = chunk
                    .iter()
                    .zip(users.into_iter().zip(orgs))
                    .map(|(q, (u, x))| {
                        let p = names.permission(&t, &q.1)?;
                        Some((u?, p, x?, None))
                    })
                    .collect();
                if touch {
                    let us: Vec<User> = resolved.iter().flatten().map(|h| h.0).collect();
                    black_box(t.touch_users(&us));
                }
                allowed += resolved
                    .iter()
                    .filter(|h| h.is_some_and(|(u, p, x, r)| t.allow_on(u, p, x, r)))
                    .count();
            }
            allowed
        });
        if run(label) {
            println!("rust name {label} {ns:.1} {allowed}");
        }
    }
    Ok(())
}
