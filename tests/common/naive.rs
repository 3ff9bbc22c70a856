//! A deliberately naive evaluator, written from the SPEC text (§3–§5, §7,
//! §9, §15) and nothing else: it reads only the plain fields of the
//! resolved [`Model`] (orgs and their parents, users, roles, assignments,
//! rules, policies, modules, publication entries, dimensions, resources and
//! the `resources` restrictions through `Restriction::on`) and none of its
//! methods that compute semantics (no `hits`, `roles_at`, `allow`,
//! `allow_on`, `can_assign`, `published`, `rule_matches`, `rule_targets`,
//! `in_subtree`, `required_dimensions`, preorder intervals...).
//! Every question walks every assignment and every rule; the org tree is
//! walked through `parent` links. Slow on purpose, obvious on purpose.
//!
//! Publication is evaluated against an explicit list of entries
//! ([`Entries`]): the model's own ([`Naive::model_entries`]), or any list
//! a test builds (for the counterfactual of SPEC §14.10).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use trellis::model::{
    Assigner, Assignment, DimId, Grant, Model, OrgId, PermId, Place, PolicyId, ResId, Restriction,
    RoleId, Rule, RuleGrant, Scope, Target, UserId,
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
    /// `grant_orgs` by (rule, grant item, home): a plain memo of a pure
    /// function (the same answer, computed once), so that the many
    /// questions of SPEC §15 stay affordable in debug builds.
    grant_orgs_memo: RefCell<BTreeMap<(usize, usize, OrgId), Vec<OrgId>>>,
}

