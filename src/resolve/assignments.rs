//! Assignments (SPEC §5, §7, §14.3): one resolution per assignment, run on
//! every core, its findings merged in input order.

use std::sync::PoisonError;

use rayon::prelude::*;

use super::*;
use crate::diag::{Code, Diagnostic};
use crate::load::raw::RawAssignment;
use crate::model::*;
use crate::source::{Located, Span};

impl Builder<'_> {
    // --------------------------------------------------------- assignments

    pub(super) fn assignments(&mut self) {
        let mut raw = std::mem::take(&mut self.raw_assignments);
        let counts: Vec<usize> = raw
            .iter()
            .zip(&self.scopes)
            .map(|(list, s)| if s.is_some() { list.len() } else { 0 })
            .collect();
        self.model.assignments.reserve(counts.iter().sum());
        let mut freed = Vec::new();
        for files in file_batches(&counts, BATCH) {
            free_beside(freed, || self.assignment_batch(&raw, files.clone()));
            freed = take_owned(&mut raw[files]);
        }
        free_beside(freed, || index_assignments(&mut self.model));
    }

    /// Resolves the assignments of `files` and adds them to the model.
    fn assignment_batch(
        &mut self,
        raw: &[Cow<'_, [Located<RawAssignment>]>],
        files: std::ops::Range<usize>,
    ) {
        let scopes = &self.scopes[files.clone()];
        let lists: Vec<&[Located<RawAssignment>]> = raw[files.clone()]
            .iter()
            .zip(scopes)
            .map(|(list, s)| if s.is_some() { &**list } else { &[][..] })
            .collect();
        let (resolved, findings) = resolve_lists(
            &self.model,
            &self.broken_users,
            &self.broken_roles,
            &lists,
            scopes,
        );
        let mut resolved = resolved.into_iter();
        for (file, (list, found)) in files.zip(lists.iter().zip(findings)) {
            let first = self.model.assignments.len();
            let first_order = self.order;
            if let Some(scope) = self.scopes[file] {
                let items = resolved.by_ref().take(list.len());
                self.model
                    .assignments
                    .extend(assignments_of(list, scope, first_order, items));
            }
            self.order += list.len() as u32;
            self.assignment_ranges
                .push(first..self.model.assignments.len());
            self.assignment_orders.push(first_order);
            self.assignment_findings[file] = found;
        }
    }
}

/// About how many assignments are resolved at a time (a file is never cut).
const BATCH: usize = 1 << 16;

/// Resolves the assignments of each file of `lists` (written in the file
/// of the same place in `scopes`; none of a file without a scope) against
/// `model`: per item, file after file, the assignment kept (`None`:
/// dropped), and per file the findings on them in item order. Two million
/// of them at the L tier: each is resolved on some core with its own
/// findings.
pub(super) fn resolve_lists(
    model: &Model,
    broken_users: &HashSet<String>,
    broken_roles: &HashSet<String>,
    lists: &[&[Located<RawAssignment>]],
    scopes: &[Option<Scope>],
) -> (Vec<Option<ResolvedAssignment>>, Vec<Vec<Diagnostic>>) {
    let items: Vec<(usize, &Located<RawAssignment>, Scope)> = lists
        .iter()
        .zip(scopes)
        .enumerate()
        .filter_map(|(file, (list, s))| s.map(|s| (file, list, s)))
        .flat_map(|(file, list, s)| list.iter().map(move |a| (file, a, s)))
        .collect();
    // Findings are rare: kept aside with the index of their assignment,
    // not in a slot per assignment (two million empty ones at L).
    let findings = std::sync::Mutex::new(Vec::new());
    let resolved: Vec<Option<ResolvedAssignment>> = items
        .par_iter()
        .enumerate()
        .map(|(i, (_, a, scope))| {
            let mut l = lookup::Lookup {
                model,
                broken_users,
                broken_roles,
                diags: Vec::new(),
            };
            let r = l.assignment(a, *scope);
            if !l.diags.is_empty() {
                // Poisoned only by a panic, which rayon passes on: the
                // findings themselves are whole.
                findings
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((i, l.diags));
            }
            r
        })
        .collect();
    let mut findings = findings
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    findings.sort_by_key(|(i, _)| *i);
    let mut per_file = vec![Vec::new(); lists.len()];
    for (i, found) in findings {
        per_file[items[i].0].extend(found);
    }
    (resolved, per_file)
}

