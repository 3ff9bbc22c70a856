//! Compiles a checked model into the table's arrays.

use crate::model::HashMap;
use rayon::prelude::*;

use crate::model::*;
use crate::source::SourceMap;
use trellis_table::{
    TableData, FLAG_ACTIVE, FLAG_LOCKED, FLAG_SELF_SERVICE, LOCKED_BIT, NONE, POLICY_BIT,
};

#[derive(Default)]
struct Strings {
    blob: Vec<u8>,
    off: Vec<u32>,
    index: HashMap<String, u32>,
}

impl Strings {
    /// Appends a string known to be new among those it is compared with
    /// (user ids are unique), skipping the index: a million lookups in the
    /// index cost more than the few bytes a repeat would.
    fn push_unindexed(&mut self, s: &str) -> u32 {
        if self.off.is_empty() {
            self.off.push(0);
        }
        self.blob.extend_from_slice(s.as_bytes());
        self.off.push(self.blob.len() as u32);
        (self.off.len() - 2) as u32
    }

    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        if self.off.is_empty() {
            self.off.push(0);
        }
        self.blob.extend_from_slice(s.as_bytes());
        self.off.push(self.blob.len() as u32);
        let id = (self.off.len() - 2) as u32;
        self.index.insert(s.to_owned(), id);
        id
    }
}

/// Deduplicated fixed-width bitsets.
struct Pool {
    words: usize,
    data: Vec<u64>,
    index: HashMap<Vec<u64>, u32>,
}

impl Pool {
    fn new(bits: usize) -> Pool {
        Pool {
            words: bits.div_ceil(64).max(1),
            data: Vec::new(),
            index: HashMap::default(),
        }
    }
    fn id(&mut self, set: Vec<u64>) -> u32 {
        if let Some(i) = self.index.get(&set) {
            return *i;
        }
        let id = (self.data.len() / self.words) as u32;
        self.data.extend_from_slice(&set);
        self.index.insert(set, id);
        id
    }
}

fn bits(words: usize, items: impl IntoIterator<Item = usize>) -> Vec<u64> {
    let mut v = vec![0u64; words];
    for i in items {
        if let Some(w) = v.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
    v
}

fn sorted_by_name(names: &[u32], strings: &Strings) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..names.len() as u32).collect();
    let text = |i: u32| {
        let s = names[i as usize] as usize;
        &strings.blob[strings.off[s] as usize..strings.off[s + 1] as usize]
    };
    idx.sort_by(|a, b| text(*a).cmp(text(*b)).then(a.cmp(b)));
    idx
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The input hash: FNV-1a over the sorted hashes of the source files'
/// contents, so that neither file names nor their order change it.
pub fn input_hash(sources: &SourceMap) -> u64 {
    let mut hashes: Vec<u64> = (0..sources.len())
        .filter_map(|i| sources.get(crate::source::FileId(i as u32)))
        .map(|f| fnv(f.text.as_bytes()))
        .collect();
    hashes.sort_unstable();
    let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.to_le_bytes()).collect();
    fnv(&bytes)
}

/// Canonical numbering, independent of file names and declaration order:
/// orgs in preorder with children sorted by id, everything else by name.
struct Canon {
    org_pre: Vec<u32>,
    org_end: Vec<u32>,
    org_order: Vec<OrgId>,
    user_order: Vec<UserId>,
    role_new: Vec<u32>,
    role_order: Vec<RoleId>,
    module_order: Vec<ModuleId>,
    perm_new: Vec<u32>,
    policy_new: Vec<u32>,
    policy_order: Vec<PolicyId>,
}

