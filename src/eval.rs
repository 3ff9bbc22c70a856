//! The semantics of a resolved set (SPEC §5, §7, §9): which grants reach a
//! user at an org, where a role is published, the effective roles, the
//! decision, and `can_assign`. Checks, queries and tests all ask here.

use std::collections::BTreeSet;

use crate::model::*;

/// Where a grant reaching a user comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    Assignment(AssignmentId),
    /// Rule, index of the grant item.
    Rule(RuleId, u32),
}

/// One grant reaching a user at an org: what, from where, anchored at which org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hit {
    pub grant: Grant,
    pub origin: Origin,
    /// The org the grant is made at (the assignment's org, the rule's target).
    pub anchor: OrgId,
    pub locked: bool,
}

/// Why a role is (not) published at an org.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publication {
    Entry(OrgId, PublicationEntry),
    Default(bool),
}

impl Publication {
    pub fn published(&self) -> bool {
        match self {
            Publication::Entry(_, e) => e.publish,
            Publication::Default(b) => *b,
        }
    }
}

impl Model {
    /// Nearest publication entry on the path from `x` to the root, else the default (SPEC §5).
    pub fn publication(&self, role: RoleId, x: OrgId) -> Publication {
        let entries = &self.publications[role.index()];
        if !entries.is_empty() {
            for a in self.ancestors(x) {
                if let Some(e) = entries.get(&a) {
                    return Publication::Entry(a, *e);
                }
            }
        }
        let r = self.role(role);
        Publication::Default(match r.owner {
            Scope::Provider => r.published,
            Scope::Org(o) => r.published && self.in_subtree(x, o),
        })
    }

    /// Is `role` published at `x` (owner's subtree and publication entries)?
    pub fn published(&self, role: RoleId, x: OrgId) -> bool {
        // Entries of a custom role outside its owner's subtree were dropped
        // when loading, and it is never published there.
        if let Scope::Org(o) = self.role(role).owner {
            if !self.in_subtree(x, o) {
                return false;
            }
        }
        self.publication(role, x).published()
    }

    /// Does automatic rule `rule` apply to user `u` (scope and every `when` condition)?
    pub fn rule_matches(&self, rule: &Rule, u: UserId) -> bool {
        let user = self.user(u);
        let w = &rule.when;
        self.in_scope(user.home, rule.scope)
            && w.owner.is_none_or(|o| o == user.owner)
            && w.identity.as_ref().is_none_or(|t| *t == user.identity)
            && w.org_kind
                .as_ref()
                .is_none_or(|k| self.org(user.home).kind_label.as_ref() == Some(k))
            && w.org.is_none_or(|o| self.in_subtree(user.home, o))
            && w.attributes
                .iter()
                .all(|(k, v)| user.attributes.iter().any(|(uk, uv)| uk == k && uv == v))
    }

    pub(crate) fn place_matches(&self, place: &Place, home: OrgId, y: OrgId) -> bool {
        match place {
            Place::Home => y == home,
            Place::Descendants(kinds) => {
                y != home
                    && self.in_subtree(y, home)
                    && kinds
                        .as_ref()
                        .is_none_or(|ks| self.org(y).kind.is_some_and(|k| ks.contains(&k)))
            }
            Place::DescendantLabels(labels) => {
                y != home
                    && self.in_subtree(y, home)
                    && self
                        .org(y)
                        .kind_label
                        .as_ref()
                        .is_some_and(|k| labels.contains(k))
            }
        }
    }