/// The assignments kept of one file's `list`, written in `scope`, resolved
/// as `resolved` says; its items' orders follow `order`.
pub(super) fn assignments_of<'a>(
    list: &'a [Located<RawAssignment>],
    scope: Scope,
    order: u32,
    resolved: impl Iterator<Item = Option<ResolvedAssignment>> + 'a,
) -> impl Iterator<Item = Assignment> + 'a {
    list.iter()
        .zip(resolved)
        .enumerate()
        .filter_map(move |(i, (a, resolved))| {
            let ResolvedAssignment {
                user,
                org,
                grant,
                grant_span,
                by,
                org_span,
                locked,
                resources,
            } = resolved?;
            Some(Assignment {
                description: a.value.description.clone(),
                grant,
                target: user.map(Target::User).unwrap_or(Target::Org),
                org,
                inherit: a.value.inherit.unwrap_or(true),
                by: by.map(Box::new),
                locked,
                span: a.span,
                grant_span,
                org_span,
                org_written: a.value.org.is_some(),
                scope,
                order: order + i as u32 + 1,
                resources,
            })
        })
}

/// Files every assignment under its user or org, in assignment order.
pub(super) fn index_assignments(m: &mut Model) {
    // Each list is built in two passes over its pairs (count, then fill):
    // read from these few bytes an assignment, not from the assignments
    // themselves (about 90 bytes each, two million at L), once per pass.
    let mut to_users: Vec<(UserId, OrgId, AssignmentId)> = Vec::new();
    let mut to_orgs: Vec<(OrgId, AssignmentId)> = Vec::new();
    for (i, a) in m.assignments.iter().enumerate() {
        let id = AssignmentId(i as u32);
        match a.target {
            Target::User(u) => to_users.push((u, a.org, id)),
            Target::Org => to_orgs.push((a.org, id)),
        }
    }
    let users = to_users.iter().map(|&(u, _, id)| (u.index(), id));
    m.user_assignments = AssignmentLists::build(m.users.len(), users);
    let at = to_users.iter().map(|&(_, o, id)| (o.index(), id));
    m.user_assignments_at = AssignmentLists::build(m.orgs.len(), at);
    let orgs = to_orgs.iter().map(|&(o, id)| (o.index(), id));
    m.org_assignments = AssignmentLists::build(m.orgs.len(), orgs);
}

/// Where an assignment names its org: `org`, else the user (whose home it
/// is), else the assignment itself.
fn org_span(a: &Located<crate::load::raw::RawAssignment>) -> Span {
    let raw = &a.value;
    raw.org
        .as_ref()
        .map(|o| o.span)
        .or(raw.user.as_ref().map(|u| u.span))
        .unwrap_or(a.span)
}

/// E002 at the first character of an assignment that lacks a key.
fn missing_key(a: &Located<crate::load::raw::RawAssignment>, message: &str) -> Diagnostic {
    let at = Span {
        end: a.span.start + 1,
        ..a.span
    };
    Diagnostic::new(Code::E002, at, message)
}

/// An assignment with its names resolved.
pub(super) struct ResolvedAssignment {
    user: Option<UserId>,
    org: OrgId,
    grant: Grant,
    grant_span: Span,
    by: Option<(Assigner, Span)>,
    org_span: Span,
    locked: bool,
    resources: Restriction,
}

