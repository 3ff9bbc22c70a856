//! A deliberately naive evaluator, written from the SPEC text (§3–§5, §9)
//! and nothing else: it reads only the plain fields of the resolved
//! [`Model`] (orgs and their parents, users, roles, assignments, rules,
//! policies, modules, publication entries) and none of its methods that
//! compute semantics (no `hits`, `roles_at`, `allow`, `published`,
//! `rule_matches`, `rule_targets`, `in_subtree`, preorder intervals...).
//! Every question walks every assignment and every rule; the org tree is
//! walked through `parent` links. Slow on purpose, obvious on purpose.
//!
//! Publication is evaluated against an explicit list of entries
//! ([`Entries`]): the model's own ([`Naive::model_entries`]), or any list
//! a test builds (for the counterfactual of SPEC §14.10).

use std::collections::{BTreeMap, BTreeSet};

use trellis::model::{
    Assignment, Grant, Model, OrgId, PermId, Place, PolicyId, RoleId, Rule, RuleGrant, Scope,
    Target, UserId,
};

/// One publication entry (SPEC §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub publish: bool,
    pub locked: bool,
    /// `true` when a provider file wrote it.
    pub provider: bool,
    /// Where it was written, for messages (`file:line`).
    pub at: String,
}

/// Publication entries by (role, org): at most one per pair (a second one
/// is E003 and does not count).
pub type Entries = BTreeMap<(RoleId, OrgId), Entry>;

pub struct Naive<'m> {
    pub m: &'m Model,
}

impl<'m> Naive<'m> {
    pub fn new(m: &'m Model) -> Naive<'m> {
        Naive { m }
    }

    pub fn orgs(&self) -> impl Iterator<Item = OrgId> {
        (0..self.m.orgs.len() as u32).map(OrgId)
    }
    pub fn users(&self) -> impl Iterator<Item = UserId> {
        (0..self.m.users.len() as u32).map(UserId)
    }

    // ------------------------------------------------------------ the tree (§3)

    /// `x`, its parent, ..., up to a top-level org (bounded, in case the
    /// set has a cycle).
    pub fn path_up(&self, x: OrgId) -> Vec<OrgId> {
        let mut out = vec![x];
        let mut cur = self.m.orgs[x.index()].parent;
        while let Some(p) = cur {
            if out.contains(&p) || out.len() > self.m.orgs.len() {
                break;
            }
            out.push(p);
            cur = self.m.orgs[p.index()].parent;
        }
        out
    }
    /// Is `x` in the subtree of `root` (`root` itself included)?
    pub fn within(&self, x: OrgId, root: OrgId) -> bool {
        self.path_up(x).contains(&root)
    }
    /// Is `x` a strict descendant of `root`?
    pub fn strictly_below(&self, x: OrgId, root: OrgId) -> bool {
        x != root && self.within(x, root)
    }
    pub fn in_scope(&self, x: OrgId, scope: Scope) -> bool {
        match scope {
            Scope::Provider => true,
            Scope::Org(s) => self.within(x, s),
        }
    }

    // --------------------------------------------------------- publication (§5)

    /// The model's publication entries.
    pub fn model_entries(&self) -> Entries {
        let mut out = Entries::new();
        for (ri, per_org) in self.m.publications.iter().enumerate() {
            for (org, e) in per_org {
                out.insert(
                    (RoleId(ri as u32), *org),
                    Entry {
                        publish: e.publish,
                        locked: e.locked,
                        provider: e.scope == Scope::Provider,
                        at: format!("{:?}", e.span),
                    },
                );
            }
        }
        out
    }

    /// When no entry decides: a role type is published everywhere when its
    /// `published` is true, nowhere when false; a custom role on its
    /// owner's subtree when true, nowhere when false.
    pub fn default_published(&self, r: RoleId, x: OrgId) -> bool {
        let role = &self.m.roles[r.index()];
        role.published
            && match role.owner {
                Scope::Provider => true,
                Scope::Org(o) => self.within(x, o),
            }
    }

    /// The nearest entry on the path from `x` up to the root, and its org.
    pub fn deciding<'e>(
        &self,
        r: RoleId,
        x: OrgId,
        entries: &'e Entries,
    ) -> Option<(OrgId, &'e Entry)> {
        self.path_up(x)
            .into_iter()
            .find_map(|a| entries.get(&(r, a)).map(|e| (a, e)))
    }

