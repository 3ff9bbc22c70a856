//! trellis-table: the runtime half of trellis. It loads a compiled decision
//! table (`trellis compile -o FILE`) and answers "may this user do this,
//! here?" on dense handles without allocating on the hot path. It depends on
//! nothing of the compiler (no parser, no graph library, no CLI), so that a
//! service, the decision server and the language bindings need only this.
//!
//! `format` writes and reads the file (magic, version, input hash,
//! checksum; every read bounds-checked), and [`Table`] answers the queries.
//!
//! ```no_run
//! use trellis_table::Table;
//! let table = Table::open("policies.tbl")?;   // validated: a corrupt file is an error
//! let (u, x, p) = (table.user("alice"), table.org("acme"), table.permission("templates:read"));
//! // Names are resolved to handles once; an unknown name answers deny.
//! let allowed = match (u, x, p) {
//!     (Some(u), Some(x), Some(p)) => table.allow(u, p, x),   // no allocation
//!     _ => false,
//! };
//! println!("{}", if allowed { "allow" } else { "deny" });
//! # Ok::<(), trellis_table::TableError>(())
//! ```
//!
//! Layout ideas: orgs are numbered in preorder so that "at `o` and below" is
//! the interval `[o, end[o])`; a grant is `(lo, hi, item)`; user grants are
//! stored per user, org grants once per org (a user walks the few ancestors
//! of their home); role closures and permission sets are per identity type
//! and deduplicated; publication is one deduplicated role set per org.

mod data;
pub mod format;

pub use data::{TableData, FLAG_ACTIVE, FLAG_LOCKED, FLAG_SELF_SERVICE};
pub use format::TableError;

use std::path::Path;

/// A grant item: a role, or (with this bit) an access policy.
pub const POLICY_BIT: u32 = 1 << 31;
/// Set on a grant that comes from a locked item (manual: *Provider locks*).
pub const LOCKED_BIT: u32 = 1 << 30;
const ITEM_MASK: u32 = !(POLICY_BIT | LOCKED_BIT);
pub const NONE: u32 = u32::MAX;

/// Dense handles, valid for the table they came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct User(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Org(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Perm(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Policy(pub u32);

/// What a grant gives: a role, or an access policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Granted {
    Role(Role),
    Policy(Policy),
}

/// One grant that reaches a user at an org, as `explain` and `roles` see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantInfo {
    pub granted: Granted,
    /// The org the grant is made at.
    pub anchor: Org,
    pub locked: bool,
    /// `file:line` when compiled with `--provenance`.
    pub source: Option<String>,
}

/// A loaded decision table.
#[derive(Debug)]
pub struct Table {
    d: TableData,
}

impl Table {
    /// Reads and validates a table file.
    pub fn open(path: impl AsRef<Path>) -> Result<Table, TableError> {
        let bytes = std::fs::read(path.as_ref()).map_err(|e| TableError::Io(e.to_string()))?;
        Table::from_bytes(&bytes)
    }