    /// Every grant that reaches user `u` at org `x`, before publication.
    pub fn hits(&self, u: UserId, x: OrgId) -> Vec<Hit> {
        let user = self.user(u);
        let mut out = Vec::new();
        let reaches = |a: &Assignment| a.org == x || (a.inherit && self.in_subtree(x, a.org));
        let allowed = |g: Grant| match g {
            Grant::Role(r) => self.role(r).allows_identity(&user.identity),
            Grant::Policy(_) => true,
        };
        for id in &self.user_assignments[u.index()] {
            let a = &self.assignments[id.index()];
            if reaches(a) {
                out.push(Hit {
                    grant: a.grant,
                    origin: Origin::Assignment(*id),
                    anchor: a.org,
                    locked: a.locked,
                });
            }
        }
        for anc in self.ancestors(user.home) {
            for id in &self.org_assignments[anc.index()] {
                let a = &self.assignments[id.index()];
                if reaches(a) && allowed(a.grant) {
                    out.push(Hit {
                        grant: a.grant,
                        origin: Origin::Assignment(*id),
                        anchor: a.org,
                        locked: a.locked,
                    });
                }
            }
        }
        for (ri, rule) in self.candidate_rules(user.home) {
            if !self.rule_matches(rule, u) {
                continue;
            }
            for (gi, g) in rule.grants.iter().enumerate() {
                // The org the item is anchored at: x itself, or with `inherit`
                // the nearest ancestor of x that the item targets.
                let anchor = if g.inherit {
                    self.ancestors(x)
                        .find(|y| g.at.iter().any(|p| self.place_matches(p, user.home, *y)))
                } else {
                    g.at.iter()
                        .any(|p| self.place_matches(p, user.home, x))
                        .then_some(x)
                };
                let Some(anchor) = anchor else { continue };
                for (r, _) in &g.roles {
                    if allowed(Grant::Role(*r)) {
                        out.push(Hit {
                            grant: Grant::Role(*r),
                            origin: Origin::Rule(RuleId(ri as u32), gi as u32),
                            anchor,
                            locked: rule.locked,
                        });
                    }
                }
            }
        }
        out
    }

    /// Roles that count at `x`: active, allowed for the user, published at `x`.
    pub fn base_roles(&self, u: UserId, x: OrgId, hits: &[Hit]) -> BTreeSet<RoleId> {
        let identity = &self.user(u).identity;
        hits.iter()
            .filter_map(|h| match h.grant {
                Grant::Role(r) => Some(r),
                Grant::Policy(_) => None,
            })
            .filter(|r| {
                let role = self.role(*r);
                role.active && role.allows_identity(identity) && self.published(*r, x)
            })
            .collect()
    }

    /// Closure of `base` under `includes`, never through (or to) a disabled
    /// role or one the user's identity type may not hold (SPEC §4).
    pub fn closure(
        &self,
        identity: &str,
        base: impl IntoIterator<Item = RoleId>,
    ) -> BTreeSet<RoleId> {
        let mut held = BTreeSet::new();
        let mut stack: Vec<RoleId> = base.into_iter().collect();
        while let Some(r) = stack.pop() {
            let role = self.role(r);
            if !role.active || !role.allows_identity(identity) || !held.insert(r) {
                continue;
            }
            if !role.cyclic {
                stack.extend(role.includes.iter().map(|(i, _)| *i));
            }
        }
        held
    }

    /// The effective roles of `u` at `x` (SPEC §5).
    pub fn roles_at(&self, u: UserId, x: OrgId) -> BTreeSet<RoleId> {
        let hits = self.hits(u, x);
        self.closure(&self.user(u).identity, self.base_roles(u, x, &hits))
    }

    /// Access policies reaching `u` at `x` (no publication).
    pub fn policies_at(&self, u: UserId, x: OrgId) -> BTreeSet<PolicyId> {
        self.hits(u, x)
            .iter()
            .filter_map(|h| match h.grant {
                Grant::Policy(p) => Some(p),
                Grant::Role(_) => None,
            })
            .collect()
    }

    /// The decision (SPEC §5): a question about the whole module at `x`.
    /// For a resource module, only grant paths unrestricted on its
    /// dimension count (SPEC §15).
    pub fn allow(&self, u: UserId, perm: PermId, x: OrgId) -> bool {
        self.allow_on(u, perm, x, None)
    }

