//! The resolved policy set: dense ids, resolved references, and the source
//! span of everything a diagnostic or an explanation may point at.

/// Hash maps keyed by ids and names: a fast non-cryptographic hasher (the
/// keys come from the policy files being checked, not from an adversary
/// that benefits from collisions; output never depends on map order).
pub type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

use fixedbitset::FixedBitSet;

use crate::source::{FileId, Span};

/// One list of assignments per user or per org, in assignment order, all
/// in one array (compressed rows): two million assignments at the L tier
/// are two arrays, not a growing vector per user. Built in one pass once
/// every assignment is known ([`AssignmentLists::build`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssignmentLists {
    /// Where each list starts in `ids`, and where the last ends: one more
    /// than there are lists.
    starts: Vec<u32>,
    ids: Vec<AssignmentId>,
}

impl AssignmentLists {
    /// `lists` lists from `(list, assignment)` pairs given in assignment
    /// order (each list keeps that order); a list outside `0..lists` is a
    /// caller's bug and panics.
    pub fn build(lists: usize, pairs: impl Iterator<Item = (usize, AssignmentId)> + Clone) -> Self {
        let mut starts = vec![0u32; lists + 1];
        for (list, _) in pairs.clone() {
            starts[list + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut ids = vec![AssignmentId(0); starts[lists] as usize];
        for (list, id) in pairs {
            ids[next[list] as usize] = id;
            next[list] += 1;
        }
        AssignmentLists { starts, ids }
    }

    /// How many lists (users or orgs) there are.
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Whether there are no lists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The list at `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&[AssignmentId]> {
        let (start, end) = (*self.starts.get(i)?, *self.starts.get(i + 1)?);
        Some(&self.ids[start as usize..end as usize])
    }

    /// Every list, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[AssignmentId]> + '_ {
        self.starts
            .windows(2)
            .map(|w| &self.ids[w[0] as usize..w[1] as usize])
    }
}

impl std::ops::Index<usize> for AssignmentLists {
    type Output = [AssignmentId];

    fn index(&self, i: usize) -> &[AssignmentId] {
        let (start, end) = (self.starts[i], self.starts[i + 1]);
        &self.ids[start as usize..end as usize]
    }
}

macro_rules! dense_id {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            /// The id as an index into its vector of the [`Model`].
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

dense_id!(
    /// An org: index into [`Model::orgs`].
    OrgId,
    /// A user: index into [`Model::users`].
    UserId,
    /// A role: index into [`Model::roles`].
    RoleId,
    /// A module: index into [`Model::modules`].
    ModuleId,
    /// An access policy: index into [`Model::policies`].
    PolicyId,
    /// A permission (`module:action`): index into [`Model::perms`].
    PermId,
    /// An assignment: index into [`Model::assignments`].
    AssignmentId,
    /// An automatic rule: index into [`Model::rules`].
    RuleId,
    /// An org kind: index into [`Model::kinds`].
    KindId,
    /// A dimension: index into [`Model::dimensions`].
    DimId,
    /// A resource: index into [`Model::resources`].
    ResId
);

/// A group of resources (SPEC §15): cloud accounts, inventory, applications.
#[derive(Debug, Clone)]
pub struct Dimension {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// Its id.
    pub id: String,
    /// Where its id is written.
    pub span: Span,
}

/// A resource a role can be tied to.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// Its id.
    pub id: String,
    /// Its dimension.
    pub dim: DimId,
    /// The org it belongs to; `None`: available at every org.
    pub org: Option<OrgId>,
    /// Where its id is written.
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
    /// Names no dimension?
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
    /// Does it name dimension `d`?
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
    /// The provider: every org is in its scope.
    Provider,
    /// An org: its subtree.
    Org(OrgId),
}

/// An org kind (`kinds`).
#[derive(Debug, Clone)]
pub struct Kind {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// Its id.
    pub id: String,
    /// The kinds an org of this kind may sit under (none: top level only).
    pub parents: Vec<KindId>,
    /// Where its id is written.
    pub span: Span,
}

/// An org of the tree.
#[derive(Debug, Clone)]
pub struct Org {
    /// The org's `name` and `description` (free text, in one), kept so that
    /// the change check sees an edit to either.
    pub description: Option<String>,
    /// Its id.
    pub id: String,
    /// Its parent (none: top level).
    pub parent: Option<OrgId>,
    /// Its declared kind, when kinds are declared.
    pub kind: Option<KindId>,
    /// The kind label as written (kinds are free labels when none are declared).
    pub kind_label: Option<String>,
    /// Where its id is written.
    pub span: Span,
    /// Where `parent` is written.
    pub parent_span: Option<Span>,
    /// Where `kind` is written.
    pub kind_span: Option<Span>,
    /// The file that declares it.
    pub file: FileId,
    /// The scope of the file that declared it.
    pub scope: Scope,
}

/// A user.
#[derive(Debug, Clone)]
pub struct User {
    /// Free text, kept so that the change check sees an edit to it (boxed:
    /// rare, and a million users at the L tier are each 16 bytes smaller).
    pub description: Option<Box<String>>,
    /// Its id.
    pub id: String,
    /// Its home org.
    pub home: OrgId,
    /// Its identity type (`employee` unless written).
    pub identity: String,
    /// Is it an owner of its home org (matched by rules)?
    pub owner: bool,
    /// Free attributes, matched by rules.
    pub attributes: Vec<(String, String)>,
    /// Where its id is written.
    pub span: Span,
    /// The scope of the file that declared it.
    pub scope: Scope,
}

/// A module: a set of actions, a permission each.
#[derive(Debug, Clone)]
pub struct Module {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// Its id.
    pub id: String,
    /// Its actions, in declared order.
    pub actions: Vec<String>,
    /// Does using it also need an access policy that lists it?
    pub gated: bool,
    /// Id of the module's first permission; its actions follow densely.
    pub first_perm: u32,
    /// Its permissions are resource permissions of this dimension.
    pub dimension: Option<DimId>,
    /// Where its id is written.
    pub span: Span,
}

/// An access policy: the gated modules it opens.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// Its id.
    pub id: String,
    /// The modules it lists.
    pub modules: Vec<ModuleId>,
    /// Where its id is written.
    pub span: Span,
}

/// A role, of the provider or of an org.
#[derive(Debug, Clone)]
pub struct Role {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// The provider or the org that owns it.
    pub owner: Scope,
    /// Its name (unique within its owner).
    pub name: String,
    /// Where its name is written.
    pub span: Span,
    /// The file that declares it.
    pub file: FileId,
    /// `status: active` (disabled roles confer nothing).
    pub active: bool,
    /// Provider-managed (`locked`).
    pub locked: bool,
    /// The default publication when no entry decides.
    pub published: bool,
    /// May a user assign it to themselves (`by: self`)?
    pub self_service: bool,
    /// Free text carried into the table (`approval`); decisions ignore it.
    pub approval: Option<String>,
    /// `None`: any identity type may hold it.
    pub identity_types: Option<Vec<String>>,
    /// Roles it includes, with where each is named.
    pub includes: Vec<(RoleId, Span)>,
    /// The role it clones (`from`), with where it is named.
    pub from: Option<(RoleId, Span)>,
    /// Roles whose holders may assign it (`by:`).
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
    /// May a user of identity type `identity` hold it?
    pub fn allows_identity(&self, identity: &str) -> bool {
        self.identity_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == identity))
    }
}

/// What an assignment gives: a role (subject to publication) or an access policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grant {
    /// A role.
    Role(RoleId),
    /// An access policy.
    Policy(PolicyId),
}

/// Whom an assignment is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// One user.
    User(UserId),
    /// Every member of the assignment's org.
    Org,
}

/// Who made an assignment (`by:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Assigner {
    /// An admin holding a role of `assignable_by`.
    Admin(UserId),
    /// The user themselves (`by: self`).
    SelfService,
}

/// An assignment: a grant to a user or an org's members at an org.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Free text, kept so that the change check sees an edit to it (boxed,
    /// as `by` is).
    pub description: Option<Box<String>>,
    /// What it gives.
    pub grant: Grant,
    /// Whom it is for.
    pub target: Target,
    /// Where the grant is made.
    pub org: OrgId,
    /// Does it also hold at every org below `org`?
    pub inherit: bool,
    /// Who made it (`by:`), and where that is written (boxed: rare, and
    /// two million assignments at the L tier are each 16 bytes smaller).
    pub by: Option<Box<(Assigner, Span)>>,
    /// A provider lock.
    pub locked: bool,
    /// The whole item.
    pub span: Span,
    /// Where the role or policy is named.
    pub grant_span: Span,
    /// Where `org` is written (the user when it is left out).
    pub org_span: Span,
    /// Is `org` written (not left to be the user's home)?
    pub org_written: bool,
    /// The scope of the file that writes it.
    pub scope: Scope,
    /// Path order then position: the order W104 uses to pick "the later one".
    pub order: u32,
    /// Restricts everything the assignment gives.
    pub resources: Restriction,
}

/// Where an automatic rule grants (`at`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The user's home org (`self`).
    Home,
    /// Every strict descendant of the home org, of these kinds (`None`: any).
    Descendants(Option<Vec<KindId>>),
    /// Descendants of these kind labels (when no kinds are declared).
    DescendantLabels(Vec<String>),
}

/// One grant of an automatic rule.
#[derive(Debug, Clone)]
pub struct RuleGrant {
    /// The roles it gives, with where each is named.
    pub roles: Vec<(RoleId, Span)>,
    /// Where it gives them.
    pub at: Vec<Place>,
    /// Does it also hold at every org below each place?
    pub inherit: bool,
    /// The grant item.
    pub span: Span,
    /// Restricts everything the grant gives.
    pub resources: Restriction,
}

/// The `when` of an automatic rule: every condition written must hold.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    /// The user's `owner` flag.
    pub owner: Option<bool>,
    /// The user's identity type.
    pub identity: Option<String>,
    /// The kind of the user's home org.
    pub org_kind: Option<String>,
    /// An org whose subtree holds the user's home.
    pub org: Option<OrgId>,
    /// Attributes the user must have, with these values.
    pub attributes: Vec<(String, String)>,
}