    pub fn published_by(&self, r: RoleId, x: OrgId, entries: &Entries) -> bool {
        match self.deciding(r, x, entries) {
            Some((_, e)) => e.publish,
            None => self.default_published(r, x),
        }
    }

    // --------------------------------------------------------------- reach (§5)

    /// Does assignment `a` reach user `u` at org `x` (before publication)?
    pub fn assignment_reaches(&self, a: &Assignment, u: UserId, x: OrgId) -> bool {
        let at_or_below = x == a.org || (a.inherit && self.strictly_below(x, a.org));
        match a.target {
            Target::User(v) => v == u && at_or_below,
            Target::Org => self.within(self.m.users[u.index()].home, a.org) && at_or_below,
        }
    }

    /// The orgs an assignment reaches: its org, and every descendant when it
    /// inherits (SPEC §14.10's "reaches the org").
    pub fn assignment_orgs(&self, a: &Assignment) -> Vec<OrgId> {
        self.orgs()
            .filter(|&x| x == a.org || (a.inherit && self.strictly_below(x, a.org)))
            .collect()
    }

    // ----------------------------------------------------------------- rules (§9)

    pub fn rule_matches(&self, rule: &Rule, u: UserId) -> bool {
        let user = &self.m.users[u.index()];
        let home = &self.m.orgs[user.home.index()];
        let w = &rule.when;
        // A rule of a tenant file matches only users homed in its subtree.
        self.in_scope(user.home, rule.scope)
            && w.owner.is_none_or(|o| o == user.owner)
            && w.identity.as_ref().is_none_or(|t| *t == user.identity)
            && w.org_kind
                .as_ref()
                .is_none_or(|k| home.kind_label.as_deref() == Some(k.as_str()))
            && w.org.is_none_or(|o| self.within(user.home, o))
            && w.attributes
                .iter()
                .all(|(k, v)| user.attributes.iter().any(|(uk, uv)| uk == k && uv == v))
    }

    /// Where a grant item gives its roles to a user homed at `home`: `self`
    /// is the home org, `descendants` every strict descendant (of the given
    /// kinds); with `inherit`, each of those and its subtree.
    pub fn grant_orgs(&self, g: &RuleGrant, home: OrgId) -> Vec<OrgId> {
        let targets: Vec<OrgId> = self
            .orgs()
            .filter(|&y| {
                g.at.iter().any(|p| match p {
                    Place::Home => y == home,
                    Place::Descendants(None) => self.strictly_below(y, home),
                    Place::Descendants(Some(kinds)) => {
                        self.strictly_below(y, home)
                            && self.m.orgs[y.index()]
                                .kind
                                .is_some_and(|k| kinds.contains(&k))
                    }
                    Place::DescendantLabels(labels) => {
                        self.strictly_below(y, home)
                            && self.m.orgs[y.index()]
                                .kind_label
                                .as_ref()
                                .is_some_and(|k| labels.contains(k))
                    }
                })
            })
            .collect();
        self.orgs()
            .filter(|&x| {
                targets
                    .iter()
                    .any(|&t| x == t || (g.inherit && self.strictly_below(x, t)))
            })
            .collect()
    }

    // ----------------------------------------------------------------- roles (§4)

