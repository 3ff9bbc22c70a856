//! trellis-table: the runtime half of trellis. It loads a compiled decision
//! table (`trellis compile -o FILE`) and answers "may this user do this,
//! here?" on dense handles without allocating on the hot path. It depends on
//! nothing of the compiler (no parser, no graph library, no CLI), so that a
//! service, the decision server and the language bindings need only this.
//!
//! [`Table::open`] maps the file into memory and reads its arrays in place
//! (nothing is copied; pages are read from disk as queries touch them);
//! [`Table::from_bytes`] does the same from a buffer. Either checks the
//! file first (magic, version, xxh3-64 checksum, structure): a damaged
//! table is an error, never a panic. The format is documented in
//! `docs/table-format.md`, for readers in other languages.
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
//! stored per user, org grants once per org (flattened per org into one
//! member list); role closures and permission sets are per identity type
//! and deduplicated; publication is one deduplicated role set per org.
//! Restrictions to resources live beside the grants: a grant item with
//! [`RESTRICTED_BIT`] names a `(role, restriction)` pair, so a set without
//! resources pays nothing for them. Decisions read the same lists again as
//! *runs* (format minor 1): the grants of one interval together, their
//! roles' permissions as one set per identity type, so that a decision
//! tests one set per interval covering its org; the other questions, and
//! tables of minor 0, read the grant lists.

mod data;
mod explain;
pub mod format;
mod json;
mod names;
mod resources;
mod who;

#[doc(hidden)]
pub use data::TableData;
pub use data::{FLAG_ACTIVE, FLAG_LOCKED, FLAG_SELF_SERVICE};
pub use explain::{Decision, Explanation, GrantEffect, Step};
pub use format::TableError;
pub use names::NameIndex;

use data::{View, ORG_REC};
use std::path::Path;

/// A grant item: a role, or (with this bit) an access policy.
pub const POLICY_BIT: u32 = 1 << 31;
/// Set on a grant that comes from a locked item (manual: *Provider locks*).
pub const LOCKED_BIT: u32 = 1 << 30;
/// Set on a role grant restricted to resources: the rest of the item is an
/// index into the `(role, restriction)` pairs of `restricted_items`.
pub const RESTRICTED_BIT: u32 = 1 << 29;
const ITEM_MASK: u32 = !(POLICY_BIT | LOCKED_BIT | RESTRICTED_BIT);
/// Set on a run (`user_runs`, `member_runs`) whose role set has a role not
/// published at some org of the run's interval: its permission set may not
/// be used, the run's grants are decided one by one.
pub const RUN_UNPUBLISHED: u32 = 1 << 30;
/// Set on a run whose role set's permission set is not all it can give (a
/// restricted grant, or a role with restricted parts): when the set does
/// not hold the permission, the run's grants are decided one by one.
pub const RUN_INCOMPLETE: u32 = 1 << 29;
/// "None" in any `u32` array of the table.
pub const NONE: u32 = u32::MAX;

/// A user, by its position in the table (users are numbered by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct User(pub u32);
/// An org, by its preorder position in the org tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Org(pub u32);
/// A role, numbered by qualified name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Role(pub u32);
/// A permission `module:action`, numbered by module then action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Perm(pub u32);
/// An access policy, numbered by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Policy(pub u32);
/// A resource (manual: *Resources and dimensions*), numbered by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource(pub u32);
/// A dimension of resources, numbered by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dimension(pub u32);

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
    /// The grant's `resources`, by dimension (empty when it has none).
    pub resources: Vec<(Dimension, Vec<Resource>)>,
    /// `file:line` when compiled with `--provenance`.
    pub source: Option<String>,
}

/// The bytes a table is read from: a read-only mapping of its file, or a
/// buffer of `u64`s (so that its arrays are aligned for reading in place).
enum Backing {
    Mapped(memmap2::Mmap),
    Owned(Vec<u64>, usize),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => m,
            Backing::Owned(words, len) => {
                let all: &[u8] = bytemuck::cast_slice(words);
                all.get(..*len).unwrap_or(all)
            }
        }
    }
}

self_cell::self_cell!(
    /// The bytes and the arrays read in place from them.
    struct Cell {
        owner: Backing,
        #[covariant]
        dependent: View,
    }
);

