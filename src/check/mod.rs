//! Stage 3: the rules that need the resolved model, one family per file.
//! (Shape, reference and scope rules — E001–E006, E010, E015, W101 — are
//! reported while loading and resolving.)

mod assignments;
mod exclusions;
mod locks;
mod multiple;
mod redundant;
mod unused;

use crate::diag::Diagnostics;
use crate::model::Model;

type Rule = fn(&Model, &mut Diagnostics);

/// Every semantic rule, in one place.
const RULES: &[Rule] = &[
    assignments::check,
    locks::check,
    multiple::check,
    exclusions::check,
    unused::check,
    redundant::check,
];

/// Runs every rule; the rules only read the model, so they run side by side
/// (diagnostics are sorted afterwards, so the order they finish in is moot).
pub fn check(model: &Model, diags: &mut Diagnostics) {
    use rayon::prelude::*;
    let found: Vec<Diagnostics> = RULES
        .par_iter()
        .map(|rule| {
            let mut d = Diagnostics::default();
            rule(model, &mut d);
            d
        })
        .collect();
    for d in found {
        diags.extend(d);
    }
}
