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
//! restricted parts (`RUN_INCOMPLETE`). In a user's own runs the identity
//! type is known, so a run without flags names its permission set itself
//! rather than its run set: one dependent read fewer in a decision.
//!
//! A union is a new permission set (128 bytes at a thousand permissions),
//! and most users' combinations of roles are their own: this is what makes
//! a table about twice as large. Tried (docs/decisions.md): a run per role
//! for a combination no other list has, only shared ones as unions (a
//! quarter off the size at L, a third of the instructions saved given
//! back); run sets without unions, their grants tested one by one without
//! publication (0.9 times the instructions of the grant lists, not 0.6).

use rayon::prelude::*;

use super::Pool;
use crate::model::HashMap;
use trellis_table::{
    TableData, LOCKED_BIT, NONE, POLICY_BIT, RESTRICTED_BIT, RUN_INCOMPLETE, RUN_UNPUBLISHED,
};

const ITEM_MASK: u32 = !(POLICY_BIT | LOCKED_BIT | RESTRICTED_BIT);

pub(super) fn build(d: &mut TableData) {
    let users = d.user_home.len();
    let published = Published::new(d);

    // Member lists, once each (orgs share them), cut into runs; `lists`
    // holds where each list's runs end.
    let mut members = Grouped::default();
    let mut lists: Vec<usize> = Vec::new();
    let mut member_list: HashMap<u32, usize> = HashMap::default();
    for rec in d.org_rec.chunks_exact(3) {
        let (start, end) = (rec[1], rec[2]);
        if member_list.contains_key(&start) {
            continue;
        }
        member_list.insert(start, lists.len());
        members.push_list(
            d,
            &published,
            d.member_grants.get(start as usize * 3..end as usize * 3),
        );
        lists.push(members.runs.len());
    }
    // Users' own lists: cut in parallel, a run of users at a time; `ends`
    // holds where each user's runs end.
    let chunk = users.div_ceil(4 * rayon::current_num_threads()).max(1);
    let parts: Vec<(Vec<usize>, Grouped)> = (0..users)
        .collect::<Vec<_>>()
        .par_chunks(chunk)
        .map(|us| {
            let mut g = Grouped::default();
            let mut ends = Vec::with_capacity(us.len());
            for &u in us {
                let (a, b) = (d.user_rec[u * 2] as usize, d.user_rec[u * 2 + 2] as usize);
                g.push_list(d, &published, d.user_grants.get(a * 3..b * 3));
                ends.push(g.runs.len());
            }
            (ends, g)
        })
        .collect();

    // Run sets, numbered in the order first met (member lists in org
    // order, then users in order: the numbers depend on the model alone).
    let grouped: Vec<&Grouped> = std::iter::once(&members)
        .chain(parts.iter().map(|(_, g)| g))
        .collect();
    let (mut numbers, distinct) = number_run_sets(&grouped);
    let user_sets = numbers.split_off(1);
    let member_sets = numbers.pop().unwrap_or_default();
    let uniform = uniform_roles(d);
    let unions: Vec<Union> = distinct
        .par_iter()
        .map(|items| Union::of(d, &uniform, items))
        .collect();
    let mut perms = Pool::from_data(d.perm_module.len(), std::mem::take(&mut d.perm_pool));
    perms.reserve(unions.len());
    let identities = d.identity_name.len();
    let mut runset_perms = Vec::with_capacity(distinct.len() * identities);
    let mut runset_start = Vec::with_capacity(distinct.len() + 1);
    let mut runset_items = Vec::new();
    runset_start.push(0);
    for (items, union) in distinct.iter().zip(&unions) {
        union.intern(&mut perms, identities, &mut runset_perms);
        runset_items.extend_from_slice(items);
        runset_start.push(runset_items.len() as u32);
    }

    // The runs, each member list ended by a terminator as the member
    // grant lists are.
    let mut member_runs = Vec::with_capacity(d.member_grants.len() + 3);
    let mut list_start = Vec::with_capacity(lists.len());
    let mut from = 0;
    for &end in &lists {
        list_start.push((member_runs.len() / 3) as u32);
        members.write(&member_sets, &unions, None, from..end, &mut member_runs);
        member_runs.extend([NONE; 3]);
        from = end;
    }
    // A user whose member list is not among the orgs' (never so in a table
    // the compiler builds) gets an empty one rather than another's.
    let empty = (member_runs.len() / 3) as u32;
    member_runs.extend([NONE; 3]);
    // A user's own run that needs no fallback names the permission set of
    // the user's identity type directly (one read fewer in a decision); an
    // empty one names the empty set.
    let empty_set = perms.id(&vec![0; perms.words]);
    let width = d.ident_width as usize;
    let mut rec = Vec::with_capacity((users + 1) * 3);
    let mut user_runs = Vec::with_capacity(d.user_grants.len());
    let mut u = 0usize;
    for ((ends, g), sets) in parts.iter().zip(&user_sets) {
        let mut from = 0usize;
        for &end in ends {
            let ident = d
                .user_ident
                .get(u * width..u * width + width)
                .map_or(0, |b| {
                    b.iter().rev().fold(0u32, |acc, x| (acc << 8) | *x as u32)
                });
            let member = member_list
                .get(&d.user_rec[u * 2 + 1])
                .map_or(empty, |l| list_start[*l]);
            rec.extend([(user_runs.len() / 3) as u32, member, ident]);
            let direct =
                |set: u32| match runset_perms.get(set as usize * identities + ident as usize) {
                    Some(&NONE) => Some(empty_set),
                    Some(&perms) if perms <= ITEM_MASK => Some(perms),
                    _ => None,
                };
            g.write(sets, &unions, Some(&direct), from..end, &mut user_runs);
            from = end;
            u += 1;
        }
    }
    rec.extend([(user_runs.len() / 3) as u32, 0, 0]);

    d.perm_pool = perms.data;
    d.user_run_rec = rec;
    d.user_runs = user_runs;
    d.member_runs = member_runs;
    d.runset_perms = runset_perms;
    d.runset_start = runset_start;
    d.runset_items = runset_items;
}

