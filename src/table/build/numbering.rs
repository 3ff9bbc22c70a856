//! Canonical numbering, independent of file names and declaration order:
//! orgs in preorder with children sorted by id, users, roles (by qualified
//! name), modules, policies, dimensions and resources by id.

use rayon::prelude::*;

use crate::model::*;
use trellis_table::NONE;

pub(super) struct Canon {
    /// Per org (model id), its preorder position; and the end of its subtree.
    pub org_pre: Vec<u32>,
    pub org_end: Vec<u32>,
    /// Orgs in preorder.
    pub org_order: Vec<OrgId>,
    pub user_order: Vec<UserId>,
    pub role_new: Vec<u32>,
    pub role_order: Vec<RoleId>,
    pub module_new: Vec<u32>,
    pub module_order: Vec<ModuleId>,
    pub perm_new: Vec<u32>,
    pub policy_new: Vec<u32>,
    pub policy_order: Vec<PolicyId>,
    pub dim_new: Vec<u32>,
    pub dim_order: Vec<DimId>,
    pub res_new: Vec<u32>,
    pub res_order: Vec<ResId>,
}

/// The order of `items` by `key`, and each item's position in it (`NONE`
/// for the items of the `total` left out).
fn by_key<I: Copy, K: Ord>(
    items: Vec<I>,
    index: impl Fn(I) -> usize,
    key: impl Fn(I) -> K,
    total: usize,
) -> (Vec<I>, Vec<u32>) {
    let mut order = items;
    order.sort_by_key(|i| key(*i));
    let mut new = vec![NONE; total];
    for (pos, i) in order.iter().enumerate() {
        new[index(*i)] = pos as u32;
    }
    (order, new)
}

impl Canon {
    /// The numbering of the whole set, or (with `only`) of one top-level
    /// org's subtree alone: its orgs, the users homed there, the provider's
    /// roles and its own, the resources of its orgs and of no org.
    /// Everything else has no number (`NONE`) and is left out.
    pub fn new(m: &Model, only: Option<OrgId>) -> Canon {
        let n = m.orgs.len();
        let by_id = |v: &mut Vec<OrgId>| v.sort_by(|a, b| m.org(*a).id.cmp(&m.org(*b).id));
        let mut roots: Vec<OrgId> = match only {
            Some(root) => vec![root],
            None => (0..n as u32)
                .map(OrgId)
                .filter(|o| m.org(*o).parent.is_none())
                .collect(),
        };
        by_id(&mut roots);
        let mut org_pre = vec![NONE; n];
        let mut org_end = vec![0u32; n];
        let mut org_order = Vec::with_capacity(n);
        let mut stack: Vec<(OrgId, bool)> = roots.iter().rev().map(|r| (*r, false)).collect();
        while let Some((o, done)) = stack.pop() {
            if done {
                org_end[o.index()] = org_order.len() as u32;
                continue;
            }
            org_pre[o.index()] = org_order.len() as u32;
            org_order.push(o);
            stack.push((o, true));
            let mut kids = m.children[o.index()].clone();
            by_id(&mut kids);
            stack.extend(kids.iter().rev().map(|c| (*c, false)));
        }
        // A million ids: compare an 8-byte big-endian prefix first (its
        // order is the strings' order where it differs), the strings only
        // on a tie.
        let prefix = |s: &str| {
            let mut b = [0u8; 8];
            let n = s.len().min(8);
            b[..n].copy_from_slice(&s.as_bytes()[..n]);
            u64::from_be_bytes(b)
        };
        let inside = |o: OrgId| org_pre[o.index()] != NONE;
        let mut keyed: Vec<(u64, &str, UserId)> = m
            .users
            .par_iter()
            .enumerate()
            .filter(|(_, u)| inside(u.home))
            .map(|(i, u)| (prefix(&u.id), u.id.as_str(), UserId(i as u32)))
            .collect();
        keyed.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let user_order: Vec<UserId> = keyed.into_par_iter().map(|k| k.2).collect();

        let mut role_order: Vec<RoleId> = (0..m.roles.len() as u32)
            .map(RoleId)
            .filter(|r| match m.role(*r).owner {
                Scope::Provider => true,
                Scope::Org(o) => inside(o),
            })
            .collect();
        role_order.sort_by_cached_key(|r| m.role_qualified(*r));
        let mut role_new = vec![NONE; m.roles.len()];
        for (i, r) in role_order.iter().enumerate() {
            role_new[r.index()] = i as u32;
        }
        let (module_order, module_new) = by_key(
            (0..m.modules.len() as u32).map(ModuleId).collect(),
            |x| x.index(),
            |x| m.modules[x.index()].id.as_str(),
            m.modules.len(),
        );
        // Permissions by module, then action in declaration order.
        let mut perm_new = vec![0u32; m.perms.len()];
        let mut next = 0u32;
        for md in &module_order {
            let module = &m.modules[md.index()];
            for a in 0..module.actions.len() as u32 {
                perm_new[(module.first_perm + a) as usize] = next;
                next += 1;
            }
        }
        let (policy_order, policy_new) = by_key(
            (0..m.policies.len() as u32).map(PolicyId).collect(),
            |x| x.index(),
            |x| m.policies[x.index()].id.as_str(),
            m.policies.len(),
        );
        let (dim_order, dim_new) = by_key(
            (0..m.dimensions.len() as u32).map(DimId).collect(),
            |x| x.index(),
            |x| m.dimensions[x.index()].id.as_str(),
            m.dimensions.len(),
        );
        let (res_order, res_new) = by_key(
            (0..m.resources.len() as u32)
                .map(ResId)
                .filter(|q| m.resources[q.index()].org.is_none_or(inside))
                .collect(),
            |x| x.index(),
            |x| m.resources[x.index()].id.as_str(),
            m.resources.len(),
        );
        Canon {
            org_pre,
            org_end,
            org_order,
            user_order,
            role_new,
            role_order,
            module_new,
            module_order,
            perm_new,
            policy_new,
            policy_order,
            dim_new,
            dim_order,
            res_new,
            res_order,
        }
    }

    /// Org `o`'s preorder position (`NONE` when left out).
    pub fn pre(&self, o: OrgId) -> u32 {
        self.org_pre[o.index()]
    }

    /// Is org `o` in the table?
    pub fn has_org(&self, o: OrgId) -> bool {
        self.org_pre[o.index()] != NONE
    }

    /// Role `r`'s number (`NONE` when left out).
    pub fn role(&self, r: RoleId) -> u32 {
        self.role_new[r.index()]
    }

    /// Is role `r` in the table?
    pub fn has_role(&self, r: RoleId) -> bool {
        self.role_new[r.index()] != NONE
    }
}
