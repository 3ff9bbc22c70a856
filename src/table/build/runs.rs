//! The grant lists again as *runs*, for decisions (table minor 1): in each
//! list, the grants of one interval `[lo, hi)` together, their roles as one
//! *run set* with, per identity type, the union of the permissions their
//! closures give unrestricted. A decision then tests one permission set per
//! interval covering its org, instead of a publication bit, a closure and a
//! permission set per grant. Derived from the sections already built.
//!
//! A run set's permission set is used only where it is exact: every role
//! of the set published at every org of the interval (else the run is
//! `RUN_UNPUBLISHED`), and, when it does not hold the permission, the run
//! is decided grant by grant if a grant is restricted or a role has
//! restricted parts (`RUN_INCOMPLETE`).

use super::Pool;
use crate::model::HashMap;
use trellis_table::{
    TableData, LOCKED_BIT, NONE, POLICY_BIT, RESTRICTED_BIT, RUN_INCOMPLETE, RUN_UNPUBLISHED,
};

const ITEM_MASK: u32 = !(POLICY_BIT | LOCKED_BIT | RESTRICTED_BIT);

pub(super) fn build(d: &mut TableData) {
    let users = d.user_home.len();
    let mut perms = Pool::from_data(d.perm_module.len(), std::mem::take(&mut d.perm_pool));
    let mut cx = Runs {
        published: Published::new(d),
        sets: RunSets {
            start: vec![0],
            ..RunSets::default()
        },
    };

    // Member lists, once each (orgs share them), each ended by a
    // terminator as the member grant lists are.
    let mut member_runs = Vec::new();
    let mut member_start: HashMap<u32, u32> = HashMap::default();
    let mut rows = Vec::new();
    for rec in d.org_rec.chunks_exact(3) {
        let (start, end) = (rec[1], rec[2]);
        if member_start.contains_key(&start) {
            continue;
        }
        member_start.insert(start, (member_runs.len() / 3) as u32);
        rows.clear();
        rows.extend_from_slice(
            d.member_grants
                .get(start as usize * 3..end as usize * 3)
                .unwrap_or(&[])
                .as_chunks::<3>()
                .0,
        );
        cx.push_runs(d, &mut perms, &mut rows, &mut member_runs);
        member_runs.extend([NONE; 3]);
    }
    // A user whose member list is not among the orgs' (never so in a table
    // the compiler builds) gets an empty one rather than another's.
    let empty = (member_runs.len() / 3) as u32;
    member_runs.extend([NONE; 3]);

    let width = d.ident_width as usize;
    let mut rec = Vec::with_capacity((users + 1) * 3);
    let mut user_runs = Vec::new();
    for u in 0..users {
        let (a, m, b) = (
            d.user_rec[u * 2] as usize,
            d.user_rec[u * 2 + 1],
            d.user_rec[u * 2 + 2] as usize,
        );
        let ident = d
            .user_ident
            .get(u * width..u * width + width)
            .map_or(0, |b| {
                b.iter().rev().fold(0u32, |acc, x| (acc << 8) | *x as u32)
            });
        rec.extend([
            (user_runs.len() / 3) as u32,
            member_start.get(&m).copied().unwrap_or(empty),
            ident,
        ]);
        rows.clear();
        rows.extend_from_slice(
            d.user_grants
                .get(a * 3..b * 3)
                .unwrap_or(&[])
                .as_chunks::<3>()
                .0,
        );
        cx.push_runs(d, &mut perms, &mut rows, &mut user_runs);
    }
    rec.extend([(user_runs.len() / 3) as u32, 0, 0]);

    d.perm_pool = perms.data;
    d.user_run_rec = rec;
    d.user_runs = user_runs;
    d.member_runs = member_runs;
    d.runset_perms = cx.sets.perms;
    d.runset_start = cx.sets.start;
    d.runset_items = cx.sets.items;
}

struct Runs {
    published: Published,
    sets: RunSets,
}

impl Runs {
    /// Appends the runs of one grant list (`rows`, any order) to `out`,
    /// sorted by `lo`: per interval, its policy grants one by one, then one
    /// run of its role grants.
    fn push_runs(
        &mut self,
        d: &TableData,
        perms: &mut Pool,
        rows: &mut [[u32; 3]],
        out: &mut Vec<u32>,
    ) {
        rows.sort_unstable();
        let mut items = Vec::new();
        for group in rows.chunk_by(|a, b| a[..2] == b[..2]) {
            let (lo, hi) = (group[0][0], group[0][1]);
            let mut policies: Vec<u32> = group
                .iter()
                .filter(|g| g[2] & POLICY_BIT != 0)
                .map(|g| g[2] & (POLICY_BIT | ITEM_MASK))
                .collect();
            policies.dedup();
            for p in policies {
                out.extend([lo, hi, p]);
            }
            items.clear();
            items.extend(
                group
                    .iter()
                    .filter(|g| g[2] & POLICY_BIT == 0)
                    .map(|g| g[2] & !LOCKED_BIT),
            );
            if items.is_empty() {
                continue;
            }
            items.sort_unstable();
            items.dedup();
            let (set, incomplete) = self.sets.id(d, perms, &items);
            let everywhere = self.published.throughout(d, lo, hi);
            let published = everywhere.is_some_and(|set| {
                items
                    .iter()
                    .all(|item| self.published.has(set, role_of(d, *item)))
            });
            let mut entry = set;
            if !published {
                entry |= RUN_UNPUBLISHED;
            }
            if incomplete {
                entry |= RUN_INCOMPLETE;
            }
            out.extend([lo, hi, entry]);
        }
    }
}

