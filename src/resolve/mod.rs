//! Stage 2: turn loaded files into the resolved [`Model`]: ids to dense
//! handles, the org tree and role graph (petgraph), names resolved by scope,
//! permissions expanded. Problems found on the way are diagnostics; the item
//! concerned is dropped or repaired so that later stages can go on.
//!
//! One file per thing resolved, in the order [`resolve`] runs them:
//! `orgs` (orgs, kinds, forbidden sections, users), `resources`
//! (dimensions, resources, restrictions), `catalog` (modules, policies,
//! patterns), `roles` (roles and publications; cycles in `graph`, shadowing
//! in `names`), `assignments`, `rules` (exclusions and automatic rules).
//! This file holds the builder and the name lookups every stage shares.

mod again;
mod assignments;
mod catalog;
mod graph;
mod lookup;
mod names;
mod orgs;
mod resources;
mod roles;
mod rules;

pub(crate) use again::{resolve_again, Memo};
pub use resources::required_dimensions;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use crate::model::HashMap;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::{Item, PolicyFile};
use crate::model::*;
use crate::source::{Located, Span};

pub struct Builder<'a> {
    files: &'a [&'a PolicyFile],
    /// The users and assignments of each file. Those of a file no one else
    /// holds are taken out of it, so that each section is freed as soon as
    /// it is resolved (a million users and two million assignments at the L
    /// tier: their memory is reused by the model instead of fresh pages);
    /// those of a shared file (the language server's) are read in place.
    raw_users: Vec<Cow<'a, [Item<crate::load::raw::RawUser>]>>,
    raw_assignments: Vec<Cow<'a, [Located<crate::load::raw::RawAssignment>]>>,
    /// Per file, its scope; `None` for a file whose scope names no org
    /// (reported once; the rest of the file is not checked).
    scopes: Vec<Option<Scope>>,
    pub model: Model,
    pub diags: &'a mut Diagnostics,
    /// Users that were declared but could not be kept; references to them are
    /// not reported again.
    broken_users: HashSet<String>,
    broken_roles: HashSet<String>,
    /// Which orgs were declared in which file scope (for E010).
    org_scope: Vec<Scope>,
    org_repaired: Vec<bool>,
    /// Exclusion and rule names per scope, for E003.
    names_seen: HashMap<(Scope, &'static str, String), Span>,
    order: u32,
    /// Per file: the ids of its assignments kept, the order before its
    /// first item, and the findings on its assignments (added to `diags`
    /// after every other finding of resolving).
    assignment_ranges: Vec<std::ops::Range<usize>>,
    assignment_orders: Vec<u32>,
    assignment_findings: Vec<Vec<Diagnostic>>,
}

/// Resolves a loaded set. Diagnostics are appended to `diags`.
pub fn resolve(files: Vec<Arc<PolicyFile>>, diags: &mut Diagnostics) -> Model {
    resolve_held(files, diags, false).0
}

/// [`resolve`], keeping what resolving the set again after an edit of
/// assignments alone needs (see [`Memo`]).
pub(crate) fn resolve_keeping(
    files: Vec<Arc<PolicyFile>>,
    diags: &mut Diagnostics,
) -> (Model, Memo) {
    let kept = files.clone();
    let (model, memo) = resolve_held(files, diags, true);
    let memo = memo.map(|m| Memo { files: kept, ..m }).unwrap_or_default();
    (model, memo)
}

fn resolve_held(
    files: Vec<Arc<PolicyFile>>,
    diags: &mut Diagnostics,
    keep: bool,
) -> (Model, Option<Memo>) {
    // A file held only here is taken apart; a shared one is read in place.
    let mut held: Vec<Result<PolicyFile, Arc<PolicyFile>>> =
        files.into_iter().map(Arc::try_unwrap).collect();
    let (mut taken_users, mut taken_assignments): (Taken<_>, Taken<_>) = held
        .iter_mut()
        .map(|f| match f {
            Ok(f) => (
                Some(std::mem::take(&mut f.users)),
                Some(std::mem::take(&mut f.assignments)),
            ),
            Err(_) => (None, None),
        })
        .unzip();
    let resolved = {
        let refs: Vec<&PolicyFile> = held
            .iter()
            .map(|f| match f {
                Ok(f) => f,
                Err(shared) => &**shared,
            })
            .collect();
        resolve_files(&refs, &mut taken_users, &mut taken_assignments, diags, keep)
    };
    // Freeing the parsed files (millions of small strings at the larger
    // tiers) takes longer than some stages: a thread of its own does it
    // while checking goes on (if no thread can be started, they are freed
    // here, with the closure that failed to start).
    let parsed = (held, taken_users, taken_assignments);
    let _ = std::thread::Builder::new()
        .name("trellis-free".into())
        .spawn(move || drop(parsed));
    resolved
}