    /// May `u` hold `r` at all: active, and allowed for `u`'s identity type.
    pub fn can_hold(&self, r: RoleId, u: UserId) -> bool {
        let role = &self.m.roles[r.index()];
        let identity = &self.m.users[u.index()].identity;
        role.active
            && role
                .identity_types
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t == identity))
    }

    /// Roles given to `u` at `x` by an assignment or a rule, counted only
    /// where published (under `entries`).
    pub fn direct_with(&self, u: UserId, x: OrgId, entries: &Entries) -> BTreeSet<RoleId> {
        let mut out = BTreeSet::new();
        for a in &self.m.assignments {
            if let Grant::Role(r) = a.grant {
                if self.assignment_reaches(a, u, x) && self.published_by(r, x, entries) {
                    out.insert(r);
                }
            }
        }
        let home = self.m.users[u.index()].home;
        for rule in &self.m.rules {
            if !self.rule_matches(rule, u) {
                continue;
            }
            for g in &rule.grants {
                if !self.grant_orgs(g, home).contains(&x) {
                    continue;
                }
                for (r, _) in &g.roles {
                    if self.published_by(*r, x, entries) {
                        out.insert(*r);
                    }
                }
            }
        }
        out
    }

    /// The effective roles: the closure under `includes` of the direct
    /// roles, never through a role `u` cannot hold (disabled, or not for
    /// `u`'s identity type); an included role's own publication does not
    /// matter.
    pub fn roles_with(&self, u: UserId, x: OrgId, entries: &Entries) -> BTreeSet<RoleId> {
        let mut held = BTreeSet::new();
        let mut todo: Vec<RoleId> = self
            .direct_with(u, x, entries)
            .into_iter()
            .filter(|&r| self.can_hold(r, u))
            .collect();
        while let Some(r) = todo.pop() {
            if held.insert(r) {
                for (s, _) in &self.m.roles[r.index()].includes {
                    if self.can_hold(*s, u) && !held.contains(s) {
                        todo.push(*s);
                    }
                }
            }
        }
        held
    }

    /// Access policies reaching `u` at `x` (the assignment rules, no publication).
    pub fn policies(&self, u: UserId, x: OrgId) -> BTreeSet<PolicyId> {
        self.m
            .assignments
            .iter()
            .filter(|a| self.assignment_reaches(a, u, x))
            .filter_map(|a| match a.grant {
                Grant::Policy(p) => Some(p),
                Grant::Role(_) => None,
            })
            .collect()
    }

    /// `allow(u, p, x)` for every permission `p` (indexed by permission id),
    /// given the effective roles and policies.
    pub fn decisions(&self, roles: &BTreeSet<RoleId>, policies: &BTreeSet<PolicyId>) -> Vec<bool> {
        (0..self.m.perms.len())
            .map(|p| {
                let (module, _) = self.m.perms[p];
                let granted = roles
                    .iter()
                    .any(|r| self.m.roles[r.index()].perms.contains(p));
                let gate_open = !self.m.modules[module.index()].gated
                    || policies
                        .iter()
                        .any(|pol| self.m.policies[pol.index()].modules.contains(&module));
                granted && gate_open
            })
            .collect()
    }

    pub fn allow_with(&self, u: UserId, p: PermId, x: OrgId, entries: &Entries) -> bool {
        let roles = self.roles_with(u, x, entries);
        let policies = self.policies(u, x);
        self.decisions(&roles, &policies)[p.index()]
    }

    /// The name the table shows: bare when one owner uses it, else `owner::name`.
    pub fn role_display(&self, r: RoleId) -> String {
        let role = &self.m.roles[r.index()];
        let owners = self.m.roles.iter().filter(|x| x.name == role.name).count();
        if owners > 1 {
            self.role_qualified(r)
        } else {
            role.name.clone()
        }
    }
    pub fn role_qualified(&self, r: RoleId) -> String {
        let role = &self.m.roles[r.index()];
        let owner = match role.owner {
            Scope::Provider => "provider".to_owned(),
            Scope::Org(o) => self.m.orgs[o.index()].id.clone(),
        };
        format!("{owner}::{}", role.name)
    }

    /// A role name as written in a file of `scope` (SPEC §4): `owner::name`
    /// exactly, a bare name the nearest of the scope, its ancestors, then the
    /// provider. `None` when nothing of that name is visible: SPEC §14.11
    /// lets a tenant file name only the provider's, its own and its
    /// ancestors' roles.
    pub fn resolve_name(&self, name: &str, scope: Scope) -> Option<RoleId> {
        let find = |owner: Scope, bare: &str| {
            self.m
                .roles
                .iter()
                .position(|r| r.owner == owner && r.name == bare)
                .map(|i| RoleId(i as u32))
        };
        let visible_owners: Vec<Scope> = match scope {
            Scope::Provider => Vec::new(),
            Scope::Org(s) => self.path_up(s).into_iter().map(Scope::Org).collect(),
        };
        if let Some((owner, bare)) = name.split_once("::") {
            let owner = if owner == "provider" {
                Scope::Provider
            } else {
                Scope::Org(OrgId(self.m.orgs.iter().position(|o| o.id == owner)? as u32))
            };
            let visible = scope == Scope::Provider
                || owner == Scope::Provider
                || visible_owners.contains(&owner);
            return find(owner, bare).filter(|_| visible);
        }
        visible_owners
            .into_iter()
            .find_map(|o| find(o, name))
            .or_else(|| find(Scope::Provider, name))
    }

    // ------------------------------------------------------------- locks (§14.10)

    /// Does a locked item have an effect under `without` that it loses under
    /// `with` (SPEC §14.10)? Says which and where, or `None`.
    ///
    /// * A locked publication entry (in `without`) at `z`: at every org
    ///   where it is the deciding entry under `without`, the role must stay
    ///   published (for `publish: true`) or unpublished (`publish: false`).
    /// * A locked assignment: at every org it reaches where its role is
    ///   active and published under `without`, the role must stay published.
    ///   An org assignment "reaches" its org (and below, with `inherit`)
    ///   whether or not it has members there, as §14.10's parenthetical
    ///   reads.
    /// * A locked rule grant item: for every user the rule matches who can
    ///   hold the role (active, identity type), at every org the item
    ///   gives it where it is published under `without`, it must stay
    ///   published. With `rule_needs_holder` false (a looser reading, only
    ///   for messages), a rule also "gives" a role its user cannot hold.
    pub fn lost_lock_effect(
        &self,
        without: &Entries,
        with: &Entries,
        rule_needs_holder: bool,
    ) -> Option<String> {
        for (&(r, z), lock) in without.iter().filter(|(_, e)| e.locked) {
            for x in self.orgs() {
                let decides = self
                    .deciding(r, x, without)
                    .is_some_and(|(org, _)| org == z);
                if decides && self.published_by(r, x, with) != lock.publish {
                    return Some(format!(
                        "locked {} of `{}` at `{}` ({}) decides `{}`, which the entry turns {}",
                        if lock.publish {
                            "publication"
                        } else {
                            "non-publication"
                        },
                        self.role_qualified(r),
                        self.m.orgs[z.index()].id,
                        lock.at,
                        self.m.orgs[x.index()].id,
                        if lock.publish {
                            "unpublished"
                        } else {
                            "published"
                        },
                    ));
                }
            }
        }
        for a in self.m.assignments.iter().filter(|a| a.locked) {
            let Grant::Role(r) = a.grant else {
                continue;
            };
            if !self.m.roles[r.index()].active {
                continue;
            }
            for x in self.assignment_orgs(a) {
                if self.published_by(r, x, without) && !self.published_by(r, x, with) {
                    return Some(format!(
                        "locked assignment of `{}` at `{}` ({:?}) gives it at `{}`, where the entry unpublishes it",
                        self.role_qualified(r),
                        self.m.orgs[a.org.index()].id,
                        a.span,
                        self.m.orgs[x.index()].id,
                    ));
                }
            }
        }
        for rule in self.m.rules.iter().filter(|r| r.locked) {
            for g in &rule.grants {
                for u in self.users() {
                    if !self.rule_matches(rule, u) {
                        continue;
                    }
                    let home = self.m.users[u.index()].home;
                    for x in self.grant_orgs(g, home) {
                        for (r, _) in &g.roles {
                            if (self.can_hold(*r, u) || !rule_needs_holder)
                                && self.published_by(*r, x, without)
                                && !self.published_by(*r, x, with)
                            {
                                return Some(format!(
                                    "locked rule `{}` gives `{}` to `{}` at `{}`, where the entry unpublishes it",
                                    rule.name.as_deref().unwrap_or("(unnamed)"),
                                    self.role_qualified(*r),
                                    self.m.users[u.index()].id,
                                    self.m.orgs[x.index()].id,
                                ));
                            }
                        }
                    }
                }
            }
        }
        None
    }
}