    /// Validates and decodes a table; a corrupt one is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Table, TableError> {
        let d = format::decode(bytes)?;
        Ok(Table { d })
    }

    /// Sizes of the table's main parts, for reports and benchmarks.
    pub fn stats(&self) -> Vec<(&'static str, usize)> {
        let d = &self.d;
        vec![
            ("users", d.user_count()),
            ("orgs", d.org_end.len()),
            ("roles", d.role_count as usize),
            ("user grants", d.user_grants.len() / 3),
            ("org grants", d.org_grants.len() / 3),
            (
                "member grants (flattened per org)",
                d.member_grants.len() / 3,
            ),
            ("publication sets", d.pub_pool.len() / d.role_words.max(1)),
            ("role closure sets", d.role_pool.len() / d.role_words.max(1)),
            ("permission sets", d.perm_pool.len() / d.perm_words.max(1)),
            ("string bytes", d.str_blob.len()),
        ]
    }

    /// The hash of the inputs the table was compiled from.
    pub fn input_hash(&self) -> u64 {
        self.d.input_hash
    }

    /// Binary search by name; an empty `sorted` means `names` is in order.
    fn find(&self, names: &[u32], sorted: &[u32], name: &str) -> Option<u32> {
        let key = name.as_bytes();
        let text = |i: u32| self.d.string(names.get(i as usize).copied().unwrap_or(0));
        if sorted.is_empty() {
            return search_in_order(names.len(), text, key);
        }
        sorted
            .binary_search_by(|&i| text(i).cmp(key))
            .ok()
            .and_then(|k| sorted.get(k).copied())
    }

    pub fn user(&self, id: &str) -> Option<User> {
        // Users are numbered in name order: a binary search on the handles.
        search_in_order(
            self.user_count(),
            |u| self.d.user_name(u).as_bytes(),
            id.as_bytes(),
        )
        .map(User)
    }
    pub fn org(&self, id: &str) -> Option<Org> {
        self.find(&self.d.org_name, &self.d.org_sorted, id).map(Org)
    }
    /// A role by `owner::name`, or by bare name when only one owner has it.
    pub fn role(&self, name: &str) -> Option<Role> {
        if let Some(r) = self.find(&self.d.role_qualified, &self.d.role_qualified_sorted, name) {
            return Some(Role(r));
        }
        self.find(&self.d.role_name, &self.d.role_name_sorted, name)
            .filter(|r| {
                let n = self.d.role_name.get(*r as usize).copied();
                self.d.role_name.iter().filter(|x| Some(**x) == n).count() == 1
            })
            .map(Role)
    }
    pub fn policy(&self, id: &str) -> Option<Policy> {
        self.find(&self.d.policy_name, &self.d.policy_sorted, id)
            .map(Policy)
    }
    /// `module:action`.
    pub fn permission(&self, text: &str) -> Option<Perm> {
        let (module, action) = text.split_once(':')?;
        let m = self.find(&self.d.module_name, &self.d.module_sorted, module)? as usize;
        let first = *self.d.module_first_perm.get(m)?;
        let last = *self.d.module_first_perm.get(m + 1)?;
        (first..last)
            .find(|p| {
                self.d
                    .string(self.d.perm_action.get(*p as usize).copied().unwrap_or(0))
                    == action.as_bytes()
            })
            .map(Perm)
    }

    pub fn user_name(&self, u: User) -> &str {
        self.d.user_name(u.0)
    }
    pub fn org_name(&self, o: Org) -> &str {
        self.d.str_of(&self.d.org_name, o.0)
    }
    /// The display name: bare when unique in the set, `owner::name` otherwise.
    pub fn role_name(&self, r: Role) -> &str {
        self.d.str_of(&self.d.role_display, r.0)
    }
    pub fn policy_name(&self, p: Policy) -> &str {
        self.d.str_of(&self.d.policy_name, p.0)
    }
    pub fn user_count(&self) -> usize {
        self.d.user_count()
    }
    pub fn org_count(&self) -> usize {
        self.d.org_end.len()
    }

    #[inline]
    fn grants_of_user(&self, u: User) -> &[u32] {
        match self.d.user_grant_range(u.0) {
            Some((a, b)) => self.d.user_grants.get(a * 3..b * 3).unwrap_or(&[]),
            None => &[],
        }
    }

    #[inline]
    fn bit(pool: &[u64], words: usize, set: u32, i: u32) -> bool {
        (set as usize)
            .checked_mul(words)
            .and_then(|at| at.checked_add(i as usize >> 6))
            .and_then(|at| pool.get(at))
            .is_some_and(|w| w & (1u64 << (i & 63)) != 0)
    }

    /// The user's own grants and its home org's member list, as `(lo, hi,
    /// item)` triples sorted by `lo` (the member list runs to its `NONE`
    /// terminator, which sorts last). Empty for an unknown user.
    #[inline(always)]
    fn grant_lists(&self, u: User) -> [&[u32]; 2] {
        let d = &self.d;
        let ui = u.0 as usize;
        let Some(rec) = d.user_rec.get(ui * 2..ui * 2 + 3) else {
            return [&[], &[]];
        };
        let (own_start, member_start, own_end) =
            (rec[0] as usize, rec[1] as usize, rec[2] as usize);
        [
            d.user_grants.get(own_start * 3..own_end * 3).unwrap_or(&[]),
            d.member_grants.get(member_start * 3..).unwrap_or(&[]),
        ]
    }

    /// Calls `f` with the item of every grant reaching `u` at `x` (the
    /// user's own, then those of its home org and every ancestor) until `f`
    /// returns true. Both lists are sorted by `lo`: the scan of each stops
    /// at the first grant that starts after `x`.
    #[inline(always)]
    fn for_each_grant(&self, u: User, x: Org, mut f: impl FnMut(u32) -> bool) {
        let x = x.0;
        for list in self.grant_lists(u) {
            for g in list.as_chunks::<3>().0 {
                if g[0] > x {
                    break;
                }
                if x < g[1] && f(g[2]) {
                    return;
                }
            }
        }
    }

    /// The decision (manual: *Effective roles and the decision*). Unknown
    /// handles answer `false`.
    ///
    /// One user record gives both grant lists (the user's own and its home
    /// org's member grants); everything else a decision reads (the rows of
    /// the identity's closures, the publication set of `x`, the policy
    /// bitsets) is a few kilobytes that stay in cache. Both lists are sorted
    /// by where a grant starts to apply, so the scan ends at the first grant
    /// that starts after `x`.
    #[inline(always)]
    pub fn allow(&self, u: User, p: Perm, x: Org) -> bool {
        let d = &self.d;
        let (Some(ident), Some(&pubset), Some(&module)) = (
            d.user_identity(u.0),
            d.org_rec.get(x.0 as usize * 4),
            d.perm_module.get(p.0 as usize),
        ) else {
            return false;
        };
        let nroles = d.role_count as usize;
        // Offsets of the identity's closure row and of x's publication set.
        let closure_row = ident as usize * nroles;
        let pub_row = pubset as usize * d.role_words;
        let (perm_word, perm_bit) = (p.0 as usize >> 6, 1u64 << (p.0 & 63));
        let (module_word, module_bit) = (module as usize >> 6, 1u64 << (module & 63));
        let mut role_ok = false;
        let mut policy_ok = d.module_gated.get(module as usize).is_none_or(|g| *g == 0);
        self.for_each_grant(u, x, |item| {
            let id = (item & ITEM_MASK) as usize;
            if item & POLICY_BIT != 0 {
                policy_ok = policy_ok
                    || d.policy_modules
                        .get(id * d.module_words + module_word)
                        .is_some_and(|w| w & module_bit != 0);
            } else if !role_ok
                && id < nroles
                && d.pub_pool
                    .get(pub_row + (id >> 6))
                    .is_some_and(|w| w & (1 << (id & 63)) != 0)
            {
                role_ok = d.closure_perms.get(closure_row + id).is_some_and(|&set| {
                    set != NONE
                        && d.perm_pool
                            .get(set as usize * d.perm_words + perm_word)
                            .is_some_and(|w| w & perm_bit != 0)
                });
            }
            role_ok && policy_ok
        });
        role_ok && policy_ok
    }

    /// The effective roles of `u` at `x`, sorted by display name.
    pub fn roles(&self, u: User, x: Org) -> Vec<Role> {
        let d = &self.d;
        let mut held = vec![0u64; d.role_words];
        let (Some(&ident), Some(&pubset)) =
            (d.user_identity(u.0).as_ref(), d.org_pubset(x.0).as_ref())
        else {
            return Vec::new();
        };
        let nroles = d.role_count as usize;
        self.for_each_grant(u, x, |item| {
            let id = item & ITEM_MASK;
            if item & POLICY_BIT == 0 && Self::bit(&d.pub_pool, d.role_words, pubset, id) {
                let set = d
                    .closure_roles
                    .get(ident as usize * nroles + id as usize)
                    .copied()
                    .unwrap_or(NONE);
                if set != NONE {
                    let words = d
                        .role_pool
                        .get(set as usize * d.role_words..(set as usize + 1) * d.role_words)
                        .unwrap_or(&[]);
                    for (h, w) in held.iter_mut().zip(words) {
                        *h |= w;
                    }
                }
            }
            false
        });
        let mut out: Vec<Role> = (0..d.role_count)
            .filter(|r| {
                held.get(*r as usize >> 6)
                    .is_some_and(|w| w & (1 << (r & 63)) != 0)
            })
            .map(Role)
            .collect();
        out.sort_by(|a, b| self.role_name(*a).cmp(self.role_name(*b)));
        out
    }

    /// Access policies reaching `u` at `x`.
    pub fn policies(&self, u: User, x: Org) -> Vec<Policy> {
        let mut out = Vec::new();
        self.for_each_grant(u, x, |item| {
            if item & POLICY_BIT != 0 {
                out.push(Policy(item & ITEM_MASK));
            }
            false
        });
        out.sort();
        out.dedup();
        out
    }

    /// Every user allowed `p` at `x`.
    pub fn who(&self, p: Perm, x: Org) -> Vec<User> {
        (0..self.user_count() as u32)
            .map(User)
            .filter(|u| self.allow(*u, p, x))
            .collect()
    }

    /// Is `r` published at `x` (manual: *Publication*)?
    pub fn published(&self, r: Role, x: Org) -> bool {
        let d = &self.d;
        d.org_pubset(x.0)
            .as_ref()
            .is_some_and(|s| Self::bit(&d.pub_pool, d.role_words, *s, r.0))
    }

    /// Roles an admin could assign at `x`: active, not locked, published there.
    pub fn assignable_at(&self, x: Org) -> Vec<Role> {
        (0..self.d.role_count)
            .map(Role)
            .filter(|r| {
                let f = self.d.role_flags.get(r.0 as usize).copied().unwrap_or(0);
                f & data::FLAG_ACTIVE != 0 && f & data::FLAG_LOCKED == 0 && self.published(*r, x)
            })
            .collect()
    }

    /// The role's informational `approval` text, carried from the sources.
    pub fn role_approval(&self, r: Role) -> Option<&str> {
        let id = *self.d.role_approval.get(r.0 as usize)?;
        (id != NONE).then(|| std::str::from_utf8(self.d.string(id)).unwrap_or(""))
    }

    pub fn role_locked(&self, r: Role) -> bool {
        self.d
            .role_flags
            .get(r.0 as usize)
            .is_some_and(|f| f & data::FLAG_LOCKED != 0)
    }

    /// May `admin` give `r` to `u` at `x` (manual: *Delegated administration*)?
    pub fn can_assign(&self, admin: User, r: Role, u: User, x: Org) -> bool {
        let d = &self.d;
        let flags = d.role_flags.get(r.0 as usize).copied().unwrap_or(0);
        if flags & data::FLAG_ACTIVE == 0 || flags & data::FLAG_LOCKED != 0 || !self.published(r, x)
        {
            return false;
        }
        let Some(&ident) = d.user_identity(u.0).as_ref() else {
            return false;
        };
        let allowed = d
            .role_identity
            .get(r.0 as usize * d.identity_words + (ident as usize >> 6))
            .is_some_and(|w| w & (1 << (ident & 63)) != 0);
        if !allowed {
            return false;
        }
        if admin == u && flags & data::FLAG_SELF_SERVICE != 0 {
            return true;
        }
        let by = match (
            d.assignable_start.get(r.0 as usize),
            d.assignable_start.get(r.0 as usize + 1),
        ) {
            (Some(&a), Some(&b)) => d.assignable_by.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        };
        if by.is_empty() {
            return false;
        }
        let Some(&home) = d.user_home(u.0).as_ref() else {
            return false;
        };
        let at_x = self.roles(admin, x);
        let at_home = self.roles(admin, Org(home));
        by.iter()
            .any(|q| at_x.contains(&Role(*q)) && at_home.contains(&Role(*q)))
    }

    /// The grants reaching `u` at `x` and whether each counts there.
    pub fn grants(&self, u: User, x: Org) -> Vec<(GrantInfo, bool)> {
        let d = &self.d;
        let mut out = Vec::new();
        let pubset = d.org_pubset(x.0).as_ref().copied().unwrap_or(NONE);
        // Recompute anchors: walk the same grants, keeping lo and provenance.
        let mut visit = |g: &[u32], idx: usize, user_side: bool| {
            let item = g[2];
            let id = item & ITEM_MASK;
            let source = if user_side {
                d.user_grant_source.get(idx)
            } else {
                d.org_grant_source.get(idx)
            }
            .and_then(|s| (*s != NONE).then(|| String::from_utf8_lossy(d.string(*s)).into_owned()));
            let info = GrantInfo {
                granted: if item & POLICY_BIT != 0 {
                    Granted::Policy(Policy(id))
                } else {
                    Granted::Role(Role(id))
                },
                anchor: Org(g[0]),
                locked: item & LOCKED_BIT != 0,
                source,
            };
            let counts = item & POLICY_BIT != 0 || Self::bit(&d.pub_pool, d.role_words, pubset, id);
            out.push((info, counts));
        };
        if let Some((a, b)) = d.user_grant_range(u.0) {
            for k in a..b {
                if let Some(g) = d.user_grants.get(k * 3..k * 3 + 3) {
                    if g[0] <= x.0 && x.0 < g[1] {
                        visit(g, k, true);
                    }
                }
            }
        }
        let mut a = d.user_home(u.0).unwrap_or(NONE);
        let mut guard = 0;
        while a != NONE && guard < 4096 {
            if let (Some(&s), Some(&e)) = (
                d.org_grant_start.get(a as usize),
                d.org_grant_start.get(a as usize + 1),
            ) {
                for k in s as usize..e as usize {
                    if let Some(g) = d.org_grants.get(k * 3..k * 3 + 3) {
                        if g[0] <= x.0 && x.0 < g[1] {
                            visit(g, k, false);
                        }
                    }
                }
            }
            a = d.org_parent.get(a as usize).copied().unwrap_or(NONE);
            guard += 1;
        }
        out
    }

    /// Why `allow` answers as it does, one line per step.
    pub fn explain(&self, u: User, p: Perm, x: Org) -> Vec<String> {
        let d = &self.d;
        let mut lines = Vec::new();
        let allow = self.allow(u, p, x);
        let ident = d.user_identity(u.0).as_ref().copied().unwrap_or(0);
        let nroles = d.role_count as usize;
        lines.push(format!(
            "{}: may `{}` use `{}` at `{}`?",
            if allow { "allow" } else { "deny" },
            self.user_name(u),
            self.perm_name(p),
            self.org_name(x)
        ));
        let grants = self.grants(u, x);
        if grants.is_empty() {
            lines.push(format!(
                "  no assignment or automatic rule reaches `{}` at `{}`",
                self.user_name(u),
                self.org_name(x)
            ));
        }
        for (g, counts) in &grants {
            let what = match g.granted {
                Granted::Role(r) => format!("role `{}`", self.role_name(r)),
                Granted::Policy(pl) => format!("policy `{}`", self.policy_name(pl)),
            };
            let mut line = format!("  - {what} granted at `{}`", self.org_name(g.anchor));
            if g.locked {
                line.push_str(", locked by the provider");
            }
            if let Some(s) = &g.source {
                line.push_str(&format!(" ({s})"));
            }
            if !counts {
                line.push_str(&format!(
                    ": not published at `{}`, does not count",
                    self.org_name(x)
                ));
            }
            if let (Granted::Role(r), true) = (g.granted, *counts) {
                let set = d
                    .closure_perms
                    .get(ident as usize * nroles + r.0 as usize)
                    .copied()
                    .unwrap_or(NONE);
                if set != NONE && Self::bit(&d.perm_pool, d.perm_words, set, p.0) {
                    line.push_str(&format!(
                        ": grants `{}` (itself or through `includes`)",
                        self.perm_name(p)
                    ));
                }
            }
            lines.push(line);
        }
        let module = d.perm_module.get(p.0 as usize).copied().unwrap_or(0);
        if d.module_gated.get(module as usize).copied().unwrap_or(0) != 0 {
            let opened = grants.iter().any(|(g, _)| match g.granted {
                Granted::Policy(pl) => Self::bit(&d.policy_modules, d.module_words, pl.0, module),
                Granted::Role(_) => false,
            });
            lines.push(if opened {
                "  the module is gated and an access policy listing it reaches the user here".to_owned()
            } else {
                "  missing: the module is gated and no access policy listing it reaches the user here".to_owned()
            });
        }
        lines
    }

    pub fn perm_name(&self, p: Perm) -> String {
        let d = &self.d;
        let m = d.perm_module.get(p.0 as usize).copied().unwrap_or(0);
        format!(
            "{}:{}",
            d.str_of(&d.module_name, m),
            String::from_utf8_lossy(
                d.string(d.perm_action.get(p.0 as usize).copied().unwrap_or(0))
            )
        )
    }
}

