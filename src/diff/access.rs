//! What a change does to access (SPEC §11 `trellis diff`), computed exactly
//! from the two resolved models: per user, every org where their effective
//! roles, permissions (gating applied) or policies differ.
//!
//! A user's access is constant down the org tree except at a few *probes*:
//! the anchors of the grants that reach them, publication boundaries inside
//! inherited grants, rule targets — in either revision — and every org that
//! was added, removed or moved. Each org therefore lies in one region: a
//! probe itself ("at"), or the descendants of a probe under no deeper probe
//! ("below"), and a region holds the same orgs, with the same access each,
//! in both revisions. Comparing the two revisions at every probe and below
//! every probe is comparing them at every org, without visiting users × orgs.

use std::collections::{BTreeMap, BTreeSet};

use fixedbitset::FixedBitSet;
use rayon::prelude::*;
use serde::Serialize;

use super::items::{compare, items_of_both, ItemDelta, SameFiles};
use crate::eval::{Hit, Origin};
use crate::model::*;

/// What a change does to access: `trellis diff`'s result, also its JSON.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct AccessDiff {
    /// Counts of what follows.
    pub summary: Summary,
    /// Users whose access changed, by id.
    pub users: Vec<UserChange>,
    /// Publication entries added, removed or flipped.
    pub publications: Vec<PublicationChange>,
    /// Provider-locked items changed.
    pub locked: Vec<ItemChange>,
    /// Users only in the head.
    pub users_added: Vec<String>,
    /// Users only in the base.
    pub users_removed: Vec<String>,
    /// Orgs only in the head.
    pub orgs_added: Vec<String>,
    /// Orgs only in the base.
    pub orgs_removed: Vec<String>,
    /// The catalog of each revision, for renderers (not part of the JSON).
    #[serde(skip)]
    pub modules: Modules,
}

/// The actions of every module, in the base and in the head: what lets the
/// markdown comment and the page write `module:*` for a module's every action.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Modules {
    /// Module id -> its actions, in the base.
    pub base: BTreeMap<String, BTreeSet<String>>,
    /// Module id -> its actions, in the head.
    pub head: BTreeMap<String, BTreeSet<String>>,
}

impl Modules {
    fn of(m: &Model) -> BTreeMap<String, BTreeSet<String>> {
        m.modules
            .iter()
            .map(|md| (md.id.clone(), md.actions.iter().cloned().collect()))
            .collect()
    }
}

/// How much changed, per kind.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Users with at least one access change.
    pub users_changed: usize,
    /// Per-org entries over all users.
    pub access_entries: usize,
    /// Publication changes.
    pub publication_changes: usize,
    /// Locked items changed.
    pub locked_changes: usize,
    /// Users added.
    pub users_added: usize,
    /// Users removed.
    pub users_removed: usize,
    /// Orgs added.
    pub orgs_added: usize,
    /// Orgs removed.
    pub orgs_removed: usize,
}

/// One user's access changes.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UserChange {
    /// The user's id.
    pub user: String,
    /// One entry per org (or subtree) where access differs.
    pub changes: Vec<OrgChange>,
}

/// Access gained and lost at one org, its subtree, or below it.
#[derive(Debug, Serialize, PartialEq, Eq, Hash)]
pub struct OrgChange {
    /// The org the entry is about.
    pub org: String,
    /// `org`: at the org only; `below`: at its descendants that have no
    /// entry of their own; `subtree`: both.
    pub reach: &'static str,
    /// How many orgs the entry covers. Descendants with an entry of their
    /// own are not counted: their entry is complete for them.
    pub orgs: usize,
    /// For `below` and `subtree`: the roots of the subtrees of `org` that
    /// the entry does not cover (probes of their own, whatever their entry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    /// Effective roles gained.
    pub roles_gained: Vec<String>,
    /// Effective roles lost.
    pub roles_lost: Vec<String>,
    /// Permissions gained (gating applied).
    pub permissions_gained: Vec<String>,
    /// Permissions lost (gating applied).
    pub permissions_lost: Vec<String>,
    /// Access policies gained.
    pub policies_gained: Vec<String>,
    /// Access policies lost.
    pub policies_lost: Vec<String>,
    /// Permissions on resources, as `module:action@resource` (sets that
    /// declare dimensions only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_permissions_gained: Vec<String>,
    /// Permissions on resources lost, as `module:action@resource`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_permissions_lost: Vec<String>,
}

