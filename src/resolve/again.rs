//! Resolving again after an edit that changed assignments alone (the
//! language server's usual edit: a role, an org or a user of an assignment
//! typed or fixed). Nothing resolved before assignments reads them, so when
//! every file is the very one resolved last time but for the assignments
//! of some, the model up to assignments is the one already built: only
//! those files' assignments are resolved again, and spliced in.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use super::assignments::{assignments_of, index_assignments, resolve_lists};
use super::resources::Required;
use crate::diag::{Diagnostic, Diagnostics};
use crate::load::PolicyFile;
use crate::model::{Model, Scope};

/// What a resolution keeps to resolve the same set again after an edit of
/// assignments alone.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// The files resolved (shared with the parse cache, which gives an
    /// unchanged file again as this very one).
    pub(super) files: Vec<Arc<PolicyFile>>,
    pub(super) scopes: Vec<Option<Scope>>,
    pub(super) broken_users: HashSet<String>,
    pub(super) broken_roles: HashSet<String>,
    /// The findings of resolving on anything but assignments.
    pub(super) others: Vec<Diagnostic>,
    /// Per file: the ids of its assignments kept, the order before its
    /// first item, and the findings on its assignments.
    pub(super) ranges: Vec<Range<usize>>,
    pub(super) orders: Vec<u32>,
    pub(super) findings: Vec<Vec<Diagnostic>>,
}

impl Memo {
    /// The files of `files` whose assignments alone changed since this
    /// resolution, if that is all that changed (the same files, each the
    /// very one resolved or one equal to it but for its assignments).
    fn changed_assignments(&self, files: &[Arc<PolicyFile>]) -> Option<Vec<usize>> {
        let n = files.len();
        let kept = [
            self.files.len(),
            self.scopes.len(),
            self.ranges.len(),
            self.orders.len(),
            self.findings.len(),
        ];
        if kept.iter().any(|&k| k != n) {
            return None;
        }
        let mut changed = Vec::new();
        for (i, (new, old)) in files.iter().zip(&self.files).enumerate() {
            if Arc::ptr_eq(new, old) {
                continue;
            }
            if !same_but_assignments(new, old) {
                return None;
            }
            changed.push(i);
        }
        Some(changed)
    }
}

/// Are `a` and `b` equal in everything but their assignments (spans too)?
fn same_but_assignments(a: &PolicyFile, b: &PolicyFile) -> bool {
    // Every field named: a field added to `PolicyFile` must be added here.
    let PolicyFile {
        file,
        scope,
        sections,
        modules,
        policies,
        kinds,
        orgs,
        users,
        roles,
        assignments: _,
        publications,
        exclusions,
        automatic,
        dimensions,
        resources,
    } = a;
    *file == b.file
        && *scope == b.scope
        && *sections == b.sections
        && *modules == b.modules
        && *policies == b.policies
        && *kinds == b.kinds
        && *orgs == b.orgs
        && *users == b.users
        && *roles == b.roles
        && *publications == b.publications
        && *exclusions == b.exclusions
        && *automatic == b.automatic
        && *dimensions == b.dimensions
        && *resources == b.resources
}