/// An automatic rule: roles given to every user its `when` matches.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// The scope of the file that writes it.
    pub scope: Scope,
    /// Whom it matches.
    pub when: Condition,
    /// What it gives.
    pub grants: Vec<RuleGrant>,
    /// A provider lock.
    pub locked: bool,
    /// The rule item.
    pub span: Span,
}

/// How an exclusion counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    /// Roles held across all orgs.
    User,
    /// Roles held at each org separately.
    Org,
}

/// An exclusion (separation of duty): a user holds at most `max` of `roles`.
#[derive(Debug, Clone)]
pub struct Exclusion {
    /// Free text, kept so that the change check sees an edit to it.
    pub description: Option<String>,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// The scope of the file that writes it.
    pub scope: Scope,
    /// The roles it limits.
    pub roles: Vec<RoleId>,
    /// How many of them a user may hold.
    pub max: u32,
    /// Across all orgs or per org.
    pub per: Per,
    /// The exclusion item.
    pub span: Span,
}

/// A publication entry: a role published or withdrawn for an org's subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationEntry {
    /// Published (`true`) or withdrawn.
    pub publish: bool,
    /// A provider lock.
    pub locked: bool,
    /// The scope of the file that wrote the entry.
    pub scope: Scope,
    /// The entry item.
    pub span: Span,
}

