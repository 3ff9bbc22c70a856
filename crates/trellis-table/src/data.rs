//! The table's content as plain arrays, declared once: [`TableData`] owns
//! them (the compiler fills it and [`crate::format`] writes it), and
//! [`View`] borrows them in place from a file's bytes (what queries read).
//! `docs/table-format.md` documents every array; the comments here say
//! what the code relies on.

/// `role_flags`: the role is active (not `status: disabled`).
pub const FLAG_ACTIVE: u32 = 1;
/// `role_flags`: the role is locked by the provider.
pub const FLAG_LOCKED: u32 = 2;
/// `role_flags`: a user may give the role to themselves (`self_service`).
pub const FLAG_SELF_SERVICE: u32 = 4;

/// The arrays of a table, in section-id order: `(id, name, item type)`.
/// Ids are the format's: they are never reused or renumbered (a new array
/// takes the next id), so that a reader finds each by id in the directory.
macro_rules! arrays {
    ($m:ident) => {
        $m! {
            (1, str_blob, u8),
            (2, str_off, u32),
            (3, org_name, u32),
            (4, org_sorted, u32),
            (5, org_parent, u32),
            (6, org_end, u32),
            (7, org_rec, u32),
            (8, member_grants, u32),
            (9, org_grant_start, u32),
            (10, org_grants, u32),
            (11, org_grant_source, u32),
            (12, user_rec, u32),
            (13, user_home, u32),
            (14, user_ident, u8),
            (15, user_grants, u32),
            (16, user_grant_source, u32),
            (17, identity_name, u32),
            (18, role_name, u32),
            (19, role_name_sorted, u32),
            (20, role_qualified, u32),
            (21, role_qualified_sorted, u32),
            (22, role_display, u32),
            (23, role_flags, u32),
            (24, role_approval, u32),
            (25, role_identity, u64),
            (26, assignable_start, u32),
            (27, assignable_by, u32),
            (28, closure_roles, u32),
            (29, closure_perms, u32),
            (30, role_pool, u64),
            (31, pub_pool, u64),
            (32, perm_pool, u64),
            (33, module_name, u32),
            (34, module_sorted, u32),
            (35, module_first_perm, u32),
            (36, module_gated, u32),
            (37, perm_module, u32),
            (38, perm_action, u32),
            (39, policy_name, u32),
            (40, policy_sorted, u32),
            (41, policy_modules, u64),
            (42, dim_name, u32),
            (43, module_dim, u32),
            (44, res_name, u32),
            (45, res_dim, u32),
            (46, res_org, u32),
            (47, org_res_start, u32),
            (48, org_res, u32),
            (49, restr_start, u32),
            (50, restr_entries, u32),
            (51, restr_res, u32),
            (52, role_restr, u32),
            (53, role_req_start, u32),
            (54, role_req, u32),
            (55, restricted_items, u32),
            (56, closure_part_start, u32),
            (57, closure_parts, u32),
            // Minor 1: the grant lists again as runs, for decisions.
            (58, user_run_rec, u32),
            (59, user_runs, u32),
            (60, member_runs, u32),
            (61, runset_perms, u32),
            (62, runset_start, u32),
            (63, runset_items, u32),
        }
    };
}
pub(crate) use arrays;

