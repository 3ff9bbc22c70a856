//! Compiles a checked model into the table's arrays, one section at a
//! time: canonical numbering, strings, catalog, resources and
//! restrictions, orgs and publication, roles and closures, then grants.
//! The output is the same, byte for byte, however the input files are
//! named or ordered (provenance strings aside).

mod catalog;
mod grants;
mod numbering;
mod orgs;
mod resources;
mod roles;
mod runs;
mod strings;

use crate::model::{HashMap, Model, OrgId};
use crate::source::SourceMap;
use trellis_table::TableData;

use numbering::Canon;
use resources::Restrictions;
use strings::Strings;

/// Compiles `m` (which must have no errors). With `provenance`, every grant
/// keeps the `file:line` it was written at, for `explain`.
pub fn build(m: &Model, sources: &SourceMap, provenance: bool) -> TableData {
    build_with(m, sources, provenance, None, &|_| {})
}

/// [`build`], telling `stage` as each part starts (`TRELLIS_TIMINGS`).
pub fn build_staged(
    m: &Model,
    sources: &SourceMap,
    provenance: bool,
    stage: &(dyn Fn(&str) + Sync),
) -> TableData {
    build_with(m, sources, provenance, None, stage)
}

/// The table of one top-level org alone (`compile --split`): its subtree,
/// its users with every grant they hold there (the provider's included),
/// the provider's roles and its own, its resources and those of no org.
/// A question about anything else answers deny, its names being unknown.
pub fn build_subtree(m: &Model, sources: &SourceMap, provenance: bool, root: OrgId) -> TableData {
    build_with(m, sources, provenance, Some(root), &|_| {})
}

fn build_with(
    m: &Model,
    sources: &SourceMap,
    provenance: bool,
    only: Option<OrgId>,
    stage: &(dyn Fn(&str) + Sync),
) -> TableData {
    stage("compiling: numbering");
    let c = Canon::new(m, only);
    stage("compiling: the catalog, orgs and roles");
    let mut s = Strings::default();
    let mut d = TableData {
        input_hash: input_hash(sources),
        provenance,
        ..TableData::default()
    };
    let mut restrictions = Restrictions::default();
    catalog::build(m, &c, &mut s, &mut d);
    resources::build(m, &c, &mut s, &mut d, &mut restrictions);
    let pubsets = orgs::build(m, &c, &mut s, &mut d);
    let identities = roles::build(m, &c, &mut s, &mut d, &mut restrictions);
    stage("compiling: grants");
    grants::build(
        m,
        &c,
        sources,
        &mut s,
        &mut d,
        &mut restrictions,
        grants::Context {
            pubsets: &pubsets,
            identities: &identities,
        },
    );
    restrictions.write(&mut d);
    stage("compiling: runs");
    runs::build(&mut d);
    s.write(&mut d);
    d
}

/// Deduplicated fixed-width bitsets: a set is its index in the pool.
/// Indexed by a hash of each set's words, compared with the pool itself,
/// so that the index does not hold the sets a second time (a table at L
/// has hundreds of thousands of 128-byte sets).
pub(super) struct Pool {
    pub words: usize,
    pub data: Vec<u64>,
    /// First set of each hash; sets whose hash an earlier, different set
    /// has are in `collided`.
    index: HashMap<u64, u32>,
    collided: HashMap<Vec<u64>, u32>,
}

impl Pool {
    pub fn new(bits: usize) -> Pool {
        Pool::from_data(bits, Vec::new())
    }
    /// A pool of the sets already in `data` (`bits` wide), to add more.
    pub fn from_data(bits: usize, data: Vec<u64>) -> Pool {
        let mut pool = Pool {
            words: bits.div_ceil(64).max(1),
            data: Vec::new(),
            index: HashMap::default(),
            collided: HashMap::default(),
        };
        // Every set keeps its number (a pool written by this one has no
        // set twice; if one had, the first of equal sets is found).
        pool.data = data;
        for i in 0..(pool.data.len() / pool.words) as u32 {
            let hash = Pool::hash(pool.set(i));
            match pool.index.get(&hash) {
                None => {
                    pool.index.insert(hash, i);
                }
                Some(&first) if pool.set(first) != pool.set(i) => {
                    let set = pool.set(i).to_vec();
                    pool.collided.entry(set).or_insert(i);
                }
                Some(_) => {}
            }
        }
        pool
    }
    fn hash(set: &[u64]) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(set)
    }
    /// Room for `sets` more sets.
    pub fn reserve(&mut self, sets: usize) {
        self.data.reserve(sets * self.words);
        self.index.reserve(sets);
    }
    /// Set `id`'s words (empty when out of range).
    pub fn set(&self, id: u32) -> &[u64] {
        let at = id as usize * self.words;
        self.data.get(at..at + self.words).unwrap_or(&[])
    }
    fn push(&mut self, set: &[u64]) -> u32 {
        let id = (self.data.len() / self.words) as u32;
        self.data.extend_from_slice(set);
        id
    }
    pub fn id(&mut self, set: &[u64]) -> u32 {
        let hash = Pool::hash(set);
        match self.index.get(&hash).copied() {
            Some(id) if self.set(id) == set => id,
            Some(_) => match self.collided.get(set) {
                Some(id) => *id,
                None => {
                    let id = self.push(set);
                    self.collided.insert(set.to_vec(), id);
                    id
                }
            },
            None => {
                let id = self.push(set);
                self.index.insert(hash, id);
                id
            }
        }
    }
}

/// A bitset of `words` words with `items` set.
pub(super) fn bits(words: usize, items: impl IntoIterator<Item = usize>) -> Vec<u64> {
    let mut v = vec![0u64; words];
    for i in items {
        if let Some(w) = v.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
    v
}

/// A hash of the files' contents, independent of their names and order:
/// the XXH3 of each file (on every core: a set at L is 138 MB), sorted,
/// hashed again.
pub fn input_hash(sources: &SourceMap) -> u64 {
    use rayon::prelude::*;
    let mut hashes: Vec<u64> = (0..sources.len())
        .into_par_iter()
        .filter_map(|i| sources.get(crate::source::FileId(i as u32)))
        .map(|f| xxhash_rust::xxh3::xxh3_64(f.text.as_bytes()))
        .collect();
    hashes.sort_unstable();
    let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.to_le_bytes()).collect();
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

#[cfg(test)]
mod tests {
    use super::Pool;

    #[test]
    fn a_pool_numbers_each_set_once_and_keeps_the_numbers_it_is_given() {
        let mut p = Pool::new(70);
        let (a, b) = (vec![1u64, 0], vec![0u64, 1]);
        assert_eq!(p.id(&a), 0);
        assert_eq!(p.id(&b), 1);
        assert_eq!(p.id(&a), 0);
        assert_eq!(p.data.len(), 4);
        // Given sets keep their numbers, even a repeated one; new sets
        // come after them and equal sets are found, not added.
        let mut q = Pool::from_data(70, [a.clone(), b.clone(), a.clone()].concat());
        assert_eq!(q.set(2), &a[..]);
        assert_eq!(q.id(&a), 0);
        assert_eq!(q.id(&b), 1);
        assert_eq!(q.id(&[5, 5]), 3);
        assert_eq!(q.id(&[5, 5]), 3);
    }
}