/// A loaded decision table. `Send + Sync`: share one between threads.
pub struct Table {
    cell: Cell,
    /// Built the first time a `who` question is asked.
    who: std::sync::OnceLock<who::WhoIndex>,
    /// What a decision needs of each permission, gathered once at open
    /// (one bounds check instead of four lookups a question).
    perms: Box<[PermFacts]>,
}

/// A permission's words and bits in the bit sets a decision tests.
#[derive(Debug, Clone, Copy)]
struct PermFacts {
    perm_bit: u64,
    module_bit: u64,
    perm_word: u32,
    module_word: u32,
    /// The module's dimension, or `NONE` (always so in a set without
    /// resources, which then never looks at restrictions).
    dim: u32,
    /// The module is reached only through an access policy.
    gated: bool,
}

impl PermFacts {
    fn all(d: &View<'_>) -> Box<[PermFacts]> {
        d.perm_module
            .iter()
            .enumerate()
            .map(|(p, &module)| PermFacts {
                perm_bit: 1 << (p & 63),
                module_bit: 1 << (module & 63),
                perm_word: (p >> 6) as u32,
                module_word: module >> 6,
                dim: if d.dim_name.is_empty() {
                    NONE
                } else {
                    d.module_dim.get(module as usize).copied().unwrap_or(NONE)
                },
                gated: d.module_gated.get(module as usize).is_some_and(|g| *g != 0),
            })
            .collect()
    }
}

/// What one decision looks up for each grant covering its org, gathered
/// once: the permission's facts, the identity's row of role closure cells
/// and the org's publication set. Read-only, so that the scan's state (two
/// flags) stays in registers.
struct Ask<'v, 'a> {
    d: &'v View<'a>,
    perm: &'v PermFacts,
    q: Option<u32>,
    nroles: usize,
    /// Offsets of the identity's row of closure cells and of the org's
    /// publication set (one bit a role).
    closure_row: usize,
    pub_row: usize,
}

impl Ask<'_, '_> {
    #[inline(always)]
    fn in_perms(d: &View<'_>, perm: &PermFacts, set: u32) -> bool {
        set != NONE
            && d.perm_pool
                .get(set as usize * d.perm_words + perm.perm_word as usize)
                .is_some_and(|w| w & perm.perm_bit != 0)
    }

    /// Does the access policy of grant item `item` open the permission's
    /// module?
    #[inline(always)]
    fn policy_opens(d: &View<'_>, perm: &PermFacts, item: u32) -> bool {
        let id = (item & ITEM_MASK) as usize;
        d.policy_modules
            .get(id * d.module_words + perm.module_word as usize)
            .is_some_and(|w| w & perm.module_bit != 0)
    }

    /// Does the role grant `item` give the permission here: the role
    /// published at the org, and the permission among those its closure
    /// holds for the identity (on a resource module, through a path that
    /// reaches the resource asked about)?
    #[inline(always)]
    fn role_allows(&self, item: u32) -> bool {
        let (id, restr) = if item & RESTRICTED_BIT == 0 {
            (item & ITEM_MASK, NONE)
        } else {
            Table::restricted_item(self.d, item)
        };
        let (d, id) = (self.d, id as usize);
        let published = id < self.nroles
            && d.pub_pool
                .get(self.pub_row + (id >> 6))
                .is_some_and(|w| w & (1 << (id & 63)) != 0);
        if !published {
            return false;
        }
        let cell = self.closure_row + id;
        let free = d.closure_perms.get(cell).copied().unwrap_or(NONE);
        let dim = self.perm.dim;
        if dim == NONE {
            Self::in_perms(self.d, self.perm, free)
        } else {
            match self.q {
                Some(q) => path_allows_on(self.d, self.perm, cell, free, restr, Some(q)),
                None => path_allows_module(self.d, self.perm, cell, free, restr),
            }
        }
    }

    /// Scans one list (sorted by `lo`: it stops at the first grant that
    /// starts after `x`); true once both a role and the policy gate allow.
    /// Written as one plain loop; resources and restricted grants leave it
    /// through calls, so a set without them pays a bit test.
    #[inline(always)]
    fn list(&self, rows: &[[u32; 3]], x: u32, role_ok: &mut bool, policy_ok: &mut bool) -> bool {
        for &[lo, hi, item] in rows {
            if lo > x {
                break;
            }
            if x >= hi {
                continue;
            }
            if item & POLICY_BIT != 0 {
                *policy_ok = *policy_ok || Self::policy_opens(self.d, self.perm, item);
            } else if !*role_ok {
                *role_ok = self.role_allows(item);
            }
            if *role_ok && *policy_ok {
                return true;
            }
        }
        false
    }
}