impl lookup::Lookup<'_> {
    /// Resolves one assignment, every finding on it reported here. `None`
    /// drops it.
    fn assignment(
        &mut self,
        a: &Located<crate::load::raw::RawAssignment>,
        scope: Scope,
    ) -> Option<ResolvedAssignment> {
        let raw = &a.value;
        match (&raw.role, &raw.policy) {
            (Some(_), Some(p)) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::E002,
                        p.span,
                        "an assignment names exactly one of `role` or `policy`",
                    )
                    .with_help("split it into two assignments"),
                );
                return None;
            }
            (None, None) => {
                self.diags
                    .push(missing_key(a, "an assignment needs `role` or `policy`"));
                return None;
            }
            _ => {}
        }
        if raw.user.is_none() && raw.org.is_none() {
            self.diags
                .push(missing_key(a, "an assignment needs `user` or `org`"));
            return None;
        }
        if let Some(by) = &raw.by {
            if raw.user.is_none() || raw.role.is_none() {
                self.diags.push(
                    Diagnostic::new(
                        Code::E002,
                        by.span,
                        "`by` needs an assignment of a `role` to a `user`",
                    )
                    .with_help("delegated assignment applies to user role assignments only"),
                );
                return None;
            }
        }
        // Before the policy check: a tenant's locked policy assignment is
        // two findings (SPEC §14.3: one per policy assignment, one per
        // `locked: true`).
        let locked = self.tenant_locked(raw.locked.as_deref(), scope, "assignments");
        if let Some(p) = &raw.policy {
            if scope != Scope::Provider {
                self.diags.push(
                    Diagnostic::new(
                        Code::E010,
                        p.span,
                        "a tenant file may not assign access policies",
                    )
                    .with_help("only the provider assigns access policies"),
                );
                return None;
            }
        }
        let user = match &raw.user {
            Some(u) => Some(self.user_ref(u)?),
            None => None,
        };
        let org = match (&raw.org, user) {
            (Some(o), _) => self.org_ref(o)?,
            (None, Some(u)) => self.model.user(u).home,
            (None, None) => return None,
        };
        let org_span = org_span(a);
        let (grant, grant_span) = if let Some(r) = &raw.role {
            (Grant::Role(self.role_ref(r, scope)?), r.span)
        } else if let Some(p) = &raw.policy {
            match self.model.policy_index.get(&p.value) {
                Some(id) => (Grant::Policy(*id), p.span),
                None => {
                    let cands = self.model.policy_index.keys().map(String::as_str).collect();
                    let d = lookup::unknown("policy", p, cands);
                    self.diags.push(d);
                    return None;
                }
            }
        } else {
            return None;
        };
        let by = match &raw.by {
            Some(b) if b.value == "self" => Some((Assigner::SelfService, b.span)),
            Some(b) => Some((Assigner::Admin(self.user_ref(b)?), b.span)),
            None => None,
        };
        if let Scope::Org(_) = scope {
            if !self.model.in_scope(org, scope) {
                self.outside(
                    org_span,
                    scope,
                    format!("assignment at org `{}`", self.model.org(org).id),
                );
                return None;
            }
            if let Some(u) = user {
                if !self.model.in_scope(self.model.user(u).home, scope) {
                    let span = raw.user.as_ref().map(|u| u.span).unwrap_or(a.span);
                    self.outside(
                        span,
                        scope,
                        format!("assignment to user `{}`", self.model.user(u).id),
                    );
                    return None;
                }
            }
            if let Grant::Role(r) = grant {
                if self.model.role(r).locked {
                    self.locked_role_use(r, grant_span, "assigned");
                }
            }
        }
        let resources = match (&raw.resources, grant) {
            (Some(r), Grant::Policy(_)) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::E002,
                        r.span,
                        "`resources` on an access policy assignment",
                    )
                    .with_help("access policies carry no restriction; remove `resources`"),
                );
                Restriction::default()
            }
            (r, _) => self.restriction(r.as_deref(), scope),
        };
        Some(ResolvedAssignment {
            user,
            org,
            grant,
            grant_span,
            by,
            org_span,
            locked,
            resources,
        })
    }
}