type Taken<T> = Vec<Option<Vec<T>>>;

/// Takes the sections of a batch of files that are owned (taken from their
/// files), leaving them empty: handed to [`free_beside`], while the next
/// batch is resolved.
fn take_owned<T: Clone>(sections: &mut [Cow<'_, [T]>]) -> Vec<Vec<T>> {
    sections
        .iter_mut()
        .filter_map(|s| match std::mem::replace(s, Cow::Borrowed(&[])) {
            Cow::Owned(v) => Some(v),
            Cow::Borrowed(_) => None,
        })
        .collect()
}

/// Runs `work` while the raw sections of the batch before are freed on
/// the other cores: millions of small strings at the L tier, allocated by
/// the parse's threads, which took a fifth of the resolver's time on the
/// one thread that runs its sequential parts.
fn free_beside<T: Send, R: Send>(freed: Vec<Vec<T>>, work: impl FnOnce() -> R + Send) -> R {
    use rayon::iter::{IntoParallelIterator, ParallelIterator};
    rayon::join(move || freed.into_par_iter().for_each(drop), work).1
}

/// Consecutive ranges of files, each of at least `size` items but for the
/// last (a file is never cut), from each file's count of items: users and
/// assignments are resolved a batch at a time, each batch's raw items freed
/// before the next, so that they are not all held raw, resolved and in the
/// model at once (the peak of memory at the L tier).
fn file_batches(counts: &[usize], size: usize) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < counts.len() {
        let mut end = start;
        let mut items = 0;
        while end < counts.len() && (end == start || items < size) {
            items += counts[end];
            end += 1;
        }
        batches.push(start..end);
        start = end;
    }
    batches
}

/// Resolves `files`, whose users and assignments are in `users` and
/// `assignments` where taken out of them (`None`: read in the file). What
/// is left of those taken is handed back in them, to be freed elsewhere.
fn resolve_files(
    files: &[&PolicyFile],
    users: &mut Taken<Item<crate::load::raw::RawUser>>,
    assignments: &mut Taken<Located<crate::load::raw::RawAssignment>>,
    diags: &mut Diagnostics,
    keep: bool,
) -> (Model, Option<Memo>) {
    fn sections<'a, T: Clone>(
        taken: &mut [Option<Vec<T>>],
        files: &[&'a PolicyFile],
        of: fn(&'a PolicyFile) -> &'a [T],
    ) -> Vec<Cow<'a, [T]>> {
        taken
            .iter_mut()
            .zip(files)
            .map(|(t, f)| match t.take() {
                Some(v) => Cow::Owned(v),
                None => Cow::Borrowed(of(f)),
            })
            .collect()
    }
    let raw_users = sections(users, files, |f| &f.users);
    let raw_assignments = sections(assignments, files, |f| &f.assignments);
    let mut b = Builder {
        files,
        raw_users,
        raw_assignments,
        scopes: Vec::new(),
        model: Model::default(),
        diags,
        broken_users: HashSet::new(),
        broken_roles: HashSet::new(),
        org_scope: Vec::new(),
        org_repaired: Vec::new(),
        names_seen: HashMap::default(),
        order: 0,
        assignment_ranges: Vec::with_capacity(files.len()),
        assignment_orders: Vec::with_capacity(files.len()),
        assignment_findings: vec![Vec::new(); files.len()],
    };
    let first_finding = b.diags.len();
    let t = std::time::Instant::now();
    let mut laps = Vec::new();
    b.orgs();
    b.forbidden_sections();
    b.kinds();
    laps.push(("resolve orgs", t.elapsed()));
    b.users();
    laps.push(("resolve users", t.elapsed()));
    b.dimensions();
    b.resources();
    b.catalog();
    b.roles();
    b.publications();
    laps.push(("resolve roles", t.elapsed()));
    b.assignments();
    laps.push(("resolve assignments", t.elapsed()));
    b.exclusions();
    b.rules();
    b.dimension_requirements();
    laps.push(("resolve rules", t.elapsed()));
    // Stage durations (cumulative), for `TRELLIS_TIMINGS`; the CLI prints them.
    b.model.timings = laps;
    let Builder {
        model,
        raw_users: left_users,
        raw_assignments: left_assignments,
        diags,
        scopes,
        broken_users,
        broken_roles,
        assignment_ranges,
        assignment_orders,
        assignment_findings,
        ..
    } = b;
    let memo = keep.then(|| Memo {
        files: Vec::new(),
        scopes,
        broken_users,
        broken_roles,
        others: diags.iter().skip(first_finding).cloned().collect(),
        ranges: assignment_ranges,
        orders: assignment_orders,
        findings: assignment_findings.clone(),
    });
    for found in assignment_findings {
        diags.extend(found);
    }
    // What is left of the sections taken (the stages free them as they go)
    // goes back to the caller, to be freed off the way.
    for (slot, left) in users.iter_mut().zip(left_users) {
        if let Cow::Owned(v) = left {
            *slot = Some(v);
        }
    }
    for (slot, left) in assignments.iter_mut().zip(left_assignments) {
        if let Cow::Owned(v) = left {
            *slot = Some(v);
        }
    }
    (model, memo)
}