macro_rules! declare {
    ($(($id:literal, $name:ident, $t:ty)),* $(,)?) => {
        /// Everything in a table file, as owned arrays: what the compiler
        /// (`trellis`) builds and [`TableData::encode`] writes. Services
        /// never need it: they open a file as a [`crate::Table`].
        #[doc(hidden)]
        #[derive(Debug, Default, Clone, PartialEq, Eq)]
        pub struct TableData {
            pub input_hash: u64,
            pub provenance: bool,
            /// The string id of the first user's name: users' names are
            /// stored one after another in user order.
            pub user_name_first: u32,
            /// Bytes per user in `user_ident` (1, 2 or 4).
            pub ident_width: u32,
            $(pub $name: Vec<$t>,)*
        }

        /// The arrays of a table, borrowed in place from its bytes, with
        /// the widths derived from their lengths once, at load.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct View<'a> {
            pub input_hash: u64,
            pub provenance: bool,
            pub minor: u16,
            pub user_name_first: u32,
            pub ident_width: usize,
            pub role_count: u32,
            pub role_words: usize,
            pub identity_words: usize,
            pub perm_words: usize,
            pub module_words: usize,
            /// `user_grants` and `member_grants` as `(lo, hi, item)` rows,
            /// cut once here rather than on every decision.
            pub user_grant_rows: &'a [[u32; 3]],
            pub member_grant_rows: &'a [[u32; 3]],
            /// `user_runs` and `member_runs` as rows; `runs` says the table
            /// has them (minor 1 and later).
            pub user_run_rows: &'a [[u32; 3]],
            pub member_run_rows: &'a [[u32; 3]],
            pub runs: bool,
            $(pub $name: &'a [$t],)*
        }

        /// The arrays alone, as a loader finds them in a file.
        pub(crate) struct Arrays<'a> {
            $(pub $name: &'a [$t],)*
        }

        impl<'a> View<'a> {
            pub(crate) fn new(
                input_hash: u64,
                provenance: bool,
                minor: u16,
                user_name_first: u32,
                ident_width: usize,
                a: Arrays<'a>,
            ) -> View<'a> {
                let words = |n: usize| n.div_ceil(64).max(1);
                View {
                    input_hash,
                    provenance,
                    minor,
                    user_name_first,
                    ident_width,
                    role_count: a.role_flags.len() as u32,
                    role_words: words(a.role_flags.len()),
                    identity_words: words(a.identity_name.len()),
                    perm_words: words(a.perm_module.len()),
                    module_words: words(a.module_name.len()),
                    user_grant_rows: a.user_grants.as_chunks::<3>().0,
                    member_grant_rows: a.member_grants.as_chunks::<3>().0,
                    user_run_rows: a.user_runs.as_chunks::<3>().0,
                    member_run_rows: a.member_runs.as_chunks::<3>().0,
                    runs: minor >= 1,
                    $($name: a.$name,)*
                }
            }
        }
    };
}
arrays!(declare);

impl View<'_> {
    /// String `id`'s bytes (empty for an id out of range).
    pub fn string(&self, id: u32) -> &[u8] {
        let i = id as usize;
        match (self.str_off.get(i), self.str_off.get(i + 1)) {
            (Some(&a), Some(&b)) => self.str_blob.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    #[inline]
    pub fn user_home(&self, u: u32) -> Option<u32> {
        self.user_home.get(u as usize).copied()
    }

    #[inline]
    pub fn user_identity(&self, u: u32) -> Option<u32> {
        let w = self.ident_width;
        if w == 1 {
            // The common case: fewer than 256 identity types.
            return self.user_ident.get(u as usize).map(|b| *b as u32);
        }
        let b = self.user_ident.get(u as usize * w..u as usize * w + w)?;
        Some(b.iter().rev().fold(0u32, |acc, x| (acc << 8) | *x as u32))
    }

    /// Range of the user's grants (in grants, not `u32`s).
    #[inline]
    pub fn user_grant_range(&self, u: u32) -> Option<(usize, usize)> {
        let i = u as usize * 2;
        Some((
            *self.user_rec.get(i)? as usize,
            *self.user_rec.get(i + 2)? as usize,
        ))
    }

    /// The publication set of org `o`.
    #[inline]
    pub fn org_pubset(&self, o: u32) -> Option<u32> {
        self.org_rec.get(o as usize * ORG_REC).copied()
    }

    pub fn user_count(&self) -> usize {
        (self.user_rec.len() / 2).saturating_sub(1)
    }

    /// User `u`'s id (empty for an unknown handle).
    pub fn user_name(&self, u: u32) -> &str {
        std::str::from_utf8(self.user_name_bytes(u)).unwrap_or("")
    }

    /// User `u`'s id as bytes, for comparisons (no UTF-8 check).
    #[inline]
    pub fn user_name_bytes(&self, u: u32) -> &[u8] {
        if (u as usize) >= self.user_count() {
            return &[];
        }
        self.string(self.user_name_first.saturating_add(u))
    }

    /// The text of the name `names[i]` (empty when out of range).
    pub fn str_of(&self, names: &[u32], i: u32) -> &str {
        names
            .get(i as usize)
            .and_then(|s| std::str::from_utf8(self.string(*s)).ok())
            .unwrap_or("")
    }

    /// The resources restriction `k` allows on dimension `dim`, or `None`
    /// when it does not name `dim` (or `k` is `NONE`).
    #[inline]
    pub fn restriction_on(&self, k: u32, dim: u32) -> Option<&[u32]> {
        let (a, b) = (
            *self.restr_start.get(k as usize)? as usize,
            *self.restr_start.get(k as usize + 1)? as usize,
        );
        let entries = self.restr_entries.get(a * 3..b * 3)?;
        let e = entries.as_chunks::<3>().0.iter().find(|e| e[0] == dim)?;
        Some(
            self.restr_res
                .get(e[1] as usize..e[2] as usize)
                .unwrap_or(&[]),
        )
    }
}

/// `u32`s per org record: publication set, start and end of its member
/// grants.
pub(crate) const ORG_REC: usize = 3;
