//! Roles (SPEC §4): owners, grants, `includes`, `from`/`remove`,
//! `assignable_by`, `excludes`; and publication entries (§5, §14.5).

use std::collections::HashSet;

use fixedbitset::FixedBitSet;

use super::*;
use crate::diag::{Code, Diagnostic};
use crate::load::raw::RoleStatus;
use crate::load::Item;
use crate::model::HashMap;
use crate::model::*;

impl Builder<'_> {
    // --------------------------------------------------------------- roles

    pub(super) fn roles(&mut self) {
        let items: Vec<(
            &Item<crate::load::raw::RawRole>,
            Scope,
            crate::source::FileId,
        )> = self
            .files()
            .flat_map(|(f, s)| f.roles.iter().map(move |r| (r, s, f.file)))
            .collect();
        let mut kept = Vec::new();
        let nperms = self.model.perms.len();
        for (item, scope, file) in items {
            let key = (scope, item.id.value.clone());
            if let Some(first) = self.model.role_index.get(&key) {
                let d = dup(
                    "role",
                    &item.id.value,
                    item.id.span,
                    self.model.roles[first.index()].span,
                )
                .with_note(format!(
                    "role names are unique within their owner `{}`",
                    self.model.scope_name(scope)
                ));
                self.diags.push(d);
                continue;
            }
            let locked = self.tenant_locked(item.body.locked.as_ref(), scope, "roles");
            let id = RoleId(self.model.roles.len() as u32);
            self.model.role_index.insert(key, id);
            self.model
                .role_names
                .entry(item.id.value.clone())
                .or_default()
                .push(id);
            self.model.roles.push(Role {
                description: item.body.description.clone(),
                owner: scope,
                name: item.id.value.clone(),
                span: item.id.span,
                file,
                active: item
                    .body
                    .status
                    .as_ref()
                    .is_none_or(|s| s.value == RoleStatus::Active),
                locked,
                published: item.body.published.unwrap_or(true),
                self_service: item.body.self_service,
                approval: item.body.approval.clone(),
                identity_types: item
                    .body
                    .identity_types
                    .as_ref()
                    .map(|v| v.iter().map(|t| t.value.clone()).collect()),
                includes: Vec::new(),
                from: None,
                assignable_by: Vec::new(),
                own: FixedBitSet::with_capacity(nperms),
                perms: FixedBitSet::with_capacity(nperms),
                cyclic: false,
                resources: Restriction::default(),
                dimensions: Vec::new(),
                multiple: false,
            });
            kept.push(item);
        }
        let mut removes = Vec::with_capacity(kept.len());
        for (i, item) in kept.iter().enumerate() {
            let rid = RoleId(i as u32);
            let scope = self.model.roles[i].owner;
            let mut own = FixedBitSet::with_capacity(nperms);
            for g in &item.body.grants {
                if let Some(s) = self.pattern(g) {
                    own.union_with(&s);
                }
            }
            let mut remove = FixedBitSet::with_capacity(nperms);
            for g in &item.body.remove {
                if let Some(s) = self.pattern(g) {
                    remove.union_with(&s);
                }
            }
            removes.push(remove);
            let mut includes = Vec::new();
            for inc in &item.body.includes {
                if let Some(r) = self.role_ref(inc, scope) {
                    if scope != Scope::Provider && self.model.role(r).locked {
                        self.locked_role_use(r, inc.span, "included");
                    }
                    includes.push((r, inc.span));
                }
            }
            let from = item
                .body
                .from
                .as_ref()
                .and_then(|f| self.role_ref(f, scope).map(|r| (r, f.span)));
            let mut assignable_by = Vec::new();
            for a in &item.body.assignable_by {
                if let Some(r) = self.role_ref(a, scope) {
                    assignable_by.push(r);
                }
            }
            if !item.body.remove.is_empty() && item.body.from.is_none() {
                let span = item.body.remove[0].span;
                self.diags.push(
                    Diagnostic::new(
                        Code::E002,
                        span,
                        format!("role `{}` has `remove` without `from`", item.id.value),
                    )
                    .with_help("`remove` applies to the permissions cloned with `from`"),
                );
            }
            let resources = self.restriction(item.body.resources.as_ref(), scope);
            let mut dimensions = Vec::new();
            for d in &item.body.dimensions {
                if let Some(d) = self.dimension_ref(d) {
                    dimensions.push(d);
                }
            }
            dimensions.sort();
            dimensions.dedup();
            let multiple = match &item.body.multiple {
                Some(m) if item.body.dimensions.is_empty() => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E002,
                            m.span,
                            format!("`multiple` on role `{}`, which has no `dimensions`", item.id.value),
                        )
                        .with_help("`multiple` says whether a dimensioned role may be held once per resource; add `dimensions` or remove it"),
                    );
                    false
                }
                Some(m) => m.value,
                None => false,
            };
            let r = &mut self.model.roles[rid.index()];
            r.own = own;
            r.includes = includes;
            r.from = from;
            r.assignable_by = assignable_by;
            r.resources = resources;
            r.dimensions = dimensions;
            r.multiple = multiple;
        }
        graph::role_cycles_and_grants(self, &removes);
        names::shadowing(self);
        // `excludes` shorthand, resolved in the owner's scope.
        let mut pairs: HashSet<(Scope, RoleId, RoleId)> = HashSet::new();
        for (i, item) in kept.iter().enumerate() {
            let rid = RoleId(i as u32);
            let scope = self.model.roles[i].owner;
            for x in &item.body.excludes {
                let Some(other) = self.role_ref(x, scope) else {
                    continue;
                };
                let key = (scope, rid.min(other), rid.max(other));
                if pairs.insert(key) {
                    self.model.exclusions.push(Exclusion {
                        description: None,
                        name: None,
                        scope,
                        roles: vec![rid, other],
                        max: 1,
                        per: Per::User,
                        span: x.span,
                    });
                }
            }
        }
    }

    // -------------------------------------------------------- publications

    pub(super) fn publications(&mut self) {
        self.model.publications = vec![HashMap::default(); self.model.roles.len()];
        let items: Vec<_> = self
            .files()
            .flat_map(|(f, s)| f.publications.iter().map(move |p| (p, s)))
            .collect();
        for (p, scope) in items {
            let locked = self.tenant_locked(p.value.locked.as_ref(), scope, "publications");
            let role = self.role_ref(&p.value.role, scope);
            let org = self.org_ref(&p.value.org);
            let (Some(role), Some(org)) = (role, org) else {
                continue;
            };
            let publish = p.value.publish.unwrap_or(true);
            if !self.model.in_scope(org, scope) {
                self.outside(
                    p.value.org.span,
                    scope,
                    format!("publication at org `{}`", p.value.org.value),
                );
                continue;
            }
            if scope != Scope::Provider && self.model.role(role).locked {
                self.locked_role_use(role, p.value.role.span, "published");
                continue;
            }
            if let Some(first) = self.model.publications[role.index()].get(&org) {
                let d = Diagnostic::new(
                    Code::E003,
                    p.span,
                    format!(
                        "duplicate publication entry for role `{}` at org `{}`",
                        self.model.role_display(role),
                        p.value.org.value
                    ),
                )
                .with_label("second entry")
                .with_secondary(first.span, "first entry here")
                .with_help("keep one entry per role and org");
                self.diags.push(d);
                continue;
            }
            let owner = self.model.role(role).owner;
            if let Scope::Org(o) = owner {
                if !self.model.in_subtree(org, o) {
                    if publish {
                        let name = self.model.role_qualified(role);
                        let ospan = self.model.org(o).span;
                        self.diags.push(
                            Diagnostic::new(
                                Code::E010,
                                p.value.org.span,
                                format!("custom role `{name}` cannot be published outside its owner's subtree"),
                            )
                            .with_label(format!("`{}` is not under `{}`", p.value.org.value, self.model.org(o).id))
                            .with_secondary(ospan, "owner org"),
                        );
                    }
                    // A non-publication outside the owner's subtree changes nothing.
                    continue;
                }
            }
            self.model.publications[role.index()].insert(
                org,
                PublicationEntry {
                    publish,
                    locked,
                    scope,
                    span: p.span,
                },
            );
        }
    }
}
