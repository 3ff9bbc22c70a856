//! The org section: names, parents and subtree ends in preorder, and one
//! deduplicated publication set per org.

use super::{bits, numbering::Canon, strings::Strings, Pool};
use crate::model::*;
use trellis_table::{TableData, NONE};

/// Fills the org arrays and the publication pool; returns each org's
/// publication set, by preorder position.
pub(super) fn build(m: &Model, c: &Canon, s: &mut Strings, d: &mut TableData) -> Vec<u32> {
    for &o in &c.org_order {
        let org = m.org(o);
        d.org_name.push(s.id(&org.id));
        d.org_parent
            .push(org.parent.map(|p| c.pre(p)).unwrap_or(NONE));
        d.org_end.push(c.org_end[o.index()]);
    }
    // Publication: one role set per org, top down (nearest entry wins).
    let n_orgs = m.orgs.len();
    let nroles = m.roles.len();
    let mut entries_at: Vec<Vec<(RoleId, bool)>> = vec![Vec::new(); n_orgs];
    for (ri, entries) in m.publications.iter().enumerate() {
        for (o, e) in entries {
            entries_at[o.index()].push((RoleId(ri as u32), e.publish));
        }
    }
    let mut owned_by: Vec<Vec<RoleId>> = vec![Vec::new(); n_orgs];
    for (ri, r) in m.roles.iter().enumerate() {
        if let Scope::Org(o) = r.owner {
            owned_by[o.index()].push(RoleId(ri as u32));
        }
    }
    let mut pool = Pool::new(nroles);
    let root_default = bits(
        pool.words,
        m.roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.owner == Scope::Provider && r.published)
            .map(|(i, _)| c.role(RoleId(i as u32)) as usize),
    );
    let set_bit = |v: &mut Vec<u64>, i: usize, on: bool| {
        if let Some(w) = v.get_mut(i / 64) {
            if on {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    };
    let mut org_sets: Vec<Vec<u64>> = vec![Vec::new(); n_orgs];
    let mut pubsets = vec![0u32; n_orgs];
    for &o in &c.org_order {
        let mut set = match m.org(o).parent {
            Some(p) => org_sets[p.index()].clone(),
            None => root_default.clone(),
        };
        for r in &owned_by[o.index()] {
            set_bit(&mut set, c.role(*r) as usize, m.role(*r).published);
        }
        for (r, publish) in &entries_at[o.index()] {
            set_bit(&mut set, c.role(*r) as usize, *publish);
        }
        pubsets[c.pre(o) as usize] = pool.id(&set);
        org_sets[o.index()] = set;
    }
    d.pub_pool = pool.data;
    pubsets
}
