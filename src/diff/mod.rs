//! Comparing two revisions of a policy set: the change check by actor
//! (E012) and the access diff for pull requests (SPEC §8, §11).

pub mod access;
pub mod change;
pub(crate) mod items;
pub mod render;

pub use access::{diff, diff_with, AccessDiff};
pub use items::SameFiles;