    /// The decision about resource `q` (SPEC §15), or about the whole
    /// module when `q` is `None`. `x` is the org asked about: a resource of
    /// an org is only asked about at that org.
    pub fn allow_on(&self, u: UserId, perm: PermId, x: OrgId, q: Option<ResId>) -> bool {
        let (module, _) = self.perms[perm.index()];
        let dim = self.modules[module.index()].dimension;
        if let Some(q) = q {
            let res = &self.resources[q.index()];
            if dim != Some(res.dim) || res.org.is_some_and(|o| o != x) {
                return false;
            }
        }
        let Some(dim) = dim else {
            return self.allow_unrestricted(u, perm, x);
        };
        self.allow_by_paths(u, perm, x, dim, q, &self.hits(u, x))
    }

    /// The decision about a resource module of dimension `dim` from the
    /// grants `hits` that reach `u` at `x`: some grant path gives `perm`
    /// with a restriction that lets `q` through (or, with no resource, none).
    pub fn allow_by_paths(
        &self,
        u: UserId,
        perm: PermId,
        x: OrgId,
        dim: DimId,
        q: Option<ResId>,
        hits: &[Hit],
    ) -> bool {
        let (module, _) = self.perms[perm.index()];
        let by_path = self.grant_paths(u, perm, x, hits).any(|(origin, _, held)| {
            path_allows(
                self.origin_resources(origin).on(dim),
                self.role(held).resources.on(dim),
                q,
            )
        });
        by_path && self.policy_opens(hits, module)
    }

