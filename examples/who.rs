//! The cost of `who(permission, org)` on a table, as a service sees it:
//!
//! ```sh
//! cargo run --release --example who -- TABLE QUERIES.jsonl [N]
//! ```
//!
//! For the permission and org of the first N queries of QUERIES (JSON
//! lines with `user`, `org`, `permission`, as the generator writes them):
//! the time to build the table's who-index (on the first question), then
//! the median time of `Table::who` (which asks only the users the index
//! finds reached) beside asking every user, and checks that both name the
//! same users. Standard library and the table only.

use std::time::{Duration, Instant};

use trellis::table::Table;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = line.get(at..)?.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.get(..rest.find('"')?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, table, queries, rest @ ..] = args.as_slice() else {
        return Err("usage: who TABLE QUERIES.jsonl [N]".into());
    };
    let n: usize = rest.first().and_then(|s| s.parse().ok()).unwrap_or(200);
    let t = Table::open(table)?;
    let text = std::fs::read_to_string(queries)?;
    let questions: Vec<_> = text
        .lines()
        .filter(|l| !l.contains("\"resource\""))
        .filter_map(|l| {
            Some((
                t.permission(field(l, "permission")?)?,
                t.org(field(l, "org")?)?,
            ))
        })
        .take(n)
        .collect();
    let Some(&(p0, x0)) = questions.first() else {
        return Err("no questions".into());
    };
    let start = Instant::now();
    let first = t.who(p0, x0);
    println!(
        "first who (builds the index): {:.2?}, {} users",
        start.elapsed(),
        first.len()
    );
    let (mut indexed, mut every, mut named) = (Vec::new(), Vec::new(), 0);
    for &(p, x) in &questions {
        let start = Instant::now();
        let a = t.who(p, x);
        indexed.push(start.elapsed());
        let start = Instant::now();
        let b = t.who_on_every_user(p, x, None);
        every.push(start.elapsed());
        if a != b {
            return Err(format!("who differs at question {named}").into());
        }
        named += a.len();
    }
    let (a, b) = (median(indexed), median(every));
    println!(
        "{} questions ({} users named in all): who median {a:.2?}, asking every user {b:.2?} ({:.0}x)",
        questions.len(),
        named,
        b.as_secs_f64() / a.as_secs_f64().max(1e-12)
    );
    Ok(())
}
