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

mod assignments;
mod catalog;
mod graph;
mod names;
mod orgs;
mod resources;
mod roles;
mod rules;

pub use resources::required_dimensions;

use std::collections::HashSet;

use crate::model::HashMap;

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::load::{Item, PolicyFile};
use crate::model::*;
use crate::source::{Located, Span};

pub struct Builder<'a> {
    files: &'a [PolicyFile],
    /// The users and assignments of each file, taken out of `files` so that
    /// each section is freed as soon as it is resolved (a million users and
    /// two million assignments at the L tier: their memory is reused by the
    /// model instead of fresh pages).
    raw_users: Vec<Vec<Item<crate::load::raw::RawUser>>>,
    raw_assignments: Vec<Vec<Located<crate::load::raw::RawAssignment>>>,
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
        scopes: Vec::new(),
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
            .zip(&self.scopes)
            .filter_map(|(f, s)| s.map(|s| (f, s)))
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
}
