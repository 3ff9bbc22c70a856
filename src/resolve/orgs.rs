//! Orgs and kinds (SPEC §3, §14.4), the sections a tenant may not write
//! (§7, §14.3), and users.

use rayon::prelude::*;
use std::collections::HashSet;

use super::*;
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::load::Item;
use crate::model::HashMap;
use crate::model::*;
use crate::source::{Located, Span};

impl Builder<'_> {
    // ---------------------------------------------------------------- orgs

    pub(super) fn orgs(&mut self) {
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
        self.scopes = self
            .files
            .iter()
            .zip(&valid)
            .map(|(f, v)| {
                v.then(|| {
                    if f.is_provider() {
                        Scope::Provider
                    } else {
                        Scope::Org(self.model.org_index[&f.scope.value])
                    }
                })
            })
            .collect();
        self.org_repaired = vec![false; self.model.orgs.len()];
        self.org_scope = raw
            .iter()
            .map(|(_, fi)| self.scopes[*fi].unwrap_or(Scope::Provider))
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

    pub(super) fn forbidden_sections(&mut self) {
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

    pub(super) fn kinds(&mut self) {
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

    pub(super) fn kind_ref(&mut self, name: &Located<String>) -> Option<KindId> {
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

    pub(super) fn users(&mut self) {
        // Users kept are found through `user_index`; only the few dropped
        // ones (unknown home org) need a map of their own for E003.
        let mut dropped: HashMap<String, Span> = HashMap::default();
        let mut raw = std::mem::take(&mut self.raw_users);
        let counts: Vec<usize> = raw
            .iter()
            .zip(&self.scopes)
            .map(|(users, s)| if s.is_some() { users.len() } else { 0 })
            .collect();
        let total = counts.iter().sum();
        self.model.users.reserve(total);
        self.model.user_index.reserve(total);
        let mut freed = Vec::new();
        for files in file_batches(&counts, USER_BATCH) {
            let batch = &raw[files.clone()];
            free_beside(freed, || self.user_batch(batch, files.start, &mut dropped));
            freed = take_owned(&mut raw[files]);
        }
        free_beside(freed, || ());
    }

    /// Adds the users of `raw`, the lists of the files from `first_file` on.
    fn user_batch(
        &mut self,
        raw: &[Cow<'_, [Item<crate::load::raw::RawUser>]>],
        first_file: usize,
        dropped: &mut HashMap<String, Span>,
    ) {
        let items: Vec<(&Item<crate::load::raw::RawUser>, Scope)> = raw
            .iter()
            .zip(&self.scopes[first_file..])
            .filter_map(|(users, s)| s.map(|s| (users, s)))
            .flat_map(|(users, s)| users.iter().map(move |u| (u, s)))
            .collect();
        // Their home lookups and copies (the index's key too) run on every
        // core; the index (duplicates) and findings stay sequential.
        let model = &self.model;
        let prepared: Vec<Option<(User, String)>> = items
            .par_iter()
            .map(|(item, scope)| {
                let home = model.org_index.get(&item.body.org.value).copied()?;
                Some((new_user(item, home, *scope), item.id.value.clone()))
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
            let (user, key) = match prepared {
                Some(prepared) => prepared,
                None => {
                    let Some(home) = self.org_ref(&item.body.org) else {
                        dropped.insert(item.id.value.clone(), item.id.span);
                        self.broken_users.insert(item.id.value.clone());
                        continue;
                    };
                    (new_user(item, home, scope), item.id.value.clone())
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
            self.model.user_index.insert(key, id);
            self.model.users.push(user);
        }
    }
}

/// About how many users are resolved at a time (a file is never cut).
const USER_BATCH: usize = 1 << 16;

fn new_user(item: &Item<crate::load::raw::RawUser>, home: OrgId, scope: Scope) -> User {
    User {
        description: item.body.description.clone().map(Box::new),
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