/// A publication entry that differs between the revisions.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PublicationChange {
    /// The role, as displayed.
    pub role: String,
    /// The org of the entry.
    pub org: String,
    /// `publish` in the base, if the entry was there.
    pub before: Option<bool>,
    /// `publish` in the head, if the entry is there.
    pub after: Option<bool>,
}

/// A provider-locked item that changed.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemChange {
    /// The item's key (what it is about and its scope).
    pub item: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
}

impl AccessDiff {
    /// Does the change grant or take away anything?
    pub fn changes_access(&self) -> bool {
        !self.users.is_empty()
            || !self.publications.is_empty()
            || !self.users_added.is_empty()
            || !self.users_removed.is_empty()
    }
}

/// The roles (qualified), permissions and access policies of both
/// revisions numbered together in the order of their names, so that what
/// a user holds is compared as numbers and only the differences are named:
/// a provider-wide change reaches a hundred thousand users at L, and
/// naming every permission they hold at every probe was most of the diff.
struct Names {
    roles: Vec<String>,
    perms: Vec<String>,
    policies: Vec<String>,
}

/// One revision's ids in [`Names`]' numbering, and its permission sets
/// renumbered: what a role gives, what a gated module holds back and what
/// a policy opens, so that a user's permissions at an org are a few
/// unions of bitsets.
struct Numbers {
    roles: Vec<u32>,
    policies: Vec<u32>,
    /// By role: its own permissions.
    role_perms: Vec<FixedBitSet>,
    /// The permissions of gated modules.
    gated: FixedBitSet,
    /// By policy: the permissions of the modules it lists.
    opens: Vec<FixedBitSet>,
    /// The permissions of resource modules (asked for through unrestricted
    /// paths one by one), with this revision's id of each.
    dimensional: Vec<(u32, PermId)>,
}

impl Numbers {
    fn new(
        m: &Model,
        roles: Vec<u32>,
        perms: Vec<u32>,
        policies: Vec<u32>,
        width: usize,
    ) -> Numbers {
        let set = |local: &mut dyn Iterator<Item = usize>| -> FixedBitSet {
            let mut out = FixedBitSet::with_capacity(width);
            for p in local {
                out.insert(perms[p] as usize);
            }
            out
        };
        let module_perms =
            |md: &Module| md.first_perm as usize..md.first_perm as usize + md.actions.len();
        Numbers {
            roles,
            policies,
            role_perms: m.roles.iter().map(|r| set(&mut r.perms.ones())).collect(),
            gated: set(&mut m
                .modules
                .iter()
                .filter(|md| md.gated)
                .flat_map(module_perms)),
            opens: m
                .policies
                .iter()
                .map(|p| {
                    set(&mut p
                        .modules
                        .iter()
                        .flat_map(|md| module_perms(&m.modules[md.index()])))
                })
                .collect(),
            dimensional: m
                .modules
                .iter()
                .filter(|md| md.dimension.is_some())
                .flat_map(module_perms)
                .map(|p| (perms[p], PermId(p as u32)))
                .collect(),
        }
    }
}

impl Names {
    fn of(base: &Model, head: &Model) -> (Names, Numbers, Numbers) {
        fn joint(base: Vec<String>, head: Vec<String>) -> (Vec<String>, Vec<u32>, Vec<u32>) {
            let mut all: Vec<String> = base.iter().chain(&head).cloned().collect();
            all.sort_unstable();
            all.dedup();
            let number = |names: &[String]| -> Vec<u32> {
                names
                    .iter()
                    .map(|n| all.binary_search(n).map_or(u32::MAX, |i| i as u32))
                    .collect()
            };
            let (b, h) = (number(&base), number(&head));
            (all, b, h)
        }
        let roles = |m: &Model| -> Vec<String> {
            (0..m.roles.len())
                .map(|r| m.role_qualified(RoleId(r as u32)))
                .collect()
        };
        let perms = |m: &Model| -> Vec<String> {
            (0..m.perms.len())
                .map(|p| m.perm_name(PermId(p as u32)))
                .collect()
        };
        let policies =
            |m: &Model| -> Vec<String> { m.policies.iter().map(|p| p.id.clone()).collect() };
        let (r, rb, rh) = joint(roles(base), roles(head));
        let (p, pb, ph) = joint(perms(base), perms(head));
        let (q, qb, qh) = joint(policies(base), policies(head));
        let width = p.len();
        let names = Names {
            roles: r,
            perms: p,
            policies: q,
        };
        let b = Numbers::new(base, rb, pb, qb, width);
        let h = Numbers::new(head, rh, ph, qh, width);
        (names, b, h)
    }
}

