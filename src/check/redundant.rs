//! W104: an assignment that another single assignment already implies
//! (SPEC §14.7). Automatic rules never make an assignment redundant.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use fixedbitset::FixedBitSet;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;

/// Role closures asked for again and again (one per candidate pair), kept
/// by identity type and role: a few thousand sets instead of millions,
/// each found by index (no hashing of type names per question).
struct Closures<'m> {
    /// Per user, the index of its identity type in `types`.
    type_of_user: &'m [u32],
    types: &'m [&'m str],
    nroles: usize,
    /// By type and role: that role's closure for that type.
    by_identity: Memo,
    /// By role: its closure whatever the type.
    any: &'m AnyClosures,
}

/// Every role's closure whatever the identity type, as a short sorted
/// list: asked once per candidate pair (millions at M), so shared by the
/// workers instead of kept by each. Each is computed when first asked (a
/// set may hold long chains of roles, few of them assigned).
struct AnyClosures(Vec<OnceLock<Box<[RoleId]>>>);

impl AnyClosures {
    fn new(m: &Model) -> AnyClosures {
        AnyClosures((0..m.roles.len()).map(|_| OnceLock::new()).collect())
    }

    /// Does `rb` give `ra` for some identity type?
    fn holds(&self, m: &Model, rb: RoleId, ra: RoleId) -> bool {
        self.0[rb.index()]
            .get_or_init(|| m.closure_any(rb).into_iter().collect())
            .binary_search(&ra)
            .is_ok()
    }
}

/// Closures by `type * nroles + role`: in a vector while types × roles is
/// small (the usual case: a handful of types), in a map otherwise, so that
/// a set with thousands of identity types costs no more memory than the
/// closures it asks for.
enum Memo {
    Dense(Vec<Option<FixedBitSet>>),
    Sparse(HashMap<usize, FixedBitSet>),
}

/// The most cells a dense memo has (a few megabytes).
const DENSE_CELLS: usize = 1 << 16;

impl<'m> Closures<'m> {
    fn new(
        m: &Model,
        type_of_user: &'m [u32],
        types: &'m [&'m str],
        any: &'m AnyClosures,
    ) -> Closures<'m> {
        let nroles = m.roles.len();
        Closures {
            type_of_user,
            types,
            nroles,
            by_identity: match types.len().checked_mul(nroles) {
                Some(cells) if cells <= DENSE_CELLS => Memo::Dense(vec![None; cells]),
                _ => Memo::Sparse(HashMap::default()),
            },
            any,
        }
    }

    fn bits(nroles: usize, roles: BTreeSet<RoleId>) -> FixedBitSet {
        let mut bits = FixedBitSet::with_capacity(nroles);
        for r in roles {
            bits.insert(r.index());
        }
        bits
    }

    /// Does `rb`, held by user `u`, give `ra` (its closure for `u`'s type)?
    fn holds(&mut self, m: &Model, u: UserId, rb: RoleId, ra: RoleId) -> bool {
        let t = self.type_of_user[u.index()] as usize;
        let (nroles, types) = (self.nroles, self.types);
        let make = || Self::bits(nroles, m.closure(types[t], [rb]));
        let cell = t * nroles + rb.index();
        let closure = match &mut self.by_identity {
            Memo::Dense(cells) => cells[cell].get_or_insert_with(make),
            Memo::Sparse(map) => map.entry(cell).or_insert_with(make),
        };
        closure.contains(ra.index())
    }

    /// Does `rb` give `ra` for some identity type?
    fn holds_any(&self, m: &Model, rb: RoleId, ra: RoleId) -> bool {
        self.any.holds(m, rb, ra)
    }
}