    /// The grant paths (SPEC §15) that give `perm` to `u` at `x`: for each
    /// grant among `hits` that counts there (its role active, allowed for
    /// the user, published at `x`), each role held through it whose own
    /// permissions include `perm`, as (the grant, the role it names, the
    /// role held).
    pub fn grant_paths<'a>(
        &'a self,
        u: UserId,
        perm: PermId,
        x: OrgId,
        hits: &'a [Hit],
    ) -> impl Iterator<Item = (Origin, RoleId, RoleId)> + 'a {
        let identity = &self.user(u).identity;
        hits.iter()
            .filter_map(move |h| match h.grant {
                Grant::Role(r) => {
                    let role = self.role(r);
                    (role.active && role.allows_identity(identity) && self.published(r, x))
                        .then_some((h.origin, r))
                }
                Grant::Policy(_) => None,
            })
            .flat_map(move |(origin, r)| {
                self.closure(identity, [r])
                    .into_iter()
                    .filter(move |held| self.role(*held).perms.contains(perm.index()))
                    .map(move |held| (origin, r, held))
            })
    }

    /// What a grant item restricts: an assignment's or a rule grant's `resources`.
    pub fn origin_resources(&self, origin: Origin) -> &Restriction {
        static NONE: Restriction = Restriction::none();
        match origin {
            Origin::Assignment(a) => &self.assignments[a.index()].resources,
            Origin::Rule(r, g) => self.rules[r.index()]
                .grants
                .get(g as usize)
                .map_or(&NONE, |g| &g.resources),
        }
    }

    /// Is `module` usable given these hits: not gated, or an access policy
    /// among them lists it?
    fn policy_opens(&self, hits: &[Hit], module: ModuleId) -> bool {
        !self.modules[module.index()].gated
            || hits.iter().any(|h| match h.grant {
                Grant::Policy(p) => self.policies[p.index()].modules.contains(&module),
                Grant::Role(_) => false,
            })
    }

    /// Every permission `u` may use at `x` on the whole module: the
    /// permissions for which [`Model::allow`] answers allow, found from one
    /// reading of the grants instead of one per permission.
    pub fn allowed_at(&self, u: UserId, x: OrgId) -> Vec<PermId> {
        let hits = self.hits(u, x);
        let roles = self.closure(&self.user(u).identity, self.base_roles(u, x, &hits));
        let mut held = fixedbitset::FixedBitSet::with_capacity(self.perms.len());
        for r in &roles {
            held.union_with(&self.role(*r).perms);
        }
        held.ones()
            .map(|p| PermId(p as u32))
            .filter(|p| {
                let (module, _) = self.perms[p.index()];
                match self.modules[module.index()].dimension {
                    None => self.policy_opens(&hits, module),
                    Some(dim) => self.allow_by_paths(u, *p, x, dim, None, &hits),
                }
            })
            .collect()
    }

    /// The decision of SPEC §5, where no restriction applies.
    fn allow_unrestricted(&self, u: UserId, perm: PermId, x: OrgId) -> bool {
        let hits = self.hits(u, x);
        let roles = self.closure(&self.user(u).identity, self.base_roles(u, x, &hits));
        if !roles
            .iter()
            .any(|r| self.role(*r).perms.contains(perm.index()))
        {
            return false;
        }
        let (module, _) = self.perms[perm.index()];
        self.policy_opens(&hits, module)
    }

    /// May `admin` give `role` to `user` at `x` (SPEC §7, §14.6)?
    pub fn can_assign(&self, admin: UserId, role: RoleId, user: UserId, x: OrgId) -> bool {
        self.can_assign_why(admin, role, user, x).is_ok()
    }

    /// As [`Model::can_assign`], with the first condition that fails.
    pub fn can_assign_why(
        &self,
        admin: UserId,
        role: RoleId,
        user: UserId,
        x: OrgId,
    ) -> Result<(), String> {
        self.can_assign_with(admin, role, user, x, &Restriction::default())
    }

    /// May `admin` give `role` to `user` at `x` with assignment resources
    /// `given` (SPEC §7, §14.6, §15)? The first condition that fails.
    pub fn can_assign_with(
        &self,
        admin: UserId,
        role: RoleId,
        user: UserId,
        x: OrgId,
        given: &Restriction,
    ) -> Result<(), String> {
        let r = self.role(role);
        let name = self.role_display(role);
        if !r.active {
            return Err(format!("role `{name}` is disabled"));
        }
        if r.locked {
            return Err(format!("role `{name}` is locked by the provider"));
        }
        if !self.published(role, x) {
            return Err(format!(
                "role `{name}` is not published at `{}`",
                self.org(x).id
            ));
        }
        let target = self.user(user);
        if !r.allows_identity(&target.identity) {
            return Err(format!(
                "identity type `{}` of `{}` may not hold role `{name}`",
                target.identity, target.id
            ));
        }
        let missing: Vec<String> = crate::resolve::required_dimensions(self, role)
            .into_iter()
            .filter(|d| !given.names(*d))
            .map(|d| format!("`{}`", self.dimensions[d.index()].id))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "giving `{name}` must name its resources on {}",
                missing.join(", ")
            ));
        }
        if admin == user && r.self_service {
            return Ok(());
        }
        if r.assignable_by.is_empty() {
            return Err(format!(
                "role `{name}` has no `assignable_by`: only files assign it"
            ));
        }
        let at_x = self.roles_at(admin, x);
        let at_home = self.roles_at(admin, target.home);
        let held: Vec<RoleId> = r
            .assignable_by
            .iter()
            .copied()
            .filter(|q| at_x.contains(q) && at_home.contains(q))
            .collect();
        if held
            .iter()
            .any(|s| self.reach_within_scope(admin, *s, role, user, x, given))
        {
            return Ok(());
        }
        if !held.is_empty() {
            return Err(format!(
                "`{}` may assign `{name}` only on the resources it manages, and this assignment reaches others",
                self.user(admin).id
            ));
        }
        let needed: Vec<String> = r
            .assignable_by
            .iter()
            .map(|q| format!("`{}`", self.role_display(*q)))
            .collect();
        Err(format!(
            "`{}` holds none of {} both at `{}` and at `{}`'s home org `{}`",
            self.user(admin).id,
            needed.join(", "),
            self.org(x).id,
            target.id,
            self.org(target.home).id
        ))
    }

    /// Orgs where the held roles of `u` can change: every anchor of a grant,
    /// and every publication boundary inside an inherited grant's subtree.
    /// The roles held anywhere are held at one of these (SPEC §6 checks).
    pub fn candidate_orgs(&self, u: UserId) -> BTreeSet<OrgId> {
        let user = self.user(u);
        let mut anchors: Vec<(OrgId, bool, Option<RoleId>)> = Vec::new();
        // Policy grants are anchors too: access policies change what a user
        // may do at their anchor and below.
        let role_of = |g: Grant| match g {
            Grant::Role(r) => Some(r),
            Grant::Policy(_) => None,
        };
        for id in &self.user_assignments[u.index()] {
            let a = &self.assignments[id.index()];
            anchors.push((a.org, a.inherit, role_of(a.grant)));
        }
        for anc in self.ancestors(user.home) {
            for id in &self.org_assignments[anc.index()] {
                let a = &self.assignments[id.index()];
                anchors.push((a.org, a.inherit, role_of(a.grant)));
            }
        }
        for (_, rule) in self.candidate_rules(user.home) {
            if !self.rule_matches(rule, u) {
                continue;
            }
            for g in &rule.grants {
                for y in self.rule_targets(g, user.home) {
                    for (r, _) in &g.roles {
                        anchors.push((y, g.inherit, Some(*r)));
                    }
                }
            }
        }
        let mut out = BTreeSet::new();
        for (org, inherit, role) in anchors {
            out.insert(org);
            if !inherit {
                continue;
            }
            if let Some(r) = role {
                for e in self.publications[r.index()].keys() {
                    if self.in_subtree(*e, org) {
                        out.insert(*e);
                    }
                }
                if let Scope::Org(o) = self.role(r).owner {
                    if self.in_subtree(o, org) {
                        out.insert(o);
                    }
                }
            }
        }
        out
    }

    /// The orgs a rule's grant item targets for a user homed at `home`.
    pub fn rule_targets(&self, g: &RuleGrant, home: OrgId) -> Vec<OrgId> {
        let mut out = Vec::new();
        let lo = self.pre[home.index()] as usize;
        let hi = self.end[home.index()] as usize;
        for p in &g.at {
            match p {
                Place::Home => out.push(home),
                _ => {
                    for y in self.preorder.get(lo + 1..hi).unwrap_or(&[]) {
                        if self.place_matches(p, home, *y) {
                            out.push(*y);
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Does giving `role` to `user` with resources `given` reach, on every
    /// dimension, only resources within `admin`'s scope through assigner
    /// role `s`, both at `x` and at `user`'s home org (SPEC §15)?
    fn reach_within_scope(
        &self,
        admin: UserId,
        s: RoleId,
        role: RoleId,
        user: UserId,
        x: OrgId,
        given: &Restriction,
    ) -> bool {
        if self.dimensions.is_empty() {
            return true;
        }
        let target = self.user(user);
        let reach_roles = self.closure(&target.identity, [role]);
        (0..self.dimensions.len()).all(|d| {
            let d = DimId(d as u32);
            let reach = reach_roles
                .iter()
                .map(|r| {
                    Resources::of(given.on(d)).meet(Resources::of(self.role(*r).resources.on(d)))
                })
                .fold(Resources::none(), Resources::join);
            [x, target.home]
                .iter()
                .all(|y| reach.within(&self.assigner_scope(admin, s, *y, d)))
        })
    }

    /// What `admin` manages on dimension `d` at `y` through role `s`: the
    /// union, over the grants through which it holds `s` there, of what the
    /// grant and `s` itself list.
    fn assigner_scope(&self, admin: UserId, s: RoleId, y: OrgId, d: DimId) -> Resources {
        let identity = &self.user(admin).identity;
        let own = Resources::of(self.role(s).resources.on(d));
        self.hits(admin, y)
            .iter()
            .filter_map(|h| match h.grant {
                Grant::Role(r) => Some((h, r)),
                Grant::Policy(_) => None,
            })
            .filter(|(_, r)| {
                let role = self.role(*r);
                role.active && role.allows_identity(identity) && self.published(*r, y)
            })
            .filter(|(_, r)| self.closure(identity, [*r]).contains(&s))
            .map(|(h, _)| Resources::of(self.origin_resources(h.origin).on(d)).meet(own.clone()))
            .fold(Resources::none(), Resources::join)
    }
}

/// Does a grant path restricted by `item` (its assignment or rule grant)
/// and `role` (the held role's own restriction) allow resource `q`, or,
/// with no resource, is it unrestricted (SPEC §15)?
fn path_allows(item: Option<&[ResId]>, role: Option<&[ResId]>, q: Option<ResId>) -> bool {
    match q {
        None => item.is_none() && role.is_none(),
        Some(q) => item.is_none_or(|v| v.contains(&q)) && role.is_none_or(|v| v.contains(&q)),
    }
}

/// A set of resources of one dimension: every one (including those
/// declared later), or these.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Resources {
    Every,
    These(BTreeSet<ResId>),
}

impl Resources {
    fn of(list: Option<&[ResId]>) -> Resources {
        match list {
            None => Resources::Every,
            Some(v) => Resources::These(v.iter().copied().collect()),
        }
    }
    fn none() -> Resources {
        Resources::These(BTreeSet::new())
    }
    fn meet(self, other: Resources) -> Resources {
        match (self, other) {
            (Resources::Every, x) | (x, Resources::Every) => x,
            (Resources::These(a), Resources::These(b)) => {
                Resources::These(a.intersection(&b).copied().collect())
            }
        }
    }
    fn join(self, other: Resources) -> Resources {
        match (self, other) {
            (Resources::Every, _) | (_, Resources::Every) => Resources::Every,
            (Resources::These(mut a), Resources::These(b)) => {
                a.extend(b);
                Resources::These(a)
            }
        }
    }
    /// An unrestricted reach lies only in an unrestricted scope; an empty
    /// one lies in every scope.
    fn within(&self, scope: &Resources) -> bool {
        match (self, scope) {
            (_, Resources::Every) => true,
            (Resources::Every, Resources::These(_)) => false,
            (Resources::These(a), Resources::These(b)) => a.is_subset(b),
        }
    }
}

// The roles that reach a user by any grant, for separation of duty (SPEC §6).
impl Model {
    /// Roles a role brings through `includes`, following active links only
    /// (identity types ignored): an upper bound of what it confers.
    pub fn closure_any(&self, r: RoleId) -> BTreeSet<RoleId> {
        let mut out = BTreeSet::new();
        let mut stack = vec![r];
        while let Some(x) = stack.pop() {
            let role = self.role(x);
            if !role.active || !out.insert(x) {
                continue;
            }
            if !role.cyclic {
                stack.extend(role.includes.iter().map(|(i, _)| *i));
            }
        }
        out
    }

    /// Calls `f` with the role of every grant of `u` (repeats included).
    pub fn for_each_source_role(&self, u: UserId, mut f: impl FnMut(RoleId)) {
        let user = self.user(u);
        let ids = self.user_assignments[u.index()].iter().chain(
            self.ancestors(user.home)
                .flat_map(|a| self.org_assignments[a.index()].iter()),
        );
        for id in ids {
            if let Grant::Role(r) = self.assignments[id.index()].grant {
                f(r);
            }
        }
        for (_, rule) in self.candidate_rules(self.user(u).home) {
            if self.rule_matches(rule, u) {
                for g in &rule.grants {
                    for (r, _) in &g.roles {
                        f(*r);
                    }
                }
            }
        }
    }

    /// Every role any grant of `u` names, wherever it lands.
    pub fn source_roles(&self, u: UserId) -> BTreeSet<RoleId> {
        let user = self.user(u);
        let mut out = BTreeSet::new();
        let ids = self.user_assignments[u.index()].iter().chain(
            self.ancestors(user.home)
                .flat_map(|a| self.org_assignments[a.index()].iter()),
        );
        for id in ids {
            if let Grant::Role(r) = self.assignments[id.index()].grant {
                out.insert(r);
            }
        }
        for (_, rule) in self.candidate_rules(self.user(u).home) {
            if self.rule_matches(rule, u) {
                for g in &rule.grants {
                    out.extend(g.roles.iter().map(|(r, _)| *r));
                }
            }
        }
        out
    }
}