/// The role a role grant item names (`NONE` for a restricted item that
/// names none).
fn role_of(d: &TableData, item: u32) -> u32 {
    let id = item & ITEM_MASK;
    if item & RESTRICTED_BIT == 0 {
        return id;
    }
    d.restricted_items
        .get(id as usize * 2)
        .copied()
        .unwrap_or(NONE)
}

/// Run sets, numbered in the order first met (lists are visited in org
/// and user order, so the numbers depend on the model alone).
#[derive(Default)]
struct RunSets {
    index: HashMap<Vec<u32>, (u32, bool)>,
    start: Vec<u32>,
    items: Vec<u32>,
    /// Per set and identity type, `runsets × identities`.
    perms: Vec<u32>,
}

impl RunSets {
    /// The set of role grant items `items` (sorted, distinct), and whether
    /// its permission sets leave out what some grant may give.
    fn id(&mut self, d: &TableData, perms: &mut Pool, items: &[u32]) -> (u32, bool) {
        if let Some(known) = self.index.get(items) {
            return *known;
        }
        let roles = d.role_flags.len();
        let identities = d.identity_name.len();
        let id = (self.start.len() - 1) as u32;
        let mut incomplete = false;
        for ident in 0..identities {
            let mut union = vec![0u64; perms.words];
            let mut any = false;
            for &item in items {
                let role = role_of(d, item) as usize;
                let cell = ident * roles + role;
                if role >= roles {
                    incomplete = true;
                    continue;
                }
                let parts = d.closure_part_start.get(cell) != d.closure_part_start.get(cell + 1);
                incomplete |= parts || item & RESTRICTED_BIT != 0;
                if item & RESTRICTED_BIT != 0 {
                    continue;
                }
                let set = d.closure_perms.get(cell).copied().unwrap_or(NONE);
                if set == NONE {
                    continue;
                }
                let words = perms.set(set);
                for (u, w) in union.iter_mut().zip(words) {
                    *u |= w;
                }
                any = true;
            }
            self.perms.push(if any && union.iter().any(|w| *w != 0) {
                perms.id(union)
            } else {
                NONE
            });
        }
        self.items.extend_from_slice(items);
        self.start.push(self.items.len() as u32);
        self.index.insert(items.to_vec(), (id, incomplete));
        (id, incomplete)
    }
}

/// Which roles are published at every org of an interval: per org, the
/// meet of the publication sets of its subtree, sets kept in a pool.
struct Published {
    pool: Pool,
    /// Per org, its publication set, and the meet over its subtree.
    at: Vec<u32>,
    subtree: Vec<u32>,
    meets: HashMap<(u32, u32), u32>,
    intervals: HashMap<(u32, u32), Option<u32>>,
}

/// An interval that is neither one org nor a subtree is met piece by
/// piece, up to this many pieces; past them its roles count as not
/// published everywhere (decided grant by grant: slower, never wrong).
const MAX_PIECES: usize = 64;

impl Published {
    fn new(d: &TableData) -> Published {
        let orgs = d.org_end.len();
        let mut p = Published {
            pool: Pool::from_data(d.role_flags.len(), d.pub_pool.clone()),
            at: d.org_rec.chunks_exact(3).map(|r| r[0]).collect(),
            subtree: Vec::new(),
            meets: HashMap::default(),
            intervals: HashMap::default(),
        };
        p.subtree = p.at.clone();
        // Preorder: every descendant of an org comes after it, so walking
        // back folds each subtree into its parent once it is complete.
        for o in (0..orgs).rev() {
            let parent = d.org_parent.get(o).copied().unwrap_or(NONE);
            if let Some(&up) = p.subtree.get(parent as usize) {
                let meet = p.meet(up, p.subtree[o]);
                p.subtree[parent as usize] = meet;
            }
        }
        p
    }

    fn meet(&mut self, a: u32, b: u32) -> u32 {
        if a == b {
            return a;
        }
        let key = (a.min(b), a.max(b));
        if let Some(m) = self.meets.get(&key) {
            return *m;
        }
        let set: Vec<u64> = self
            .pool
            .set(a)
            .iter()
            .zip(self.pool.set(b))
            .map(|(x, y)| x & y)
            .collect();
        let m = self.pool.id(set);
        self.meets.insert(key, m);
        m
    }

    /// The roles published at every org of `[lo, hi)`, when known.
    fn throughout(&mut self, d: &TableData, lo: u32, hi: u32) -> Option<u32> {
        if let Some(known) = self.intervals.get(&(lo, hi)) {
            return *known;
        }
        let orgs = self.at.len() as u32;
        let found = if lo >= hi || hi > orgs {
            None
        } else {
            let mut acc: Option<u32> = None;
            let mut pos = lo;
            let mut pieces = 0;
            while pos < hi && pieces < MAX_PIECES {
                let end = d.org_end.get(pos as usize).copied().unwrap_or(pos + 1);
                let (set, next) = if end <= hi {
                    (self.subtree[pos as usize], end)
                } else {
                    (self.at[pos as usize], pos + 1)
                };
                acc = Some(match acc {
                    None => set,
                    Some(a) => self.meet(a, set),
                });
                pos = next;
                pieces += 1;
            }
            acc.filter(|_| pos >= hi)
        };
        self.intervals.insert((lo, hi), found);
        found
    }

    fn has(&self, set: u32, role: u32) -> bool {
        role != NONE
            && self
                .pool
                .set(set)
                .get(role as usize / 64)
                .is_some_and(|w| w & (1 << (role % 64)) != 0)
    }
}
