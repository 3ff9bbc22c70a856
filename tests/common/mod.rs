//! Shared test helpers: `mod common;` in a test file, then `common::random`
//! (seeded policy-set generator) and `common::naive` (an evaluator written
//! from the SPEC text, to compare the compiled table against).

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

pub mod naive;
pub mod random;
