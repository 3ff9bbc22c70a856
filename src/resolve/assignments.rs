//! Assignments (SPEC §5, §7, §14.3): the fast path that resolves on every
//! core what has nothing to report, and the path that reports every finding.

use rayon::prelude::*;

use super::*;
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::{Located, Span};

impl Builder<'_> {
    // --------------------------------------------------------- assignments

    pub(super) fn assignments(&mut self) {
        let raw = std::mem::take(&mut self.raw_assignments);
        let items: Vec<_> = raw
            .iter()
            .zip(&self.scopes)
            .filter_map(|(list, s)| s.map(|s| (list, s)))
            .flat_map(|(list, s)| list.iter().map(move |a| (a, s)))
            .collect();
        // Two million of them at the L tier: the name lookups of the ones
        // that resolve without a finding run on every core first; the rest
        // (and every diagnostic) go through the one sequential path below.
        let model = &self.model;
        let fast: Vec<Option<ResolvedAssignment>> = items
            .par_iter()
            .map(|(a, scope)| resolve_assignment(model, a, *scope))
            .collect();
        self.model.assignments.reserve(items.len());
        for ((a, scope), fast) in items.into_iter().zip(fast) {
            self.order += 1;
            let order = self.order;
            let resolved = match fast {
                Some(r) => r,
                None => match self.assignment_with_findings(a, scope) {
                    Some(r) => r,
                    None => continue,
                },
            };
            let ResolvedAssignment {
                user,
                org,
                grant,
                grant_span,
                by,
                org_span,
                locked,
                resources,
            } = resolved;
            let id = AssignmentId(self.model.assignments.len() as u32);
            match user {
                Some(u) => self.model.user_assignments[u.index()].push(id),
                None => self.model.org_assignments[org.index()].push(id),
            }
            self.model.assignments.push(Assignment {
                description: a.value.description.as_deref().cloned(),
                grant,
                target: user.map(Target::User).unwrap_or(Target::Org),
                org,
                inherit: a.value.inherit.unwrap_or(true),
                by,
                locked,
                span: a.span,
                grant_span,
                org_span,
                scope,
                order,
                resources,
            });
        }
    }

    /// The sequential path for one assignment: every finding on it is
    /// reported here. `None` drops it.
    fn assignment_with_findings(
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
                    let d = self.unknown("policy", p, cands);
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
struct ResolvedAssignment {
    user: Option<UserId>,
    org: OrgId,
    grant: Grant,
    grant_span: Span,
    by: Option<(Assigner, Span)>,
    org_span: Span,
    locked: bool,
    resources: Restriction,
}

/// Resolves an assignment that has nothing to report, or answers `None` so
/// that [`Builder::assignment_with_findings`] reports what is wrong. The two
/// must agree on every assignment this one accepts.
fn resolve_assignment(
    m: &Model,
    a: &Located<crate::load::raw::RawAssignment>,
    scope: Scope,
) -> Option<ResolvedAssignment> {
    let raw = &a.value;
    if raw.role.is_some() == raw.policy.is_some() || (raw.user.is_none() && raw.org.is_none()) {
        return None;
    }
    if raw.by.is_some() && (raw.user.is_none() || raw.role.is_none()) {
        return None;
    }
    // Restrictions are rare and may carry findings: the reporting path.
    if raw.resources.is_some() {
        return None;
    }
    let provider = scope == Scope::Provider;
    if raw.policy.is_some() && !provider {
        return None;
    }
    let locked = match &raw.locked {
        Some(l) if l.value => provider.then_some(true)?,
        _ => false,
    };
    let user = match &raw.user {
        Some(u) => Some(*m.user_index.get(&u.value)?),
        None => None,
    };
    let org = match (&raw.org, user) {
        (Some(o), _) => *m.org_index.get(&o.value)?,
        (None, Some(u)) => m.user(u).home,
        (None, None) => return None,
    };
    let org_span = org_span(a);
    let (grant, grant_span) = match (&raw.role, &raw.policy) {
        (Some(r), _) => (
            Grant::Role(
                m.resolve_role(&r.value, scope)
                    .filter(|id| m.role_visible(*id, scope))?,
            ),
            r.span,
        ),
        (None, Some(p)) => (Grant::Policy(*m.policy_index.get(&p.value)?), p.span),
        (None, None) => return None,
    };
    let by = match &raw.by {
        Some(b) if b.value == "self" => Some((Assigner::SelfService, b.span)),
        Some(b) => Some((Assigner::Admin(*m.user_index.get(&b.value)?), b.span)),
        None => None,
    };
    if !provider {
        let home_ok = user.is_none_or(|u| m.in_scope(m.user(u).home, scope));
        let locked_role = matches!(grant, Grant::Role(r) if m.role(r).locked);
        if !m.in_scope(org, scope) || !home_ok || locked_role {
            return None;
        }
    }
    Some(ResolvedAssignment {
        user,
        org,
        grant,
        grant_span,
        by,
        org_span,
        locked,
        resources: Restriction::default(),
    })
}