/// What a user holds at one org: roles, the permissions they may use
/// there (a gated module's only with an access policy that lists it), and
/// access policies, each sorted in [`Names`]' numbering.
#[derive(Default, Clone, Debug)]
struct Access {
    roles: Vec<u32>,
    /// As a set of numbers (every revision's of the same width).
    perms: FixedBitSet,
    policies: Vec<u32>,
    /// `module:action@resource` for every resource question it allows.
    resource_perms: BTreeSet<String>,
}

/// One revision as the comparison reads it: its model and its numbers.
#[derive(Clone, Copy)]
struct Rev<'a> {
    m: &'a Model,
    numbers: &'a Numbers,
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Access of `u` at `x`, and with `below` in `x`'s descendants that are
/// not probes themselves (only what is inherited past `x`; else empty):
/// the hits at `x` are found once for both.
fn accesses(rev: Rev<'_>, u: UserId, x: OrgId, below: bool) -> (Access, Access) {
    let m = rev.m;
    let hits = m.hits(u, x);
    let at = access(rev, u, x, false, &hits);
    if !below {
        return (at, Access::default());
    }
    let inherits = |h: &&Hit| match h.origin {
        Origin::Assignment(a) => m.assignments[a.index()].inherit,
        Origin::Rule(r, g) => m.rules[r.index()]
            .grants
            .get(g as usize)
            .is_some_and(|g| g.inherit),
    };
    let inherited: Vec<Hit> = hits.iter().filter(inherits).copied().collect();
    // Every hit passes below and no resource is asked about at `x` alone:
    // below `x` is what `x` has (the common case, computed once).
    let below = if inherited.len() == hits.len() && !m.resources.iter().any(|r| r.org == Some(x)) {
        at.clone()
    } else {
        access(rev, u, x, true, &inherited)
    };
    (at, below)
}

/// Access of `u` at `x` (`below: false`) or in `x`'s descendants that are
/// not probes themselves (`below: true`), from `kept`: the hits at `x`
/// that count there (all of them at `x`, the inherited ones below).
fn access(rev: Rev<'_>, u: UserId, x: OrgId, below: bool, kept: &[Hit]) -> Access {
    let m = rev.m;
    let user = m.user(u);
    let held = m.closure(&user.identity, m.base_roles(u, x, kept));
    let policies: BTreeSet<PolicyId> = kept
        .iter()
        .filter_map(|h| match h.grant {
            Grant::Policy(p) => Some(p),
            Grant::Role(_) => None,
        })
        .collect();
    let n = rev.numbers;
    // The permissions of the roles held, less those of gated modules no
    // access policy held opens.
    let mut perms = FixedBitSet::with_capacity(n.gated.len());
    for r in &held {
        perms.union_with(&n.role_perms[r.index()]);
    }
    let mut closed = n.gated.clone();
    for p in &policies {
        closed.difference_with(&n.opens[p.index()]);
    }
    perms.difference_with(&closed);
    // The whole-module question: a resource module's permission counts
    // only through unrestricted paths.
    for &(joint, p) in &n.dimensional {
        if perms.contains(joint as usize) {
            let d = m.modules[m.perms[p.index()].0.index()].dimension;
            if !d.is_some_and(|d| m.allow_by_paths(u, p, x, d, None, kept)) {
                perms.remove(joint as usize);
            }
        }
    }
    // Resource questions: a resource of an org is asked about at that org
    // (every such org is a probe); one of no org anywhere.
    let mut resource_perms = BTreeSet::new();
    for (qi, res) in m.resources.iter().enumerate() {
        let asked_here = match res.org {
            Some(o) => !below && o == x,
            None => true,
        };
        if !asked_here {
            continue;
        }
        for md in m.modules.iter().filter(|md| md.dimension == Some(res.dim)) {
            for a in 0..md.actions.len() as u32 {
                let p = PermId(md.first_perm + a);
                if m.allow_by_paths(u, p, x, res.dim, Some(ResId(qi as u32)), kept) {
                    resource_perms.insert(format!("{}@{}", m.perm_name(p), res.id));
                }
            }
        }
    }
    Access {
        resource_perms,
        roles: sorted(held.iter().map(|r| n.roles[r.index()]).collect()),
        perms,
        policies: sorted(policies.iter().map(|p| n.policies[p.index()]).collect()),
    }
}

