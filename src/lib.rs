//! trellis: a compiler and checker for multi-tenant access policy as code.
//!
//! The pipeline reads top to bottom: [`load`] files into span-carrying
//! sections, resolve them into a [`model::Model`] (org tree, role graph,
//! names), check the semantic rules, and answer questions with [`query`].
//! [`check_paths`] runs it all. Every problem is a [`diag::Diagnostic`] with
//! a stable code.
//!
//! Checking a set, compiling its decision table, and answering from the
//! table as a service would (load once, resolve names to handles once, then
//! decide on handles without allocating):
//!
//! ```
//! use std::path::PathBuf;
//! use trellis::table::Table;
//!
//! let checked = trellis::check_paths(&[PathBuf::from("policies-examples/quickstart")], &Default::default())?;
//! assert!(!checked.diagnostics.has_errors());
//!
//! // What `trellis compile` writes; services use `Table::open(path)`.
//! let bytes = checked.compile(Default::default())?.encode();
//! let table = Table::from_bytes(&bytes)?;
//!
//! let (alice, atlantic) = (table.user("alice").unwrap(), table.org("atlantic").unwrap());
//! let delete = table.permission("templates:delete").unwrap();
//! assert!(table.allow(alice, delete, atlantic));
//! let roles: Vec<&str> = table.roles(alice, atlantic).into_iter().map(|r| table.role_name(r)).collect();
//! assert_eq!(roles, ["editor", "org-admin", "viewer"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub(crate) mod check;
pub mod config;
pub mod diag;
pub mod diff;
pub(crate) mod eval;
pub mod graph;
pub mod load;
pub mod lsp;
pub mod model;
pub mod owners;
pub mod query;
pub(crate) mod resolve;
pub mod revision;
pub mod role_list;
pub mod show;
pub mod site;
pub mod source;
#[allow(
    missing_docs,
    reason = "src/table is being rewritten by its owner, who sets its documentation"
)]
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
    /// Every file read, for positions and snippets.
    pub sources: SourceMap,
    /// The resolved set.
    pub model: Model,
    /// Every finding, sorted.
    pub diagnostics: Diagnostics,
    /// Test files found beside the policies (manual: *Test files*).
    pub test_paths: Vec<PathBuf>,
}

/// How to compile a checked set into a decision table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompileOptions {
    /// Keep the file and line of every grant, for `explain`.
    pub provenance: bool,
}

/// Why a checked set was not compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The set has errors (this many): a table is never built from them.
    #[error("the set has {0} error(s)")]
    Findings(usize),
}

impl Checked {
    /// Compiles the checked set into a decision table (refused when it has
    /// errors). `TableData::encode` gives the bytes `trellis compile` writes.
    pub fn compile(&self, options: CompileOptions) -> Result<table::TableData, CompileError> {
        self.refusal()?;
        Ok(table::build(&self.model, &self.sources, options.provenance))
    }

    /// One table per top-level org (`compile --split`), by its id: its
    /// subtree, its users with every grant they hold there (the provider's
    /// included), the provider's roles and its own, its resources and those
    /// of no org. Refused when the set has errors.
    pub fn compile_split(
        &self,
        options: CompileOptions,
    ) -> Result<Vec<(String, table::TableData)>, CompileError> {
        self.refusal()?;
        let mut roots: Vec<model::OrgId> = (0..self.model.orgs.len() as u32)
            .map(model::OrgId)
            .filter(|o| self.model.org(*o).parent.is_none())
            .collect();
        roots.sort_by(|a, b| self.model.org(*a).id.cmp(&self.model.org(*b).id));
        Ok(roots
            .into_iter()
            .map(|r| {
                let data = table::build_subtree(&self.model, &self.sources, options.provenance, r);
                (self.model.org(r).id.clone(), data)
            })
            .collect())
    }

    fn refusal(&self) -> Result<(), CompileError> {
        let errors = self.diagnostics.count(diag::Severity::Error);
        if errors > 0 {
            return Err(CompileError::Findings(errors));
        }
        Ok(())
    }
}