fn dup(what: &str, id: &str, second: Span, first: Span) -> Diagnostic {
    Diagnostic::new(Code::E003, second, format!("duplicate {what} `{id}`"))
        .with_label("defined again here")
        .with_secondary(first, "first defined here")
}

impl<'a> Builder<'a> {
    fn files(&self) -> impl Iterator<Item = (&'a PolicyFile, Scope)> + '_ {
        let files = self.files;
        files
            .iter()
            .zip(&self.scopes)
            .filter_map(|(f, s)| s.map(|s| (*f, s)))
    }

    /// Runs lookups with this builder's model, their findings added here.
    fn with<R>(&mut self, f: impl FnOnce(&mut lookup::Lookup<'_>) -> R) -> R {
        let mut l = lookup::Lookup {
            model: &self.model,
            broken_users: &self.broken_users,
            broken_roles: &self.broken_roles,
            diags: Vec::new(),
        };
        let out = f(&mut l);
        let found = l.diags;
        self.diags.extend(found);
        out
    }

    fn unknown(&self, what: &str, name: &Located<String>, candidates: Vec<&str>) -> Diagnostic {
        lookup::unknown(what, name, candidates)
    }

    fn org_ref(&mut self, name: &Located<String>) -> Option<OrgId> {
        self.with(|l| l.org_ref(name))
    }

    fn role_ref(&mut self, name: &Located<String>, scope: Scope) -> Option<RoleId> {
        self.with(|l| l.role_ref(name, scope))
    }

    fn tenant_locked(
        &mut self,
        locked: Option<&crate::load::de::Spanned<bool>>,
        scope: Scope,
        what: &str,
    ) -> bool {
        self.with(|l| l.tenant_locked(locked, scope, what))
    }

    fn outside(&mut self, span: Span, scope: Scope, what: String) {
        self.with(|l| l.outside(span, scope, what))
    }

    fn locked_role_use(&mut self, role: RoleId, span: Span, what: &str) {
        self.with(|l| l.locked_role_use(role, span, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` with the heap addresses that `FixedBitSet`'s `Debug` prints
    /// (`data: 0x…`) left out.
    pub(super) fn without_addresses(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("data: 0x") {
            out.push_str(&rest[..at]);
            rest =
                rest[at + "data: 0x".len()..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
        }
        out.push_str(rest);
        out
    }

    /// Resolving files the language server shares (read in place) gives
    /// what resolving the same files taken apart gives: the same model and
    /// the same findings, on every example and on fixtures full of errors.
    /// Every example and fixture set's directory.
    pub(super) fn example_and_fixture_sets() -> Vec<std::path::PathBuf> {
        let mut sets: Vec<std::path::PathBuf> = ["policies-examples", "tests/fixtures"]
            .iter()
            .flat_map(|root| std::fs::read_dir(root).into_iter().flatten().flatten())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        sets.sort();
        assert!(sets.len() > 15, "sets not found: {sets:?}");
        sets
    }

    #[test]
    fn shared_files_resolve_as_owned_ones() {
        let mut errors = 0;
        for set in example_and_fixture_sets() {
            let resolved = |share: bool| {
                let limits = crate::load::Limits::default();
                let loaded = crate::load::load_set(std::slice::from_ref(&set), &limits)
                    .unwrap_or_else(|e| panic!("{}: {e}", set.display()));
                let held: Vec<Arc<PolicyFile>> = loaded.files.clone();
                let files = if share { held.clone() } else { loaded.files };
                if !share {
                    drop(held);
                }
                let mut diags = loaded.diagnostics;
                let mut model = resolve(files, &mut diags);
                model.timings.clear();
                let found: Vec<String> = diags.iter().map(|d| format!("{d:?}")).collect();
                (without_addresses(&format!("{model:?}")), found)
            };
            let (owned_model, owned_found) = resolved(false);
            let (shared_model, shared_found) = resolved(true);
            assert_eq!(owned_found, shared_found, "{}", set.display());
            assert!(
                owned_model == shared_model,
                "{}: models differ",
                set.display()
            );
            errors += owned_found.len();
        }
        // The fixtures are there for their findings: the comparison above
        // covers findings of resolving, not only clean sets.
        assert!(errors > 20, "{errors} findings in all");
    }
}
