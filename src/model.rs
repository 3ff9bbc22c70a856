//! The resolved policy set: dense ids, resolved references, and the source
//! span of everything a diagnostic or an explanation may point at.

/// Hash maps keyed by ids and names: a fast non-cryptographic hasher (the
/// keys come from the policy files being checked, not from an adversary
/// that benefits from collisions; output never depends on map order).
pub type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

use fixedbitset::FixedBitSet;

use crate::source::{FileId, Span};

macro_rules! dense_id {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

dense_id!(
    OrgId,
    UserId,
    RoleId,
    ModuleId,
    PolicyId,
    PermId,
    AssignmentId,
    RuleId,
    KindId,
    DimId,
    ResId
);

/// A group of resources (SPEC §15): cloud accounts, inventory, applications.
#[derive(Debug, Clone)]
pub struct Dimension {
    pub description: Option<String>,
    pub id: String,
    pub span: Span,
}

/// A resource a role can be tied to.
#[derive(Debug, Clone)]
pub struct Resource {
    pub description: Option<String>,
    pub id: String,
    pub dim: DimId,
    /// The org it belongs to; `None`: available at every org.
    pub org: Option<OrgId>,
    pub span: Span,
    /// The scope of the file that declared it.
    pub scope: Scope,
}

/// What a role, an assignment or a rule grant item is restricted to: per
/// dimension it names, the resources allowed there (sorted; possibly none).
/// A dimension it does not name is unrestricted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[expect(
    clippy::box_collection,
    reason = "one word when it names nothing, as for millions of assignments (a boxed slice takes two)"
)]
pub struct Restriction(Option<Box<Vec<DimResources>>>);

/// One dimension a restriction names, with the resources it allows there.
pub type DimResources = (DimId, Vec<ResId>);

impl Restriction {
    /// From `(dimension, resources)` pairs, sorted by dimension.
    pub fn new(entries: Vec<(DimId, Vec<ResId>)>) -> Restriction {
        Restriction((!entries.is_empty()).then(|| Box::new(entries)))
    }
    /// Names no dimension (usable in a `static`).
    pub const fn none() -> Restriction {
        Restriction(None)
    }
    /// The named dimensions with their resources, by dimension.
    pub fn entries(&self) -> &[(DimId, Vec<ResId>)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
    /// The resources allowed on `d`, or `None` when `d` is not named.
    pub fn on(&self, d: DimId) -> Option<&[ResId]> {
        self.entries()
            .iter()
            .find(|(x, _)| *x == d)
            .map(|(_, v)| v.as_slice())
    }
    pub fn names(&self, d: DimId) -> bool {
        self.on(d).is_some()
    }
    /// Does every resource this allows on `d` pass `other` too (absent
    /// meaning every resource)?
    pub fn within(&self, other: &Restriction, d: DimId) -> bool {
        match (self.on(d), other.on(d)) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a.iter().all(|r| b.contains(r)),
        }
    }
}

/// Who administers a file, and who owns a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Provider,
    Org(OrgId),
}

#[derive(Debug, Clone)]
pub struct Kind {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub id: String,
    pub parents: Vec<KindId>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Org {
    /// The org's `name` and `description` (free text, in one), kept so that
    /// the change check sees an edit to either.
    pub description: Option<String>,
    pub id: String,
    pub parent: Option<OrgId>,
    pub kind: Option<KindId>,
    /// The kind label as written (kinds are free labels when none are declared).
    pub kind_label: Option<String>,
    pub span: Span,
    pub parent_span: Option<Span>,
    pub kind_span: Option<Span>,
    pub file: FileId,
    /// The scope of the file that declared it.
    pub scope: Scope,
}

#[derive(Debug, Clone)]
pub struct User {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub id: String,
    pub home: OrgId,
    pub identity: String,
    pub owner: bool,
    pub attributes: Vec<(String, String)>,
    pub span: Span,
    /// The scope of the file that declared it.
    pub scope: Scope,
}

#[derive(Debug, Clone)]
pub struct Module {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub id: String,
    pub actions: Vec<String>,
    pub gated: bool,
    /// Id of the module's first permission; its actions follow densely.
    pub first_perm: u32,
    /// Its permissions are resource permissions of this dimension.
    pub dimension: Option<DimId>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub id: String,
    pub modules: Vec<ModuleId>,
    pub span: Span,
}

/// The permission set `src/table/build.rs` builds, under the name it uses:
/// a [`FixedBitSet`] with the three calls it makes. Everything else uses
/// [`FixedBitSet`] directly; this goes when the table's builder does.
#[derive(Clone, Debug)]
pub struct BitSet(FixedBitSet);

impl BitSet {
    /// An empty set of `len` bits.
    pub fn new(len: usize) -> BitSet {
        BitSet(FixedBitSet::with_capacity(len))
    }
    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &FixedBitSet) {
        self.0.union_with(other);
    }
    /// The members, in increasing order.
    pub fn iter(&self) -> fixedbitset::Ones<'_> {
        self.0.ones()
    }
}