fn canon(m: &Model) -> Canon {
    let n = m.orgs.len();
    let by_id = |v: &mut Vec<OrgId>| v.sort_by(|a, b| m.org(*a).id.cmp(&m.org(*b).id));
    let mut roots: Vec<OrgId> = (0..n as u32)
        .map(OrgId)
        .filter(|o| m.org(*o).parent.is_none())
        .collect();
    by_id(&mut roots);
    let mut org_pre = vec![0u32; n];
    let mut org_end = vec![0u32; n];
    let mut org_order = Vec::with_capacity(n);
    let mut stack: Vec<(OrgId, bool)> = roots.iter().rev().map(|r| (*r, false)).collect();
    while let Some((o, done)) = stack.pop() {
        if done {
            org_end[o.index()] = org_order.len() as u32;
            continue;
        }
        org_pre[o.index()] = org_order.len() as u32;
        org_order.push(o);
        stack.push((o, true));
        let mut kids = m.children[o.index()].clone();
        by_id(&mut kids);
        stack.extend(kids.iter().rev().map(|c| (*c, false)));
    }
    // A million ids: compare an 8-byte big-endian prefix first (its order is
    // the strings' order where it differs), the strings only on a tie.
    let prefix = |s: &str| {
        let mut b = [0u8; 8];
        let n = s.len().min(8);
        b[..n].copy_from_slice(&s.as_bytes()[..n]);
        u64::from_be_bytes(b)
    };
    let mut keyed: Vec<(u64, &str, UserId)> = m
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (prefix(&u.id), u.id.as_str(), UserId(i as u32)))
        .collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let user_order: Vec<UserId> = keyed.into_iter().map(|k| k.2).collect();
    let mut role_order: Vec<RoleId> = (0..m.roles.len() as u32).map(RoleId).collect();
    role_order.sort_by_cached_key(|r| m.role_qualified(*r));
    let mut role_new = vec![0u32; m.roles.len()];
    for (i, r) in role_order.iter().enumerate() {
        role_new[r.index()] = i as u32;
    }
    let mut module_order: Vec<ModuleId> = (0..m.modules.len() as u32).map(ModuleId).collect();
    module_order.sort_by(|a, b| m.modules[a.index()].id.cmp(&m.modules[b.index()].id));
    let mut perm_new = vec![0u32; m.perms.len()];
    let mut next = 0u32;
    for md in &module_order {
        let module = &m.modules[md.index()];
        for a in 0..module.actions.len() as u32 {
            perm_new[(module.first_perm + a) as usize] = next;
            next += 1;
        }
    }
    let mut policy_order: Vec<PolicyId> = (0..m.policies.len() as u32).map(PolicyId).collect();
    policy_order.sort_by(|a, b| m.policies[a.index()].id.cmp(&m.policies[b.index()].id));
    let mut policy_new = vec![0u32; m.policies.len()];
    for (i, p) in policy_order.iter().enumerate() {
        policy_new[p.index()] = i as u32;
    }
    Canon {
        org_pre,
        org_end,
        org_order,
        user_order,
        role_new,
        role_order,
        module_order,
        perm_new,
        policy_new,
        policy_order,
    }
}

/// Grants `(lo, hi, item)` with the span that wrote each.
type SourcedGrants = Vec<([u32; 3], crate::source::Span)>;

