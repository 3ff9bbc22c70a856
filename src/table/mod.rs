//! Stage 4: compiling a checked model into a decision table (manual: *The
//! decision table and the library*). The table itself — its format, loading
//! and every query — is the runtime crate `trellis-table`, re-exported here,
//! so that services depend on it alone.

mod build;

pub use build::build;

/// Why `m` cannot be compiled into a table by this version, if it cannot:
/// the table format does not hold resources and restrictions yet, and a
/// table that ignored them would allow what they restrict.
pub fn unsupported(m: &crate::model::Model) -> Option<String> {
    (!m.dimensions.is_empty()).then(|| {
        "the set declares `dimensions`: resources and restrictions are not in the decision table yet; ask from the sources (`trellis query PATH --resource ...`) instead".to_owned()
    })
}
pub use trellis_table::*;
