//! Stage 4: compiling a checked model into a decision table (manual: *The
//! decision table and the library*). The table itself — its format, loading
//! and every query — is the runtime crate `trellis-table`, re-exported here,
//! so that services depend on it alone.

mod build;

pub use build::{build, build_staged, build_subtree};

pub use trellis_table::*;