/// Gained and lost roles, permissions and policies between two accesses:
/// numbers in [`Names`]' (roles, permissions, policies, each gained then
/// lost), and resource permissions gained and lost by name.
#[derive(Default, Clone, PartialEq, Eq)]
struct Delta {
    sets: [Vec<u32>; 6],
    resource: [BTreeSet<String>; 2],
}

/// The numbers of sorted `a` not in sorted `b`.
fn minus(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if b.get(j) != Some(&x) {
            out.push(x);
        }
    }
    out
}

/// The numbers in `a` and not in `b`, a word at a time (a user may hold
/// thousands of permissions, of which a change touches a few).
fn bits_minus(a: &FixedBitSet, b: &FixedBitSet) -> Vec<u32> {
    let mut d = a.clone();
    d.difference_with(b);
    d.ones().map(|p| p as u32).collect()
}

impl Delta {
    fn between(before: &Access, after: &Access) -> Delta {
        let d = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect();
        Delta {
            sets: [
                minus(&after.roles, &before.roles),
                minus(&before.roles, &after.roles),
                bits_minus(&after.perms, &before.perms),
                bits_minus(&before.perms, &after.perms),
                minus(&after.policies, &before.policies),
                minus(&before.policies, &after.policies),
            ],
            resource: [
                d(&after.resource_perms, &before.resource_perms),
                d(&before.resource_perms, &after.resource_perms),
            ],
        }
    }

    fn is_empty(&self) -> bool {
        self.sets.iter().all(Vec::is_empty) && self.resource.iter().all(BTreeSet::is_empty)
    }

    fn entry(
        &self,
        names: &Names,
        org: &str,
        reach: &'static str,
        orgs: usize,
        except: &[String],
    ) -> OrgChange {
        let named = |i: usize, of: &[String]| -> Vec<String> {
            self.sets[i]
                .iter()
                .filter_map(|n| of.get(*n as usize).cloned())
                .collect()
        };
        let v = |i: usize| self.resource[i].iter().cloned().collect();
        OrgChange {
            org: org.to_owned(),
            reach,
            orgs,
            except: if reach == "org" {
                Vec::new()
            } else {
                except.to_vec()
            },
            roles_gained: named(0, &names.roles),
            roles_lost: named(1, &names.roles),
            permissions_gained: named(2, &names.perms),
            permissions_lost: named(3, &names.perms),
            policies_gained: named(4, &names.policies),
            policies_lost: named(5, &names.policies),
            resource_permissions_gained: v(0),
            resource_permissions_lost: v(1),
        }
    }
}

/// What a role means for the users that hold it, by names: two revisions
/// agree on a role exactly when these agree.
#[derive(PartialEq, Eq)]
struct RoleMeaning {
    active: bool,
    cyclic: bool,
    published: bool,
    identity_types: Option<Vec<String>>,
    includes: Vec<String>,
    perms: Vec<String>,
}

fn role_meanings(m: &Model) -> HashMap<String, RoleMeaning> {
    (0..m.roles.len())
        .map(|i| {
            let r = &m.roles[i];
            let mut types = r.identity_types.clone();
            if let Some(t) = types.as_mut() {
                t.sort();
                t.dedup();
            }
            let mut includes: Vec<String> = r
                .includes
                .iter()
                .map(|(x, _)| m.role_qualified(*x))
                .collect();
            includes.sort();
            includes.dedup();
            let meaning = RoleMeaning {
                active: r.active,
                cyclic: r.cyclic,
                published: r.published,
                identity_types: types,
                includes,
                perms: r
                    .perms
                    .ones()
                    .map(|p| m.perm_name(PermId(p as u32)))
                    .collect(),
            };
            (m.role_qualified(RoleId(i as u32)), meaning)
        })
        .collect()
}

/// Role name -> org name -> `publish`.
type Entries = HashMap<String, BTreeMap<String, bool>>;

/// Publication entries of every role, by names.
fn publication_entries(m: &Model) -> Entries {
    let mut out = Entries::default();
    for (ri, entries) in m.publications.iter().enumerate() {
        let map = out.entry(m.role_qualified(RoleId(ri as u32))).or_default();
        for (o, e) in entries {
            map.insert(m.org(*o).id.clone(), e.publish);
        }
    }
    out
}

/// One revision, with what the skip test needs precomputed: for each role,
/// whether holding it may mean something else in the other revision (it,
/// or a role of its `includes` closure, changed; or its publication did);
/// and each assignment's and each rule's part of a user's signature, which
/// every user it reaches shares (an org's assignments reach every member of
/// its subtree: hashing them once keeps the test linear at L).
struct Side<'m> {
    m: &'m Model,
    /// By assignment: its part, and whether its role is touched.
    assignments: Vec<(u64, bool)>,
    /// By rule: the parts its grants add, and whether a role of them is
    /// touched.
    rules: Vec<(Vec<u64>, bool)>,
}

