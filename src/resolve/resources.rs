//! Dimensions, resources and restrictions (SPEC §15): what roles,
//! assignments and rule grant items can be tied to, resolved with every
//! finding at its node. A set that declares no dimension has none of them,
//! and everything here is a no-op for it.

use super::Builder;
use crate::diag::{Code, Diagnostic};
use crate::load::de::Spanned;
use crate::load::raw::RawResources;
use crate::model::*;
use crate::source::Span;

impl Builder<'_> {
    /// `dimensions` of provider files (a tenant's is one E010, reported
    /// with the other forbidden sections, and declares nothing).
    pub(super) fn dimensions(&mut self) {
        let items: Vec<_> = self
            .files()
            .filter(|(_, s)| *s == Scope::Provider)
            .flat_map(|(f, _)| f.dimensions.iter())
            .collect();
        for item in items {
            if let Some(first) = self.model.dimension_index.get(&item.id.value) {
                let first = self.model.dimensions[first.index()].span;
                let d = super::dup("dimension", &item.id.value, item.id.span, first);
                self.diags.push(d);
                continue;
            }
            let id = DimId(self.model.dimensions.len() as u32);
            self.model.dimension_index.insert(item.id.value.clone(), id);
            self.model.dimensions.push(Dimension {
                description: item.body.description.clone(),
                id: item.id.value.clone(),
                span: item.id.span,
            });
        }
    }

    pub(super) fn dimension_ref(&mut self, name: &Spanned<String>) -> Option<DimId> {
        self.with(|l| l.dimension_ref(name))
    }

    /// `resources` of every file: a resource with an unknown or missing
    /// dimension or org is not declared; one against its file's scope is
    /// reported and kept; of two with one id the first in path order stands.
    pub(super) fn resources(&mut self) {
        let items: Vec<_> = self
            .files()
            .flat_map(|(f, s)| f.resources.iter().map(move |r| (r, s)))
            .collect();
        for (item, scope) in items {
            let body = &item.body;
            let Some(dim_name) = &body.dimension else {
                self.diags.push(
                    Diagnostic::new(
                        Code::E002,
                        item.id.span,
                        format!("resource `{}` has no `dimension`", item.id.value),
                    )
                    .with_help("every resource belongs to one dimension: add `dimension: <id>`"),
                );
                continue;
            };
            let dim = self.dimension_ref(dim_name);
            let org = match &body.org {
                Some(o) => self.org_ref(o).map(Some),
                None => Some(None),
            };
            let (Some(dim), Some(org)) = (dim, org) else {
                continue;
            };
            if let Some(first) = self.model.resource_index.get(&item.id.value) {
                let first = self.model.resources[first.index()].span;
                let d = super::dup("resource", &item.id.value, item.id.span, first);
                self.diags.push(d);
                continue;
            }
            if let Scope::Org(s) = scope {
                match org {
                    Some(o) if !self.model.in_subtree(o, s) => {
                        let span = body.org.as_ref().map_or(item.id.span, |o| o.span);
                        let what = format!(
                            "resource `{}` of org `{}`",
                            item.id.value,
                            self.model.org(o).id
                        );
                        self.outside(span, scope, what);
                    }
                    None => self.diags.push(
                        Diagnostic::new(
                            Code::E010,
                            item.id.span,
                            format!(
                                "resource `{}` belongs to no org: only the provider declares such a resource",
                                item.id.value
                            ),
                        )
                        .with_help("give it the `org` it belongs to, inside this file's subtree"),
                    ),
                    _ => {}
                }
            }
            let id = ResId(self.model.resources.len() as u32);
            self.model.resource_index.insert(item.id.value.clone(), id);
            self.model.resources.push(Resource {
                description: body.description.clone(),
                id: item.id.value.clone(),
                dim,
                org,
                span: item.id.span,
                scope,
            });
        }
    }

    pub(super) fn restriction(
        &mut self,
        raw: Option<&Spanned<RawResources>>,
        scope: Scope,
    ) -> Restriction {
        self.with(|l| l.restriction(raw, scope))
    }

    /// Every assignment and rule grant item whose role is a dimensioned
    /// role, or includes one, must name those dimensions: one E002 per item
    /// that misses any. The closure here follows the roles' definitions,
    /// whatever their status or identity types. Findings on assignments
    /// go with their file's other assignment findings.
    pub(super) fn dimension_requirements(&mut self) {
        if self.model.dimensions.is_empty() {
            return;
        }
        let m = &self.model;
        let required = Required::new(m);
        let mut found = Vec::new();
        for rule in &m.rules {
            for g in &rule.grants {
                let mut missing: Vec<DimId> = g
                    .roles
                    .iter()
                    .flat_map(|(r, _)| required.of(*r).iter().copied())
                    .filter(|d| !g.resources.names(*d))
                    .collect();
                missing.sort();
                missing.dedup();
                if let (false, Some((r, _))) = (missing.is_empty(), g.roles.first()) {
                    found.push(missing_resources(m, g.span, *r, &missing));
                }
            }
        }
        self.diags.extend(found);
        for (file, kept) in self.assignment_ranges.iter().enumerate() {
            let findings = &mut self.assignment_findings[file];
            for a in &m.assignments[kept.clone()] {
                findings.extend(required.missing(m, a));
            }
        }
    }
}

/// Per role, the dimensions giving it requires.
pub(super) struct Required(Vec<Vec<DimId>>);

impl Required {
    pub(super) fn new(m: &Model) -> Required {
        Required(
            (0..m.roles.len())
                .map(|r| required_dimensions(m, RoleId(r as u32)))
                .collect(),
        )
    }

    fn of(&self, r: RoleId) -> &[DimId] {
        &self.0[r.index()]
    }

    /// E002 on `a` if its role requires dimensions it does not name.
    pub(super) fn missing(&self, m: &Model, a: &Assignment) -> Option<Diagnostic> {
        let Grant::Role(r) = a.grant else {
            return None;
        };
        let missing: Vec<DimId> = (self.of(r).iter().copied())
            .filter(|d| !a.resources.names(*d))
            .collect();
        (!missing.is_empty()).then(|| missing_resources(m, a.span, r, &missing))
    }
}

fn missing_resources(m: &Model, span: Span, role: RoleId, missing: &[DimId]) -> Diagnostic {
    let names: Vec<String> = missing
        .iter()
        .map(|d| format!("`{}`", m.dimensions[d.index()].id))
        .collect();
    let role_name = m.role_display(role);
    Diagnostic::new(
        Code::E002,
        span,
        format!("missing `resources` on {}", names.join(", ")),
    )
    .with_label(format!(
        "gives `{role_name}`, which (or a role it includes) lists these `dimensions`"
    ))
    .with_help(
        "name the resources this grant is for, e.g. `resources: { <dimension>: [<resource>] }`",
    )
}

/// The dimensions that giving `r` requires: those `r` or any role of its
/// `includes` closure lists, by definition (status and identity types do
/// not matter here).
pub fn required_dimensions(m: &Model, r: RoleId) -> Vec<DimId> {
    let mut seen = vec![false; m.roles.len()];
    let mut stack = vec![r];
    let mut out = Vec::new();
    while let Some(x) = stack.pop() {
        if std::mem::replace(&mut seen[x.index()], true) {
            continue;
        }
        let role = m.role(x);
        out.extend(role.dimensions.iter().copied());
        stack.extend(role.includes.iter().map(|(i, _)| *i));
    }
    out.sort();
    out.dedup();
    out
}