/// One decision's scan of the runs reaching its user (table minor 1): per
/// interval covering its org, one test of the run set's permission set for
/// the user's identity type, and the grants one by one only where that set
/// is not exact (`RUN_UNPUBLISHED`, `RUN_INCOMPLETE`).
struct RunScan<'v, 'a> {
    d: &'v View<'a>,
    perm: &'v PermFacts,
    q: Option<u32>,
    x: u32,
    ident: u32,
    identities: usize,
}

impl RunScan<'_, '_> {
    /// Scans one list of runs, `OWN` the user's own (whose runs without
    /// flags name the permission set of the user's identity type directly)
    /// or a member list (whose runs name their run set).
    #[inline(always)]
    fn list<const OWN: bool>(
        &self,
        rows: &[[u32; 3]],
        role_ok: &mut bool,
        policy_ok: &mut bool,
    ) -> bool {
        let (d, x) = (self.d, self.x);
        for &[lo, hi, entry] in rows {
            if lo > x {
                break;
            }
            if x >= hi {
                continue;
            }
            if entry & POLICY_BIT != 0 {
                *policy_ok = *policy_ok || Ask::policy_opens(d, self.perm, entry);
            } else if !*role_ok {
                let set = (entry & ITEM_MASK) as usize;
                let flags = entry & (RUN_UNPUBLISHED | RUN_INCOMPLETE);
                if OWN && flags == 0 {
                    *role_ok = Ask::in_perms(d, self.perm, set as u32);
                } else if entry & RUN_UNPUBLISHED == 0 {
                    let perms = d
                        .runset_perms
                        .get(set * self.identities + self.ident as usize)
                        .copied()
                        .unwrap_or(NONE);
                    *role_ok = Ask::in_perms(d, self.perm, perms);
                }
                if !*role_ok && flags != 0 {
                    *role_ok = self.grants_allow(set);
                }
            }
            if *role_ok && *policy_ok {
                return true;
            }
        }
        false
    }

    /// Run set `set`'s grants decided one by one, as in the grant lists.
    #[inline(never)]
    fn grants_allow(&self, set: usize) -> bool {
        let d = self.d;
        let (Some(&a), Some(&b), Some(pubset)) = (
            d.runset_start.get(set),
            d.runset_start.get(set + 1),
            d.org_pubset(self.x),
        ) else {
            return false;
        };
        let nroles = d.role_count as usize;
        let ask = Ask {
            d,
            perm: self.perm,
            q: self.q,
            nroles,
            closure_row: self.ident as usize * nroles,
            pub_row: pubset as usize * d.role_words,
        };
        d.runset_items
            .get(a as usize..b as usize)
            .unwrap_or(&[])
            .iter()
            .any(|item| ask.role_allows(*item))
    }
}

/// The role's path to a resource module's permission: about resource `q`,
/// or (below) about the whole module. Kept out of the scan's loop (only
/// sets with resources take it), one function for each case so that each
/// is compiled for its own `q`.
#[inline(never)]
fn path_allows_on(
    d: &View<'_>,
    perm: &PermFacts,
    cell: usize,
    free: u32,
    restr: u32,
    q: Option<u32>,
) -> bool {
    resources::path_allows(d, cell, free, restr, perm.dim, q, &|s| {
        Ask::in_perms(d, perm, s)
    })
}

#[inline(never)]
fn path_allows_module(d: &View<'_>, perm: &PermFacts, cell: usize, free: u32, restr: u32) -> bool {
    resources::path_allows(d, cell, free, restr, perm.dim, None, &|s| {
        Ask::in_perms(d, perm, s)
    })
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("input_hash", &format_args!("{:016x}", self.input_hash()))
            .field("users", &self.user_count())
            .field("orgs", &self.org_count())
            .finish_non_exhaustive()
    }
}

