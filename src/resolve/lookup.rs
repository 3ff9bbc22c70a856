//! Name lookups shared by every stage: each answers the id a name means in
//! a file of some scope, or reports why it means nothing (at the name's
//! node). They only read the model, so a stage can run them on every core,
//! each worker with its own findings, merged in input order afterwards.

use std::collections::HashSet;

use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::load::de::Spanned;
use crate::load::raw::RawResources;
use crate::model::*;
use crate::source::{Located, Span};

pub(super) struct Lookup<'m> {
    pub(super) model: &'m Model,
    /// Users and roles that were declared but could not be kept: references
    /// to them are not reported again.
    pub(super) broken_users: &'m HashSet<String>,
    pub(super) broken_roles: &'m HashSet<String>,
    pub(super) diags: Vec<Diagnostic>,
}

impl Lookup<'_> {
    pub(super) fn org_ref(&mut self, name: &Located<String>) -> Option<OrgId> {
        match self.model.org_index.get(&name.value) {
            Some(o) => Some(*o),
            None => {
                let cands = self.model.org_index.keys().map(String::as_str).collect();
                let d = unknown("org", name, cands);
                self.diags.push(d);
                None
            }
        }
    }

    pub(super) fn user_ref(&mut self, name: &Located<String>) -> Option<UserId> {
        match self.model.user_index.get(&name.value) {
            Some(u) => Some(*u),
            None => {
                if !self.broken_users.contains(&name.value) {
                    let cands = self.model.user_index.keys().map(String::as_str).collect();
                    let d = unknown("user", name, cands);
                    self.diags.push(d);
                }
                None
            }
        }
    }

    pub(super) fn role_ref(&mut self, name: &Located<String>, scope: Scope) -> Option<RoleId> {
        match self.model.resolve_role(&name.value, scope) {
            Some(r) if self.model.role_visible(r, scope) => Some(r),
            Some(r) => {
                // Dropped as an unknown name would be: it adds nothing.
                let owner = self.model.scope_name(self.model.role(r).owner).to_owned();
                self.diags.push(
                    Diagnostic::new(
                        Code::E010,
                        name.span,
                        format!(
                            "role `{}` is owned by `{owner}`, which is not `{}` nor one of its ancestors",
                            self.model.role_qualified(r),
                            self.model.scope_name(scope)
                        ),
                    )
                    .with_label("a tenant file may only name roles of the provider, its own scope or its ancestors")
                    .with_help(format!(
                        "define the role in `{}`'s own files, or ask the provider for a role type",
                        self.model.scope_name(scope)
                    )),
                );
                None
            }
            None => {
                let bare = name.value.rsplit("::").next().unwrap_or(&name.value);
                if !self.broken_roles.contains(bare) {
                    let mut d = Diagnostic::new(
                        Code::E004,
                        name.span,
                        format!("unknown role `{}`", name.value),
                    )
                    .with_label(format!(
                        "no role of this name is visible from `{}`",
                        self.model.scope_name(scope)
                    ));
                    if let Some(owners) = self.model.role_names.get(bare) {
                        let q: Vec<String> = owners
                            .iter()
                            .map(|r| format!("`{}`", self.model.role_qualified(*r)))
                            .collect();
                        d = d.with_help(format!("roles of this name: {}; name one exactly as `owner::name` if it is visible here", q.join(", ")));
                    } else if let Some(s) =
                        did_you_mean(bare, self.model.role_names.keys().map(String::as_str))
                    {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.diags.push(d);
                }
                None
            }
        }
    }

    pub(super) fn tenant_locked(
        &mut self,
        locked: Option<&crate::load::de::Spanned<bool>>,
        scope: Scope,
        what: &str,
    ) -> bool {
        match locked {
            Some(l) if l.value => {
                if scope != Scope::Provider {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E010,
                            l.span,
                            format!("only provider files may lock {what}"),
                        )
                        .with_label("`locked: true` in a tenant file")
                        .with_help("remove `locked`: locks are the provider's"),
                    );
                    false
                } else {
                    true
                }
            }
            _ => false,
        }
    }

    pub(super) fn outside(&mut self, span: Span, scope: Scope, what: String) {
        let s = self.model.scope_name(scope).to_owned();
        self.diags.push(
            Diagnostic::new(Code::E010, span, format!("{what} is outside the scope `{s}`"))
                .with_label(format!("not in the subtree of `{s}`"))
                .with_help(format!("a file with `scope: {s}` may only declare things inside `{s}`'s subtree; move this to a file of an enclosing scope")),
        );
    }

    pub(super) fn locked_role_use(&mut self, role: RoleId, span: Span, what: &str) {
        let r = self.model.role(role);
        let (rspan, name) = (r.span, self.model.role_qualified(role));
        self.diags.push(
            Diagnostic::new(
                Code::E011,
                span,
                format!("locked role `{name}` may only be {what} from provider files"),
            )
            .with_label("tenant file uses a provider lock")
            .with_secondary(rspan, "locked by the provider here"),
        );
    }

    pub(super) fn dimension_ref(&mut self, name: &Spanned<String>) -> Option<DimId> {
        match self.model.dimension_index.get(&name.value) {
            Some(d) => Some(*d),
            None => {
                let cands = self
                    .model
                    .dimension_index
                    .keys()
                    .map(String::as_str)
                    .collect();
                let d = unknown("dimension", name, cands);
                self.diags.push(d);
                None
            }
        }
    }

    /// A `resources` restriction written in a file of `scope`. An unknown
    /// dimension is ignored; an unknown resource, one of another dimension,
    /// or (in a tenant file) one of an org outside its subtree is ignored
    /// while its dimension stays named; an empty list names the dimension
    /// with no resource.
    pub(super) fn restriction(
        &mut self,
        raw: Option<&Spanned<RawResources>>,
        scope: Scope,
    ) -> Restriction {
        let Some(raw) = raw else {
            return Restriction::default();
        };
        let mut out: Vec<(DimId, Vec<ResId>)> = Vec::new();
        for (key, list) in &raw.value.0 {
            let Some(dim) = self.dimension_ref(key) else {
                continue;
            };
            if list.value.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Code::E002,
                        list.span,
                        format!("empty list of `{}` resources", key.value),
                    )
                    .with_label("this allows no resource of the dimension")
                    .with_help("list the resources, or leave the dimension out to allow every one"),
                );
            }
            let mut ids = Vec::new();
            for name in &list.value {
                let Some(&r) = self.model.resource_index.get(&name.value) else {
                    let cands = self
                        .model
                        .resource_index
                        .keys()
                        .map(String::as_str)
                        .collect();
                    let d = unknown("resource", name, cands);
                    self.diags.push(d);
                    continue;
                };
                let res = &self.model.resources[r.index()];
                if res.dim != dim {
                    let other = self.model.dimensions[res.dim.index()].id.clone();
                    self.diags.push(
                        Diagnostic::new(
                            Code::E004,
                            name.span,
                            format!(
                                "resource `{}` is of dimension `{other}`, not `{}`",
                                name.value, key.value
                            ),
                        )
                        .with_help(format!("list it under `{other}`")),
                    );
                    continue;
                }
                if let (Scope::Org(s), Some(o)) = (scope, res.org) {
                    if !self.model.in_subtree(o, s) {
                        let what = format!(
                            "resource `{}` of org `{}`",
                            name.value,
                            self.model.org(o).id
                        );
                        self.outside(name.span, scope, what);
                        continue;
                    }
                }
                ids.push(r);
            }
            ids.sort();
            ids.dedup();
            match out.iter_mut().find(|(d, _)| *d == dim) {
                // Two keys naming one dimension (TOML and YAML refuse
                // duplicate keys, so only through a mistake elsewhere).
                Some((_, v)) => {
                    v.extend(ids);
                    v.sort();
                    v.dedup();
                }
                None => out.push((dim, ids)),
            }
        }
        out.sort_by_key(|(d, _)| *d);
        Restriction::new(out)
    }
}

/// E004 for a name that means nothing, with a did-you-mean from `candidates`.
pub(super) fn unknown(what: &str, name: &Located<String>, candidates: Vec<&str>) -> Diagnostic {
    let mut d = Diagnostic::new(
        Code::E004,
        name.span,
        format!("unknown {what} `{}`", name.value),
    )
    .with_label(format!("no {what} of this name"));
    if let Some(s) = did_you_mean(&name.value, candidates) {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    d
}