pub fn check(m: &Model, diags: &mut Diagnostics) {
    // Users in preorder of their home org: the members of a subtree are a
    // contiguous run, found by binary search.
    let mut by_home: Vec<(u32, UserId)> = (0..m.users.len())
        .map(|u| (m.pre[m.users[u].home.index()], UserId(u as u32)))
        .collect();
    by_home.sort_unstable();
    let by_home = &by_home;
    // Identity types by index, and each user's.
    let mut types: Vec<&str> = m.users.iter().map(|u| u.identity.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    let type_of_user: Vec<u32> = m
        .users
        .iter()
        .map(|u| types.binary_search(&u.identity.as_str()).unwrap_or(0) as u32)
        .collect();
    let (types, type_of_user) = (&types, &type_of_user);
    let any = &AnyClosures::new(m);
    // The grants alone, side by side: most candidates are ruled out by
    // their grant, read here instead of from an assignment each.
    let grants: Vec<Grant> = m.assignments.iter().map(|a| a.grant).collect();
    let grants = &grants;
    // Assignments are independent of one another here: each worker keeps
    // its own cache, findings come back in assignment order.
    use rayon::prelude::*;
    let run = m
        .assignments
        .len()
        .div_ceil(8 * rayon::current_num_threads())
        .max(1);
    let found: Vec<Diagnostics> = (0..m.assignments.len())
        .into_par_iter()
        .step_by(run)
        .map_init(
            || Closures::new(m, type_of_user, types, any),
            |memo, start| {
                let mut d = Diagnostics::default();
                for ai in start..(start + run).min(m.assignments.len()) {
                    check_one(m, by_home, grants, ai, memo, &mut d);
                }
                d
            },
        )
        .collect();
    for d in found {
        diags.extend(d);
    }
}

fn check_one(
    m: &Model,
    by_home: &[(u32, UserId)],
    grants: &[Grant],
    ai: usize,
    memo: &mut Closures<'_>,
    diags: &mut Diagnostics,
) {
    let a = &m.assignments[ai];
    if let Grant::Role(r) = a.grant {
        if !m.role(r).active {
            return;
        }
    }
    // What gives nothing is implied by anything, vacuously: not W104.
    if gives_nothing(m, by_home, a) {
        return;
    }
    let home = match a.target {
        Target::User(u) => m.user(u).home,
        Target::Org => a.org,
    };
    let own: &[AssignmentId] = match a.target {
        Target::User(u) => &m.user_assignments[u.index()],
        Target::Org => &[],
    };
    let mut implies = |bi: AssignmentId| {
        if bi.index() == ai {
            return false;
        }
        // Most candidates give something else: their grant rules them out.
        let same_grant = match (a.grant, grants[bi.index()]) {
            (Grant::Policy(pa), Grant::Policy(pb)) => pa == pb,
            (Grant::Role(ra), Grant::Role(rb)) => ra == rb || memo.holds_any(m, rb, ra),
            _ => false,
        };
        if !same_grant {
            return false;
        }
        let b = &m.assignments[bi.index()];
        covers(m, memo, b, a) && (!covers(m, memo, a, b) || a.order > b.order)
    };
    // The candidates: the user's own assignments, then those of the orgs
    // from its home up (plain loops: millions of them at M).
    let mut implied_by = own.iter().copied().find(|&bi| implies(bi));
    let mut org = Some(home);
    while let (None, Some(o)) = (implied_by, org) {
        implied_by = m.org_assignments[o.index()]
            .iter()
            .copied()
            .find(|&bi| implies(bi));
        org = m.orgs[o.index()].parent;
    }
    if let Some(bi) = implied_by {
        let b = &m.assignments[bi.index()];
        let what = match a.grant {
            Grant::Role(r) => format!("role `{}`", m.role_display(r)),
            Grant::Policy(p) => format!("policy `{}`", m.policies[p.index()].id),
        };
        diags.push(
            Diagnostic::new(
                Code::W104,
                a.span,
                format!("assignment of {what} is already implied by another assignment"),
            )
            .with_label("redundant")
            .with_secondary(
                b.span,
                "this assignment already gives it to the same users at the same orgs",
            )
            .with_help("remove the redundant assignment"),
        );
    }
}

/// Does `a` give its role (or policy) to no user at any org: no member of
/// its org that the role allows, or the role published nowhere it reaches?
fn gives_nothing(m: &Model, by_home: &[(u32, UserId)], a: &Assignment) -> bool {
    let role = match a.grant {
        Grant::Role(r) => Some(r),
        Grant::Policy(_) => None,
    };
    let allowed = |u: UserId| role.is_none_or(|r| m.role(r).allows_identity(&m.user(u).identity));
    let someone = match a.target {
        Target::User(u) => allowed(u),
        Target::Org => {
            let (lo, hi) = (m.pre[a.org.index()], m.end[a.org.index()]);
            let start = by_home.partition_point(|(p, _)| *p < lo);
            by_home[start..]
                .iter()
                .take_while(|(p, _)| *p < hi)
                .any(|(_, u)| allowed(*u))
        }
    };
    let Some(r) = role else {
        return !someone;
    };
    !someone || !publication_points(m, a, &[r]).any(|x| m.published(r, x))
}

/// The orgs where publication of `roles` can change inside what `a`
/// reaches: its org, and (when inherited) every publication entry and
/// custom-role owner below it. Publication is constant between them.
fn publication_points<'m>(
    m: &'m Model,
    a: &'m Assignment,
    roles: &'m [RoleId],
) -> impl Iterator<Item = OrgId> + 'm {
    let below = roles.iter().filter(move |_| a.inherit).flat_map(move |r| {
        let entries = m.publications[r.index()]
            .keys()
            .copied()
            .filter(move |o| m.in_subtree(*o, a.org));
        let owner = match m.role(*r).owner {
            Scope::Org(o) if m.in_subtree(o, a.org) => Some(o),
            _ => None,
        };
        entries.chain(owner)
    });
    std::iter::once(a.org).chain(below)
}