impl Table {
    /// Maps a table file and validates it: the header, the checksum (on a
    /// mapping of its own, dropped after, so that the file's pages stay out
    /// of the process until queries touch them), then the structure, in
    /// place. Nothing is copied; only a small array of what each permission
    /// needs in a decision is built (its words, bits and module facts).
    ///
    /// Replace a table by writing a new file and renaming it over the old
    /// one (`trellis compile -o` does): a table open on the old file keeps
    /// answering from it. A file changed in place while open is not
    /// supported.
    pub fn open(path: impl AsRef<Path>) -> Result<Table, TableError> {
        let file = std::fs::File::open(path.as_ref())?;
        let len = file.metadata()?.len();
        // The checksum is computed on a mapping of its own, dropped after:
        // its pages leave the process with it, and those of the mapping
        // kept enter only as queries touch them.
        {
            let whole = map(&file)?;
            format::check_header(&whole, len)?;
            if format::checksum(&whole) != format::announced_checksum(&whole) {
                return Err(TableError::Checksum);
            }
        }
        let map = map(&file)?;
        if map.len() as u64 != len {
            return Err(TableError::Truncated {
                expected: len,
                found: map.len() as u64,
            });
        }
        // Decisions read a few records at random: no read-ahead.
        let _ = map.advise(memmap2::Advice::Random);
        Table::from_backing(Backing::Mapped(map), true)
    }