/// The whole resolved set.
#[derive(Debug, Default)]
pub struct Model {
    /// Org kinds.
    pub kinds: Vec<Kind>,
    /// Were kinds declared (otherwise kinds are free labels)?
    pub kinds_declared: bool,
    /// Orgs.
    pub orgs: Vec<Org>,
    /// Users.
    pub users: Vec<User>,
    /// Modules.
    pub modules: Vec<Module>,
    /// Permission id -> (module, action index).
    pub perms: Vec<(ModuleId, u32)>,
    /// Access policies.
    pub policies: Vec<Policy>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Assignments.
    pub assignments: Vec<Assignment>,
    /// Automatic rules.
    pub rules: Vec<Rule>,
    /// Exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Dimensions.
    pub dimensions: Vec<Dimension>,
    /// Resources.
    pub resources: Vec<Resource>,
    /// Dimension id -> dimension.
    pub dimension_index: HashMap<String, DimId>,
    /// Resource id -> resource.
    pub resource_index: HashMap<String, ResId>,
    /// Per role: org -> the publication entry there.
    pub publications: Vec<HashMap<OrgId, PublicationEntry>>,

    /// Kind id -> kind.
    pub kind_index: HashMap<String, KindId>,
    /// Org id -> org.
    pub org_index: HashMap<String, OrgId>,
    /// User id -> user.
    pub user_index: HashMap<String, UserId>,
    /// Module id -> module.
    pub module_index: HashMap<String, ModuleId>,
    /// Policy id -> policy.
    pub policy_index: HashMap<String, PolicyId>,
    /// (owner, name) -> role.
    pub role_index: HashMap<(Scope, String), RoleId>,
    /// Role name -> every owner that defines it.
    pub role_names: HashMap<String, Vec<RoleId>>,

