//! Stage 3: the rules that need the resolved model, one family per file.
//! (Shape, reference and scope rules — E001–E006, E010, E015, W101 — are
//! reported while loading and resolving.)

mod assignments;
mod exclusions;
mod locks;
mod multiple;
mod redundant;
mod unused;

use std::time::{Duration, Instant};

use crate::diag::Diagnostics;
use crate::model::Model;

type Rule = fn(&Model, &mut Diagnostics);

/// Every semantic rule, in one place, with the name `TRELLIS_TIMINGS`
/// reports its time under.
const RULES: &[(&str, Rule)] = &[
    ("assignments", assignments::check),
    ("locks", locks::check),
    ("multiple", multiple::check),
    ("exclusions", exclusions::check),
    ("unused", unused::check),
    ("redundant", redundant::check),
];

/// Runs every rule; the rules only read the model, so they run side by side
/// (diagnostics are sorted afterwards, so the order they finish in is moot).
/// Returns how long each rule took on its own.
pub fn check(model: &Model, diags: &mut Diagnostics) -> Vec<(&'static str, Duration)> {
    use rayon::prelude::*;
    let found: Vec<(Diagnostics, Duration)> = RULES
        .par_iter()
        .map(|(_, rule)| {
            let t = Instant::now();
            let mut d = Diagnostics::default();
            rule(model, &mut d);
            (d, t.elapsed())
        })
        .collect();
    let mut took = Vec::with_capacity(RULES.len());
    for ((name, _), (d, t)) in RULES.iter().zip(found) {
        diags.extend(d);
        took.push((*name, t));
    }
    took
}
