//! The grant section: `(lo, hi, item)` triples, org grants once per org
//! and flattened per org into member lists, each user's own grants (its
//! assignments and the automatic rules that match it), and the user
//! records that find both.

use rayon::prelude::*;

use super::resources::{Key, Restrictions};
use super::{numbering::Canon, roles::Identities, strings::Strings};
use crate::model::*;
use crate::source::{SourceMap, Span};
use trellis_table::{TableData, LOCKED_BIT, NONE, POLICY_BIT, RESTRICTED_BIT};

/// What the earlier sections give this one.
pub(super) struct Context<'a> {
    /// Each org's publication set, by preorder position.
    pub pubsets: &'a [u32],
    pub identities: &'a Identities,
}

/// Grants `(lo, hi, item)` with the span that wrote each.
type SourcedGrants = Vec<([u32; 3], Span)>;

pub(super) fn build(
    m: &Model,
    c: &Canon,
    sources: &SourceMap,
    s: &mut Strings,
    d: &mut TableData,
    restrictions: &mut Restrictions,
    cx: Context<'_>,
) {
    let provenance = d.provenance;
    let loc = |span: Span| {
        let (start, _) = sources.line_col(span);
        format!("{}:{}", sources.path(span.file), start.line)
    };
    // Restricted grant items, numbered in canonical order (by role, then
    // restriction) before the parallel part, so that the numbers depend
    // neither on file order nor on the order users are visited in.
    let mut keyed: Vec<(u32, Key)> = m
        .assignments
        .iter()
        .filter_map(|a| match a.grant {
            Grant::Role(r) if !a.resources.is_empty() && c.has_role(r) => {
                Some((c.role(r), Restrictions::key(c, &a.resources)))
            }
            _ => None,
        })
        .chain(m.rules.iter().flat_map(|rule| {
            rule.grants
                .iter()
                .filter(|g| !g.resources.is_empty())
                .flat_map(|g| {
                    g.roles
                        .iter()
                        .filter(|(r, _)| c.has_role(*r))
                        .map(|(r, _)| (c.role(*r), Restrictions::key(c, &g.resources)))
                })
        }))
        .collect();
    keyed.sort();
    keyed.dedup();
    let items: HashMap<(u32, Key), u32> = keyed
        .into_iter()
        .map(|(role, key)| {
            let k = restrictions.id_of(key.clone());
            ((role, key), restrictions.item(role, k))
        })
        .collect();
    let item = |g: Grant, locked: bool, r: &Restriction| {
        let base = match g {
            Grant::Policy(p) => c.policy_new[p.index()] | POLICY_BIT,
            Grant::Role(role) if r.is_empty() => c.role(role),
            // Every restricted grant was numbered above.
            Grant::Role(role) => {
                items
                    .get(&(c.role(role), Restrictions::key(c, r)))
                    .copied()
                    .unwrap_or(0)
                    | RESTRICTED_BIT
            }
        };
        if locked {
            base | LOCKED_BIT
        } else {
            base
        }
    };
    // Whether a grant's role is in the table (every role, but in a split
    // table only the provider's and the tenant's own).
    let in_table = |g: Grant| match g {
        Grant::Role(r) => c.has_role(r),
        Grant::Policy(_) => true,
    };
    let reach = |o: OrgId, inherit: bool| {
        let lo = c.pre(o);
        (
            lo,
            if inherit {
                c.org_end[o.index()]
            } else {
                lo + 1
            },
        )
    };

    // Org grants, once per org, sorted (with their provenance) and
    // deduplicated.
    let n_orgs = m.orgs.len();
    let mut list: Vec<([u32; 3], u32)> = Vec::new();
    d.org_grant_start = Vec::with_capacity(n_orgs + 1);
    for &o in &c.org_order {
        d.org_grant_start.push((d.org_grants.len() / 3) as u32);
        for a in &m.org_assignments[o.index()] {
            let a = &m.assignments[a.index()];
            if !in_table(a.grant) {
                continue;
            }
            let (lo, hi) = reach(a.org, a.inherit);
            let src = if provenance { s.id(&loc(a.span)) } else { NONE };
            list.push(([lo, hi, item(a.grant, a.locked, &a.resources)], src));
        }
        list.sort_unstable();
        list.dedup_by(|a, b| a.0 == b.0);
        for (g, src) in list.drain(..) {
            d.org_grants.extend(g);
            if provenance {
                d.org_grant_source.push(src);
            }
        }
    }
    d.org_grant_start.push((d.org_grants.len() / 3) as u32);

    // Users: their own assignments and the automatic rules that match them,
    // computed on every core (each user's grants are independent), then
    // written in canonical order. The rules that can match a user depend
    // on the home org alone: found once per org.
    let candidates: Vec<Vec<u32>> = (0..n_orgs as u32)
        .into_par_iter()
        .map(|o| m.candidate_rules(OrgId(o)).map(|(i, _)| i as u32).collect())
        .collect();
    let user_grants_of = |u: UserId, out: &mut SourcedGrants| {
        let user = m.user(u);
        let start = out.len();
        for a in &m.user_assignments[u.index()] {
            let a = &m.assignments[a.index()];
            // A grant at an org of another top-level org's subtree has no
            // place in a split table.
            if !c.has_org(a.org) || !in_table(a.grant) {
                continue;
            }
            let (lo, hi) = reach(a.org, a.inherit);
            out.push(([lo, hi, item(a.grant, a.locked, &a.resources)], a.span));
        }
        for rule in candidates[user.home.index()]
            .iter()
            .map(|&i| &m.rules[i as usize])
        {
            if !m.rule_matches(rule, u) {
                continue;
            }
            for g in &rule.grants {
                for t in m.rule_targets(g, user.home) {
                    let (lo, hi) = reach(t, g.inherit);
                    for (r, _) in g.roles.iter().filter(|(r, _)| c.has_role(*r)) {
                        out.push((
                            [lo, hi, item(Grant::Role(*r), rule.locked, &g.resources)],
                            g.span,
                        ));
                    }
                }
            }
        }
        let mine = &mut out[start..];
        mine.sort_unstable();
        let mut kept = start;
        for i in start..out.len() {
            if i == start || out[i].0 != out[kept - 1].0 {
                out[kept] = out[i];
                kept += 1;
            }
        }
        out.truncate(kept);
    };
    // Runs of users, each filling one contiguous grant list.
    let run = c
        .user_order
        .len()
        .div_ceil(4 * rayon::current_num_threads())
        .max(1);
    // Each user's identity type is among those numbered.
    let ident_of = |u: UserId| {
        cx.identities
            .index
            .get(m.user(u).identity.as_str())
            .copied()
            .unwrap_or(0)
    };
    let parts: Vec<_> = c
        .user_order
        .par_chunks(run)
        .map(|users| {
            let mut grants = Vec::new();
            let mut ends = Vec::with_capacity(users.len());
            let mut idents = Vec::with_capacity(users.len());
            for &u in users {
                user_grants_of(u, &mut grants);
                ends.push(grants.len() as u32);
                idents.push(ident_of(u));
            }
            (ends, idents, grants)
        })
        .collect();

    // Per org: its publication set and the org grants (of it and every
    // ancestor) that reach users homed there, flattened so that a decision
    // needs no walk up the tree, and shared between orgs with the same list
    // (an org without grants of its own has its parent's). Built in
    // preorder from the parent's list, so a deep chain costs no walk up.
    let mut lists: HashMap<Vec<u32>, (u32, u32)> = HashMap::default();
    let mut member_range: Vec<(u32, u32)> = Vec::with_capacity(n_orgs);
    for (i, &o) in c.org_order.iter().enumerate() {
        let (s0, s1) = (
            d.org_grant_start[i] as usize,
            d.org_grant_start[i + 1] as usize,
        );
        let parent = m
            .org(o)
            .parent
            .and_then(|p| member_range.get(c.pre(p) as usize).copied());
        let (start, end) = match parent {
            Some(range) if s0 == s1 => range,
            _ => {
                let mut list = Vec::new();
                if let Some((p0, p1)) = parent {
                    list.extend_from_slice(&d.member_grants[p0 as usize * 3..p1 as usize * 3]);
                }
                list.extend_from_slice(&d.org_grants[s0 * 3..s1 * 3]);
                // Sorted by `lo`, so that a decision stops scanning past `x`.
                let mut triples: Vec<[u32; 3]> = list.as_chunks::<3>().0.to_vec();
                triples.sort_unstable();
                let list: Vec<u32> = triples.concat();
                *lists.entry(list).or_insert_with_key(|list| {
                    let start = (d.member_grants.len() / 3) as u32;
                    d.member_grants.extend_from_slice(list);
                    let end = (d.member_grants.len() / 3) as u32;
                    d.member_grants.extend([NONE; 3]);
                    (start, end)
                })
            }
        };
        member_range.push((start, end));
        d.org_rec.extend([cx.pubsets[i], start, end]);
    }

    // User names one after another, in user order (see `user_name_first`).
    for (i, &u) in c.user_order.iter().enumerate() {
        let name = s.push_unindexed(&m.user(u).id);
        if i == 0 {
            d.user_name_first = name;
        }
    }
    d.ident_width = cx.identities.width;
    let width = cx.identities.width as usize;
    let users = c.user_order.len();
    d.user_home.reserve(users);
    d.user_rec.reserve(users * 2 + 2);
    d.user_ident.reserve(users * width);
    d.user_grants
        .reserve(parts.iter().map(|(_, _, g)| g.len() * 3).sum());
    let mut next_user = c.user_order.iter();
    for (ends, idents, grants) in parts {
        let mut from = 0usize;
        for (end, ident) in ends.into_iter().zip(idents) {
            let Some(&u) = next_user.next() else { break };
            let home = c.pre(m.user(u).home);
            d.user_home.push(home);
            d.user_rec.push((d.user_grants.len() / 3) as u32);
            d.user_rec.push(member_range[home as usize].0);
            d.user_ident
                .extend_from_slice(&ident.to_le_bytes()[..width]);
            for (g, span) in &grants[from..end as usize] {
                d.user_grants.extend(g);
                if provenance {
                    d.user_grant_source.push(s.id(&loc(*span)));
                }
            }
            from = end as usize;
        }
    }
    d.user_rec.push((d.user_grants.len() / 3) as u32);
    d.user_rec.push(0);
}