    /// Validates a table held in memory; a corrupt one is an error, never a
    /// panic. The bytes are copied once, into an aligned buffer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Table, TableError> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        Table::from_backing(Backing::Owned(words, bytes.len()), false)
    }

    fn from_backing(backing: Backing, checked: bool) -> Result<Table, TableError> {
        let cell = Cell::try_new(backing, |b| format::parse(b.bytes(), checked))?;
        let perms = PermFacts::all(cell.borrow_dependent());
        Ok(Table {
            cell,
            who: std::sync::OnceLock::new(),
            perms,
        })
    }

    #[inline(always)]
    fn d(&self) -> &View<'_> {
        self.cell.borrow_dependent()
    }

    /// Checks the per-user records and every grant list (time in users and
    /// grants, and it reads every page of the file): what loading leaves
    /// out because queries stay in bounds without it. A table that passes
    /// the checksum fails this only if it was written on purpose.
    pub fn check_records(&self) -> Result<(), TableError> {
        format::check_user_records(self.d())
    }

    /// The format's minor version this table was written with.
    pub fn format_minor(&self) -> u16 {
        self.d().minor
    }

    /// Sizes of the table's main parts, for reports and benchmarks.
    pub fn stats(&self) -> Vec<(&'static str, usize)> {
        let d = self.d();
        vec![
            ("users", d.user_count()),
            ("orgs", d.org_end.len()),
            ("roles", d.role_count as usize),
            ("resources", d.res_name.len()),
            ("user grants", d.user_grants.len() / 3),
            ("org grants", d.org_grants.len() / 3),
            (
                "member grants (flattened per org)",
                d.member_grants.len() / 3,
            ),
            ("publication sets", d.pub_pool.len() / d.role_words.max(1)),
            ("role closure sets", d.role_pool.len() / d.role_words.max(1)),
            ("permission sets", d.perm_pool.len() / d.perm_words.max(1)),
            ("restrictions", d.restr_start.len().saturating_sub(1)),
            ("string bytes", d.str_blob.len()),
        ]
    }

    /// The hash of the inputs the table was compiled from.
    pub fn input_hash(&self) -> u64 {
        self.d().input_hash
    }

    /// Was the table compiled with `--provenance` (grants keep `file:line`)?
    pub fn has_provenance(&self) -> bool {
        self.d().provenance
    }

    /// Binary search by name; an empty `sorted` means `names` is in order.
    fn find(&self, names: &[u32], sorted: &[u32], name: &str) -> Option<u32> {
        let d = self.d();
        let key = name.as_bytes();
        let text = |i: u32| d.string(names.get(i as usize).copied().unwrap_or(NONE));
        if sorted.is_empty() {
            return search_in_order(names.len(), text, key);
        }
        sorted
            .binary_search_by(|&i| text(i).cmp(key))
            .ok()
            .and_then(|k| sorted.get(k).copied())
    }

    /// A user by id.
    pub fn user(&self, id: &str) -> Option<User> {
        // Users are numbered in name order: a binary search on the handles.
        let d = self.d();
        search_in_order(self.user_count(), |u| d.user_name_bytes(u), id.as_bytes()).map(User)
    }
    /// An org by id.
    pub fn org(&self, id: &str) -> Option<Org> {
        let d = self.d();
        self.find(d.org_name, d.org_sorted, id).map(Org)
    }
    /// A role by `owner::name`, or by bare name when only one owner has it.
    pub fn role(&self, name: &str) -> Option<Role> {
        let d = self.d();
        if let Some(r) = self.find(d.role_qualified, d.role_qualified_sorted, name) {
            return Some(Role(r));
        }
        self.find(d.role_name, d.role_name_sorted, name)
            .filter(|r| {
                let n = d.role_name.get(*r as usize).copied();
                d.role_name.iter().filter(|x| Some(**x) == n).count() == 1
            })
            .map(Role)
    }
    /// An access policy by id.
    pub fn policy(&self, id: &str) -> Option<Policy> {
        let d = self.d();
        self.find(d.policy_name, d.policy_sorted, id).map(Policy)
    }
    /// A permission by `module:action`.
    pub fn permission(&self, text: &str) -> Option<Perm> {
        let d = self.d();
        let (module, action) = text.split_once(':')?;
        let m = self.find(d.module_name, d.module_sorted, module)? as usize;
        let first = *d.module_first_perm.get(m)?;
        let last = *d.module_first_perm.get(m + 1)?;
        (first..last)
            .find(|p| {
                d.string(d.perm_action.get(*p as usize).copied().unwrap_or(NONE))
                    == action.as_bytes()
            })
            .map(Perm)
    }

    /// User `u`'s id.
    pub fn user_name(&self, u: User) -> &str {
        self.d().user_name(u.0)
    }
    /// Org `o`'s id.
    pub fn org_name(&self, o: Org) -> &str {
        let d = self.d();
        d.str_of(d.org_name, o.0)
    }
    /// The display name: bare when unique in the set, `owner::name` otherwise.
    pub fn role_name(&self, r: Role) -> &str {
        let d = self.d();
        d.str_of(d.role_display, r.0)
    }
    /// Policy `p`'s id.
    pub fn policy_name(&self, p: Policy) -> &str {
        let d = self.d();
        d.str_of(d.policy_name, p.0)
    }
    /// `module:action`.
    pub fn perm_name(&self, p: Perm) -> String {
        let d = self.d();
        let m = d.perm_module.get(p.0 as usize).copied().unwrap_or(NONE);
        format!(
            "{}:{}",
            d.str_of(d.module_name, m),
            String::from_utf8_lossy(
                d.string(d.perm_action.get(p.0 as usize).copied().unwrap_or(NONE))
            )
        )
    }
    /// Is `p` the permission `module:action` (without allocating)?
    pub(crate) fn perm_is(&self, p: Perm, text: &str) -> bool {
        let d = self.d();
        let Some((module, action)) = text.split_once(':') else {
            return false;
        };
        let m = d.perm_module.get(p.0 as usize).copied().unwrap_or(NONE);
        let module_name = d.module_name.get(m as usize).copied().unwrap_or(NONE);
        d.string(module_name) == module.as_bytes()
            && d.string(d.perm_action.get(p.0 as usize).copied().unwrap_or(NONE))
                == action.as_bytes()
    }
    /// How many users the table holds (handles are `0..user_count`).
    pub fn user_count(&self) -> usize {
        self.d().user_count()
    }
    /// How many orgs the table holds (handles are `0..org_count`).
    pub fn org_count(&self) -> usize {
        self.d().org_end.len()
    }
    /// How many roles the table holds (handles are `0..role_count`).
    pub fn role_count(&self) -> usize {
        self.d().role_count as usize
    }

    #[inline]
    fn grants_of_user(&self, u: User) -> &[u32] {
        let d = self.d();
        match d.user_grant_range(u.0) {
            Some((a, b)) => d.user_grants.get(a * 3..b * 3).unwrap_or(&[]),
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

    /// The role and restriction (or `NONE`) of a role grant item.
    #[inline(always)]
    fn role_item(d: &View<'_>, item: u32) -> (u32, u32) {
        if item & RESTRICTED_BIT == 0 {
            return (item & ITEM_MASK, NONE);
        }
        Self::restricted_item(d, item)
    }

    /// The `(role, restriction)` pair a restricted grant item names.
    #[inline(never)]
    fn restricted_item(d: &View<'_>, item: u32) -> (u32, u32) {
        let id = (item & ITEM_MASK) as usize;
        match d.restricted_items.get(id * 2..id * 2 + 2) {
            Some(p) => (p[0], p[1]),
            None => (NONE, NONE),
        }
    }

    /// The user's own grants and its home org's member list, as `(lo, hi,
    /// item)` triples sorted by `lo` (the member list runs to its `NONE`
    /// terminator, which sorts last). Empty for an unknown user.
    #[inline(always)]
    fn grant_lists(&self, u: User) -> [&[[u32; 3]]; 2] {
        let d = self.d();
        let ui = u.0 as usize;
        let Some(rec) = d.user_rec.get(ui * 2..ui * 2 + 3) else {
            return [&[], &[]];
        };
        let (own_start, member_start, own_end) =
            (rec[0] as usize, rec[1] as usize, rec[2] as usize);
        [
            d.user_grant_rows.get(own_start..own_end).unwrap_or(&[]),
            d.member_grant_rows.get(member_start..).unwrap_or(&[]),
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
            for &[lo, hi, item] in list {
                if lo > x {
                    break;
                }
                if x < hi && f(item) {
                    return;
                }
            }
        }
    }

    /// The decision (manual: *Effective roles and the decision*): a
    /// question about the whole module at `x`. For a resource module only
    /// grants unrestricted on its dimension count. Unknown handles answer
    /// `false`.
    ///
    /// One user record gives both grant lists (the user's own and its home
    /// org's member grants); everything else a decision reads (the rows of
    /// the identity's closures, the publication set of `x`, the policy
    /// bitsets) is a few kilobytes that stay in cache. Both lists are sorted
    /// by where a grant starts to apply, so the scan ends at the first grant
    /// that starts after `x`.
    #[inline(always)]
    pub fn allow(&self, u: User, p: Perm, x: Org) -> bool {
        self.decide(u, p, x, None)
    }

    /// Reads, for every user of `users`, the first words a decision about
    /// it reads (its record, then the start of each of its grant lists),
    /// and returns a value of no meaning made from them. A caller about to
    /// decide many questions (a batch) calls it first: each pass is a short
    /// loop of independent reads, so the processor has many users' cache
    /// misses in flight at once, and the decisions then find their data in
    /// cache instead of waiting for it one question at a time.
    pub fn touch_users(&self, users: &[User]) -> u32 {
        let d = self.d();
        let mut seen = 0u32;
        for u in users {
            let ui = u.0 as usize * 2;
            seen ^= d.user_rec.get(ui).copied().unwrap_or(0);
        }
        for u in users {
            let ui = u.0 as usize;
            let Some(rec) = d.user_rec.get(ui * 2..ui * 2 + 2) else {
                continue;
            };
            seen ^= d.user_grants.get(rec[0] as usize * 3).copied().unwrap_or(0);
            seen ^= d
                .member_grants
                .get(rec[1] as usize * 3)
                .copied()
                .unwrap_or(0);
        }
        seen
    }

    /// The decision about resource `q` at org `x` (manual: *Resources and
    /// dimensions*): `p`'s module must be of `q`'s dimension, and `x` must
    /// be `q`'s org when it has one (see [`Table::resource_org`]). With
    /// `None`, as [`Table::allow`]. No allocation; at most a few binary
    /// searches in short sorted lists more than `allow`.
    #[inline]
    pub fn allow_on(&self, u: User, p: Perm, x: Org, q: Option<Resource>) -> bool {
        self.decide(u, p, x, q.map(|q| q.0))
    }

    #[inline(always)]
    fn decide(&self, u: User, p: Perm, x: Org, q: Option<u32>) -> bool {
        let d = self.d();
        if !d.runs {
            return self.decide_by_grants(u, p, x, q);
        }
        // The user's record holds where its own runs start and end (the next
        // record's start), where its member runs start, and its identity.
        let ui = u.0 as usize;
        let (Some(rec), Some(perm)) = (
            d.user_run_rec.get(ui * 3..ui * 3 + 4),
            self.perms.get(p.0 as usize),
        ) else {
            return false;
        };
        if !Self::may_ask_about(d, perm, x, q) {
            return false;
        }
        let scan = RunScan {
            d,
            perm,
            q,
            x: x.0,
            ident: rec[2],
            identities: d.identity_name.len(),
        };
        let (mut role_ok, mut policy_ok) = (false, !perm.gated);
        let own = d
            .user_run_rows
            .get(rec[0] as usize..rec[3] as usize)
            .unwrap_or(&[]);
        let member = d.member_run_rows.get(rec[1] as usize..).unwrap_or(&[]);
        scan.list::<true>(own, &mut role_ok, &mut policy_ok)
            || scan.list::<false>(member, &mut role_ok, &mut policy_ok)
    }

    /// A question about resource `q` at `x` is asked of a permission of
    /// `q`'s dimension, at `q`'s org when it has one (always so without a
    /// resource).
    #[inline(always)]
    fn may_ask_about(d: &View<'_>, perm: &PermFacts, x: Org, q: Option<u32>) -> bool {
        let Some(q) = q else {
            return true;
        };
        let of_dim = perm.dim != NONE && d.res_dim.get(q as usize) == Some(&perm.dim);
        let org = d.res_org.get(q as usize).copied().unwrap_or(NONE);
        of_dim && (org == NONE || org == x.0)
    }

    /// The decision from the grant lists, grant by grant: tables of
    /// minor 0, and what the runs must agree with.
    #[inline(never)]
    fn decide_by_grants(&self, u: User, p: Perm, x: Org, q: Option<u32>) -> bool {
        let d = self.d();
        // The user's record is read here rather than through `grant_lists`:
        // with the helper, the compiled decision costs about 14 more
        // instructions (callgrind, 202 against 216 per `allow` at M).
        let ui = u.0 as usize;
        let (Some(rec), Some(ident), Some(&pubset), Some(perm)) = (
            d.user_rec.get(ui * 2..ui * 2 + 3),
            d.user_identity(u.0),
            d.org_rec.get(x.0 as usize * ORG_REC),
            self.perms.get(p.0 as usize),
        ) else {
            return false;
        };
        if !Self::may_ask_about(d, perm, x, q) {
            return false;
        }
        let nroles = d.role_count as usize;
        let ask = Ask {
            d,
            perm,
            q,
            nroles,
            closure_row: ident as usize * nroles,
            pub_row: pubset as usize * d.role_words,
        };
        let (mut role_ok, mut policy_ok) = (false, !perm.gated);
        let (own_start, member_start, own_end) =
            (rec[0] as usize, rec[1] as usize, rec[2] as usize);
        let own = d.user_grant_rows.get(own_start..own_end).unwrap_or(&[]);
        let member = d.member_grant_rows.get(member_start..).unwrap_or(&[]);
        ask.list(own, x.0, &mut role_ok, &mut policy_ok)
            || ask.list(member, x.0, &mut role_ok, &mut policy_ok)
    }

    /// The effective roles of `u` at `x`, sorted by display name. A role
    /// held for some resources only is held.
    pub fn roles(&self, u: User, x: Org) -> Vec<Role> {
        let d = self.d();
        let mut held = vec![0u64; d.role_words];
        let (Some(ident), Some(pubset)) = (d.user_identity(u.0), d.org_pubset(x.0)) else {
            return Vec::new();
        };
        let nroles = d.role_count as usize;
        self.for_each_grant(u, x, |item| {
            if item & POLICY_BIT != 0 {
                return false;
            }
            let (id, _) = Self::role_item(d, item);
            if Self::bit(d.pub_pool, d.role_words, pubset, id) {
                let set = d
                    .closure_roles
                    .get((ident as usize * nroles).saturating_add(id as usize))
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
        self.who_on(p, x, None)
    }

    /// Every user allowed `p` on resource `q` at `x` (or, with `None`, on
    /// the whole module, as [`Table::who`]).
    ///
    /// Only the users with a role grant reaching `x` are asked (found by an
    /// index built from the table the first time, then kept with it), so
    /// the cost follows the grants that reach `x`, not the number of users.
    pub fn who_on(&self, p: Perm, x: Org, q: Option<Resource>) -> Vec<User> {
        if x.0 as usize >= self.org_count() {
            return Vec::new();
        }
        self.who
            .get_or_init(|| who::WhoIndex::new(self.d()))
            .candidates(x.0)
            .into_iter()
            .map(User)
            .filter(|u| self.allow_on(*u, p, x, q))
            .collect()
    }

    /// [`Table::who_on`] by asking every user (what the index must agree
    /// with; for tests and benchmarks).
    #[doc(hidden)]
    pub fn who_on_every_user(&self, p: Perm, x: Org, q: Option<Resource>) -> Vec<User> {
        (0..self.user_count() as u32)
            .map(User)
            .filter(|u| self.allow_on(*u, p, x, q))
            .collect()
    }

    /// Is `r` published at `x` (manual: *Publication*)?
    pub fn published(&self, r: Role, x: Org) -> bool {
        let d = self.d();
        d.org_pubset(x.0)
            .is_some_and(|s| Self::bit(d.pub_pool, d.role_words, s, r.0))
    }

    fn role_flags(&self, r: Role) -> u32 {
        self.d().role_flags.get(r.0 as usize).copied().unwrap_or(0)
    }

    /// Roles an admin could assign at `x`: active, not locked, published there.
    pub fn assignable_at(&self, x: Org) -> Vec<Role> {
        (0..self.d().role_count)
            .map(Role)
            .filter(|r| {
                let f = self.role_flags(*r);
                f & FLAG_ACTIVE != 0 && f & FLAG_LOCKED == 0 && self.published(*r, x)
            })
            .collect()
    }

    /// The role's informational `approval` text, carried from the sources.
    pub fn role_approval(&self, r: Role) -> Option<&str> {
        let d = self.d();
        let id = *d.role_approval.get(r.0 as usize)?;
        (id != NONE).then(|| std::str::from_utf8(d.string(id)).unwrap_or(""))
    }

    /// Is the role locked by the provider?
    pub fn role_locked(&self, r: Role) -> bool {
        self.role_flags(r) & FLAG_LOCKED != 0
    }

    /// May `admin` give `r` to `u` at `x` (manual: *Delegated
    /// administration*), with no `resources` on the assignment?
    pub fn can_assign(&self, admin: User, r: Role, u: User, x: Org) -> bool {
        self.can_assign_with(admin, r, u, x, &[])
    }

    /// May `admin` give `r` to `u` at `x` with assignment `resources`
    /// (`(dimension, resources)` pairs)? Beyond [`Table::can_assign`], the
    /// assignment must name every dimension `r` requires, and what it
    /// reaches must lie within what `admin` manages through the assigner
    /// role, both at `x` and at `u`'s home org.
    pub fn can_assign_with(
        &self,
        admin: User,
        r: Role,
        u: User,
        x: Org,
        resources: &[(Dimension, &[Resource])],
    ) -> bool {
        let d = self.d();
        let flags = self.role_flags(r);
        if flags & FLAG_ACTIVE == 0 || flags & FLAG_LOCKED != 0 || !self.published(r, x) {
            return false;
        }
        let Some(ident) = d.user_identity(u.0) else {
            return false;
        };
        let allowed = d
            .role_identity
            .get(r.0 as usize * d.identity_words + (ident as usize >> 6))
            .is_some_and(|w| w & (1 << (ident & 63)) != 0);
        if !allowed || !resources::names_required(d, r, resources) {
            return false;
        }
        if admin == u && flags & FLAG_SELF_SERVICE != 0 {
            return true;
        }
        let by = match (
            d.assignable_start.get(r.0 as usize),
            d.assignable_start.get(r.0 as usize + 1),
        ) {
            (Some(&a), Some(&b)) => d.assignable_by.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        };
        let Some(home) = d.user_home(u.0) else {
            return false;
        };
        if by.is_empty() {
            return false;
        }
        let at_x = self.roles(admin, x);
        let at_home = self.roles(admin, Org(home));
        by.iter()
            .map(|q| Role(*q))
            .filter(|q| at_x.contains(q) && at_home.contains(q))
            .any(|s| self.reach_within_scope(admin, s, r, u, x, resources))
    }
}

/// A read-only mapping of `file`: the crate's one `unsafe` block.
fn map(file: &std::fs::File) -> Result<memmap2::Mmap, TableError> {
    // SAFETY: the mapping is read-only and private to this table. It stays
    // valid while the file is renamed over or deleted; the one way to
    // break it, changing the file in place while it is open, is documented
    // as unsupported on `Table::open` (and `trellis compile` writes a new
    // file and renames it).
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(file)? };
    Ok(map)
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
