//! Resources and restrictions in the table (manual: *Resources and
//! dimensions*): the decision about one resource, the names, and the
//! scope and reach of delegated administration.
//!
//! A grant path is a grant, a role held through it, and a permission among
//! that role's own. Per identity type and role, the table keeps the
//! permissions of the roles held through it that are *free* (no own
//! restriction on the permission's dimension) as one set, and each held
//! role with an own restriction as a *part* `(its restricted permissions,
//! its restriction)`. A path's restriction is the grant's meet the role's.

use crate::data::View;
use crate::{Dimension, Org, Resource, Role, Table, User, NONE, POLICY_BIT};

/// Does a grant of role cell `cell` (identity row + role), with grant
/// restriction `restr`, give the permission `in_perms` tests on dimension
/// `dim`: about resource `q`, or with `None` unrestricted on `dim`?
#[inline]
pub(crate) fn path_allows(
    d: &View<'_>,
    cell: usize,
    free: u32,
    restr: u32,
    dim: u32,
    q: Option<u32>,
    in_perms: &impl Fn(u32) -> bool,
) -> bool {
    let by_grant = if restr == NONE {
        None
    } else {
        d.restriction_on(restr, dim)
    };
    let Some(q) = q else {
        // The whole module: only paths that no restriction narrows.
        return by_grant.is_none() && in_perms(free);
    };
    if by_grant.is_some_and(|list| list.binary_search(&q).is_err()) {
        return false;
    }
    if in_perms(free) {
        return true;
    }
    parts(d, cell).iter().any(|[set, k]| {
        in_perms(*set)
            && d.restriction_on(*k, dim)
                .is_some_and(|list| list.binary_search(&q).is_ok())
    })
}

/// The parts of closure cell `cell`: per held role with an own
/// restriction, its restricted permissions (a set) and that restriction.
pub(crate) fn parts<'a>(d: &View<'a>, cell: usize) -> &'a [[u32; 2]] {
    let (Some(&a), Some(&b)) = (
        d.closure_part_start.get(cell),
        d.closure_part_start.get(cell + 1),
    ) else {
        return &[];
    };
    d.closure_parts
        .get(a as usize * 2..b as usize * 2)
        .unwrap_or(&[])
        .as_chunks::<2>()
        .0
}

/// Does `given` name every dimension role `r` requires (its `dimensions`
/// and those of every role it includes)?
pub(crate) fn names_required(d: &View<'_>, r: Role, given: &[(Dimension, &[Resource])]) -> bool {
    let required = match (
        d.role_req_start.get(r.0 as usize),
        d.role_req_start.get(r.0 as usize + 1),
    ) {
        (Some(&a), Some(&b)) => d.role_req.get(a as usize..b as usize).unwrap_or(&[]),
        _ => &[],
    };
    required
        .iter()
        .all(|dim| given.iter().any(|(g, _)| g.0 == *dim))
}

/// A set of resources of one dimension: every one (including those a later
/// table declares), or these (sorted).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Set {
    Every,
    These(Vec<u32>),
}

impl Set {
    fn of(list: Option<&[u32]>) -> Set {
        match list {
            None => Set::Every,
            Some(v) => Set::These(v.to_vec()),
        }
    }
    fn meet(self, other: Set) -> Set {
        match (self, other) {
            (Set::Every, x) | (x, Set::Every) => x,
            (Set::These(a), Set::These(b)) => Set::These(
                a.into_iter()
                    .filter(|r| b.binary_search(r).is_ok())
                    .collect(),
            ),
        }
    }
    fn join(self, other: Set) -> Set {
        match (self, other) {
            (Set::Every, _) | (_, Set::Every) => Set::Every,
            (Set::These(mut a), Set::These(b)) => {
                a.extend(b);
                a.sort_unstable();
                a.dedup();
                Set::These(a)
            }
        }
    }
    /// An unrestricted reach lies only in an unrestricted scope; an empty
    /// one in every scope.
    fn within(&self, scope: &Set) -> bool {
        match (self, scope) {
            (_, Set::Every) => true,
            (Set::Every, Set::These(_)) => false,
            (Set::These(a), Set::These(b)) => a.iter().all(|r| b.binary_search(r).is_ok()),
        }
    }
}

impl Table {
    /// A resource by id.
    pub fn resource(&self, id: &str) -> Option<Resource> {
        let d = self.d();
        self.find(d.res_name, &[], id).map(Resource)
    }
    /// Resource `q`'s id.
    pub fn resource_name(&self, q: Resource) -> &str {
        let d = self.d();
        d.str_of(d.res_name, q.0)
    }
    /// The org resource `q` belongs to; `None` for a resource of no org,
    /// which is asked about at any org.
    pub fn resource_org(&self, q: Resource) -> Option<Org> {
        let d = self.d();
        d.res_org
            .get(q.0 as usize)
            .filter(|o| **o != NONE)
            .map(|o| Org(*o))
    }
    /// The dimension of resource `q`.
    pub fn resource_dimension(&self, q: Resource) -> Option<Dimension> {
        self.d().res_dim.get(q.0 as usize).map(|d| Dimension(*d))
    }
    /// A dimension by id.
    pub fn dimension(&self, id: &str) -> Option<Dimension> {
        let d = self.d();
        self.find(d.dim_name, &[], id).map(Dimension)
    }
    /// Dimension `dim`'s id.
    pub fn dimension_name(&self, dim: Dimension) -> &str {
        let d = self.d();
        d.str_of(d.dim_name, dim.0)
    }
    /// The resources that can be asked about at `x`: those that belong to
    /// `x`, then those that belong to no org, each by id.
    pub fn resources_at(&self, x: Org) -> Vec<Resource> {
        let d = self.d();
        let own = match (
            d.org_res_start.get(x.0 as usize),
            d.org_res_start.get(x.0 as usize + 1),
        ) {
            (Some(&a), Some(&b)) => d.org_res.get(a as usize..b as usize).unwrap_or(&[]),
            _ => return Vec::new(),
        };
        let unowned =
            (0..d.res_name.len() as u32).filter(|q| d.res_org.get(*q as usize) == Some(&NONE));
        own.iter().copied().chain(unowned).map(Resource).collect()
    }

