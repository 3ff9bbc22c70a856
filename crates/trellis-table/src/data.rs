//! The table's content as plain arrays: what the compiler fills and the
//! file format writes and reads. Org handles are preorder positions; sets
//! are indices into deduplicated bitset pools. `docs/table-format.md`-level
//! detail lives with each field.

pub const FLAG_ACTIVE: u32 = 1;
pub const FLAG_LOCKED: u32 = 2;
pub const FLAG_SELF_SERVICE: u32 = 4;

/// Everything in a table file, as plain arrays. Org handles are preorder
/// positions; sets are indices into deduplicated bitset pools.
/// The compiler (`trellis`) builds it; services never need to touch it.
#[doc(hidden)]
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableData {
    pub input_hash: u64,
    pub provenance: bool,
    // strings
    pub str_blob: Vec<u8>,
    pub str_off: Vec<u32>,
    // orgs (by preorder position)
    pub org_name: Vec<u32>,
    pub org_sorted: Vec<u32>,
    pub org_parent: Vec<u32>,
    /// Per org, stride 4: publication set, start and end of the org grants
    /// that reach members homed here (from every ancestor, flattened; the
    /// end is the list's terminator), unused.
    pub org_rec: Vec<u32>,
    /// Lists of grant triples, each ended by a `[NONE; 3]` terminator so that
    /// a user record needs only the start; orgs with the same list share it.
    pub member_grants: Vec<u32>,
    pub org_end: Vec<u32>,
    pub org_grant_start: Vec<u32>,
    pub org_grants: Vec<u32>,
    pub org_grant_source: Vec<u32>,
    // users
    /// The string id of the first user's name: users' names are stored one
    /// after another in user order, so user `u`'s is `user_name_first + u`.
    pub user_name_first: u32,
    /// Per user, stride 2: start of its own grants, and start of the member
    /// grants of its home org; a last pair closes the final range. Both
    /// lists of a decision are found from this one record.
    pub user_rec: Vec<u32>,
    /// Per user, the home org.
    pub user_home: Vec<u32>,
    /// Per user, the identity type, in `ident_width` little-endian bytes.
    pub user_ident: Vec<u8>,
    pub ident_width: usize,
    pub user_grants: Vec<u32>,
    pub user_grant_source: Vec<u32>,
    pub identity_name: Vec<u32>,
    // roles
    pub role_count: u32,
    pub role_words: usize,
    pub identity_words: usize,
    pub role_name: Vec<u32>,
    pub role_name_sorted: Vec<u32>,
    pub role_qualified: Vec<u32>,
    pub role_qualified_sorted: Vec<u32>,
    pub role_display: Vec<u32>,
    pub role_flags: Vec<u32>,
    /// The role's `approval` text (informational), or `NONE`.
    pub role_approval: Vec<u32>,
    pub role_identity: Vec<u64>,
    pub assignable_start: Vec<u32>,
    pub assignable_by: Vec<u32>,
    pub closure_roles: Vec<u32>,
    pub closure_perms: Vec<u32>,
    pub role_pool: Vec<u64>,
    pub pub_pool: Vec<u64>,
    // catalog
    pub perm_words: usize,
    pub perm_pool: Vec<u64>,
    pub module_words: usize,
    pub module_name: Vec<u32>,
    pub module_sorted: Vec<u32>,
    pub module_first_perm: Vec<u32>,
    pub module_gated: Vec<u32>,
    pub perm_module: Vec<u32>,
    pub perm_action: Vec<u32>,
    pub policy_name: Vec<u32>,
    pub policy_sorted: Vec<u32>,
    pub policy_modules: Vec<u64>,
}

impl TableData {
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
    #[inline]
    pub fn org_pubset(&self, o: u32) -> Option<u32> {
        self.org_rec.get(o as usize * 4).copied()
    }
    pub fn user_count(&self) -> usize {
        (self.user_rec.len() / 2).saturating_sub(1)
    }

    /// User `u`'s id (empty for an unknown handle).
    pub fn user_name(&self, u: u32) -> &str {
        if (u as usize) >= self.user_count() {
            return "";
        }
        std::str::from_utf8(self.string(self.user_name_first.saturating_add(u))).unwrap_or("")
    }

    pub fn str_of(&self, names: &[u32], i: u32) -> &str {
        names
            .get(i as usize)
            .and_then(|s| std::str::from_utf8(self.string(*s)).ok())
            .unwrap_or("")
    }
}
