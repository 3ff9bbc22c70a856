//! An optional index from names to handles, for callers that resolve names
//! on every question (a server, a language binding): a hash lookup instead
//! of a binary search over strings. Built from a table in time linear in
//! its names, it holds 64-bit hashes and handles only (about 16 bytes per
//! name), and every hit is checked against the table's own string, so a
//! collision can cost a binary search but never a wrong answer.

use std::collections::HashMap;

use crate::{Org, Perm, Resource, Table, User};

/// A multiply-rotate hash eight bytes at a time (as FxHash does): names
/// are the set's own ids, not keys an attacker chooses, and a collision
/// only falls back to the binary search.
#[inline]
fn hash(s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let bytes = s.as_bytes();
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^ (h >> 29)
}

/// The bytes of the name `names[i]` (empty when out of range).
#[inline]
fn name_bytes<'t>(t: &'t Table, names: &[u32], i: u32) -> &'t [u8] {
    t.d()
        .string(names.get(i as usize).copied().unwrap_or(crate::NONE))
}

/// Marks a hash that two names share: look it up the slow way.
const SHARED: u32 = u32::MAX;

#[derive(Default)]
struct Map(HashMap<u64, u32, std::hash::BuildHasherDefault<Identity>>);

/// The hash is already a hash: pass it through.
#[derive(Default)]
struct Identity(u64);

impl std::hash::Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Map {
    fn build<'t>(names: impl Iterator<Item = (u32, &'t str)>) -> Map {
        let mut m = Map::default();
        for (handle, name) in names {
            m.0.entry(hash(name))
                .and_modify(|h| *h = SHARED)
                .or_insert(handle);
        }
        m
    }

    /// The handle under `name`'s hash, or `None` when no name has it, or
    /// `Some(SHARED)`.
    fn get(&self, name: &str) -> Option<u32> {
        self.0.get(&hash(name)).copied()
    }
}

/// The handles of `ids` in `map`, in stages (see [`NameIndex::users`]):
/// `name` is a handle's name in the table, `slow` the lookup for a hash
/// two names share.
fn staged<'t>(
    map: &Map,
    ids: &[&str],
    name: impl Fn(u32) -> &'t [u8],
    slow: impl Fn(&str) -> Option<u32>,
) -> Vec<Option<u32>> {
    let hashes: Vec<u64> = ids.iter().map(|id| hash(id)).collect();
    let found: Vec<Option<u32>> = hashes.iter().map(|h| map.0.get(h).copied()).collect();
    // Where each hit's name is, then the names compared: two loops, so
    // that the misses on the offsets overlap, and then those on the text.
    let names: Vec<Option<(u32, &[u8])>> = found
        .iter()
        .map(|hit| hit.map(|h| (h, if h == SHARED { &[][..] } else { name(h) })))
        .collect();
    ids.iter()
        .zip(names)
        .map(|(id, hit)| match hit? {
            (SHARED, _) => slow(id),
            (h, text) => (text == id.as_bytes()).then_some(h),
        })
        .collect()
}

/// Names to handles for one table (see the module documentation). Use it
/// with the table it was built from.
#[derive(Default)]
pub struct NameIndex {
    users: Map,
    orgs: Map,
    perms: Map,
    resources: Map,
}

impl NameIndex {
    /// Indexes every user, org, permission and resource of `t`.
    pub fn new(t: &Table) -> NameIndex {
        let d = t.d();
        NameIndex {
            users: Map::build((0..t.user_count() as u32).map(|u| (u, d.user_name(u)))),
            orgs: Map::build((0..t.org_count() as u32).map(|o| (o, t.org_name(Org(o))))),
            perms: Map::build(
                (0..d.perm_module.len() as u32)
                    .map(|p| (p, t.perm_name(Perm(p))))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|(p, n)| (*p, n.as_str())),
            ),
            resources: Map::build(
                (0..d.res_name.len() as u32).map(|q| (q, t.resource_name(Resource(q)))),
            ),
        }
    }

    /// As [`Table::user`].
    #[inline]
    pub fn user(&self, t: &Table, id: &str) -> Option<User> {
        match self.users.get(id)? {
            SHARED => t.user(id),
            u => (t.d().user_name_bytes(u) == id.as_bytes()).then_some(User(u)),
        }
    }

    /// As [`NameIndex::user`] for every name of `ids`, in order. The work
    /// is done in stages over the whole list (hash every name, probe the
    /// index for every hash, find every hit's name in the table, then
    /// compare): each stage is a short loop whose iterations do not depend
    /// on one another, so the processor has many of the cache misses of a
    /// large table in flight at once instead of one question's at a time.
    pub fn users(&self, t: &Table, ids: &[&str]) -> Vec<Option<User>> {
        let d = t.d();
        staged(
            &self.users,
            ids,
            |u| d.user_name_bytes(u),
            |id| t.user(id).map(|u| u.0),
        )
        .into_iter()
        .map(|u| u.map(User))
        .collect()
    }

    /// As [`NameIndex::org`] for every name of `ids`, in order, in stages
    /// as [`NameIndex::users`].
    pub fn orgs(&self, t: &Table, ids: &[&str]) -> Vec<Option<Org>> {
        let d = t.d();
        staged(
            &self.orgs,
            ids,
            |o| name_bytes(t, d.org_name, o),
            |id| t.org(id).map(|o| o.0),
        )
        .into_iter()
        .map(|o| o.map(Org))
        .collect()
    }

    /// As [`Table::org`].
    #[inline]
    pub fn org(&self, t: &Table, id: &str) -> Option<Org> {
        match self.orgs.get(id)? {
            SHARED => t.org(id),
            o => (name_bytes(t, t.d().org_name, o) == id.as_bytes()).then_some(Org(o)),
        }
    }

    /// As [`Table::permission`].
    #[inline]
    pub fn permission(&self, t: &Table, text: &str) -> Option<Perm> {
        match self.perms.get(text)? {
            SHARED => t.permission(text),
            p => t.perm_is(Perm(p), text).then_some(Perm(p)),
        }
    }

    /// The org a question is asked at: `org` when given (and not empty),
    /// else the resource's own org (`None`: an unknown name, or a resource
    /// of no org asked without one).
    pub fn org_of(&self, t: &Table, org: Option<&str>, resource: Option<Resource>) -> Option<Org> {
        match org.filter(|o| !o.is_empty()) {
            Some(o) => self.org(t, o),
            None => resource.and_then(|q| t.resource_org(q)),
        }
    }

    /// A question by names (as the bindings take it) resolved to handles,
    /// or `None` when a name is unknown or no org can be told.
    pub fn question(
        &self,
        t: &Table,
        user: &str,
        permission: &str,
        org: Option<&str>,
        resource: Option<&str>,
    ) -> Option<(User, Perm, Org, Option<Resource>)> {
        let u = self.user(t, user)?;
        let p = self.permission(t, permission)?;
        let q = match resource {
            Some(name) => Some(self.resource(t, name)?),
            None => None,
        };
        Some((u, p, self.org_of(t, org, q)?, q))
    }

    /// As [`Table::resource`].
    #[inline]
    pub fn resource(&self, t: &Table, id: &str) -> Option<Resource> {
        match self.resources.get(id)? {
            SHARED => t.resource(id),
            q => (name_bytes(t, t.d().res_name, q) == id.as_bytes()).then_some(Resource(q)),
        }
    }
}