#[derive(Debug, Clone)]
pub struct Role {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub owner: Scope,
    pub name: String,
    pub span: Span,
    pub file: FileId,
    pub active: bool,
    pub locked: bool,
    pub published: bool,
    pub self_service: bool,
    pub approval: Option<String>,
    /// `None`: any identity type may hold it.
    pub identity_types: Option<Vec<String>>,
    pub includes: Vec<(RoleId, Span)>,
    pub from: Option<(RoleId, Span)>,
    pub assignable_by: Vec<RoleId>,
    /// Own grants, expanded.
    pub own: FixedBitSet,
    /// Own grants plus the cloned part (what holding this role alone confers).
    pub perms: FixedBitSet,
    /// Part of an `includes`/`from` cycle: its links were not followed.
    pub cyclic: bool,
    /// Restricts the role's own permissions (its grants and cloned part).
    pub resources: Restriction,
    /// Dimensions every assignment of it must name.
    pub dimensions: Vec<DimId>,
    /// May one user hold it several times (one per resource)?
    pub multiple: bool,
}

impl Role {
    pub fn allows_identity(&self, identity: &str) -> bool {
        self.identity_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == identity))
    }
}

/// What an assignment gives: a role (subject to publication) or an access policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    Role(RoleId),
    Policy(PolicyId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    User(UserId),
    Org,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Assigner {
    Admin(UserId),
    SelfService,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub grant: Grant,
    pub target: Target,
    pub org: OrgId,
    pub inherit: bool,
    pub by: Option<(Assigner, Span)>,
    pub locked: bool,
    pub span: Span,
    pub grant_span: Span,
    pub org_span: Span,
    pub scope: Scope,
    /// Path order then position: the order W104 uses to pick "the later one".
    pub order: u32,
    /// Restricts everything the assignment gives.
    pub resources: Restriction,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Home,
    Descendants(Option<Vec<KindId>>),
    /// Descendants of these kind labels (when no kinds are declared).
    DescendantLabels(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct RuleGrant {
    pub roles: Vec<(RoleId, Span)>,
    pub at: Vec<Place>,
    pub inherit: bool,
    pub span: Span,
    /// Restricts everything the grant gives.
    pub resources: Restriction,
}

#[derive(Debug, Clone, Default)]
pub struct Condition {
    pub owner: Option<bool>,
    pub identity: Option<String>,
    pub org_kind: Option<String>,
    pub org: Option<OrgId>,
    pub attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub name: Option<String>,
    pub scope: Scope,
    pub when: Condition,
    pub grants: Vec<RuleGrant>,
    pub locked: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    User,
    Org,
}

#[derive(Debug, Clone)]
pub struct Exclusion {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    pub name: Option<String>,
    pub scope: Scope,
    pub roles: Vec<RoleId>,
    pub max: u32,
    pub per: Per,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationEntry {
    pub publish: bool,
    pub locked: bool,
    /// The scope of the file that wrote the entry.
    pub scope: Scope,
    pub span: Span,
}

/// The whole resolved set.
#[derive(Debug, Default)]
pub struct Model {
    pub kinds: Vec<Kind>,
    pub kinds_declared: bool,
    pub orgs: Vec<Org>,
    pub users: Vec<User>,
    pub modules: Vec<Module>,
    /// Permission id -> (module, action index).
    pub perms: Vec<(ModuleId, u32)>,
    pub policies: Vec<Policy>,
    pub roles: Vec<Role>,
    pub assignments: Vec<Assignment>,
    pub rules: Vec<Rule>,
    pub exclusions: Vec<Exclusion>,
    pub dimensions: Vec<Dimension>,
    pub resources: Vec<Resource>,
    pub dimension_index: HashMap<String, DimId>,
    pub resource_index: HashMap<String, ResId>,
    /// Per role: org -> the publication entry there.
    pub publications: Vec<HashMap<OrgId, PublicationEntry>>,

    pub kind_index: HashMap<String, KindId>,
    pub org_index: HashMap<String, OrgId>,
    pub user_index: HashMap<String, UserId>,
    pub module_index: HashMap<String, ModuleId>,
    pub policy_index: HashMap<String, PolicyId>,
    pub role_index: HashMap<(Scope, String), RoleId>,
    /// Role name -> every owner that defines it.
    pub role_names: HashMap<String, Vec<RoleId>>,

    // Tree layout (preorder): subtree of o is [pre[o], end[o]).
    pub pre: Vec<u32>,
    pub end: Vec<u32>,
    pub depth: Vec<u32>,
    pub preorder: Vec<OrgId>,
    pub children: Vec<Vec<OrgId>>,

    pub user_assignments: Vec<Vec<AssignmentId>>,
    pub org_assignments: Vec<Vec<AssignmentId>>,

    /// Indices into `rules`, filed under the most selective condition that
    /// every user they match must meet: an org whose subtree holds the
    /// user's home (`when.org`, else a tenant rule's scope), else the kind
    /// of the home org (`when.org_kind`), else nothing (`any_rules`). A
    /// user's candidates are then a few lists, not every rule.
    pub any_rules: Vec<u32>,
    pub org_rules: HashMap<OrgId, Vec<u32>>,
    pub kind_rules: HashMap<String, Vec<u32>>,

    /// How long each stage took (cumulative), for benchmarks.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

impl Model {
    pub fn org(&self, id: OrgId) -> &Org {
        &self.orgs[id.index()]
    }
    pub fn user(&self, id: UserId) -> &User {
        &self.users[id.index()]
    }
    pub fn role(&self, id: RoleId) -> &Role {
        &self.roles[id.index()]
    }

    /// Is `x` in the subtree of `root` (`root` itself included)?
    pub fn in_subtree(&self, x: OrgId, root: OrgId) -> bool {
        let p = self.pre[x.index()];
        p >= self.pre[root.index()] && p < self.end[root.index()]
    }

    /// The rules that can match a user homed at `home`, in declaration order.
    pub fn candidate_rules(&self, home: OrgId) -> impl Iterator<Item = (usize, &Rule)> + '_ {
        let mut ids: Vec<u32> = self.any_rules.clone();
        for anc in self.ancestors(home) {
            if let Some(rs) = self.org_rules.get(&anc) {
                ids.extend_from_slice(rs);
            }
        }
        if let Some(rs) = self
            .org(home)
            .kind_label
            .as_ref()
            .and_then(|k| self.kind_rules.get(k))
        {
            ids.extend_from_slice(rs);
        }
        ids.sort_unstable();
        ids.into_iter()
            .map(move |i| (i as usize, &self.rules[i as usize]))
    }

    pub fn in_scope(&self, x: OrgId, scope: Scope) -> bool {
        match scope {
            Scope::Provider => true,
            Scope::Org(s) => self.in_subtree(x, s),
        }
    }

    /// `x`, then its ancestors up to the top level.
    pub fn ancestors(&self, x: OrgId) -> impl Iterator<Item = OrgId> + '_ {
        std::iter::successors(Some(x), move |o| self.orgs[o.index()].parent)
    }

    pub fn scope_name(&self, scope: Scope) -> &str {
        match scope {
            Scope::Provider => "provider",
            Scope::Org(o) => &self.orgs[o.index()].id,
        }
    }

    /// `owner::name`, always exact.
    pub fn role_qualified(&self, id: RoleId) -> String {
        let r = self.role(id);
        format!("{}::{}", self.scope_name(r.owner), r.name)
    }

    /// The bare name when only one owner uses it, `owner::name` otherwise (SPEC §14.8).
    pub fn role_display(&self, id: RoleId) -> String {
        let r = self.role(id);
        if self.role_names.get(&r.name).is_some_and(|v| v.len() > 1) {
            self.role_qualified(id)
        } else {
            r.name.clone()
        }
    }

    pub fn perm_name(&self, p: PermId) -> String {
        let (m, a) = self.perms[p.index()];
        let module = &self.modules[m.index()];
        format!(
            "{}:{}",
            module.id,
            module
                .actions
                .get(a as usize)
                .map(String::as_str)
                .unwrap_or("?")
        )
    }

    pub fn perm_id(&self, module: &str, action: &str) -> Option<PermId> {
        let m = self.module_index.get(module)?;
        let module = &self.modules[m.index()];
        let a = module.actions.iter().position(|x| x == action)?;
        Some(PermId(module.first_perm + a as u32))
    }

    pub fn parse_permission(&self, text: &str) -> Option<PermId> {
        let (m, a) = text.split_once(':')?;
        self.perm_id(m, a)
    }

    /// May a file of `scope` name `role` (SPEC §14.11)? Only roles owned by
    /// the provider, by the scope itself or by one of its ancestors: no
    /// tenant's access may depend on a sibling's or a sub-tenant's files.
    pub fn role_visible(&self, role: RoleId, scope: Scope) -> bool {
        match (scope, self.role(role).owner) {
            (Scope::Provider, _) | (_, Scope::Provider) => true,
            (Scope::Org(s), Scope::Org(owner)) => self.in_subtree(s, owner),
        }
    }

    /// Resolves a role name as written in a file (or test case) of `scope`.
    pub fn resolve_role(&self, name: &str, scope: Scope) -> Option<RoleId> {
        if let Some((owner, bare)) = name.split_once("::") {
            let owner = if owner == "provider" {
                Scope::Provider
            } else {
                Scope::Org(*self.org_index.get(owner)?)
            };
            return self.role_index.get(&(owner, bare.to_owned())).copied();
        }
        let candidates = self.role_names.get(name)?;
        if let Scope::Org(o) = scope {
            for a in self.ancestors(o) {
                if let Some(r) = candidates
                    .iter()
                    .find(|r| self.roles[r.index()].owner == Scope::Org(a))
                {
                    return Some(*r);
                }
            }
        }
        candidates
            .iter()
            .find(|r| self.roles[r.index()].owner == Scope::Provider)
            .copied()
    }
}