/// Compiles `m` (which must have no errors). With `provenance`, every grant
/// keeps the `file:line` it was written at, for `explain`. The output is the
/// same, byte for byte, however the input files are named or ordered
/// (provenance strings aside).
pub fn build(m: &Model, sources: &SourceMap, provenance: bool) -> TableData {
    let c = canon(m);
    let mut s = Strings::default();
    s.off.push(0);
    let n_orgs = m.orgs.len();
    let pre = |o: OrgId| c.org_pre[o.index()];
    let mut d = TableData {
        input_hash: input_hash(sources),
        provenance,
        ..TableData::default()
    };
    let loc = |span: crate::source::Span| {
        let (start, _) = sources.line_col(span);
        format!("{}:{}", sources.path(span.file), start.line)
    };

    // Orgs, in canonical preorder.
    for &o in &c.org_order {
        let org = m.org(o);
        d.org_name.push(s.id(&org.id));
        d.org_parent.push(org.parent.map(pre).unwrap_or(NONE));
        d.org_end.push(c.org_end[o.index()]);
    }

    // Roles.
    let nroles = m.roles.len();
    d.role_count = nroles as u32;
    d.role_words = nroles.div_ceil(64).max(1);
    let rnew = |r: RoleId| c.role_new[r.index()] as usize;
    for &id in &c.role_order {
        let r = m.role(id);
        d.role_name.push(s.id(&r.name));
        d.role_qualified.push(s.id(&m.role_qualified(id)));
        d.role_display.push(s.id(&m.role_display(id)));
        let mut f = 0;
        if r.active {
            f |= FLAG_ACTIVE;
        }
        if r.locked {
            f |= FLAG_LOCKED;
        }
        if r.self_service {
            f |= FLAG_SELF_SERVICE;
        }
        d.role_flags.push(f);
        d.role_approval
            .push(r.approval.as_deref().map(|a| s.id(a)).unwrap_or(NONE));
        d.assignable_start.push(d.assignable_by.len() as u32);
        let mut by: Vec<u32> = r.assignable_by.iter().map(|q| rnew(*q) as u32).collect();
        by.sort_unstable();
        by.dedup();
        d.assignable_by.extend(by);
    }
    d.assignable_start.push(d.assignable_by.len() as u32);

    // Publication: one role set per org, top down (nearest entry wins).
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
    let root_default = bits(
        d.role_words,
        m.roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.owner == Scope::Provider && r.published)
            .map(|(i, _)| rnew(RoleId(i as u32))),
    );
    let mut pub_pool = Pool::new(nroles);
    let mut org_sets: Vec<Vec<u64>> = vec![Vec::new(); n_orgs];
    let set_bit = |v: &mut Vec<u64>, i: usize, on: bool| {
        if let Some(w) = v.get_mut(i / 64) {
            if on {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    };
    let mut pubsets = vec![0u32; n_orgs];
    for &o in &c.org_order {
        let mut set = match m.org(o).parent {
            Some(p) => org_sets[p.index()].clone(),
            None => root_default.clone(),
        };
        for r in &owned_by[o.index()] {
            set_bit(&mut set, rnew(*r), m.role(*r).published);
        }
        for (r, publish) in &entries_at[o.index()] {
            set_bit(&mut set, rnew(*r), *publish);
        }
        pubsets[pre(o) as usize] = pub_pool.id(set.clone());
        org_sets[o.index()] = set;
    }
    drop(org_sets);

    // Identity types, and per identity the closure of every role.
    let mut identities: Vec<&str> = m.users.iter().map(|u| u.identity.as_str()).collect();
    identities.sort();
    identities.dedup();
    if identities.is_empty() {
        identities.push("employee");
    }
    let ident_index: HashMap<&str, u32> = identities
        .iter()
        .enumerate()
        .map(|(i, t)| (*t, i as u32))
        .collect();
    d.identity_words = identities.len().div_ceil(64).max(1);
    d.ident_width = match identities.len() {
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
        d.role_identity.extend(bits(d.identity_words, allowed));
    }
    let nperms = m.perms.len();
    let mut role_pool = Pool::new(nroles);
    let mut perm_pool = Pool::new(nperms);
    for t in &identities {
        for &id in &c.role_order {
            let r = m.role(id);
            if !r.active || !r.allows_identity(t) {
                d.closure_roles.push(NONE);
                d.closure_perms.push(NONE);
                continue;
            }
            let held = m.closure(t, [id]);
            let mut perms = BitSet::new(nperms);
            for h in &held {
                perms.union_with(&m.role(*h).perms);
            }
            d.closure_roles
                .push(role_pool.id(bits(d.role_words, held.iter().map(|h| rnew(*h)))));
            let pw = bits(
                perm_pool.words,
                perms.iter().map(|p| c.perm_new[p] as usize),
            );
            d.closure_perms.push(perm_pool.id(pw));
        }
    }
    d.perm_words = perm_pool.words;

    // Catalog, modules and policies by id.
    d.module_words = m.modules.len().div_ceil(64).max(1);
    let mut module_new = vec![0u32; m.modules.len()];
    let mut first = 0u32;
    for (i, mi) in c.module_order.iter().enumerate() {
        module_new[mi.index()] = i as u32;
        let md = &m.modules[mi.index()];
        d.module_name.push(s.id(&md.id));
        d.module_first_perm.push(first);
        d.module_gated.push(u32::from(md.gated));
        for action in &md.actions {
            d.perm_module.push(i as u32);
            d.perm_action.push(s.id(action));
        }
        first += md.actions.len() as u32;
    }
    d.module_first_perm.push(nperms as u32);
    for pi in &c.policy_order {
        let p = &m.policies[pi.index()];
        d.policy_name.push(s.id(&p.id));
        d.policy_modules.extend(bits(
            d.module_words,
            p.modules.iter().map(|x| module_new[x.index()] as usize),
        ));
    }

    let item = |g: Grant, locked: bool| {
        let base = match g {
            Grant::Role(r) => c.role_new[r.index()],
            Grant::Policy(p) => c.policy_new[p.index()] | POLICY_BIT,
        };
        if locked {
            base | LOCKED_BIT
        } else {
            base
        }
    };
    let reach = |o: OrgId, inherit: bool| {
        let lo = pre(o);
        (
            lo,
            if inherit {
                c.org_end[o.index()]
            } else {
                lo + 1
            },
        )
    };
    // Grants of one user or org, sorted (with their provenance) and deduplicated.
    fn flush(
        list: &mut Vec<([u32; 3], u32)>,
        grants: &mut Vec<u32>,
        sources: &mut Vec<u32>,
        provenance: bool,
    ) {
        list.sort_unstable();
        list.dedup_by(|a, b| a.0 == b.0);
        for (g, src) in list.drain(..) {
            grants.extend(g);
            if provenance {
                sources.push(src);
            }
        }
    }
    let mut list: Vec<([u32; 3], u32)> = Vec::new();

    // Org grants, once per org.
    d.org_grant_start = Vec::with_capacity(n_orgs + 1);
    for &o in &c.org_order {
        d.org_grant_start.push((d.org_grants.len() / 3) as u32);
        for a in &m.org_assignments[o.index()] {
            let a = &m.assignments[a.index()];
            let (lo, hi) = reach(a.org, a.inherit);
            let src = if provenance { s.id(&loc(a.span)) } else { NONE };
            list.push(([lo, hi, item(a.grant, a.locked)], src));
        }
        flush(
            &mut list,
            &mut d.org_grants,
            &mut d.org_grant_source,
            provenance,
        );
    }
    d.org_grant_start.push((d.org_grants.len() / 3) as u32);

    // Users: their own assignments and the automatic rules that match them,
    // computed on every core (each user's grants are independent), then
    // written in canonical order.
    let user_grants_of = |u: UserId, out: &mut SourcedGrants| {
        let user = m.user(u);
        let start = out.len();
        for a in &m.user_assignments[u.index()] {
            let a = &m.assignments[a.index()];
            let (lo, hi) = reach(a.org, a.inherit);
            out.push(([lo, hi, item(a.grant, a.locked)], a.span));
        }
        for (_, rule) in m.candidate_rules(user.home) {
            if !m.rule_matches(rule, u) {
                continue;
            }
            for g in &rule.grants {
                for t in m.rule_targets(g, user.home) {
                    let (lo, hi) = reach(t, g.inherit);
                    for (r, _) in &g.roles {
                        out.push(([lo, hi, item(Grant::Role(*r), rule.locked)], g.span));
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
    let parts: Vec<_> = c
        .user_order
        .par_chunks(run)
        .map(|users| {
            let mut grants = Vec::new();
            let mut ends = Vec::with_capacity(users.len());
            for &u in users {
                user_grants_of(u, &mut grants);
                ends.push(grants.len() as u32);
            }
            (ends, grants)
        })
        .collect();
    // Per org: its publication set and the org grants (of it and every
    // ancestor) that reach users homed there, flattened so that a decision
    // needs no walk up the tree, and shared between orgs with the same list
    // (an org without grants of its own has its parent's). Built in
    // preorder from the parent's list, so a deep chain costs no walk up.
    let mut lists: HashMap<Vec<u32>, (u32, u32)> = HashMap::default();
    let mut member_start = Vec::with_capacity(n_orgs);
    let mut member_range: Vec<(u32, u32)> = Vec::with_capacity(n_orgs);
    for (i, &o) in c.org_order.iter().enumerate() {
        let (s0, s1) = (
            d.org_grant_start[i] as usize,
            d.org_grant_start[i + 1] as usize,
        );
        let parent = m
            .org(o)
            .parent
            .and_then(|p| member_range.get(pre(p) as usize).copied());
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
        member_start.push(start);
        d.org_rec.extend([pubsets[i], start, end, 0]);
    }

    // User names one after another, in user order (see `user_name_first`).
    for (i, &u) in c.user_order.iter().enumerate() {
        let name = s.push_unindexed(&m.user(u).id);
        if i == 0 {
            d.user_name_first = name;
        }
    }
    let mut next_user = c.user_order.iter();
    for (ends, grants) in parts {
        let mut from = 0usize;
        for end in ends {
            let Some(&u) = next_user.next() else { break };
            let user = m.user(u);
            d.user_home.push(pre(user.home));
            d.user_rec.push((d.user_grants.len() / 3) as u32);
            d.user_rec.push(member_start[pre(user.home) as usize]);
            let ident = ident_index
                .get(user.identity.as_str())
                .copied()
                .unwrap_or(0);
            d.user_ident
                .extend_from_slice(&ident.to_le_bytes()[..d.ident_width]);
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

    d.role_pool = role_pool.data;
    d.perm_pool = perm_pool.data;
    d.pub_pool = pub_pool.data;
    d.str_blob = s.blob;
    d.str_off = s.off;
    let strings = Strings {
        blob: d.str_blob.clone(),
        off: d.str_off.clone(),
        index: HashMap::default(),
    };
    d.org_sorted = sorted_by_name(&d.org_name, &strings);
    // Users are numbered by id already: no separate index by name.
    d.role_name_sorted = sorted_by_name(&d.role_name, &strings);
    d.role_qualified_sorted = sorted_by_name(&d.role_qualified, &strings);
    d.module_sorted = sorted_by_name(&d.module_name, &strings);
    d.policy_sorted = sorted_by_name(&d.policy_name, &strings);
    d
}
