//! Stage 2: turn loaded files into the resolved [`Model`]: ids to dense
//! handles, the org tree and role graph (petgraph), names resolved by scope,
//! permissions expanded. Problems found on the way are diagnostics; the item
//! concerned is dropped or repaired so that later stages can go on.

mod graph;
mod names;
mod resources;

pub use resources::required_dimensions;

use rayon::prelude::*;
use std::collections::HashSet;

use crate::model::HashMap;

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::load::raw::{Descendants, RawAt, RoleStatus};
use crate::load::{is_valid_id, Item, PolicyFile};
use crate::model::*;
use crate::source::{Located, Span};

/// Everything `resolve` needs to remember about a file while building.
struct FileCtx {
    scope: Scope,
}

pub struct Builder<'a> {
    files: &'a [PolicyFile],
    /// The users and assignments of each file, taken out of `files` so that
    /// each section is freed as soon as it is resolved (a million users and
    /// two million assignments at the L tier: their memory is reused by the
    /// model instead of fresh pages).
    raw_users: Vec<Vec<Item<crate::load::raw::RawUser>>>,
    raw_assignments: Vec<Vec<Located<crate::load::raw::RawAssignment>>>,
    ctx: Vec<Option<FileCtx>>,
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
}

/// Resolves a loaded set. Diagnostics are appended to `diags`.
pub fn resolve(mut files: Vec<PolicyFile>, diags: &mut Diagnostics) -> Model {
    let raw_users = files
        .iter_mut()
        .map(|f| std::mem::take(&mut f.users))
        .collect();
    let raw_assignments = files
        .iter_mut()
        .map(|f| std::mem::take(&mut f.assignments))
        .collect();
    let mut b = Builder {
        files: &files,
        raw_users,
        raw_assignments,
        ctx: Vec::new(),
        model: Model::default(),
        diags,
        broken_users: HashSet::new(),
        broken_roles: HashSet::new(),
        org_scope: Vec::new(),
        org_repaired: Vec::new(),
        names_seen: HashMap::default(),
        order: 0,
    };
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
    b.model
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
            .zip(&self.ctx)
            .filter_map(|(f, c)| c.as_ref().map(|c| (f, c.scope)))
    }

    fn unknown(&self, what: &str, name: &Located<String>, candidates: Vec<&str>) -> Diagnostic {
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

    fn org_ref(&mut self, name: &Located<String>) -> Option<OrgId> {
        match self.model.org_index.get(&name.value) {
            Some(o) => Some(*o),
            None => {
                let cands = self.model.org_index.keys().map(String::as_str).collect();
                let d = self.unknown("org", name, cands);
                self.diags.push(d);
                None
            }
        }
    }

    fn user_ref(&mut self, name: &Located<String>) -> Option<UserId> {
        match self.model.user_index.get(&name.value) {
            Some(u) => Some(*u),
            None => {
                if !self.broken_users.contains(&name.value) {
                    let cands = self.model.user_index.keys().map(String::as_str).collect();
                    let d = self.unknown("user", name, cands);
                    self.diags.push(d);
                }
                None
            }
        }
    }

    fn role_ref(&mut self, name: &Located<String>, scope: Scope) -> Option<RoleId> {
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

    fn tenant_locked(
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

    fn outside(&mut self, span: Span, scope: Scope, what: String) {
        let s = self.model.scope_name(scope).to_owned();
        self.diags.push(
            Diagnostic::new(Code::E010, span, format!("{what} is outside the scope `{s}`"))
                .with_label(format!("not in the subtree of `{s}`"))
                .with_help(format!("a file with `scope: {s}` may only declare things inside `{s}`'s subtree; move this to a file of an enclosing scope")),
        );
    }

    fn locked_role_use(&mut self, role: RoleId, span: Span, what: &str) {
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

    // ---------------------------------------------------------------- orgs

    fn orgs(&mut self) {
        // Which files have a valid scope depends on the orgs declared by the
        // files with a valid scope: iterate to the fixpoint.
        let mut valid: Vec<bool> = vec![true; self.files.len()];
        loop {
            let declared: HashSet<&str> = self
                .files
                .iter()
                .zip(&valid)
                .filter(|(_, v)| **v)
                .flat_map(|(f, _)| f.orgs.iter().map(|o| o.id.value.as_str()))
                .collect();
            let mut changed = false;
            for (f, v) in self.files.iter().zip(valid.iter_mut()) {
                if *v && !f.is_provider() && !declared.contains(f.scope.value.as_str()) {
                    *v = false;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for (f, v) in self.files.iter().zip(&valid) {
            if !*v {
                let mut d = Diagnostic::new(
                    Code::E004,
                    f.scope.span,
                    format!("unknown org `{}` in `scope`", f.scope.value),
                )
                .with_label("no org of this id is declared")
                .with_note("the rest of this file is not checked");
                let all: Vec<&str> = self
                    .files
                    .iter()
                    .flat_map(|f| f.orgs.iter().map(|o| o.id.value.as_str()))
                    .collect();
                if let Some(s) = did_you_mean(&f.scope.value, all) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.diags.push(d);
            }
        }
        // Declare orgs in path order; the first declaration wins.
        let mut raw: Vec<(&Item<crate::load::raw::RawOrg>, usize)> = Vec::new();
        for (fi, (f, v)) in self.files.iter().zip(&valid).enumerate() {
            if !*v {
                continue;
            }
            for item in &f.orgs {
                if let Some(first) = self.model.org_index.get(&item.id.value) {
                    let d = dup(
                        "org",
                        &item.id.value,
                        item.id.span,
                        self.model.orgs[first.index()].span,
                    );
                    self.diags.push(d);
                    continue;
                }
                let id = OrgId(self.model.orgs.len() as u32);
                self.model.org_index.insert(item.id.value.clone(), id);
                self.model.orgs.push(Org {
                    description: item
                        .body
                        .description
                        .clone()
                        .or(item.body.name.clone())
                        .map(|d| match &item.body.name {
                            Some(n) if item.body.description.is_some() => format!("{n}: {d}"),
                            _ => d,
                        }),
                    id: item.id.value.clone(),
                    parent: None,
                    kind: None,
                    kind_label: item.body.kind.as_ref().map(|k| k.value.clone()),
                    span: item.id.span,
                    parent_span: item.body.parent.as_ref().map(|p| p.span),
                    kind_span: item.body.kind.as_ref().map(|k| k.span),
                    file: f.file,
                    scope: Scope::Provider,
                });
                raw.push((item, fi));
            }
        }
        // File scopes are now known.
        self.ctx = self
            .files
            .iter()
            .zip(&valid)
            .map(|(f, v)| {
                v.then(|| FileCtx {
                    scope: if f.is_provider() {
                        Scope::Provider
                    } else {
                        Scope::Org(self.model.org_index[&f.scope.value])
                    },
                })
            })
            .collect();
        self.org_repaired = vec![false; self.model.orgs.len()];
        self.org_scope = raw
            .iter()
            .map(|(_, fi)| {
                self.ctx[*fi]
                    .as_ref()
                    .map(|c| c.scope)
                    .unwrap_or(Scope::Provider)
            })
            .collect();
        for (org, scope) in self.model.orgs.iter_mut().zip(&self.org_scope) {
            org.scope = *scope;
        }
        for (i, (item, _)) in raw.iter().enumerate() {
            if let Some(p) = &item.body.parent {
                match self.org_ref(p) {
                    Some(pid) => self.model.orgs[i].parent = Some(pid),
                    None => self.org_repaired[i] = true,
                }
            }
        }
        graph::break_org_cycles(self);
        graph::layout_tree(&mut self.model);
        // E010: a tenant may only declare orgs whose parent is in its subtree.
        for i in 0..self.model.orgs.len() {
            if let Scope::Org(s) = self.org_scope[i] {
                if self.org_repaired[i] {
                    continue;
                }
                let inside = self.model.orgs[i]
                    .parent
                    .is_some_and(|p| self.model.in_subtree(p, s));
                if !inside {
                    let id = self.model.orgs[i].id.clone();
                    let span = self.model.orgs[i]
                        .parent_span
                        .unwrap_or(self.model.orgs[i].span);
                    self.outside(span, Scope::Org(s), format!("org `{id}`"));
                }
            }
        }
    }

    fn forbidden_sections(&mut self) {
        let mut found = Vec::new();
        for (f, scope) in self.files() {
            if scope == Scope::Provider {
                continue;
            }
            for s in &f.sections {
                if matches!(
                    s.value.as_str(),
                    "modules" | "kinds" | "policies" | "dimensions"
                ) {
                    found.push((s.clone(), scope));
                }
            }
        }
        for (s, scope) in found {
            let name = self.model.scope_name(scope).to_owned();
            self.diags.push(
                Diagnostic::new(
                    Code::E010,
                    s.span,
                    format!("a tenant file may not declare `{}`", s.value),
                )
                .with_label(format!("tenant file of scope `{name}`"))
                .with_help(format!("only provider files declare `{}`", s.value)),
            );
        }
    }

    // --------------------------------------------------------------- kinds

    fn kinds(&mut self) {
        let mut declared = false;
        let mut raw = Vec::new();
        for (f, scope) in self.files() {
            if scope != Scope::Provider {
                continue;
            }
            if f.sections.iter().any(|s| s.value == "kinds") {
                declared = true;
            }
            for item in &f.kinds {
                raw.push(item);
            }
        }
        self.model.kinds_declared = declared;
        let mut kept = Vec::new();
        for item in raw {
            if let Some(first) = self.model.kind_index.get(&item.id.value) {
                let d = dup(
                    "kind",
                    &item.id.value,
                    item.id.span,
                    self.model.kinds[first.index()].span,
                );
                self.diags.push(d);
                continue;
            }
            let id = KindId(self.model.kinds.len() as u32);
            self.model.kind_index.insert(item.id.value.clone(), id);
            self.model.kinds.push(Kind {
                description: item.body.description.clone(),
                id: item.id.value.clone(),
                parents: Vec::new(),
                span: item.id.span,
            });
            kept.push(item);
        }
        for (i, item) in kept.iter().enumerate() {
            let mut parents = Vec::new();
            for p in &item.body.parents {
                match self.kind_ref(p) {
                    Some(k) => parents.push(k),
                    None => continue,
                }
            }
            self.model.kinds[i].parents = parents;
        }
        if !declared {
            return;
        }
        for i in 0..self.model.orgs.len() {
            let org = &self.model.orgs[i];
            let (id, span, label, kind_span) = (
                org.id.clone(),
                org.span,
                org.kind_label.clone(),
                org.kind_span,
            );
            let Some(label) = label else {
                self.diags.push(
                    Diagnostic::new(Code::E015, span, format!("org `{id}` has no kind"))
                        .with_label("missing `kind`")
                        .with_help("kinds are declared, so every org needs one"),
                );
                continue;
            };
            let located = Located::new(label, kind_span.unwrap_or(span));
            let Some(kind) = self.kind_ref(&located) else {
                continue;
            };
            self.model.orgs[i].kind = Some(kind);
        }
        for i in 0..self.model.orgs.len() {
            if self.org_repaired[i] {
                continue;
            }
            let org = &self.model.orgs[i];
            let Some(kind) = org.kind else { continue };
            let k = &self.model.kinds[kind.index()];
            let problem = match org.parent {
                None if !k.parents.is_empty() => Some(format!(
                    "org `{}` of kind `{}` cannot be top level",
                    org.id, k.id
                )),
                Some(p) => {
                    let parent = &self.model.orgs[p.index()];
                    match parent.kind {
                        Some(pk) if !k.parents.contains(&pk) => Some(format!(
                            "org `{}` of kind `{}` cannot sit under `{}` of kind `{}`",
                            org.id,
                            k.id,
                            parent.id,
                            self.model.kinds[pk.index()].id
                        )),
                        _ => None,
                    }
                }
                None => None,
            };
            if let Some(message) = problem {
                let allowed: Vec<String> = k
                    .parents
                    .iter()
                    .map(|p| format!("`{}`", self.model.kinds[p.index()].id))
                    .collect();
                let help = if allowed.is_empty() {
                    format!("kind `{}` is top level only (`parents: []`)", k.id)
                } else {
                    format!("kind `{}` may sit under {}", k.id, allowed.join(", "))
                };
                let span = org.kind_span.unwrap_or(org.span);
                let kspan = k.span;
                self.diags.push(
                    Diagnostic::new(Code::E015, span, message)
                        .with_secondary(kspan, "kind declared here")
                        .with_help(help),
                );
            }
        }
    }

    fn kind_ref(&mut self, name: &Located<String>) -> Option<KindId> {
        match self.model.kind_index.get(&name.value) {
            Some(k) => Some(*k),
            None => {
                let cands = self.model.kind_index.keys().map(String::as_str).collect();
                let d = self.unknown("kind", name, cands);
                self.diags.push(d);
                None
            }
        }
    }

    // --------------------------------------------------------------- users

    fn users(&mut self) {
        // Users kept are found through `user_index`; only the few dropped
        // ones (unknown home org) need a map of their own for E003.
        let mut dropped: HashMap<String, Span> = HashMap::default();
        let raw = std::mem::take(&mut self.raw_users);
        let items: Vec<(&Item<crate::load::raw::RawUser>, Scope)> = raw
            .iter()
            .zip(&self.ctx)
            .filter_map(|(users, c)| c.as_ref().map(|c| (users, c.scope)))
            .flat_map(|(users, s)| users.iter().map(move |u| (u, s)))
            .collect();
        self.model.users.reserve(items.len());
        self.model.user_index.reserve(items.len());
        // A million users at the L tier: their home lookups and copies run on
        // every core; the index (duplicates) and findings stay sequential.
        let model = &self.model;
        let prepared: Vec<Option<User>> = items
            .par_iter()
            .map(|(item, scope)| {
                let home = model.org_index.get(&item.body.org.value).copied()?;
                Some(new_user(item, home, *scope))
            })
            .collect();
        for ((item, scope), prepared) in items.into_iter().zip(prepared) {
            let first = match self.model.user_index.get(&item.id.value) {
                Some(u) => Some(self.model.users[u.index()].span),
                None => dropped.get(&item.id.value).copied(),
            };
            if let Some(first) = first {
                let d = dup("user", &item.id.value, item.id.span, first);
                self.diags.push(d);
                continue;
            }
            let user = match prepared {
                Some(user) => user,
                None => {
                    let Some(home) = self.org_ref(&item.body.org) else {
                        dropped.insert(item.id.value.clone(), item.id.span);
                        self.broken_users.insert(item.id.value.clone());
                        continue;
                    };
                    new_user(item, home, scope)
                }
            };
            let home = user.home;
            if !self.model.in_scope(home, scope) {
                self.outside(
                    item.body.org.span,
                    scope,
                    format!(
                        "user `{}` (home org `{}`)",
                        item.id.value, item.body.org.value
                    ),
                );
            }
            let id = UserId(self.model.users.len() as u32);
            self.model.user_index.insert(item.id.value.clone(), id);
            self.model.users.push(user);
        }
        self.model.user_assignments = vec![Vec::new(); self.model.users.len()];
        self.model.org_assignments = vec![Vec::new(); self.model.orgs.len()];
    }

    // ------------------------------------------------------------- catalog

    fn catalog(&mut self) {
        let mut perms = 0u32;
        let modules: Vec<_> = self
            .files()
            .filter(|(_, s)| *s == Scope::Provider)
            .flat_map(|(f, _)| f.modules.iter())
            .collect();
        for item in modules {
            if let Some(first) = self.model.module_index.get(&item.id.value) {
                let d = dup(
                    "module",
                    &item.id.value,
                    item.id.span,
                    self.model.modules[first.index()].span,
                );
                self.diags.push(d);
                continue;
            }
            let mut actions: Vec<String> = Vec::new();
            let mut seen: HashMap<&str, Span> = HashMap::default();
            for a in &item.body.actions {
                if !is_valid_id(&a.value) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E002,
                            a.span,
                            format!("invalid action id `{}`", a.value),
                        )
                        .with_help("action ids are lowercase letters, digits, `_`, `.` and `-`"),
                    );
                    continue;
                }
                if let Some(first) = seen.get(a.value.as_str()) {
                    let d = dup("action", &a.value, a.span, *first);
                    self.diags.push(d);
                    continue;
                }
                seen.insert(&a.value, a.span);
                actions.push(a.value.clone());
            }
            let dimension = item
                .body
                .dimension
                .as_ref()
                .and_then(|d| self.dimension_ref(d));
            let id = ModuleId(self.model.modules.len() as u32);
            for i in 0..actions.len() {
                self.model.perms.push((id, i as u32));
            }
            self.model.module_index.insert(item.id.value.clone(), id);
            self.model.modules.push(Module {
                description: item.body.description.clone(),
                id: item.id.value.clone(),
                first_perm: perms,
                gated: item.body.gated,
                span: item.id.span,
                actions,
                dimension,
            });
            perms = self.model.perms.len() as u32;
        }
        let policies: Vec<_> = self
            .files()
            .filter(|(_, s)| *s == Scope::Provider)
            .flat_map(|(f, _)| f.policies.iter())
            .collect();
        for item in policies {
            if let Some(first) = self.model.policy_index.get(&item.id.value) {
                let d = dup(
                    "policy",
                    &item.id.value,
                    item.id.span,
                    self.model.policies[first.index()].span,
                );
                self.diags.push(d);
                continue;
            }
            let mut modules = Vec::new();
            for m in &item.body.modules {
                match self.model.module_index.get(&m.value) {
                    Some(id) => modules.push(*id),
                    None => {
                        let cands = self.model.module_index.keys().map(String::as_str).collect();
                        let d = self.unknown("module", m, cands);
                        self.diags.push(d);
                    }
                }
            }
            let id = PolicyId(self.model.policies.len() as u32);
            self.model.policy_index.insert(item.id.value.clone(), id);
            self.model.policies.push(Policy {
                description: item.body.description.clone(),
                id: item.id.value.clone(),
                modules,
                span: item.id.span,
            });
        }
    }

    /// Expands a permission pattern to permissions, or reports why it cannot.
    fn pattern(&mut self, p: &Located<String>) -> Option<BitSet> {
        let mut set = BitSet::new(self.model.perms.len());
        let Some((module, action)) = p.value.split_once(':') else {
            self.diags.push(
                Diagnostic::new(
                    Code::E002,
                    p.span,
                    format!("malformed permission pattern `{}`", p.value),
                )
                .with_help("write `module:action`, `module:*`, `*:action` or `*:*`"),
            );
            return None;
        };
        let ok = |s: &str| s == "*" || is_valid_id(s);
        if !ok(module) || !ok(action) {
            self.diags.push(
                Diagnostic::new(
                    Code::E002,
                    p.span,
                    format!("malformed permission pattern `{}`", p.value),
                )
                .with_help("write `module:action`, `module:*`, `*:action` or `*:*`"),
            );
            return None;
        }
        let modules: Vec<ModuleId> = if module == "*" {
            (0..self.model.modules.len() as u32).map(ModuleId).collect()
        } else {
            match self.model.module_index.get(module) {
                Some(m) => vec![*m],
                None => {
                    let mut d = Diagnostic::new(
                        Code::E004,
                        p.span,
                        format!("unknown module `{module}` in `{}`", p.value),
                    )
                    .with_label("no module of this id");
                    if let Some(s) =
                        did_you_mean(module, self.model.module_index.keys().map(String::as_str))
                    {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.diags.push(d);
                    return None;
                }
            }
        };
        for m in &modules {
            let module_def = &self.model.modules[m.index()];
            for (i, a) in module_def.actions.iter().enumerate() {
                if action == "*" || a == action {
                    set.insert(module_def.first_perm as usize + i);
                }
            }
        }
        if set.is_empty() {
            let mut d = if module == "*" {
                Diagnostic::new(
                    Code::E004,
                    p.span,
                    format!("pattern `{}` matches no permission", p.value),
                )
            } else {
                Diagnostic::new(
                    Code::E004,
                    p.span,
                    format!("unknown action `{action}` of module `{module}`"),
                )
            };
            d = d.with_label("matches nothing in the catalog");
            if module != "*" {
                let actions = &self.model.modules[modules[0].index()].actions;
                if let Some(s) = did_you_mean(action, actions.iter().map(String::as_str)) {
                    d = d.with_help(format!("did you mean `{module}:{s}`?"));
                }
            }
            self.diags.push(d);
            return None;
        }
        Some(set)
    }

    // --------------------------------------------------------------- roles

    fn roles(&mut self) {
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
                own: BitSet::new(nperms),
                perms: BitSet::new(nperms),
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
            let mut own = BitSet::new(nperms);
            for g in &item.body.grants {
                if let Some(s) = self.pattern(g) {
                    own.union_with(&s);
                }
            }
            let mut remove = BitSet::new(nperms);
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

    fn publications(&mut self) {
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

    // --------------------------------------------------------- assignments

    fn assignments(&mut self) {
        let raw = std::mem::take(&mut self.raw_assignments);
        let items: Vec<_> = raw
            .iter()
            .zip(&self.ctx)
            .filter_map(|(list, c)| c.as_ref().map(|c| (list, c.scope)))
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

    // ---------------------------------------------------------- exclusions

    fn unique_name(&mut self, scope: Scope, what: &'static str, name: &Located<String>) {
        let key = (scope, what, name.value.clone());
        if let Some(first) = self.names_seen.get(&key) {
            let d = dup(what, &name.value, name.span, *first)
                .with_note(format!("{what} names are unique within a scope"));
            self.diags.push(d);
        } else {
            self.names_seen.insert(key, name.span);
        }
    }

    fn exclusions(&mut self) {
        let items: Vec<_> = self
            .files()
            .flat_map(|(f, s)| f.exclusions.iter().map(move |e| (e, s)))
            .collect();
        for (e, scope) in items {
            if let Some(n) = &e.value.name {
                let n = Located::new(n.value.clone(), n.span);
                self.unique_name(scope, "exclusion", &n);
            }
            let mut roles = Vec::new();
            for r in &e.value.roles {
                if let Some(id) = self.role_ref(r, scope) {
                    if !roles.contains(&id) {
                        roles.push(id);
                    }
                }
            }
            self.model.exclusions.push(Exclusion {
                description: e.value.description.clone(),
                name: e.value.name.as_ref().map(|n| n.value.clone()),
                scope,
                roles,
                max: e.value.max.as_ref().map(|m| m.value).unwrap_or(1),
                per: match e.value.per.unwrap_or_default() {
                    crate::load::raw::Per::User => Per::User,
                    crate::load::raw::Per::Org => Per::Org,
                },
                span: e.span,
            });
        }
    }

    // --------------------------------------------------------------- rules

    fn rules(&mut self) {
        let items: Vec<_> = self
            .files()
            .flat_map(|(f, s)| f.automatic.iter().map(move |r| (r, s)))
            .collect();
        for (r, scope) in items {
            let raw = &r.value;
            if let Some(n) = &raw.name {
                let n = Located::new(n.value.clone(), n.span);
                self.unique_name(scope, "rule", &n);
            }
            let locked = match (&raw.locked, scope) {
                (Some(l), Scope::Provider) => l.value,
                (None, Scope::Provider) => true,
                (l, _) => self.tenant_locked(l.as_ref(), scope, "automatic rules"),
            };
            let w = raw.when.clone().unwrap_or_default();
            let mut when = Condition {
                owner: w.owner,
                identity: w.identity.as_ref().map(|k| k.value.clone()),
                org_kind: w.org_kind.as_ref().map(|k| k.value.clone()),
                org: None,
                attributes: w
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let mut ok = true;
            if let Some(o) = &w.org {
                when.org = self.org_ref(o);
                ok &= when.org.is_some();
            }
            if let (Some(k), true) = (&w.org_kind, self.model.kinds_declared) {
                ok &= self.kind_ref(k).is_some();
            }
            let mut grants = Vec::new();
            for g in &raw.grant {
                let mut roles = Vec::new();
                for name in &g.value.roles {
                    if let Some(id) = self.role_ref(name, scope) {
                        if scope != Scope::Provider && self.model.role(id).locked {
                            self.locked_role_use(id, name.span, "granted by an automatic rule");
                        }
                        roles.push((id, name.span));
                    }
                }
                let mut at = Vec::new();
                for place in &g.value.at {
                    match &place.value {
                        RawAt::Home(_) => at.push(Place::Home),
                        RawAt::Descendants {
                            descendants: Descendants::Any(_),
                        } => at.push(Place::Descendants(None)),
                        RawAt::Descendants {
                            descendants: Descendants::Kinds(kinds),
                        } => {
                            if self.model.kinds_declared {
                                let mut ids = Vec::new();
                                for k in kinds {
                                    if let Some(id) = self.kind_ref(k) {
                                        ids.push(id);
                                    }
                                }
                                at.push(Place::Descendants(Some(ids)));
                            } else {
                                at.push(Place::DescendantLabels(
                                    kinds.iter().map(|k| k.value.clone()).collect(),
                                ));
                            }
                        }
                    }
                }
                let resources = self.restriction(g.value.resources.as_ref(), scope);
                grants.push(RuleGrant {
                    roles,
                    at,
                    inherit: g.value.inherit.unwrap_or(false),
                    span: g.span,
                    resources,
                });
            }
            if !ok {
                continue;
            }
            let index = self.model.rules.len() as u32;
            let anchor = when.org.or(match scope {
                Scope::Org(o) => Some(o),
                Scope::Provider => None,
            });
            match (anchor, &when.org_kind) {
                (Some(o), _) => self.model.org_rules.entry(o).or_default().push(index),
                (None, Some(kind)) => {
                    let rules = self.model.kind_rules.entry(kind.clone()).or_default();
                    rules.push(index);
                }
                (None, None) => self.model.any_rules.push(index),
            }
            self.model.rules.push(Rule {
                description: raw.description.clone(),
                name: raw.name.as_ref().map(|n| n.value.clone()),
                scope,
                when,
                grants,
                locked,
                span: r.span,
            });
        }
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

fn new_user(item: &Item<crate::load::raw::RawUser>, home: OrgId, scope: Scope) -> User {
    User {
        description: item.body.description.clone(),
        id: item.id.value.clone(),
        home,
        identity: item
            .body
            .identity
            .as_ref()
            .map(|k| k.value.clone())
            .unwrap_or_else(|| "employee".into()),
        owner: item.body.owner,
        attributes: item
            .body
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        span: item.id.span,
        scope,
    }
}