/// A run before numbering: a policy grant, or the role grants of one
/// interval (an index into [`Grouped::groups`]).
enum Run {
    Policy([u32; 3]),
    Roles(usize),
}

/// Grant lists cut into runs, their role grants not yet numbered as sets.
#[derive(Default)]
struct Grouped {
    runs: Vec<Run>,
    /// Per role group: its interval, its items' range in `items`, and
    /// whether every role of it is published throughout the interval.
    groups: Vec<(u32, u32, usize, usize, bool)>,
    /// Role grant items (`LOCKED_BIT` cleared), each group's sorted and
    /// distinct.
    items: Vec<u32>,
    rows: Vec<[u32; 3]>,
}

impl Grouped {
    /// Cuts one grant list (`(lo, hi, item)` triples, any order) into runs
    /// sorted by `lo`: per interval, its policy grants one by one, then its
    /// role grants as one group.
    fn push_list(&mut self, d: &TableData, published: &Published, list: Option<&[u32]>) {
        self.rows.clear();
        self.rows
            .extend_from_slice(list.unwrap_or(&[]).as_chunks::<3>().0);
        self.rows.sort_unstable();
        let rows = std::mem::take(&mut self.rows);
        for group in rows.chunk_by(|a, b| a[..2] == b[..2]) {
            let (lo, hi) = (group[0][0], group[0][1]);
            let mut last_policy = NONE;
            let start = self.items.len();
            for &[_, _, item] in group {
                if item & POLICY_BIT != 0 {
                    let policy = item & (POLICY_BIT | ITEM_MASK);
                    if policy != last_policy {
                        self.runs.push(Run::Policy([lo, hi, policy]));
                        last_policy = policy;
                    }
                } else {
                    self.items.push(item & !LOCKED_BIT);
                }
            }
            if self.items.len() == start {
                continue;
            }
            self.items[start..].sort_unstable();
            let mut kept = start;
            for i in start..self.items.len() {
                if i == start || self.items[i] != self.items[kept - 1] {
                    self.items[kept] = self.items[i];
                    kept += 1;
                }
            }
            self.items.truncate(kept);
            let everywhere = self.items[start..]
                .iter()
                .all(|item| published.throughout(d, lo, hi, role_of(d, *item)));
            self.runs.push(Run::Roles(self.groups.len()));
            self.groups.push((lo, hi, start, kept, everywhere));
        }
        self.rows = rows;
    }

    /// Appends runs `range` to `out`, with `sets` the number of each
    /// group's run set; `direct` gives, in a user's own list, the
    /// permission set a run without flags names instead of its run set.
    fn write(
        &self,
        sets: &[u32],
        unions: &[Union],
        direct: Option<&dyn Fn(u32) -> Option<u32>>,
        range: std::ops::Range<usize>,
        out: &mut Vec<u32>,
    ) {
        for run in &self.runs[range] {
            match run {
                Run::Policy(p) => out.extend(p),
                Run::Roles(g) => {
                    let (lo, hi, _, _, published) = self.groups[*g];
                    let set = sets[*g];
                    let incomplete = unions[set as usize].incomplete;
                    let mut entry = set;
                    if !published {
                        entry |= RUN_UNPUBLISHED;
                    }
                    if incomplete {
                        entry |= RUN_INCOMPLETE;
                    }
                    if let Some(direct) = direct.filter(|_| published && !incomplete) {
                        // A set number too large to name directly is
                        // decided through its run set, and so flagged.
                        entry = direct(set).unwrap_or(set | RUN_INCOMPLETE);
                    }
                    out.extend([lo, hi, entry]);
                }
            }
        }
    }
}