impl<'m> Naive<'m> {
    pub fn new(m: &'m Model) -> Naive<'m> {
        Naive {
            m,
            grant_orgs_memo: RefCell::new(BTreeMap::new()),
        }
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

    /// [`Naive::grant_orgs`] of grant item `gi` of rule `ri`, memoized.
    pub fn rule_grant_orgs(&self, ri: usize, gi: usize, home: OrgId) -> Vec<OrgId> {
        if let Some(v) = self.grant_orgs_memo.borrow().get(&(ri, gi, home)) {
            return v.clone();
        }
        let v = self.grant_orgs(&self.m.rules[ri].grants[gi], home);
        self.grant_orgs_memo
            .borrow_mut()
            .insert((ri, gi, home), v.clone());
        v
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
        for (ri, rule) in self.m.rules.iter().enumerate() {
            if !self.rule_matches(rule, u) {
                continue;
            }
            for (gi, g) in rule.grants.iter().enumerate() {
                if !self.rule_grant_orgs(ri, gi, home).contains(&x) {
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

    // ------------------------------------------------------ resources (§15)

    /// The roles held through an item that gives `r` to `u`: `r` and its
    /// `includes` closure (SPEC §4: never through a role `u` cannot hold).
    pub fn held_through(&self, r: RoleId, u: UserId) -> BTreeSet<RoleId> {
        let mut held = BTreeSet::new();
        let mut todo = vec![r];
        while let Some(x) = todo.pop() {
            if self.can_hold(x, u) && held.insert(x) {
                todo.extend(self.m.roles[x.index()].includes.iter().map(|(i, _)| *i));
            }
        }
        held
    }

    /// Every assignment or rule grant item that reaches `u` at `x` with its
    /// role counted there (§5, §9, publication included; active, allowed
    /// for `u`'s type): where it comes from, its `resources`, its role.
    pub fn items_at(&self, u: UserId, x: OrgId, entries: &Entries) -> Vec<Item<'m>> {
        let m = self.m;
        let mut out = Vec::new();
        for (i, a) in m.assignments.iter().enumerate() {
            if let Grant::Role(r) = a.grant {
                if self.assignment_reaches(a, u, x)
                    && self.can_hold(r, u)
                    && self.published_by(r, x, entries)
                {
                    out.push(Item {
                        origin: ItemOf::Assignment(i),
                        resources: &a.resources,
                        role: r,
                    });
                }
            }
        }
        let home = m.users[u.index()].home;
        for (ri, rule) in m.rules.iter().enumerate() {
            if !self.rule_matches(rule, u) {
                continue;
            }
            for (gi, g) in rule.grants.iter().enumerate() {
                if !self.rule_grant_orgs(ri, gi, home).contains(&x) {
                    continue;
                }
                for (r, _) in &g.roles {
                    if self.can_hold(*r, u) && self.published_by(*r, x, entries) {
                        out.push(Item {
                            origin: ItemOf::Rule(ri, gi),
                            resources: &g.resources,
                            role: *r,
                        });
                    }
                }
            }
        }
        out
    }

    /// The grant paths for `u` at `x` (SPEC §15): an item reaching `u` at
    /// `x`, then a role held through it; its permissions are that role's
    /// own (`perms`: its grants and cloned part).
    pub fn grant_paths(&self, u: UserId, x: OrgId, entries: &Entries) -> Vec<GrantPath<'m>> {
        let mut out = Vec::new();
        for item in self.items_at(u, x, entries) {
            for held in self.held_through(item.role, u) {
                out.push(GrantPath {
                    item: item.clone(),
                    held,
                });
            }
        }
        out
    }

    /// A path's restriction on `d`: the intersection of what the item and
    /// the held role list for `d`; `None` (unrestricted) when neither names it.
    pub fn path_restriction(&self, path: &GrantPath, d: DimId) -> Resources {
        intersection(
            listed(path.item.resources, d),
            listed(&self.m.roles[path.held.index()].resources, d),
        )
    }

    /// `allow(u, p, x)` (no resource) or `allow(u, p, q)` asked at `x`
    /// (SPEC §15), from the paths and policies at `x`. A question about a
    /// resource at another org than the resource's own is deny.
    pub fn allow_by(
        &self,
        paths: &[GrantPath],
        policies: &BTreeSet<PolicyId>,
        p: PermId,
        x: OrgId,
        q: Option<ResId>,
    ) -> bool {
        let m = self.m;
        let (module, _) = m.perms[p.index()];
        let dim = m.modules[module.index()].dimension;
        if let Some(q) = q {
            let res = &m.resources[q.index()];
            // m's dimension must be Q's; the org asked about is Q's org.
            if dim != Some(res.dim) || res.org.is_some_and(|o| o != x) {
                return false;
            }
        }
        let granted = paths.iter().any(|path| {
            m.roles[path.held.index()].perms.contains(p.index())
                && match dim {
                    // Not a resource module: as §5, every path counts.
                    None => true,
                    Some(d) => match (self.path_restriction(path, d), q) {
                        (None, _) => true,
                        (Some(_), None) => false,
                        (Some(list), Some(q)) => list.contains(&q),
                    },
                }
        });
        let gate_open = !m.modules[module.index()].gated
            || policies
                .iter()
                .any(|pol| m.policies[pol.index()].modules.contains(&module));
        granted && gate_open
    }

    pub fn allow_on(
        &self,
        u: UserId,
        p: PermId,
        x: OrgId,
        q: Option<ResId>,
        entries: &Entries,
    ) -> bool {
        let paths = self.grant_paths(u, x, entries);
        self.allow_by(&paths, &self.policies(u, x), p, x, q)
    }

    /// The dimensions that `r` or a role of its `includes` closure lists in
    /// `dimensions`, by definition (SPEC §15.3: whatever status or types).
    pub fn required_dimensions(&self, r: RoleId) -> BTreeSet<DimId> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![r];
        let mut out = BTreeSet::new();
        while let Some(x) = todo.pop() {
            if seen.insert(x) {
                let role = &self.m.roles[x.index()];
                out.extend(role.dimensions.iter().copied());
                todo.extend(role.includes.iter().map(|(i, _)| *i));
            }
        }
        out
    }

    /// The reach on `d` of giving `r` to `u` with assignment resources `g`:
    /// the union, over `r` and its `includes` closure for `u`, of what `g`
    /// and that role's own `resources` list for `d`.
    pub fn reach(&self, r: RoleId, u: UserId, g: &Restriction, d: DimId) -> Resources {
        self.held_through(r, u)
            .into_iter()
            .map(|x| intersection(listed(g, d), listed(&self.m.roles[x.index()].resources, d)))
            .fold(Some(BTreeSet::new()), union)
    }

    /// `a`'s scope on `d` at `y` through assigner role `s`: the union, over
    /// every item through which `a` holds `s` at `y`, of what the item and
    /// `s`'s own `resources` list for `d`.
    pub fn scope(&self, a: UserId, s: RoleId, y: OrgId, d: DimId, entries: &Entries) -> Resources {
        self.items_at(a, y, entries)
            .into_iter()
            .filter(|item| self.held_through(item.role, a).contains(&s))
            .map(|item| {
                intersection(
                    listed(item.resources, d),
                    listed(&self.m.roles[s.index()].resources, d),
                )
            })
            .fold(Some(BTreeSet::new()), union)
    }

    /// `can_assign(a, r, u, x, g)` (SPEC §7, §14.6, §15), with why not.
    pub fn can_assign_with(
        &self,
        a: UserId,
        r: RoleId,
        u: UserId,
        x: OrgId,
        g: &Restriction,
        entries: &Entries,
    ) -> Result<(), String> {
        let m = self.m;
        let role = &m.roles[r.index()];
        if !role.active {
            return Err("disabled".into());
        }
        if role.locked {
            return Err("locked".into());
        }
        if !self.published_by(r, x, entries) {
            return Err("not published at X".into());
        }
        if !self.can_hold(r, u) {
            return Err("identity type".into());
        }
        let missing: Vec<&str> = self
            .required_dimensions(r)
            .into_iter()
            .filter(|d| g.on(*d).is_none())
            .map(|d| m.dimensions[d.index()].id.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!("G does not name {missing:?}"));
        }
        if a == u && role.self_service {
            return Ok(());
        }
        let home = m.users[u.index()].home;
        let at_x = self.roles_with(a, x, entries);
        let at_home = self.roles_with(a, home, entries);
        let mut tried = Vec::new();
        for s in &role.assignable_by {
            if !(at_x.contains(s) && at_home.contains(s)) {
                continue;
            }
            let mut fits = true;
            for d in 0..m.dimensions.len() {
                let d = DimId(d as u32);
                let reach = self.reach(r, u, g, d);
                for y in [x, home] {
                    let scope = self.scope(a, *s, y, d, entries);
                    if !lies_in(&reach, &scope) {
                        fits = false;
                        tried.push(format!(
                            "via `{}`: reach on `{}` {} not in scope at `{}` {}",
                            self.role_qualified(*s),
                            m.dimensions[d.index()].id,
                            self.show(&reach),
                            m.orgs[y.index()].id,
                            self.show(&scope)
                        ));
                    }
                }
            }
            if fits {
                return Ok(());
            }
        }
        if tried.is_empty() {
            Err("holds no role of assignable_by both at X and at U's home".into())
        } else {
            Err(tried.join("; "))
        }
    }

    /// Is the assigner restricted: `Some(true)` when some role of `r`'s
    /// `assignable_by` is held by `a` at `x` and at `u`'s home and has a
    /// restricted scope on some dimension at one of them, `Some(false)`
    /// when such roles are held and all unrestricted, `None` when none is.
    pub fn assigner_kind(
        &self,
        a: UserId,
        r: RoleId,
        u: UserId,
        x: OrgId,
        entries: &Entries,
    ) -> Option<bool> {
        let m = self.m;
        let home = m.users[u.index()].home;
        let at_x = self.roles_with(a, x, entries);
        let at_home = self.roles_with(a, home, entries);
        let held: Vec<RoleId> = m.roles[r.index()]
            .assignable_by
            .iter()
            .copied()
            .filter(|s| at_x.contains(s) && at_home.contains(s))
            .collect();
        if held.is_empty() {
            return None;
        }
        Some(held.iter().any(|s| {
            (0..m.dimensions.len()).any(|d| {
                [x, home]
                    .iter()
                    .any(|y| self.scope(a, *s, *y, DimId(d as u32), entries).is_some())
            })
        }))
    }

    /// What a `by:` assignment's check (E013) must find, by SPEC §7,
    /// §14.6 and §15: `Some(why)` when E013 is due.
    pub fn e013_due(&self, a: &Assignment, entries: &Entries) -> Option<String> {
        let (Grant::Role(r), Target::User(u), Some((by, _))) =
            (a.grant, a.target, a.by.as_deref().copied())
        else {
            return None;
        };
        let admin = match by {
            Assigner::Admin(x) => x,
            // `by: self` on a role that is not self-service is E014 instead.
            Assigner::SelfService if !self.m.roles[r.index()].self_service => return None,
            Assigner::SelfService => u,
        };
        self.can_assign_with(admin, r, u, a.org, &a.resources, entries)
            .err()
    }

    pub fn show(&self, r: &Resources) -> String {
        match r {
            None => "every resource (unrestricted)".into(),
            Some(s) => format!(
                "{:?}",
                s.iter()
                    .map(|q| self.m.resources[q.index()].id.as_str())
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// A path, for messages.
    pub fn show_item(&self, item: &Item) -> String {
        match item.origin {
            ItemOf::Assignment(i) => format!("assignment {:?}", self.m.assignments[i].span),
            ItemOf::Rule(r, g) => format!(
                "rule `{}` grant {g}",
                self.m.rules[r].name.clone().unwrap_or(format!("#{r}"))
            ),
        }
    }

    pub fn show_path(&self, path: &GrantPath, d: Option<DimId>) -> String {
        format!(
            "{} gives `{}`, holds `{}`{}",
            self.show_item(&path.item),
            self.role_qualified(path.item.role),
            self.role_qualified(path.held),
            d.map(|d| format!(
                ", restricted on `{}` to {}",
                self.m.dimensions[d.index()].id,
                self.show(&self.path_restriction(path, d))
            ))
            .unwrap_or_default()
        )
    }
}

/// A set of resources of one dimension: `None` is every resource of it
/// (those declared later too, SPEC §15), `Some` exactly those.
pub type Resources = Option<BTreeSet<ResId>>;

/// What a restriction lists for `d`: `None` when it does not name `d`.
pub fn listed(r: &Restriction, d: DimId) -> Resources {
    r.on(d).map(|v| v.iter().copied().collect())
}

pub fn intersection(a: Resources, b: Resources) -> Resources {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(a.intersection(&b).copied().collect()),
    }
}

pub fn union(a: Resources, b: Resources) -> Resources {
    match (a, b) {
        (None, _) | (_, None) => None,
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
    }
}

/// Does `reach` lie in `scope`? "An unrestricted reach lies only in an
/// unrestricted scope, whatever list the scope names"; an empty reach lies
/// in every scope.
pub fn lies_in(reach: &Resources, scope: &Resources) -> bool {
    match (reach, scope) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(r), Some(s)) => r.is_subset(s),
    }
}

/// Where an item is: an assignment (index), a rule's grant item (indices).
#[derive(Clone, Copy, Debug)]
pub enum ItemOf {
    Assignment(usize),
    Rule(usize, usize),
}

/// An assignment or rule grant item reaching a user at an org.
#[derive(Clone, Debug)]
pub struct Item<'m> {
    pub origin: ItemOf,
    pub resources: &'m Restriction,
    /// The role it gives.
    pub role: RoleId,
}

/// One grant path (SPEC §15).
#[derive(Clone, Debug)]
pub struct GrantPath<'m> {
    pub item: Item<'m>,
    /// The role held through the item (its role or one it includes).
    pub held: RoleId,
}