/// A hash of `value`, one part of a user's signature.
fn part(value: impl std::hash::Hash) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(value)
}

impl<'m> Side<'m> {
    fn new(
        m: &'m Model,
        meanings: (&HashMap<String, RoleMeaning>, &HashMap<String, RoleMeaning>),
        pubs: (&Entries, &Entries),
        reshaped: &BTreeSet<&str>,
    ) -> Side<'m> {
        let names: Vec<String> = (0..m.roles.len())
            .map(|r| m.role_qualified(RoleId(r as u32)))
            .collect();
        // The permissions of modules gated otherwise, or opened by other
        // policies, than in the other revision: a role that gives one of
        // them means something else to some of its holders.
        let mut reshaped_perms = FixedBitSet::with_capacity(m.perms.len());
        for md in m
            .modules
            .iter()
            .filter(|md| reshaped.contains(md.id.as_str()))
        {
            let first = md.first_perm as usize;
            reshaped_perms.insert_range(first..first + md.actions.len());
        }
        let changed: Vec<bool> = names
            .iter()
            .zip(&m.roles)
            .map(|(n, r)| {
                meanings.0.get(n) != meanings.1.get(n) || !r.perms.is_disjoint(&reshaped_perms)
            })
            .collect();
        // A role is touched when a role of its `includes` closure (by
        // definition, whatever its status) changed: spread each change to
        // the roles that include it, once, along reversed `includes` links.
        let mut included_by: Vec<Vec<usize>> = vec![Vec::new(); m.roles.len()];
        for (r, role) in m.roles.iter().enumerate() {
            for (i, _) in &role.includes {
                included_by[i.index()].push(r);
            }
        }
        let mut touched = changed;
        let mut stack: Vec<usize> = (0..m.roles.len()).filter(|r| touched[*r]).collect();
        while let Some(x) = stack.pop() {
            for &r in &included_by[x] {
                if !std::mem::replace(&mut touched[r], true) {
                    stack.push(r);
                }
            }
        }
        // Publication matters only for the role a grant names.
        for (r, t) in touched.iter_mut().enumerate() {
            *t |= pubs.0.get(&names[r]) != pubs.1.get(&names[r]);
        }
        let assignments = m
            .assignments
            .par_iter()
            .map(|a| {
                let target = matches!(a.target, Target::User(_));
                let org = &m.org(a.org).id;
                match a.grant {
                    Grant::Role(r) => (
                        part(("role", &names[r.index()], target, org, a.inherit)),
                        touched[r.index()],
                    ),
                    Grant::Policy(p) => (
                        part(("policy", &m.policies[p.index()].id, target, org, a.inherit)),
                        false,
                    ),
                }
            })
            .collect();
        let rules = m
            .rules
            .iter()
            .map(|rule| {
                let mut parts = Vec::new();
                let mut hit = false;
                for g in &rule.grants {
                    let at: Vec<String> =
                        g.at.iter()
                            .map(|p| match p {
                                Place::Home => "self".to_owned(),
                                Place::Descendants(None) => "any".to_owned(),
                                Place::Descendants(Some(ks)) => ks
                                    .iter()
                                    .map(|k| m.kinds[k.index()].id.as_str())
                                    .collect::<Vec<_>>()
                                    .join(","),
                                Place::DescendantLabels(ls) => ls.join(","),
                            })
                            .collect();
                    for (r, _) in &g.roles {
                        hit |= touched[r.index()];
                        parts.push(part(("rule", &names[r.index()], &at, g.inherit)));
                    }
                }
                (parts, hit)
            })
            .collect();
        Side {
            m,
            assignments,
            rules,
        }
    }

    /// A hash of everything that reaches `u` (by names), whether any of it
    /// is a touched role, and the orgs its access is anchored at (its home
    /// stands for every rule target, which lie in its subtree).
    fn grants(&self, u: UserId) -> (u64, bool, Vec<OrgId>) {
        let m = self.m;
        let user = m.user(u);
        let mut parts = vec![part((
            &m.org(user.home).id,
            &user.identity,
            user.owner,
            &user.attributes,
        ))];
        let mut touched = false;
        let mut anchors = vec![user.home];
        let ids = m.user_assignments[u.index()].iter().chain(
            m.ancestors(user.home)
                .flat_map(|a| m.org_assignments[a.index()].iter()),
        );
        for id in ids {
            let (p, t) = self.assignments[id.index()];
            touched |= t;
            parts.push(p);
            anchors.push(m.assignments[id.index()].org);
        }
        for (i, rule) in m.candidate_rules(user.home) {
            if m.rule_matches(rule, u) {
                let (ps, t) = &self.rules[i];
                touched |= *t;
                parts.extend_from_slice(ps);
            }
        }
        parts.sort_unstable();
        (part(&parts), touched, anchors)
    }

    /// Does a changed org sit inside or above one of `anchors`?
    fn near(&self, anchors: &[OrgId], tree: &[String]) -> bool {
        let m = self.m;
        tree.iter().filter_map(|t| m.org_index.get(t)).any(|t| {
            anchors
                .iter()
                .any(|a| m.in_subtree(*t, *a) || m.in_subtree(*a, *t))
        })
    }
}