    // Tree layout (preorder): subtree of o is [pre[o], end[o]).
    /// Per org: its place in `preorder`.
    pub pre: Vec<u32>,
    /// Per org: one past the last place of its subtree in `preorder`.
    pub end: Vec<u32>,
    /// Per org: its depth (top level: 0).
    pub depth: Vec<u32>,
    /// Every org, in preorder.
    pub preorder: Vec<OrgId>,
    /// Per org: its children.
    pub children: Vec<Vec<OrgId>>,

    /// Per user: the assignments to them.
    pub user_assignments: AssignmentLists,
    /// Per org: the assignments to its members.
    pub org_assignments: AssignmentLists,
    /// Per org: the assignments to single users made at it (`org:`), for
    /// pictures and pages that list what is assigned where.
    pub user_assignments_at: AssignmentLists,

    /// Indices into `rules`, filed under the most selective condition that
    /// every user they match must meet: an org whose subtree holds the
    /// user's home (`when.org`, else a tenant rule's scope), else the kind
    /// of the home org (`when.org_kind`), else nothing (`any_rules`). A
    /// user's candidates are then a few lists, not every rule.
    pub any_rules: Vec<u32>,
    /// Per org: rules filed under it (see `any_rules`).
    pub org_rules: HashMap<OrgId, Vec<u32>>,
    /// Per kind label: rules filed under it (see `any_rules`).
    pub kind_rules: HashMap<String, Vec<u32>>,

    /// How long each stage took (cumulative), for benchmarks.
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// How long each check rule took on its own (they run side by side).
    pub rule_timings: Vec<(&'static str, std::time::Duration)>,
}

impl Model {
    /// The org of `id`.
    pub fn org(&self, id: OrgId) -> &Org {
        &self.orgs[id.index()]
    }
    /// The user of `id`.
    pub fn user(&self, id: UserId) -> &User {
        &self.users[id.index()]
    }
    /// The role of `id`.
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

    /// Is `x` inside `scope`?
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

    /// `provider` or the org's id.
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

    /// `module:action` of `p`.
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

    /// The permission `module:action`, if it exists.
    pub fn perm_id(&self, module: &str, action: &str) -> Option<PermId> {
        let m = self.module_index.get(module)?;
        let module = &self.modules[m.index()];
        let a = module.actions.iter().position(|x| x == action)?;
        Some(PermId(module.first_perm + a as u32))
    }

    /// The permission written `module:action`, if it exists.
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

#[cfg(test)]
mod tests {
    use super::{AssignmentId, AssignmentLists};

    /// Two million assignments and a million users at the L tier: a field
    /// added inline to either costs its size that many times (box the rare
    /// ones, as `by` and `description` are).
    #[test]
    fn assignments_and_users_stay_small() {
        let (assignment, user) = (
            std::mem::size_of::<super::Assignment>(),
            std::mem::size_of::<super::User>(),
        );
        eprintln!("Assignment {assignment} bytes, User {user} bytes");
        assert!(assignment <= 96, "Assignment is {assignment} bytes");
        assert!(user <= 112, "User is {user} bytes");
    }

    #[test]
    fn assignment_lists_keep_the_order_given_and_empty_lists() {
        let ids = |v: &[u32]| v.iter().map(|&i| AssignmentId(i)).collect::<Vec<_>>();
        // Assignments 0..5 to lists 2, 0, 2, 3, 2: list 1 has none.
        let pairs = [(2, 0), (0, 1), (2, 2), (3, 3), (2, 4)];
        let lists = AssignmentLists::build(4, pairs.iter().map(|&(l, a)| (l, AssignmentId(a))));
        assert_eq!(lists.len(), 4);
        assert_eq!(&lists[0], &ids(&[1])[..]);
        assert!(lists[1].is_empty());
        assert_eq!(&lists[2], &ids(&[0, 2, 4])[..]);
        assert_eq!(lists.get(3), Some(&ids(&[3])[..]));
        assert_eq!(lists.get(4), None);
        let all: Vec<usize> = lists.iter().map(<[AssignmentId]>::len).collect();
        assert_eq!(all, [1, 0, 3, 1]);
        assert!(AssignmentLists::default().is_empty());
        assert_eq!(AssignmentLists::default().get(0), None);
    }
}