/// The one way through the pipeline: load the set under `paths`, resolve
/// it, check it, and (with `compile`) build its decision table. `stage` is
/// told each stage as it starts (the CLI shows it as progress). When
/// resolving found no error the table is built beside the checks, and
/// dropped if they find one.
pub fn run_paths(
    paths: &[PathBuf],
    limits: &Limits,
    compile: Option<CompileOptions>,
    stage: &(dyn Fn(&str) + Sync),
) -> Result<(Checked, Option<Result<table::TableData, CompileError>>), LoadError> {
    let (set, t) = load_staged(paths, limits, stage)?;
    Ok(run_loaded(set, t, compile, stage))
}

/// Loads the set under `paths`, telling `stage` so (and what the cache of
/// parsed files did); returns it with the time loading started.
fn load_staged(
    paths: &[PathBuf],
    limits: &Limits,
    stage: &(dyn Fn(&str) + Sync),
) -> Result<(load::LoadedSet, std::time::Instant), LoadError> {
    stage("reading and parsing");
    let t = std::time::Instant::now();
    let set = load::load_set(paths, limits)?;
    if let Some(cache) = &limits.cache {
        let (read, parsed) = cache.take_counts();
        stage(&format!("parsed files: {read} read back, {parsed} parsed"));
    }
    Ok((set, t))
}

/// The model's timings made cumulative from `t` for `TRELLIS_TIMINGS`:
/// loading, the resolver's own stages, resolving, then the last stage
/// (`last`, ending now).
fn stage_timings(
    model: &mut Model,
    t: std::time::Instant,
    loaded: std::time::Duration,
    resolved: std::time::Duration,
    last: &'static str,
) {
    let mut timings = vec![("load", loaded)];
    timings.extend(model.timings.iter().map(|(what, d)| (*what, loaded + *d)));
    timings.push(("resolve", resolved));
    timings.push((last, t.elapsed()));
    model.timings = timings;
}

/// The stages after loading, for a set read from disk or given as contents.
pub(crate) fn run_loaded(
    mut set: load::LoadedSet,
    t: std::time::Instant,
    compile: Option<CompileOptions>,
    stage: &(dyn Fn(&str) + Sync),
) -> (Checked, Option<Result<table::TableData, CompileError>>) {
    let loaded = t.elapsed();
    stage(&format!("resolving {} files", set.files.len()));
    let mut model = resolve::resolve(std::mem::take(&mut set.files), &mut set.diagnostics);
    let resolved = t.elapsed();
    let built = match compile {
        Some(options) if !set.diagnostics.has_errors() => {
            stage("checking and compiling");
            let diagnostics = &mut set.diagnostics;
            let (took, data) = rayon::join(
                || check::check(&model, diagnostics),
                || table::build_staged(&model, &set.sources, options.provenance, stage),
            );
            model.rule_timings = took;
            Some(data)
        }
        _ => {
            stage("checking");
            model.rule_timings = check::check(&model, &mut set.diagnostics);
            None
        }
    };
    let last = if built.is_some() {
        "check and compile"
    } else {
        "check"
    };
    stage_timings(&mut model, t, loaded, resolved, last);
    let checked = finished(set, model);
    let table = compile.map(|options| {
        checked.refusal()?;
        // Built beside the checks unless resolving found errors (and then
        // the refusal above returned): building here is only a fallback.
        Ok(built
            .unwrap_or_else(|| table::build(&checked.model, &checked.sources, options.provenance)))
    });
    (checked, table)
}

/// The language server's analysis of a loaded set: resolved (again from
/// `last`, the model and memo of the last analysis, when assignments alone
/// changed since; from the files otherwise) and checked, with the memo
/// for the next one.
pub(crate) fn analyze_loaded(
    mut set: load::LoadedSet,
    t: std::time::Instant,
    last: Option<(Model, resolve::Memo)>,
) -> (Checked, resolve::Memo) {
    let loaded = t.elapsed();
    let files = std::mem::take(&mut set.files);
    let again =
        last.map(|(model, memo)| resolve::resolve_again(model, memo, &files, &mut set.diagnostics));
    let (mut model, memo) = match again {
        Some(Ok(resolved)) => resolved,
        other => {
            // Freeing a large model takes a while: not on the way.
            if let Some(Err(stale)) = other {
                std::thread::spawn(move || drop(stale));
            }
            resolve::resolve_keeping(files, &mut set.diagnostics)
        }
    };
    let resolved = t.elapsed();
    model.rule_timings = check::check(&model, &mut set.diagnostics);
    stage_timings(&mut model, t, loaded, resolved, "check");
    (finished(set, model), memo)
}