impl Table {
    /// A readable, stable dump of the table's content (`compile --json`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let d = &self.d;
        let roles_of_set = |pool: &[u64], set: u32| -> Vec<String> {
            (0..d.role_count)
                .filter(|r| Self::bit(pool, d.role_words, set, *r))
                .map(|r| self.role_name(Role(r)).to_owned())
                .collect()
        };
        let grant = |g: &[u32]| {
            let item = g[2];
            let id = item & ITEM_MASK;
            json!({
                "role": (item & POLICY_BIT == 0).then(|| self.role_name(Role(id)).to_owned()),
                "policy": (item & POLICY_BIT != 0).then(|| self.policy_name(Policy(id)).to_owned()),
                "at": self.org_name(Org(g[0])),
                "orgs_reached": g[1].saturating_sub(g[0]),
                "locked": item & LOCKED_BIT != 0,
            })
        };
        let orgs: Vec<_> = (0..self.org_count() as u32)
            .map(|o| {
                let s = d.org_grant_start.get(o as usize).copied().unwrap_or(0) as usize;
                let e = d.org_grant_start.get(o as usize + 1).copied().unwrap_or(0) as usize;
                json!({
                    "id": self.org_name(Org(o)),
                    "parent": d.org_parent.get(o as usize).filter(|p| **p != NONE).map(|p| self.org_name(Org(*p)).to_owned()),
                    "published": roles_of_set(&d.pub_pool, d.org_pubset(o).unwrap_or(0)),
                    "grants": d.org_grants.get(s * 3..e * 3).unwrap_or(&[]).chunks_exact(3).map(grant).collect::<Vec<_>>(),
                })
            })
            .collect();
        let users: Vec<_> = (0..self.user_count() as u32)
            .map(|u| {
                json!({
                    "id": self.user_name(User(u)),
                    "home": self.org_name(Org(d.user_home(u).unwrap_or(0))),
                    "identity": d.str_of(&d.identity_name, d.user_identity(u).unwrap_or(0)),
                    "grants": self.grants_of_user(User(u)).chunks_exact(3).map(grant).collect::<Vec<_>>(),
                })
            })
            .collect();
        let roles: Vec<_> = (0..d.role_count)
            .map(|r| {
                let f = d.role_flags.get(r as usize).copied().unwrap_or(0);
                json!({
                    "name": d.str_of(&d.role_qualified, r),
                    "active": f & data::FLAG_ACTIVE != 0,
                    "locked": f & data::FLAG_LOCKED != 0,
                    "self_service": f & data::FLAG_SELF_SERVICE != 0,
                    "approval": self.role_approval(Role(r)),
                })
            })
            .collect();
        json!({
            "format_version": format::VERSION,
            "input_hash": format!("{:016x}", d.input_hash),
            "orgs": orgs,
            "users": users,
            "roles": roles,
        })
    }
}

/// The index in `0..len` whose `text` is `key`, when `text` is in order.
fn search_in_order<'t>(len: usize, text: impl Fn(u32) -> &'t [u8], key: &[u8]) -> Option<u32> {
    let (mut lo, mut hi) = (0usize, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match text(mid as u32).cmp(key) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid as u32),
        }
    }
    None
}
