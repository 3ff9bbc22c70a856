//! Stage 3: the rules that need the resolved model, one family per file.
//! (Shape, reference and scope rules — E001–E006, E010, E015, W101 — are
//! reported while loading and resolving.)

mod assignments;
mod exclusions;
mod locks;
mod redundant;
mod unused;

use crate::diag::Diagnostics;
use crate::model::Model;

/// Every semantic rule, in one place.
pub fn check(model: &Model, diags: &mut Diagnostics) {
    assignments::check(model, diags);
    locks::check(model, diags);
    exclusions::check(model, diags);
    unused::check(model, diags);
    redundant::check(model, diags);
}
