//! The resources section: dimensions, resources with their dimension and
//! org, the resources of each org, and the restriction pool that roles,
//! restricted grants and closure parts point into.

use super::{numbering::Canon, strings::Strings};
use crate::model::{HashMap, Model, Restriction};
use trellis_table::{TableData, NONE};

/// A restriction in canonical numbering.
pub(super) type Key = Vec<(u32, Vec<u32>)>;

/// Deduplicated restrictions, in canonical numbering: per restriction its
/// `(dimension, sorted resources)` entries, sorted by dimension.
#[derive(Default)]
pub(super) struct Restrictions {
    list: Vec<Key>,
    index: HashMap<Key, u32>,
    /// Restricted grant items: `(role, restriction)` pairs.
    items: Vec<[u32; 2]>,
    item_index: HashMap<[u32; 2], u32>,
}

impl Restrictions {
    /// `r` in canonical numbering: its entries by dimension, each with its
    /// resources sorted.
    pub fn key(c: &Canon, r: &Restriction) -> Key {
        let mut key: Key = r
            .entries()
            .iter()
            .map(|(dim, list)| {
                // Resources another top-level org's split table holds are
                // left out here (they cannot be asked about in this one).
                let mut v: Vec<u32> = list
                    .iter()
                    .map(|q| c.res_new[q.index()])
                    .filter(|q| *q != NONE)
                    .collect();
                v.sort_unstable();
                v.dedup();
                (c.dim_new[dim.index()], v)
            })
            .collect();
        key.sort();
        key
    }

    /// The id of `r` (`NONE` when it names no dimension).
    pub fn id(&mut self, c: &Canon, r: &Restriction) -> u32 {
        if r.is_empty() {
            return NONE;
        }
        self.id_of(Restrictions::key(c, r))
    }

    /// The id of a restriction in canonical numbering.
    pub fn id_of(&mut self, key: Key) -> u32 {
        if let Some(i) = self.index.get(&key) {
            return *i;
        }
        let id = self.list.len() as u32;
        self.list.push(key.clone());
        self.index.insert(key, id);
        id
    }

    /// The index of the restricted grant item `(role, restriction)`.
    pub fn item(&mut self, role: u32, restriction: u32) -> u32 {
        let key = [role, restriction];
        if let Some(i) = self.item_index.get(&key) {
            return *i;
        }
        let id = self.items.len() as u32;
        self.items.push(key);
        self.item_index.insert(key, id);
        id
    }

    /// Writes the pool and the restricted items.
    pub fn write(self, d: &mut TableData) {
        d.restr_start.push(0);
        for entries in &self.list {
            for (dim, list) in entries {
                let start = d.restr_res.len() as u32;
                d.restr_res.extend(list);
                d.restr_entries
                    .extend([*dim, start, d.restr_res.len() as u32]);
            }
            d.restr_start.push((d.restr_entries.len() / 3) as u32);
        }
        d.restricted_items = self.items.concat();
    }
}

pub(super) fn build(
    m: &Model,
    c: &Canon,
    s: &mut Strings,
    d: &mut TableData,
    restrictions: &mut Restrictions,
) {
    for x in &c.dim_order {
        d.dim_name.push(s.id(&m.dimensions[x.index()].id));
    }
    let mut of_org: Vec<Vec<u32>> = vec![Vec::new(); c.org_order.len()];
    for (i, q) in c.res_order.iter().enumerate() {
        let res = &m.resources[q.index()];
        d.res_name.push(s.id(&res.id));
        d.res_dim.push(c.dim_new[res.dim.index()]);
        d.res_org.push(res.org.map_or(NONE, |o| c.pre(o)));
        if let Some(o) = res.org {
            of_org[c.pre(o) as usize].push(i as u32);
        }
    }
    // Per org, its resources; a set without resources has no such index
    // (one item per org would make its table larger than it need be).
    if !c.res_order.is_empty() {
        d.org_res_start.push(0);
        for list in of_org {
            d.org_res.extend(list);
            d.org_res_start.push(d.org_res.len() as u32);
        }
    }
    // Roles' own restrictions and required dimensions, in role order.
    d.role_req_start.push(0);
    for &r in &c.role_order {
        let role = m.role(r);
        d.role_restr.push(restrictions.id(c, &role.resources));
        let mut req: Vec<u32> = crate::resolve::required_dimensions(m, r)
            .iter()
            .map(|x| c.dim_new[x.index()])
            .collect();
        req.sort_unstable();
        d.role_req.extend(req);
        d.role_req_start.push(d.role_req.len() as u32);
    }
}