/// Numbers the run sets of `lists` in the order first met (the lists in
/// order, each list's groups in order: the numbers depend on the model
/// alone): each group's number, list by list, and the distinct sets in
/// number order. The sets are sorted by hash on every core, so that equal
/// sets meet; each then takes the number of the first of them.
fn number_run_sets<'g>(lists: &[&'g Grouped]) -> (Vec<Vec<u32>>, Vec<&'g [u32]>) {
    use std::hash::BuildHasher;
    let sets: Vec<&'g [u32]> = lists
        .iter()
        .flat_map(|g| g.groups.iter().map(|&(_, _, a, b, _)| &g.items[a..b]))
        .collect();
    // A 32-bit hash keeps the sort small; sets that share one are
    // compared.
    let mut keyed: Vec<(u32, u32)> = sets
        .par_iter()
        .enumerate()
        .map(|(i, set)| (rustc_hash::FxBuildHasher.hash_one(set) as u32, i as u32))
        .collect();
    keyed.par_sort_unstable();
    // number[i]: first the first group whose set is group i's (within a
    // hash, groups are in order, so the first of equal sets comes first),
    // then, in one pass in order, the set's number in place.
    let mut number: Vec<u32> = (0..sets.len() as u32).collect();
    let mut heads: Vec<u32> = Vec::new();
    for same_hash in keyed.chunk_by(|a, b| a.0 == b.0) {
        heads.clear();
        for &(_, i) in same_hash {
            match heads
                .iter()
                .find(|&&h| sets[h as usize] == sets[i as usize])
            {
                Some(&h) => number[i as usize] = h,
                None => heads.push(i),
            }
        }
    }
    drop(keyed);
    let mut distinct = Vec::new();
    for i in 0..sets.len() {
        let first = number[i] as usize;
        number[i] = if first == i {
            distinct.push(sets[i]);
            (distinct.len() - 1) as u32
        } else {
            // Numbered already: `first` comes before `i`.
            number[first]
        };
    }
    let mut at = 0;
    let per_list = lists
        .iter()
        .map(|g| {
            let n = g.groups.len();
            at += n;
            number[at - n..at].to_vec()
        })
        .collect();
    (per_list, distinct)
}