/// Resolves `files` again from `model` and `memo`, the last resolution of
/// the set, when assignments alone changed since: the model and memo of
/// `files`, with the findings of resolving added to `diags` as
/// [`super::resolve_keeping`] adds them. `Err` gives both back, untouched,
/// when anything else changed.
pub(crate) fn resolve_again(
    mut model: Model,
    mut memo: Memo,
    files: &[Arc<PolicyFile>],
    diags: &mut Diagnostics,
) -> Result<(Model, Memo), Box<(Model, Memo)>> {
    let Some(changed) = memo.changed_assignments(files) else {
        return Err(Box::new((model, memo)));
    };
    let t = std::time::Instant::now();
    let lists: Vec<&[crate::source::Located<crate::load::raw::RawAssignment>]> = changed
        .iter()
        .map(|&i| match memo.scopes[i] {
            Some(_) => &files[i].assignments[..],
            None => &[][..],
        })
        .collect();
    let scopes: Vec<Option<Scope>> = changed.iter().map(|&i| memo.scopes[i]).collect();
    let (resolved, findings) = resolve_lists(
        &model,
        &memo.broken_users,
        &memo.broken_roles,
        &lists,
        &scopes,
    );
    let required = (!model.dimensions.is_empty()).then(|| Required::new(&model));
    let mut resolved = resolved.into_iter();
    for ((&i, list), mut found) in changed.iter().zip(&lists).zip(findings) {
        let old = memo.ranges[i].clone();
        let order = memo.orders[i];
        let new: Vec<_> = match memo.scopes[i] {
            Some(scope) => {
                assignments_of(list, scope, order, resolved.by_ref().take(list.len())).collect()
            }
            None => Vec::new(),
        };
        if let Some(required) = &required {
            found.extend(new.iter().filter_map(|a| required.missing(&model, a)));
        }
        // The file's items and kept assignments, before and after: those
        // of every later file move by the difference.
        let old_items = (memo.files[i].assignments.len() as u32) * memo.scopes[i].is_some() as u32;
        let new_items = list.len() as u32;
        let kept = new.len();
        model.assignments.splice(old.clone(), new);
        let after = old.start + kept;
        for a in &mut model.assignments[after..] {
            a.order = a.order - old_items + new_items;
        }
        memo.ranges[i] = old.start..after;
        for j in i + 1..memo.ranges.len() {
            let r = &memo.ranges[j];
            memo.ranges[j] = r.start - old.len() + kept..r.end - old.len() + kept;
            memo.orders[j] = memo.orders[j] - old_items + new_items;
        }
        memo.findings[i] = found;
    }
    index_assignments(&mut model);
    memo.files = files.to_vec();
    diags.extend(memo.others.iter().cloned());
    for found in &memo.findings {
        diags.extend(found.iter().cloned());
    }
    model.timings = vec![("resolve assignments again", t.elapsed())];
    Ok((model, memo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Located;

    /// Every example and fixture set: (its files, shared, and the findings
    /// of loading them).
    fn sets() -> Vec<(std::path::PathBuf, Vec<Arc<PolicyFile>>, Diagnostics)> {
        super::super::tests::example_and_fixture_sets()
            .into_iter()
            .map(|dir| {
                let limits = crate::load::Limits::default();
                let loaded = crate::load::load_set(std::slice::from_ref(&dir), &limits)
                    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                (dir, loaded.files, loaded.diagnostics)
            })
            .collect()
    }

    /// The model's text (heap addresses and timings left out) and the
    /// findings, in the order they were added.
    fn outcome(model: &mut Model, diags: &Diagnostics) -> (String, Vec<String>) {
        model.timings.clear();
        let text = super::super::tests::without_addresses(&format!("{model:?}"));
        (text, diags.iter().map(|d| format!("{d:?}")).collect())
    }

    fn named(value: &str, like: &Located<String>) -> Located<String> {
        Located::new(value.to_owned(), like.span)
    }

    /// The edits tried on a file's assignments: each gives new assignments.
    fn edits(list: &[Located<RawAssignment>]) -> Vec<Vec<Located<RawAssignment>>> {
        let mut out = vec![Vec::new()];
        if list.is_empty() {
            return out;
        }
        out.push(list[1..].to_vec());
        out.push(list.iter().chain(list.last()).cloned().collect());
        out.push(list.iter().rev().cloned().collect());
        let mut unknown_role = list.to_vec();
        if let Some(r) = &unknown_role[0].value.role {
            unknown_role[0].value.role = Some(named("no-such-role", r));
        }
        out.push(unknown_role);
        let mut unknown_user = list.to_vec();
        let last = unknown_user.len() - 1;
        let like = unknown_user[last].value.org.clone().unwrap_or_default();
        unknown_user[last].value.user = Some(named("no-such-user", &like));
        out.push(unknown_user);
        out
    }

    use crate::load::raw::RawAssignment;

    /// An edit of assignments alone, resolved again from the last model,
    /// gives what resolving the edited files from scratch gives: the same
    /// model and the same findings in the same order. Tried on the first,
    /// a middle and the last file with assignments of every set (so that
    /// files before and after the edited one move), and on two edits in a
    /// row.
    #[test]
    fn assignments_resolved_again_as_from_scratch() {
        let mut tried = 0;
        for (dir, files, loaded) in sets() {
            let with: Vec<usize> = (0..files.len())
                .filter(|&i| !files[i].assignments.is_empty())
                .collect();
            let mut which: Vec<usize> = [with.first(), with.get(with.len() / 2), with.last()]
                .into_iter()
                .flatten()
                .copied()
                .collect();
            which.dedup();
            for &k in &which {
                for (e, edited) in edits(&files[k].assignments).into_iter().enumerate() {
                    let mut new = files.clone();
                    new[k] = Arc::new(PolicyFile {
                        assignments: edited,
                        ..(*files[k]).clone()
                    });
                    // The last analysis, then the edit resolved again.
                    let mut first = loaded.clone();
                    let (model, memo) = crate::resolve::resolve_keeping(files.clone(), &mut first);
                    let mut again = loaded.clone();
                    let (model, memo) = resolve_again(model, memo, &new, &mut again)
                        .unwrap_or_else(|_| panic!("{}: not resolved again", dir.display()));
                    let mut scratch = loaded.clone();
                    let (mut fresh, _) = crate::resolve::resolve_keeping(new.clone(), &mut scratch);
                    let mut model = model;
                    let what = format!("{} file {k} edit {e}", dir.display());
                    let (got, want) = (outcome(&mut model, &again), outcome(&mut fresh, &scratch));
                    assert_eq!(got.1, want.1, "{what}: findings");
                    assert!(got.0 == want.0, "{what}: models differ");
                    tried += 1;
                    // A second edit, from the model and memo the first one
                    // left: back to the files as they were.
                    let mut back = loaded.clone();
                    let (mut model, _) = resolve_again(model, memo, &files, &mut back)
                        .unwrap_or_else(|_| panic!("{what}: not resolved back"));
                    let mut orig = loaded.clone();
                    let (mut fresh, _) = crate::resolve::resolve_keeping(files.clone(), &mut orig);
                    let (got, want) = (outcome(&mut model, &back), outcome(&mut fresh, &orig));
                    assert_eq!(got.1, want.1, "{what}, back: findings");
                    assert!(got.0 == want.0, "{what}, back: models differ");
                }
            }
        }
        assert!(tried > 50, "{tried} edits tried");
    }

    /// Anything but assignments changed, and the set is resolved from
    /// scratch: an edit of users, another file, a file more or fewer.
    #[test]
    fn other_edits_are_not_resolved_again() {
        for (dir, files, loaded) in sets() {
            let Some(k) = (0..files.len()).find(|&i| !files[i].users.is_empty()) else {
                continue;
            };
            let mut fewer_users = files.clone();
            fewer_users[k] = Arc::new(PolicyFile {
                users: files[k].users[1..].to_vec(),
                ..(*files[k]).clone()
            });
            let fewer_files = files[1..].to_vec();
            for new in [fewer_users, fewer_files] {
                let mut d = loaded.clone();
                let (model, memo) = crate::resolve::resolve_keeping(files.clone(), &mut d);
                assert!(
                    resolve_again(model, memo, &new, &mut d).is_err(),
                    "{}: resolved again",
                    dir.display()
                );
            }
        }
    }
}