/// What [`check_with_base`] read.
pub struct WithBase<E> {
    /// The set, checked. Its source map holds its own files, then the
    /// base's.
    pub head: Checked,
    /// How many files of the source map are the head's.
    pub head_files: usize,
    /// The base, resolved (its source map moved to the head's), or why it
    /// could not be found (`E`) or read.
    pub base: Result<Result<Checked, LoadError>, E>,
}

/// The pull-request gate's reading: the set under `paths`, checked, and
/// the base that `base` finds, resolved (the comparison needs the base's
/// model, not its diagnostics, so only loading and resolving report any).
/// `base` runs on a thread of its own from the start (reading a revision
/// is mostly `git`'s work, which fills the gaps the head's reading leaves
/// on the cores); the base is loaded and resolved while the head's checks
/// run.
pub fn check_with_base<E: Send>(
    paths: &[PathBuf],
    base: impl FnOnce() -> Result<revision::SetSource, E> + Send,
    limits: &Limits,
    stage: &(dyn Fn(&str) + Sync),
) -> Result<WithBase<E>, LoadError> {
    std::thread::scope(|scope| {
        let reading = scope.spawn(base);
        let (mut set, t) = load_staged(paths, limits, stage)?;
        let loaded = t.elapsed();
        stage(&format!("resolving {} files", set.files.len()));
        let mut model = resolve::resolve(std::mem::take(&mut set.files), &mut set.diagnostics);
        let resolved = t.elapsed();
        stage("checking, and reading the base");
        let head_files = set.sources.len();
        let sources = std::mem::take(&mut set.sources);
        let diagnostics = &mut set.diagnostics;
        // The source map goes to the base's reading and comes back with the
        // base's files added (or as it was, when the base could not be read).
        let (took, (base, sources)) = rayon::join(
            || check::check(&model, diagnostics),
            || match reading
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            {
                Err(e) => (Err(e), sources),
                Ok(src) => match resolve_source(src, limits, sources) {
                    Ok(mut b) => {
                        let sources = std::mem::take(&mut b.sources);
                        (Ok(Ok(b)), sources)
                    }
                    Err((e, sources)) => (Ok(Err(e)), sources),
                },
            },
        );
        set.sources = sources;
        model.rule_timings = took;
        stage_timings(&mut model, t, loaded, resolved, "check and the base");
        let head = finished(set, model);
        Ok(WithBase {
            head,
            head_files,
            base,
        })
    })
}

/// Loads and resolves a set from a directory or a revision, adding its
/// files to `sources` (given back when the set cannot be read), without
/// the checks that follow resolving.
fn resolve_source(
    src: revision::SetSource,
    limits: &Limits,
    sources: SourceMap,
) -> Result<Checked, (LoadError, SourceMap)> {
    let (inputs, links) = match src {
        revision::SetSource::Files { files, links } => (files, links),
        revision::SetSource::Dir(dir) => match load::read_dir_inputs(&dir) {
            Ok(read) => read,
            Err(e) => return Err((e, sources)),
        },
    };
    let mut set = load::load_files(inputs, &links, limits, sources);
    let model = resolve::resolve(std::mem::take(&mut set.files), &mut set.diagnostics);
    Ok(finished(set, model))
}

/// A loaded set and its model as the pipeline returns them, diagnostics in
/// their one order (by file, then place: whatever order the files were
/// read or the stages ran in).
fn finished(mut set: load::LoadedSet, model: Model) -> Checked {
    set.diagnostics.sort(&set.sources);
    Checked {
        sources: set.sources,
        model,
        diagnostics: set.diagnostics,
        test_paths: set.test_paths,
    }
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
    let t = std::time::Instant::now();
    let set = load::load_files(inputs, links, limits, sources);
    run_loaded(set, t, None, &|_| {}).0
}

/// Loads, resolves and checks the policy set under `paths`.
pub fn check_paths(paths: &[PathBuf], limits: &Limits) -> Result<Checked, LoadError> {
    run_paths(paths, limits, None, &|_| {}).map(|(checked, _)| checked)
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