    /// The resources a restriction allows, by dimension.
    pub(crate) fn restriction(&self, k: u32) -> Vec<(Dimension, Vec<Resource>)> {
        let d = self.d();
        let (Some(&a), Some(&b)) = (
            d.restr_start.get(k as usize),
            d.restr_start.get(k as usize + 1),
        ) else {
            return Vec::new();
        };
        d.restr_entries
            .get(a as usize * 3..b as usize * 3)
            .unwrap_or(&[])
            .as_chunks::<3>()
            .0
            .iter()
            .map(|e| {
                let list = d.restr_res.get(e[1] as usize..e[2] as usize).unwrap_or(&[]);
                (Dimension(e[0]), list.iter().map(|q| Resource(*q)).collect())
            })
            .collect()
    }

    /// Role `r`'s own `resources`, by dimension (empty when it has none).
    pub fn role_resources(&self, r: Role) -> Vec<(Dimension, Vec<Resource>)> {
        match self.d().role_restr.get(r.0 as usize) {
            Some(&k) if k != NONE => self.restriction(k),
            _ => Vec::new(),
        }
    }

    /// Does giving `r` to `u` with `given` reach, on every dimension, only
    /// resources `admin` manages through assigner role `s`, at `x` and at
    /// `u`'s home org?
    pub(crate) fn reach_within_scope(
        &self,
        admin: User,
        s: Role,
        r: Role,
        u: User,
        x: Org,
        given: &[(Dimension, &[Resource])],
    ) -> bool {
        let d = self.d();
        if d.dim_name.is_empty() {
            return true;
        }
        let (Some(ident), Some(home)) = (d.user_identity(u.0), d.user_home(u.0)) else {
            return false;
        };
        let nroles = d.role_count as usize;
        // The roles the target holds through `r`.
        let reach_roles: Vec<u32> =
            match d.closure_roles.get(ident as usize * nroles + r.0 as usize) {
                Some(&set) if set != NONE => (0..d.role_count)
                    .filter(|h| Self::bit(d.role_pool, d.role_words, set, *h))
                    .collect(),
                _ => Vec::new(),
            };
        let given_on = |dim: u32| -> Option<Vec<u32>> {
            given.iter().find(|(g, _)| g.0 == dim).map(|(_, list)| {
                let mut v: Vec<u32> = list.iter().map(|q| q.0).collect();
                v.sort_unstable();
                v.dedup();
                v
            })
        };
        let own_on = |role: u32, dim: u32| -> Option<&[u32]> {
            d.role_restr
                .get(role as usize)
                .filter(|k| **k != NONE)
                .and_then(|k| d.restriction_on(*k, dim))
        };
        (0..d.dim_name.len() as u32).all(|dim| {
            let g = given_on(dim);
            let reach = reach_roles
                .iter()
                .map(|h| Set::of(g.as_deref()).meet(Set::of(own_on(*h, dim))))
                .fold(Set::These(Vec::new()), Set::join);
            [x, Org(home)]
                .iter()
                .all(|y| reach.within(&self.assigner_scope(admin, s, *y, dim)))
        })
    }

    /// What `admin` manages on `dim` at `y` through role `s`: the union,
    /// over the grants through which it holds `s` there, of what the grant
    /// and `s` itself list.
    fn assigner_scope(&self, admin: User, s: Role, y: Org, dim: u32) -> Set {
        let d = self.d();
        let Some(ident) = d.user_identity(admin.0) else {
            return Set::These(Vec::new());
        };
        let own = match d.role_restr.get(s.0 as usize) {
            Some(&k) if k != NONE => Set::of(d.restriction_on(k, dim)),
            _ => Set::Every,
        };
        let nroles = d.role_count as usize;
        let mut scope = Set::These(Vec::new());
        self.for_each_grant(admin, y, |item| {
            if item & POLICY_BIT != 0 {
                return false;
            }
            let (id, restr) = Self::role_item(d, item);
            if !self.published(Role(id), y) {
                return false;
            }
            let holds_s = d
                .closure_roles
                .get((ident as usize * nroles).saturating_add(id as usize))
                .is_some_and(|set| *set != NONE && Self::bit(d.role_pool, d.role_words, *set, s.0));
            if holds_s {
                let by_grant = if restr == NONE {
                    Set::Every
                } else {
                    Set::of(d.restriction_on(restr, dim))
                };
                scope = std::mem::replace(&mut scope, Set::Every).join(by_grant.meet(own.clone()));
            }
            scope == Set::Every
        });
        scope
    }
}