/// Per role, whether every identity type has the same closure cell for
/// it (the same permission set and the same parts).
fn uniform_roles(d: &TableData) -> Vec<bool> {
    let roles = d.role_flags.len();
    let cell = |ident: usize, role: usize| {
        let c = ident * roles + role;
        let parts = match (d.closure_part_start.get(c), d.closure_part_start.get(c + 1)) {
            (Some(&a), Some(&b)) => d.closure_parts.get(a as usize * 2..b as usize * 2),
            _ => None,
        };
        (d.closure_perms.get(c), parts)
    };
    (0..roles)
        .map(|r| (1..d.identity_name.len()).all(|i| cell(i, r) == cell(0, r)))
        .collect()
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

/// What a run set's grants give, per identity type, before its sets are
/// numbered in the pool: one union for every type when its roles' closures
/// are the same for all.
struct Union {
    per_identity: Vec<Vec<u64>>,
    /// A grant is restricted or a role has parts: the union is not all.
    incomplete: bool,
}

impl Union {
    fn of(d: &TableData, uniform: &[bool], items: &[u32]) -> Union {
        let roles = d.role_flags.len();
        let words = d.perm_module.len().div_ceil(64).max(1);
        let same = items
            .iter()
            .all(|item| uniform.get(role_of(d, *item) as usize) == Some(&true));
        let types = if same { 1 } else { d.identity_name.len() };
        let mut incomplete = false;
        let mut per_identity = Vec::with_capacity(types);
        for ident in 0..types {
            let mut union = vec![0u64; words];
            for &item in items {
                let role = role_of(d, item) as usize;
                if role >= roles {
                    incomplete = true;
                    continue;
                }
                let cell = ident * roles + role;
                let parts = d.closure_part_start.get(cell) != d.closure_part_start.get(cell + 1);
                incomplete |= parts || item & RESTRICTED_BIT != 0;
                let set = d.closure_perms.get(cell).copied().unwrap_or(NONE) as usize;
                if item & RESTRICTED_BIT != 0 || set == NONE as usize {
                    continue;
                }
                let from = d
                    .perm_pool
                    .get(set * words..(set + 1) * words)
                    .unwrap_or(&[]);
                for (u, w) in union.iter_mut().zip(from) {
                    *u |= w;
                }
            }
            per_identity.push(union);
        }
        Union {
            per_identity,
            incomplete,
        }
    }

    /// Appends the set's permission set for each identity type to `out`.
    fn intern(&self, perms: &mut Pool, identities: usize, out: &mut Vec<u32>) {
        let mut first = NONE;
        for ident in 0..identities {
            let Some(words) = self.per_identity.get(ident) else {
                out.push(first);
                continue;
            };
            let id = if words.iter().all(|w| *w == 0) {
                NONE
            } else {
                perms.id(words)
            };
            if ident == 0 {
                first = id;
            }
            out.push(id);
        }
    }
}

/// Which roles are published at every org of an interval: per org, its
/// publication set and the meet of those of its subtree, in a pool.
struct Published {
    pool: Pool,
    at: Vec<u32>,
    subtree: Vec<u32>,
}

/// An interval that is neither one org nor a subtree is checked piece by
/// piece (subtrees and single orgs), up to this many pieces; past them its
/// roles count as not published throughout (decided grant by grant:
/// slower, never wrong).
const MAX_PIECES: usize = 64;

impl Published {
    fn new(d: &TableData) -> Published {
        let orgs = d.org_end.len();
        let mut pool = Pool::from_data(d.role_flags.len(), d.pub_pool.clone());
        let at: Vec<u32> = d.org_rec.chunks_exact(3).map(|r| r[0]).collect();
        let mut subtree = at.clone();
        let mut meets: HashMap<(u32, u32), u32> = HashMap::default();
        // Preorder: every descendant of an org comes after it, so walking
        // back folds each subtree into its parent once it is complete.
        for o in (0..orgs).rev() {
            let parent = d.org_parent.get(o).copied().unwrap_or(NONE) as usize;
            if parent >= orgs {
                continue;
            }
            let (a, b) = (subtree[parent], subtree[o]);
            if a == b {
                continue;
            }
            let key = (a.min(b), a.max(b));
            let meet = match meets.get(&key) {
                Some(m) => *m,
                None => {
                    let set: Vec<u64> = pool
                        .set(a)
                        .iter()
                        .zip(pool.set(b))
                        .map(|(x, y)| x & y)
                        .collect();
                    let m = pool.id(&set);
                    meets.insert(key, m);
                    m
                }
            };
            subtree[parent] = meet;
        }
        Published { pool, at, subtree }
    }

    fn has(&self, set: u32, role: u32) -> bool {
        role != NONE
            && self
                .pool
                .set(set)
                .get(role as usize / 64)
                .is_some_and(|w| w & (1 << (role % 64)) != 0)
    }

    /// Is `role` published at every org of `[lo, hi)`?
    fn throughout(&self, d: &TableData, lo: u32, hi: u32, role: u32) -> bool {
        if lo >= hi || hi as usize > self.at.len() {
            return false;
        }
        let mut pos = lo;
        for _ in 0..MAX_PIECES {
            if pos >= hi {
                return true;
            }
            let end = d.org_end.get(pos as usize).copied().unwrap_or(pos + 1);
            let (set, next) = if end <= hi {
                (self.subtree[pos as usize], end)
            } else {
                (self.at[pos as usize], pos + 1)
            };
            if !self.has(set, role) {
                return false;
            }
            pos = next;
        }
        pos >= hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouped(sets: &[&[u32]]) -> Grouped {
        let mut g = Grouped::default();
        for set in sets {
            let start = g.items.len();
            g.items.extend_from_slice(set);
            g.groups.push((0, 1, start, g.items.len(), true));
        }
        g
    }

    #[test]
    fn run_sets_are_numbered_in_the_order_first_met() {
        let a = grouped(&[&[3, 4], &[1], &[3, 4]]);
        let b = grouped(&[]);
        let c = grouped(&[&[2], &[1], &[3], &[3, 4], &[2]]);
        let (numbers, distinct) = number_run_sets(&[&a, &b, &c]);
        assert_eq!(numbers, vec![vec![0, 1, 0], vec![], vec![2, 1, 3, 0, 2]]);
        assert_eq!(distinct, vec![&[3, 4][..], &[1], &[2], &[3]]);
    }
}