/// Does `b` alone give `a`'s role (or policy) to every user `a` reaches, at
/// every org where `a` counts?
fn covers(m: &Model, memo: &mut Closures<'_>, b: &Assignment, a: &Assignment) -> bool {
    // Users: a's users must be b's users.
    let users_ok = match (a.target, b.target) {
        (Target::User(ua), Target::User(ub)) => ua == ub,
        (Target::User(ua), Target::Org) => m.in_subtree(m.user(ua).home, b.org),
        (Target::Org, Target::Org) => m.in_subtree(a.org, b.org),
        (Target::Org, Target::User(_)) => false,
    };
    if !users_ok {
        return false;
    }
    // Resources: b's must contain a's on every dimension (absent meaning
    // every resource).
    let named = a
        .resources
        .entries()
        .iter()
        .chain(b.resources.entries())
        .map(|(d, _)| *d);
    if !named
        .into_iter()
        .all(|d| a.resources.within(&b.resources, d))
    {
        return false;
    }
    // Orgs: a's reach inside b's reach.
    let a_is_leaf = m.children[a.org.index()].is_empty();
    let reach_ok = (a.org == b.org || (b.inherit && m.in_subtree(a.org, b.org)))
        && (!a.inherit || b.inherit || a_is_leaf);
    if !reach_ok {
        return false;
    }
    match (a.grant, b.grant) {
        (Grant::Policy(pa), Grant::Policy(pb)) => pa == pb,
        (Grant::Role(ra), Grant::Role(rb)) => {
            let role_b = m.role(rb);
            if !role_b.active {
                return false;
            }
            let holds = match a.target {
                Target::User(u) => memo.holds(m, u, rb, ra),
                Target::Org => {
                    let (ta, tb) = (&m.role(ra).identity_types, &role_b.identity_types);
                    let types_ok = match (ta, tb) {
                        (_, None) => true,
                        (None, Some(_)) => false,
                        (Some(ta), Some(tb)) => ta.iter().all(|t| tb.contains(t)),
                    };
                    types_ok && memo.holds_any(m, rb, ra)
                }
            };
            if !holds {
                return false;
            }
            if ra == rb {
                return true;
            }
            // Where a's role counts, b's role must be published too. Both are
            // constant between publication boundaries, so test only those.
            publication_points(m, a, &[ra, rb]).all(|x| !m.published(ra, x) || m.published(rb, x))
        }
        _ => false,
    }
}