/// Orgs added, removed, moved to another parent, or of another kind: the
/// shape of the tree around them differs between the revisions.
fn tree_changes(base: &Model, head: &Model) -> Vec<String> {
    let shape = |m: &Model, o: &Org| (o.parent.map(|p| m.org(p).id.clone()), o.kind_label.clone());
    let mut out: BTreeSet<String> = BTreeSet::new();
    for o in &head.orgs {
        match base.org_index.get(&o.id) {
            Some(b) if shape(base, base.org(*b)) == shape(head, o) => {}
            _ => {
                out.insert(o.id.clone());
            }
        }
    }
    for o in &base.orgs {
        if !head.org_index.contains_key(&o.id) {
            out.insert(o.id.clone());
        }
    }
    out.into_iter().collect()
}

/// The exact changes of one user (present in either revision or both).
fn user_changes(
    joint: &Names,
    base: Option<(Rev<'_>, UserId)>,
    head: Option<(Rev<'_>, UserId)>,
    tree: &[String],
) -> Vec<OrgChange> {
    // Probes, by name: candidate orgs of either revision, and every org
    // whose place in the tree changed (so that regions match).
    let mut names: BTreeSet<&str> = tree.iter().map(String::as_str).collect();
    for (rev, u) in base.iter().chain(head.iter()) {
        let m = rev.m;
        names.extend(
            m.candidate_orgs(*u)
                .into_iter()
                .map(|o| m.org(o).id.as_str()),
        );
        // A resource of an org is asked about there alone.
        names.extend(
            m.resources
                .iter()
                .filter_map(|r| r.org.map(|o| m.org(o).id.as_str())),
        );
    }
    // Each probe placed in HEAD's tree when it is there, else in the base's.
    let mut placed: Vec<(bool, u32, &str)> = Vec::new();
    for n in &names {
        let place = |(rev, _): (Rev<'_>, UserId)| {
            let m = rev.m;
            m.org_index.get(*n).map(|o| m.pre[o.index()])
        };
        let (in_head, in_base) = (head.and_then(place), base.and_then(place));
        match (in_head, in_base) {
            (Some(p), _) => placed.push((true, p, n)),
            (None, Some(p)) => placed.push((false, p, n)),
            // An org of neither revision's tree (a removed org, for a user
            // of one revision only) holds nothing here.
            (None, None) => {}
        }
    }
    placed.sort();
    let at = |side: Option<(Rev<'_>, UserId)>, name: &str, below: bool| match side {
        Some((rev, u)) => rev
            .m
            .org_index
            .get(name)
            .map(|o| accesses(rev, u, *o, below))
            .unwrap_or_default(),
        None => Default::default(),
    };
    let tree_of = |in_head: bool| -> Option<&Model> {
        if in_head {
            head.map(|(rev, _)| rev.m)
        } else {
            base.map(|(rev, _)| rev.m)
        }
    };
    let mut changes = Vec::new();
    for (i, &(in_head, _, name)) in placed.iter().enumerate() {
        let Some(m) = tree_of(in_head) else { continue };
        let Some(&o) = m.org_index.get(name) else {
            continue;
        };
        // The region below `o`: its subtree less the subtrees of the
        // nearest probes inside it.
        let mut except = Vec::new();
        let mut covered = 0usize;
        let mut next_free = 0u32;
        for &(h2, _, n2) in &placed[i + 1..] {
            if h2 != in_head {
                break;
            }
            let Some(&c) = m.org_index.get(n2) else {
                continue;
            };
            if !m.in_subtree(c, o) {
                break;
            }
            if m.pre[c.index()] >= next_free {
                covered += (m.end[c.index()] - m.pre[c.index()]) as usize;
                next_free = m.end[c.index()];
                except.push(n2.to_owned());
            }
        }
        let below_count = (m.end[o.index()] - m.pre[o.index()]) as usize - 1 - covered;
        let ((base_at, base_below), (head_at, head_below)) = (
            at(base, name, below_count > 0),
            at(head, name, below_count > 0),
        );
        let d_at = Delta::between(&base_at, &head_at);
        let d_below = if below_count > 0 {
            Delta::between(&base_below, &head_below)
        } else {
            Delta::default()
        };
        if !d_at.is_empty() && d_at == d_below {
            changes.push(d_at.entry(joint, name, "subtree", below_count + 1, &except));
        } else {
            if !d_at.is_empty() {
                changes.push(d_at.entry(joint, name, "org", 1, &except));
            }
            if !d_below.is_empty() {
                changes.push(d_below.entry(joint, name, "below", below_count, &except));
            }
        }
    }
    changes
}

/// How many items of both revisions are worth a thread to free.
const FREED_OFF_THE_WAY: usize = 1 << 14;

/// The modules (by id) gated otherwise, or listed by other access
/// policies, in one revision than in the other, or in one of them only. A
/// change of a module's actions needs no entry: it shows in the
/// permissions of the roles that give them ([`RoleMeaning`]).
fn reshaped_modules<'m>(base: &'m Model, head: &'m Model) -> BTreeSet<&'m str> {
    let shapes = |m: &'m Model| -> BTreeMap<&'m str, (bool, BTreeSet<&'m str>)> {
        let mut out: BTreeMap<&str, (bool, BTreeSet<&str>)> = m
            .modules
            .iter()
            .map(|md| (md.id.as_str(), (md.gated, BTreeSet::new())))
            .collect();
        for p in &m.policies {
            for md in &p.modules {
                if let Some((_, by)) = out.get_mut(m.modules[md.index()].id.as_str()) {
                    by.insert(p.id.as_str());
                }
            }
        }
        out
    };
    let (b, h) = (shapes(base), shapes(head));
    b.keys()
        .chain(h.keys())
        .filter(|id| b.get(*id) != h.get(*id))
        .copied()
        .collect()
}

/// The exact access diff from `base` to `head` (SPEC §11 `trellis diff`).
pub fn diff(base: &Model, head: &Model) -> AccessDiff {
    diff_with(base, head, &SameFiles::none())
}

/// As [`diff`], with the files `same` finds unchanged left out of the
/// comparison of items (the locked items changed are the same: see
/// [`SameFiles`]).
pub fn diff_with(base: &Model, head: &Model, same: &SameFiles) -> AccessDiff {
    let tree = tree_changes(base, head);
    let (bm, hm) = (role_meanings(base), role_meanings(head));
    let (bp, hp) = (publication_entries(base), publication_entries(head));
    let reshaped = reshaped_modules(base, head);
    let bs = Side::new(base, (&bm, &hm), (&bp, &hp), &reshaped);
    let hs = Side::new(head, (&hm, &bm), (&hp, &bp), &reshaped);
    // Restrictions are not part of the skip test's signature: with
    // resources in either revision, every user is compared.
    let compare_all = !base.dimensions.is_empty() || !head.dimensions.is_empty();
    let mut d = AccessDiff {
        modules: Modules {
            base: Modules::of(base),
            head: Modules::of(head),
        },
        ..AccessDiff::default()
    };
    let (names, base_numbers, head_numbers) = Names::of(base, head);
    let base_rev = Rev {
        m: base,
        numbers: &base_numbers,
    };
    let head_rev = Rev {
        m: head,
        numbers: &head_numbers,
    };
    // Locked items, every copy counted (a removed copy is a change even
    // when another copy of the item remains).
    let (bi, hi) = items_of_both(base, head, same);
    for (key, delta) in compare(&bi, &hi) {
        let change = match delta {
            ItemDelta::Added(h) if h.locked => "added",
            ItemDelta::Removed(b) if b.locked => "removed",
            ItemDelta::Changed(b, h) if b.locked || h.locked => "changed",
            _ => continue,
        };
        d.locked.push(ItemChange {
            item: key.to_string(),
            change,
        });
    }
    // Hundreds of thousands of items when a large file changed: freed off
    // the way (or here, if no thread can be started) while the users are
    // compared, rather than held beside what that builds. A few are freed
    // here: a thread per call would cost more than it saves (a caller of
    // the library may diff small sets thousands of times, as the tests do).
    if bi.len() + hi.len() >= FREED_OFF_THE_WAY {
        let _ = std::thread::Builder::new()
            .name("trellis-free".into())
            .spawn(move || drop((bi, hi)));
    }
    // Every user of either revision, as (base, head): a million lookups on
    // each side at L, on every core.
    let mut users: Vec<(Option<UserId>, Option<UserId>)> = head
        .users
        .par_iter()
        .enumerate()
        .map(|(i, u)| (base.user_index.get(&u.id).copied(), Some(UserId(i as u32))))
        .collect();
    let removed: Vec<(Option<UserId>, Option<UserId>)> = base
        .users
        .par_iter()
        .enumerate()
        .filter(|(_, u)| !head.user_index.contains_key(&u.id))
        .map(|(i, _)| (Some(UserId(i as u32)), None))
        .collect();
    users.extend(removed);
    let one = |&(b, h): &(Option<UserId>, Option<UserId>)| -> Option<UserChange> {
        if let (Some(b), Some(h), false) = (b, h, compare_all) {
            let (b_sig, b_touched, b_anchors) = bs.grants(b);
            let (h_sig, h_touched, h_anchors) = hs.grants(h);
            let unchanged = b_sig == h_sig
                && !b_touched
                && !h_touched
                && !bs.near(&b_anchors, &tree)
                && !hs.near(&h_anchors, &tree);
            if unchanged {
                return None;
            }
        }
        let changes = user_changes(
            &names,
            b.map(|b| (base_rev, b)),
            h.map(|h| (head_rev, h)),
            &tree,
        );
        let user = match (h, b) {
            (Some(h), _) => head.user(h).id.clone(),
            (None, Some(b)) => base.user(b).id.clone(),
            (None, None) => return None,
        };
        (!changes.is_empty()).then_some(UserChange { user, changes })
    };
    d.users = users.par_iter().filter_map(one).collect();
    for o in &head.orgs {
        if !base.org_index.contains_key(&o.id) {
            d.orgs_added.push(o.id.clone());
        }
    }
    for o in &base.orgs {
        if !head.org_index.contains_key(&o.id) {
            d.orgs_removed.push(o.id.clone());
        }
    }
    for pair in &users {
        match *pair {
            (None, Some(h)) => d.users_added.push(head.user(h).id.clone()),
            (Some(b), None) => d.users_removed.push(base.user(b).id.clone()),
            _ => {}
        }
    }
    // Publication entries and defaults.
    let pubs = |m: &Model| -> BTreeMap<(String, String), bool> {
        let mut out = BTreeMap::new();
        for (ri, entries) in m.publications.iter().enumerate() {
            for (o, e) in entries {
                out.insert(
                    (m.role_qualified(RoleId(ri as u32)), m.org(*o).id.clone()),
                    e.publish,
                );
            }
        }
        for (ri, r) in m.roles.iter().enumerate() {
            let at = match r.owner {
                Scope::Provider => "*".to_owned(),
                Scope::Org(o) => m.org(o).id.clone(),
            };
            out.insert(
                (
                    m.role_qualified(RoleId(ri as u32)),
                    format!("{at} (default)"),
                ),
                r.published,
            );
        }
        out
    };
    let (bp, hp) = (pubs(base), pubs(head));
    let keys: BTreeSet<&(String, String)> = bp.keys().chain(hp.keys()).collect();
    for k in keys {
        let (before, after) = (bp.get(k).copied(), hp.get(k).copied());
        if before != after {
            d.publications.push(PublicationChange {
                role: k.0.clone(),
                org: k.1.clone(),
                before,
                after,
            });
        }
    }
    // Output order never depends on declaration order or map iteration.
    d.users.sort_by(|a, b| a.user.cmp(&b.user));
    d.locked
        .sort_by(|a, b| (&a.item, a.change).cmp(&(&b.item, b.change)));
    for v in [
        &mut d.users_added,
        &mut d.users_removed,
        &mut d.orgs_added,
        &mut d.orgs_removed,
    ] {
        v.sort();
    }
    d.summary = Summary {
        users_changed: d.users.len(),
        access_entries: d.users.iter().map(|u| u.changes.len()).sum(),
        publication_changes: d.publications.len(),
        locked_changes: d.locked.len(),
        users_added: d.users_added.len(),
        users_removed: d.users_removed.len(),
        orgs_added: d.orgs_added.len(),
        orgs_removed: d.orgs_removed.len(),
    };
    d
}
