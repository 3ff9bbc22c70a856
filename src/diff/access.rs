//! What a change does to access (SPEC §11 `trellis diff`), computed from the
//! two resolved models: per user, the orgs where their effective roles,
//! permissions or policies differ — at the orgs where access can change (the
//! anchors of grants and publication boundaries) and below them, so that an
//! assignment high in the tree is one entry "at X and its N descendants".

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::items::{items_of_both, Items};
use crate::eval::Origin;
use crate::model::*;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct AccessDiff {
    pub summary: Summary,
    pub users: Vec<UserChange>,
    pub publications: Vec<PublicationChange>,
    pub locked: Vec<ItemChange>,
    pub users_added: Vec<String>,
    pub users_removed: Vec<String>,
    pub orgs_added: Vec<String>,
    pub orgs_removed: Vec<String>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub users_changed: usize,
    pub access_entries: usize,
    pub publication_changes: usize,
    pub locked_changes: usize,
    pub users_added: usize,
    pub users_removed: usize,
    pub orgs_added: usize,
    pub orgs_removed: usize,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UserChange {
    pub user: String,
    pub changes: Vec<OrgChange>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct OrgChange {
    pub org: String,
    /// `org`: at the org only; `below`: at its descendants that have no
    /// entry of their own; `subtree`: both.
    pub reach: &'static str,
    /// How many orgs the entry covers (in HEAD's tree). Descendants with an
    /// entry of their own are not counted: their entry is complete for them.
    pub orgs: usize,
    pub roles_gained: Vec<String>,
    pub roles_lost: Vec<String>,
    pub permissions_gained: Vec<String>,
    pub permissions_lost: Vec<String>,
    pub policies_gained: Vec<String>,
    pub policies_lost: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PublicationChange {
    pub role: String,
    pub org: String,
    pub before: Option<bool>,
    pub after: Option<bool>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemChange {
    pub item: String,
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

/// What a user holds at one probe: roles (qualified names), permissions, policies.
#[derive(Default, PartialEq, Eq, Clone)]
struct Access {
    roles: BTreeSet<String>,
    perms: BTreeSet<String>,
    policies: BTreeSet<String>,
}

/// Access of `u` at `x` (`below: false`) or flowing into `x`'s descendants
/// that are not themselves probes (`below: true`).
fn access(m: &Model, u: UserId, x: OrgId, below: bool) -> Access {
    let user = m.user(u);
    let hits = m.hits(u, x);
    let kept: Vec<_> = hits
        .iter()
        .filter(|h| {
            !below
                || match h.origin {
                    Origin::Assignment(a) => m.assignments[a.index()].inherit,
                    Origin::Rule(r, g) => m.rules[r.index()]
                        .grants
                        .get(g as usize)
                        .is_some_and(|g| g.inherit),
                }
        })
        .copied()
        .collect();
    let held = m.closure(&user.identity, m.base_roles(u, x, &kept));
    let mut perms = BitSet::new(m.perms.len());
    for r in &held {
        perms.union_with(&m.role(*r).perms);
    }
    Access {
        roles: held.iter().map(|r| m.role_qualified(*r)).collect(),
        perms: perms
            .iter()
            .map(|p| m.perm_name(PermId(p as u32)))
            .collect(),
        policies: kept
            .iter()
            .filter_map(|h| match h.grant {
                Grant::Policy(p) => Some(m.policies[p.index()].id.clone()),
                Grant::Role(_) => None,
            })
            .collect(),
    }
}

/// Per model, what `signature` needs precomputed once: qualified role
/// names, and which roles bring (through `includes`) a role that changed.
struct SigCtx {
    names: Vec<String>,
    touched: Vec<bool>,
}

impl SigCtx {
    fn new(m: &Model, changed_roles: &BTreeSet<String>) -> SigCtx {
        let names: Vec<String> = (0..m.roles.len())
            .map(|r| m.role_qualified(RoleId(r as u32)))
            .collect();
        let touched = (0..m.roles.len())
            .map(|r| {
                m.closure_any(RoleId(r as u32))
                    .iter()
                    .any(|x| changed_roles.contains(&names[x.index()]))
            })
            .collect();
        SigCtx { names, touched }
    }
}

/// A cheap signature of what reaches a user (a hash of its grants, by
/// name), and whether any of them brings a changed role: users whose
/// signature is the same in both revisions and touch nothing changed are
/// skipped.
fn signature(m: &Model, u: UserId, ctx: &SigCtx) -> (u64, bool) {
    use std::hash::{Hash, Hasher};
    let user = m.user(u);
    let mut parts: Vec<u64> = Vec::new();
    let mut touched = false;
    let part = |f: &dyn Fn(&mut rustc_hash::FxHasher)| {
        let mut h = rustc_hash::FxHasher::default();
        f(&mut h);
        h.finish()
    };
    parts.push(part(&|h| {
        (&m.org(user.home).id, &user.identity, user.owner).hash(h)
    }));
    let ids = m.user_assignments[u.index()].iter().chain(
        m.ancestors(user.home)
            .flat_map(|a| m.org_assignments[a.index()].iter()),
    );
    for id in ids {
        let a = &m.assignments[id.index()];
        let name: &str = match a.grant {
            Grant::Role(r) => {
                touched |= ctx.touched[r.index()];
                &ctx.names[r.index()]
            }
            Grant::Policy(p) => &m.policies[p.index()].id,
        };
        parts.push(part(&|h| (name, &m.org(a.org).id, a.inherit).hash(h)));
    }
    for rule in &m.rules {
        if m.rule_matches(rule, u) {
            for g in &rule.grants {
                for (r, _) in &g.roles {
                    touched |= ctx.touched[r.index()];
                    let at = format!("{:?}", g.at);
                    parts.push(part(&|h| {
                        ("rule", &ctx.names[r.index()], &at, g.inherit).hash(h)
                    }));
                }
            }
        }
    }
    parts.sort_unstable();
    (part(&|h| parts.hash(h)), touched)
}

/// Gained and lost roles, permissions and policies between two accesses.
#[derive(Default, Clone, PartialEq, Eq)]
struct Delta {
    sets: [BTreeSet<String>; 6],
}

impl Delta {
    fn between(before: &Access, after: &Access) -> Delta {
        let d = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect();
        Delta {
            sets: [
                d(&after.roles, &before.roles),
                d(&before.roles, &after.roles),
                d(&after.perms, &before.perms),
                d(&before.perms, &after.perms),
                d(&after.policies, &before.policies),
                d(&before.policies, &after.policies),
            ],
        }
    }

    fn is_empty(&self) -> bool {
        self.sets.iter().all(BTreeSet::is_empty)
    }

    fn entry(&self, org: &str, reach: &'static str, orgs: usize) -> OrgChange {
        let v = |i: usize| self.sets[i].iter().cloned().collect();
        OrgChange {
            org: org.to_owned(),
            reach,
            orgs,
            roles_gained: v(0),
            roles_lost: v(1),
            permissions_gained: v(2),
            permissions_lost: v(3),
            policies_gained: v(4),
            policies_lost: v(5),
        }
    }
}

/// Roles whose meaning or publication differs between the two models.
fn changed_roles(base: &Model, head: &Model, bi: &Items, hi: &Items) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (key, h) in hi {
        let differs = bi.get(key).is_none_or(|b| b.fingerprint != h.fingerprint);
        if differs {
            if let Some(role) = key.strip_prefix("role ") {
                out.insert(role.to_owned());
            }
            if let Some(rest) = key.strip_prefix("publication ") {
                out.insert(rest.split(" @ ").next().unwrap_or("").to_owned());
            }
        }
    }
    for key in bi.keys() {
        if !hi.contains_key(key) {
            if let Some(role) = key.strip_prefix("role ") {
                out.insert(role.to_owned());
            }
            if let Some(rest) = key.strip_prefix("publication ") {
                out.insert(rest.split(" @ ").next().unwrap_or("").to_owned());
            }
        }
    }
    // Moving an org moves publication boundaries and grant reach.
    for o in &head.orgs {
        let moved = base.org_index.get(&o.id).is_some_and(|b| {
            base.org(*b).parent.map(|p| &base.org(p).id) != o.parent.map(|p| &head.org(p).id)
        });
        if moved {
            out.insert("*".into());
        }
    }
    out
}

pub fn diff(base: &Model, head: &Model) -> AccessDiff {
    let (bi, hi) = items_of_both(base, head);
    let changed = changed_roles(base, head, &bi, &hi);
    let everything = changed.contains("*");
    let head_ctx = SigCtx::new(head, &changed);
    let base_ctx = SigCtx::new(base, &changed);
    let mut d = AccessDiff::default();
    for (ui, user) in head.users.iter().enumerate() {
        let hu = UserId(ui as u32);
        let bu = base.user_index.get(&user.id).copied();
        if bu.is_none() {
            d.users_added.push(user.id.clone());
        }
        if let Some(bu) = bu {
            let (hs, ht) = signature(head, hu, &head_ctx);
            let (bs, bt) = signature(base, bu, &base_ctx);
            if hs == bs && !ht && !bt && !everything {
                continue;
            }
        }
        // Probe orgs: where access can change in either revision.
        let mut probes: BTreeSet<String> = BTreeSet::new();
        for o in head.candidate_orgs(hu) {
            probes.insert(head.org(o).id.clone());
        }
        for o in bu.map(|bu| base.candidate_orgs(bu)).unwrap_or_default() {
            probes.insert(base.org(o).id.clone());
        }
        let mut probes: Vec<(u32, OrgId, Option<OrgId>)> = probes
            .iter()
            .filter_map(|name| {
                let h = head.org_index.get(name)?;
                Some((head.pre[h.index()], *h, base.org_index.get(name).copied()))
            })
            .collect();
        probes.sort();
        let mut changes = Vec::new();
        // Each org belongs to one region: a probe itself ("at"), or the
        // descendants of a probe that lie under no deeper probe ("below").
        let orgs: Vec<OrgId> = probes.iter().map(|p| p.1).collect();
        for (i, &(_, h, b)) in probes.iter().enumerate() {
            let at = |below: bool| {
                let after = access(head, hu, h, below);
                let before = match (b, bu) {
                    (Some(b), Some(bu)) => access(base, bu, b, below),
                    _ => Access::default(),
                };
                Delta::between(&before, &after)
            };
            let mut covered = 0usize;
            let mut next_free = 0u32;
            for &c in &orgs[i + 1..] {
                if !head.in_subtree(c, h) {
                    break;
                }
                if head.pre[c.index()] >= next_free {
                    covered += (head.end[c.index()] - head.pre[c.index()]) as usize;
                    next_free = head.end[c.index()];
                }
            }
            let below_count = (head.end[h.index()] - head.pre[h.index()]) as usize - 1 - covered;
            let d_at = at(false);
            let d_below = if below_count > 0 {
                at(true)
            } else {
                Delta::default()
            };
            let org = head.org(h).id.clone();
            if !d_at.is_empty() && d_at == d_below {
                changes.push(d_at.entry(&org, "subtree", below_count + 1));
            } else {
                if !d_at.is_empty() {
                    changes.push(d_at.entry(&org, "org", 1));
                }
                if !d_below.is_empty() {
                    changes.push(d_below.entry(&org, "below", below_count));
                }
            }
        }
        changes.retain(|c| {
            !(c.roles_gained.is_empty()
                && c.roles_lost.is_empty()
                && c.permissions_gained.is_empty()
                && c.permissions_lost.is_empty()
                && c.policies_gained.is_empty()
                && c.policies_lost.is_empty())
        });
        if !changes.is_empty() {
            d.users.push(UserChange {
                user: user.id.clone(),
                changes,
            });
        }
    }
    for (ui, user) in base.users.iter().enumerate() {
        if head.user_index.contains_key(&user.id) {
            continue;
        }
        d.users_removed.push(user.id.clone());
        // What the removed user loses, at the orgs that still exist.
        let bu = UserId(ui as u32);
        let mut changes = Vec::new();
        for o in base.candidate_orgs(bu) {
            let before = access(base, bu, o, false);
            if before == Access::default() {
                continue;
            }
            changes.push(OrgChange {
                org: base.org(o).id.clone(),
                reach: "org",
                orgs: 1,
                roles_gained: Vec::new(),
                roles_lost: before.roles.into_iter().collect(),
                permissions_gained: Vec::new(),
                permissions_lost: before.perms.into_iter().collect(),
                policies_gained: Vec::new(),
                policies_lost: before.policies.into_iter().collect(),
            });
        }
        if !changes.is_empty() {
            d.users.push(UserChange {
                user: user.id.clone(),
                changes,
            });
        }
    }
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
    for (key, h) in &hi {
        match bi.get(key) {
            None if h.locked => d.locked.push(ItemChange {
                item: key.clone(),
                change: "added",
            }),
            Some(b) if (b.locked || h.locked) && b.fingerprint != h.fingerprint => {
                d.locked.push(ItemChange {
                    item: key.clone(),
                    change: "changed",
                })
            }
            _ => {}
        }
    }
    for (key, b) in &bi {
        if b.locked && !hi.contains_key(key) {
            d.locked.push(ItemChange {
                item: key.clone(),
                change: "removed",
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
