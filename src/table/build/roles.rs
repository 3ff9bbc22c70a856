//! The role section: names and flags, assigners, identity types, and per
//! identity type and role the closure under `includes` with the
//! permissions it gives (free ones as one set, restricted ones as parts).

use super::{bits, numbering::Canon, resources::Restrictions, strings::Strings, Pool};
use crate::model::*;
use trellis_table::{TableData, FLAG_ACTIVE, FLAG_LOCKED, FLAG_SELF_SERVICE, NONE};

/// The identity types, sorted, with each one's number.
pub(super) struct Identities {
    pub index: HashMap<String, u32>,
    pub width: u32,
}

pub(super) fn build(
    m: &Model,
    c: &Canon,
    s: &mut Strings,
    d: &mut TableData,
    restrictions: &mut Restrictions,
) -> Identities {
    for &id in &c.role_order {
        let r = m.role(id);
        d.role_name.push(s.id(&r.name));
        d.role_qualified.push(s.id(&m.role_qualified(id)));
        d.role_display.push(s.id(&m.role_display(id)));
        let flag = |on: bool, f: u32| if on { f } else { 0 };
        d.role_flags.push(
            flag(r.active, FLAG_ACTIVE)
                | flag(r.locked, FLAG_LOCKED)
                | flag(r.self_service, FLAG_SELF_SERVICE),
        );
        d.role_approval
            .push(r.approval.as_deref().map(|a| s.id(a)).unwrap_or(NONE));
        d.assignable_start.push(d.assignable_by.len() as u32);
        let mut by: Vec<u32> = r.assignable_by.iter().map(|q| c.role(*q)).collect();
        by.sort_unstable();
        by.dedup();
        d.assignable_by.extend(by);
    }
    d.assignable_start.push(d.assignable_by.len() as u32);

    // Identity types, and per identity the closure of every role.
    let mut identities: Vec<&str> = m.users.iter().map(|u| u.identity.as_str()).collect();
    identities.sort();
    identities.dedup();
    if identities.is_empty() {
        identities.push("employee");
    }
    let identity_words = identities.len().div_ceil(64).max(1);
    let width = match identities.len() {
        0..=256 => 1,
        257..=65_536 => 2,
        _ => 4,
    };
    d.identity_name = identities.iter().map(|t| s.id(t)).collect();
    for &id in &c.role_order {
        let r = m.role(id);
        let allowed = identities
            .iter()
            .enumerate()
            .filter(|(_, t)| r.allows_identity(t))
            .map(|(i, _)| i);
        d.role_identity.extend(bits(identity_words, allowed));
    }

    // A role's own permissions split by its own restriction: free ones (of
    // no dimension it names), and restricted ones.
    let dimension_of = |p: usize| m.modules[m.perms[p].0.index()].dimension;
    let split: Vec<(Vec<usize>, Vec<usize>)> = m
        .roles
        .iter()
        .map(|r| {
            r.perms
                .ones()
                .partition(|p| dimension_of(*p).is_none_or(|x| !r.resources.names(x)))
        })
        .collect();
    let nroles = m.roles.len();
    let mut role_pool = Pool::new(nroles);
    let mut perm_pool = Pool::new(m.perms.len());
    let perm_set = |pool: &mut Pool, perms: &mut dyn Iterator<Item = usize>| {
        let set = bits(pool.words, perms.map(|p| c.perm_new[p] as usize));
        pool.id(&set)
    };
    d.closure_part_start.push(0);
    for t in &identities {
        for &id in &c.role_order {
            let r = m.role(id);
            if !r.active || !r.allows_identity(t) {
                d.closure_roles.push(NONE);
                d.closure_perms.push(NONE);
                d.closure_part_start
                    .push((d.closure_parts.len() / 2) as u32);
                continue;
            }
            // In a split table, only the roles it holds (a tenant's roles
            // include only roles it can see: the provider's and its own).
            let mut held = m.closure(t, [id]);
            held.retain(|h| c.has_role(*h));
            d.closure_roles.push(role_pool.id(&bits(
                role_pool.words,
                held.iter().map(|h| c.role(*h) as usize),
            )));
            let mut free = held.iter().flat_map(|h| split[h.index()].0.iter().copied());
            d.closure_perms.push(perm_set(&mut perm_pool, &mut free));
            let mut parts: Vec<[u32; 2]> = held
                .iter()
                .filter(|h| !split[h.index()].1.is_empty())
                .map(|h| {
                    let set = perm_set(&mut perm_pool, &mut split[h.index()].1.iter().copied());
                    [set, restrictions.id(c, &m.role(*h).resources)]
                })
                .collect();
            parts.sort_unstable();
            parts.dedup();
            d.closure_parts.extend(parts.concat());
            d.closure_part_start
                .push((d.closure_parts.len() / 2) as u32);
        }
    }
    d.role_pool = role_pool.data;
    d.perm_pool = perm_pool.data;
    Identities {
        index: identities
            .iter()
            .enumerate()
            .map(|(i, t)| ((*t).to_owned(), i as u32))
            .collect(),
        width,
    }
}
