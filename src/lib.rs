//! trellis: a compiler and checker for multi-tenant access policy as code.
//!
//! The pipeline reads top to bottom: [`load`] files into span-carrying
//! sections, [`resolve`] them into a [`model::Model`] (org tree, role graph,
//! names), [`check`] the semantic rules, and answer questions with [`eval`]
//! and [`query`]. Every problem is a [`diag::Diagnostic`] with a stable code.
//!
//! Checking a set, compiling its decision table, and answering from the
//! table as a service would (load once, resolve names to handles once, then
//! decide on handles without allocating):
//!
//! ```
//! use std::path::PathBuf;
//! use trellis::table::{build, Table};
//!
//! let checked = trellis::check_paths(&[PathBuf::from("policies-examples/quickstart")], &Default::default())?;
//! assert!(!checked.diagnostics.has_errors());
//!
//! // What `trellis compile` writes; services use `Table::open(path)`.
//! let bytes = build(&checked.model, &checked.sources, false).encode();
//! let table = Table::from_bytes(&bytes)?;
//!
//! let (alice, atlantic) = (table.user("alice").unwrap(), table.org("atlantic").unwrap());
//! let delete = table.permission("templates:delete").unwrap();
//! assert!(table.allow(alice, delete, atlantic));
//! let roles: Vec<&str> = table.roles(alice, atlantic).into_iter().map(|r| table.role_name(r)).collect();
//! assert_eq!(roles, ["editor", "org-admin", "viewer"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
pub mod diag;
pub mod diff;
pub mod eval;
pub mod graph;
pub mod load;
pub mod model;
pub mod query;
pub mod resolve;
pub mod revision;
pub mod role_list;
pub mod show;
pub mod source;
pub mod table;
pub mod testing;

use std::path::PathBuf;

use diag::Diagnostics;
use load::{Limits, LoadError};
use model::Model;
use source::SourceMap;

/// A policy set after loading, resolving and checking.
#[derive(Debug)]
pub struct Checked {
    pub sources: SourceMap,
    pub model: Model,
    pub diagnostics: Diagnostics,
    /// Test files found beside the policies (manual: *Test files*).
    pub test_paths: Vec<PathBuf>,
}

/// Loads, resolves and checks a policy set given as file contents (for
/// instance read from a git revision), adding to `sources`.
///
/// `links` are the symbolic links named like policy files: they are not
/// followed, and each is reported (E001).
pub fn check_files(
    inputs: Vec<(PathBuf, Vec<u8>)>,
    links: &[PathBuf],
    limits: &Limits,
    sources: SourceMap,
) -> Checked {
    let mut set = load::load_files(inputs, links, limits, sources);
    let model = resolve::resolve(std::mem::take(&mut set.files), &mut set.diagnostics);
    check::check(&model, &mut set.diagnostics);
    set.diagnostics.sort(&set.sources);
    Checked {
        sources: set.sources,
        model,
        diagnostics: set.diagnostics,
        test_paths: Vec::new(),
    }
}

/// Loads, resolves and checks the policy set under `paths`.
pub fn check_paths(paths: &[PathBuf], limits: &Limits) -> Result<Checked, LoadError> {
    let t = std::time::Instant::now();
    let mut set = load::load_set(paths, limits)?;
    let loaded = t.elapsed();
    let mut model = resolve::resolve(std::mem::take(&mut set.files), &mut set.diagnostics);
    let resolved = t.elapsed();
    check::check(&model, &mut set.diagnostics);
    set.diagnostics.sort(&set.sources);
    let mut timings = vec![("load", loaded)];
    timings.extend(model.timings.iter().map(|(what, d)| (*what, loaded + *d)));
    timings.push(("resolve", resolved));
    timings.push(("check", t.elapsed()));
    model.timings = timings;
    Ok(Checked {
        sources: set.sources,
        model,
        diagnostics: set.diagnostics,
        test_paths: set.test_paths,
    })
}

/// Checks a set from a directory or a revision (see [`revision::resolve`]),
/// adding its files to `sources` so that diagnostics of both revisions of a
/// comparison can be rendered together.
pub fn check_source(
    src: revision::SetSource,
    limits: &Limits,
    sources: SourceMap,
) -> Result<Checked, LoadError> {
    let (inputs, links) = match src {
        revision::SetSource::Files { files, links } => (files, links),
        revision::SetSource::Dir(dir) => load::read_dir_inputs(&dir)?,
    };
    Ok(check_files(inputs, &links, limits, sources))
}
